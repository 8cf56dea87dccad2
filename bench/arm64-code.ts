// Instructions per 16 MACs of gemm_s8's inner loop in V8's arm64 machine code, for the
// SIMD build (2x4c8 on i32x4.dot_i16x8_s) and the relaxed-SIMD build (1x4c16 on
// i32x4.relaxed_dot_i8x16_i7x16_add_s with w⁺/w⁻ planes). docs/KERNELS.md, "Relaxed SIMD on
// arm64", shows a run and reads it.
//
// V8 for arm64 runs under qemu-user: Debian's arm64 Node 18 (test/arm64/setup.sh; it
// refuses the relaxed opcodes) and, where test/arm64/setup-node24.sh has fetched it,
// the official arm64 Node 24 (relaxed SIMD on by default). Each compiles the engine with
// TurboFan only (--no-liftoff: the tier hot code runs in) and eagerly
// (--no-wasm-lazy-compilation), prints its code (--print-wasm-code: these Node builds
// carry V8's disassembler), and the loop is found in gemm_s8's function: the shortest
// range closed by a backward branch that holds whole iterations of the kernel (2x4c8: 6
// `ldr d` and 8 dot products per iteration; 1x4c16: 9 `ldr q` and 8 relaxed dots).
// TurboFan unrolls the loop, so the range holds several iterations, their exit checks and
// one stack check; the count is per iteration averaged over it. Each build runs under
// qemu's `max` CPU (with the dot-product extension: V8 emits SDOT) and `cortex-a72`
// (ARMv8.0, without it: V8's fallback sequence). Qemu is for code, never for timing.
//
//   npx tsx bench/arm64-code.ts [--dump DIR]   (DIR: the disassembled gemm_s8 of each run)

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ARM64_ROOT, qemuAarch64 } from '../test/helpers/capabilities.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const NODE24 = join(process.env.EDGEQ_ARM64_NODE24_DIR ?? join(root, '.cache/arm64-node24'), 'bin/node');
const dumpAt = process.argv.indexOf('--dump');
const dumpDir = dumpAt > 0 ? process.argv[dumpAt + 1] : undefined;

// MACs of one inner-loop iteration that count (the relaxed kernel's SDOTs do 128 byte
// products an iteration, half of them on the w⁻ plane: a·w = a·w⁺ − a·w⁻)
const MACS_PER_ITERATION = 64;

// the function index of an export (the index V8 prints), from the module's export section
function exportIndex(bytes: Uint8Array, name: string): number {
  let p = 8;
  const leb = () => {
    let r = 0, s = 0, x: number;
    do { x = bytes[p++]; r |= (x & 0x7f) << s; s += 7; } while (x & 0x80);
    return r >>> 0;
  };
  while (p < bytes.length) {
    const id = bytes[p++];
    const end = leb() + p;
    if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const len = leb();
        const found = new TextDecoder().decode(bytes.subarray(p, p + len));
        p += len;
        const kind = bytes[p++];
        const index = leb();
        if (found === name && kind === 0) return index;
      }
    }
    p = end;
  }
  throw new Error(`no exported function ${name}`);
}

interface Insn { addr: bigint; mnemonic: string; operands: string; text: string }

// one function's instructions out of --print-wasm-code's output (TurboFan's copy)
function functionCode(printed: string, index: number): Insn[] {
  const blocks = printed.split('--- WebAssembly code ---').filter((b) => new RegExp(`^index: ${index}$`, 'm').test(b) && /^compiler: TurboFan$/m.test(b));
  if (blocks.length === 0) throw new Error(`function ${index} was not printed by TurboFan`);
  const insns: Insn[] = [];
  for (const line of blocks[0].split('\n')) {
    const m = /^0x([0-9a-f]+)\s+[0-9a-f]+\s+[0-9a-f]{8}\s+(\S+)\s*(.*)$/.exec(line);
    if (m) insns.push({ addr: BigInt(`0x${m[1]}`), mnemonic: m[2], operands: m[3], text: line.replace(/^0x[0-9a-f]+\s+/, '') });
  }
  return insns;
}

type Kernel = 'c8' | 'c16';
interface Loop { insns: Insn[]; iterations: number; histogram: Record<string, number> }

const isDot = (kernel: Kernel, i: Insn) => kernel === 'c8'
  ? i.mnemonic === 'smull2' && /\.4s,/.test(i.operands) // dot_i16x8_s: smull, smull2, addp
  : i.mnemonic === 'sdot' || (i.mnemonic === 'smull2' && /\.8h,/.test(i.operands)); // relaxed dot: sdot, or smull, smull2, addp, saddlp, add

function innerLoop(insns: Insn[], kernel: Kernel): Loop {
  const at = new Map(insns.map((x, n) => [x.addr, n]));
  let best: Loop | undefined;
  insns.forEach((x, end) => {
    const m = /^b(\.\w+)?$/.test(x.mnemonic) && /#-0x[0-9a-f]+ \(addr 0x([0-9a-f]+)\)/.exec(x.operands);
    const start = m ? at.get(BigInt(`0x${m[1]}`)) : undefined;
    if (start === undefined || start > end) return;
    const body = insns.slice(start, end + 1);
    const loads = body.filter((i) => i.mnemonic === 'ldr' && (kernel === 'c8' ? /^d\d+,/ : /^q\d+,/).test(i.operands)).length;
    const dots = body.filter((i) => isDot(kernel, i)).length;
    const perLoads = kernel === 'c8' ? 6 : 9;
    const iterations = loads / perLoads;
    if (iterations < 1 || !Number.isInteger(iterations) || dots !== 8 * iterations) return;
    if (best && best.insns.length <= body.length) return;
    const histogram: Record<string, number> = {};
    for (const i of body) histogram[i.mnemonic] = (histogram[i.mnemonic] ?? 0) + 1;
    best = { insns: body, iterations, histogram };
  });
  if (!best) throw new Error(`no ${kernel} inner loop found`);
  return best;
}

interface Case { node: string; label: string; build: 'simd' | 'relaxed'; cpu: string; flags: string[] }

const qemu = qemuAarch64();
if (!qemu || !existsSync(join(ARM64_ROOT, 'usr/bin/node'))) {
  console.error(`needs qemu-aarch64-static and Debian's arm64 Node in ${ARM64_ROOT}: run test/arm64/setup.sh (as root)`);
  process.exit(1);
}
const cases: Case[] = [];
const flags = ['--no-liftoff', '--no-wasm-lazy-compilation', '--print-wasm-code'];
cases.push({ node: join(ARM64_ROOT, 'usr/bin/node'), label: 'Node 18 (Debian)', build: 'simd', cpu: 'max', flags });
if (existsSync(NODE24)) {
  for (const build of ['simd', 'relaxed'] as const) {
    for (const cpu of ['max', 'cortex-a72']) cases.push({ node: NODE24, label: 'Node 24', build, cpu, flags });
  }
} else {
  console.error(`no arm64 Node 24 at ${NODE24} (test/arm64/setup-node24.sh fetches it): the relaxed build is not measured`);
}

const dir = mkdtempSync(join(tmpdir(), 'edgeq-arm64-code-'));
const rows: string[] = [];
try {
  const compile = join(dir, 'compile.mjs');
  writeFileSync(compile, "import { readFileSync } from 'node:fs';\nnew WebAssembly.Module(readFileSync(process.argv[2]));\n");
  for (const c of cases) {
    const wasm = join(root, `build/edgeq.${c.build}.wasm`);
    const index = exportIndex(readFileSync(wasm), 'gemm_s8');
    const { stdout } = await run(qemu, [c.node, ...c.flags, compile, wasm], {
      env: { ...process.env, QEMU_LD_PREFIX: ARM64_ROOT, QEMU_CPU: c.cpu }, maxBuffer: 1 << 28, timeout: 300_000,
    });
    const version = (await run(qemu, [c.node, '--version'], { env: { ...process.env, QEMU_LD_PREFIX: ARM64_ROOT } })).stdout.trim();
    const kernel: Kernel = c.build === 'simd' ? 'c8' : 'c16';
    const loop = innerLoop(functionCode(stdout, index), kernel);
    const perIteration = loop.insns.length / loop.iterations;
    const per16 = loop.insns.length / (loop.iterations * MACS_PER_ITERATION / 16);
    const dotInsns = ['sdot', 'smull', 'smull2', 'addp', 'saddlp', 'sxtl'].map((m) => loop.histogram[m] ? `${loop.histogram[m] / loop.iterations} ${m}` : '').filter(Boolean).join(', ');
    rows.push(`| ${c.label} ${version} | ${c.build} (${kernel === 'c8' ? '2x4c8' : '1x4c16 relaxed'}) | ${c.cpu} | ${loop.insns.length} / ${loop.iterations} | ${perIteration.toFixed(2)} | ${dotInsns} | **${per16.toFixed(2)}** |`);
    if (dumpDir) writeFileSync(join(dumpDir, `${c.label.replace(/\W+/g, '-')}-${c.build}-${c.cpu}.txt`), `${loop.insns.map((i) => i.text).join('\n')}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('| V8 | build (kernel) | qemu CPU | loop instructions / iterations | per iteration (64 MACs) | of which, per iteration | per 16 MACs |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
