import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../src/toolchain/data/image.js';
import { main } from '../src/runtime/cli/main.js';
import type { EdgeqModel } from '../src/toolchain/format/model.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { loadModel } from '../src/runtime/node.js';
import { randomInt8, rng } from './helpers/quant.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { out: (s) => { out += `${s}\n`; }, err: (s) => { err += `${s}\n`; } });
  return { code, out, err };
}

// A 6×6 grey "image" model with labels, and one [6, 6] "sequence" model.
function imageModel(): EdgeqModel {
  const r = rng(12);
  const q = (scale: number, zeroPoint: number) => ({ scale, zeroPoint });
  return {
    metadata: { name: 'six', labels: ['zero', 'one', 'two', 'three', 'four'], source: { format: 'test', file: 'six.json' } },
    input: { shape: [6, 6, 1], quant: q(1 / 255, -128), pixelRule: { mul: [1 / 255], add: [0] } },
    layers: [
      { type: 'conv2d', filters: 4, kernel: [3, 3], strides: [1, 1], padding: 'valid', activation: 'relu', weights: randomInt8(r, 36, -127, 127), weightScales: new Float32Array(4).fill(0.02), bias: new Int32Array(4), output: q(0.02, -128) },
      { type: 'flatten' },
      { type: 'dense', units: 5, activation: 'none', weights: randomInt8(r, 320, -127, 127).map((v, i) => (i % 3 ? 0 : v)), weightScales: new Float32Array(5).fill(0.02), output: q(0.05, 0) },
      { type: 'softmax' },
    ],
  };
}

describe('edgeq CLI', () => {
  let dir: string, modelFile: string;
  const r = rng(4);
  const pixels = Uint8Array.from({ length: 36 }, () => Math.floor(r() * 256));
  let expected: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgeq-cli-'));
    modelFile = join(dir, 'six.edgeq');
    const bytes = encodeModel(imageModel());
    writeFileSync(modelFile, bytes);
    const m = await loadModel(bytes);
    const p = m.predict(pixels);
    expected = p.indexOf(Math.max(...p));
    m.dispose();
    writeFileSync(join(dir, 'six.png'), encodePng(pixels, 6, 6, 1));
    // the same image 3× larger, RGB: resized and converted to grey on the way in
    const big = new Uint8Array(18 * 18 * 3);
    for (let y = 0; y < 18; y++) for (let x = 0; x < 18; x++) big.fill(pixels[Math.floor(y / 3) * 6 + Math.floor(x / 3)], (y * 18 + x) * 3, (y * 18 + x) * 3 + 3);
    writeFileSync(join(dir, 'big.png'), encodePng(big, 18, 18, 3));
    writeFileSync(join(dir, 'six.pgm'), Buffer.concat([Buffer.from('P5\n# a comment\n6 6\n255\n'), Buffer.from(pixels)]));
    writeFileSync(join(dir, 'six-ascii.pgm'), `P2\n6 6\n255\n${Array.from(pixels).join(' ')}\n`);
    writeFileSync(join(dir, 'six.bin'), pixels);
    writeFileSync(join(dir, 'six-f32.bin'), new Uint8Array(Float32Array.from(pixels).buffer));
    writeFileSync(join(dir, 'six.json'), JSON.stringify([Array.from(pixels.subarray(0, 18)), Array.from(pixels.subarray(18))]));
    writeFileSync(join(dir, 'short.bin'), pixels.subarray(0, 10));
    writeFileSync(join(dir, 'broken.edgeq'), bytes.subarray(0, 100));
  });

  it('--help and --version answer, with exit code 0', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/inspect <model.edgeq>/);
    expect(help.out).toMatch(/run <model.edgeq> <input>/);
    expect((await cli('run', '--help')).out).toMatch(/--top K/);
    expect((await cli('inspect', '-h')).out).toMatch(/--json/);
    expect((await cli('--version')).out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('usage errors exit 2 and point to --help', async () => {
    for (const argv of [[], ['frobnicate'], ['run', 'a.edgeq'], ['inspect'], ['run', 'a', 'b', '--top', 'x'], ['run', 'a', 'b', '--bogus'], ['run', 'a', 'b', '--build', 'gpu']]) {
      const res = await cli(...argv);
      expect(res.code, argv.join(' ')).toBe(2);
      if (argv.length) expect(res.err).toMatch(/edgeq --help/);
    }
  });

  it('inspect prints layers, quantization, sparsity and sizes', async () => {
    const { code, out } = await cli('inspect', modelFile);
    expect(code).toBe(0);
    expect(out).toMatch(/model +six/);
    expect(out).toMatch(/source +test, six\.json/);
    expect(out).toMatch(/input +\[6×6×1\] int8/);
    expect(out).toMatch(/conv2d 3×3\/1 relu +\[4×4×4\]/);
    expect(out).toMatch(/dense +\[5\] +0\.05, 0 +\[5×64\] bitmask 6[0-9]\.\d% zero/);
    expect(out).toMatch(/arena +[\d.]+ KB/);
    expect(out).toMatch(/compute +896 multiply-accumulates/);
    const json = JSON.parse((await cli('inspect', modelFile, '--json')).out);
    expect(json.layers.map((l: { type: string }) => l.type)).toEqual(['conv2d', 'reshape', 'dense', 'softmax']);
    expect(json.info.macs).toBe(16 * 4 * 9 + 5 * 64);
    expect(json.layers[0].kernel).toBe('gemm');
  });

  it('inspect says how the engine runs a pruned CNN: sparse kernels, conv + max pool fused', async () => {
    const { code, out } = await cli('inspect', fileURLToPath(new URL('../models/cnn-fashion-mnist.edgeq', import.meta.url)));
    expect(code).toBe(0);
    expect(out).toMatch(/2 +conv2d 3×3\/1 relu,sparse +\[11×11×64\]/);
    expect(out).toMatch(/fused +#0 \+ #1, #2 \+ #3 run as one kernel each/);
  });

  for (const input of ['six.png', 'big.png', 'six.pgm', 'six-ascii.pgm', 'six.bin', 'six-f32.bin', 'six.json']) {
    it(`run ${input}: the same top class as the API on the same pixels`, async () => {
      const { code, out } = await cli('run', modelFile, join(dir, input), '--json', '--top', '2');
      expect(code).toBe(0);
      const res = JSON.parse(out);
      expect(res.top).toHaveLength(2);
      expect(res.top[0].index).toBe(expected);
      expect(res.top[0].score).toBeGreaterThanOrEqual(res.top[1].score);
    });
  }

  it('run prints a readable result', async () => {
    const { code, out } = await cli('run', modelFile, join(dir, 'six.png'), '--repeat', '5');
    expect(code).toBe(0);
    expect(out).toMatch(/input +.*six\.png: 6×6 grey image\n/);
    expect(out).toMatch(new RegExp(`top 3 +${expected} +\\w+ +[01]\\.\\d{4}`));
    expect(out).toMatch(/latency +[\d.]+ ms \(median of 5 runs\)/);
    expect((await cli('run', modelFile, join(dir, 'big.png'))).out).toMatch(/resized from 18×18/);
  });

  it('bad models and inputs exit 1 with the reason', async () => {
    const cases: [string[], RegExp][] = [
      [['run', modelFile, join(dir, 'missing.png')], /input file not found/],
      [['run', join(dir, 'missing.edgeq'), join(dir, 'six.png')], /model file not found/],
      [['inspect', join(dir, 'broken.edgeq')], /truncated: it has 100 bytes/],
      [['run', modelFile, join(dir, 'short.bin')], /has 10 bytes; the model takes 36 values/],
      [['run', modelFile, modelFile], /not a PNG, JPEG or PGM image/],
    ];
    for (const [argv, message] of cases) {
      const res = await cli(...argv);
      expect(res.code, argv.join(' ')).toBe(1);
      expect(res.err).toMatch(message);
    }
  });

  it('the executable sets the process exit code', () => {
    const run = (...args: string[]) => {
      try {
        return { code: 0, out: execFileSync(process.execPath, ['--import', 'tsx', 'src/runtime/cli/edgeq.ts', ...args], { encoding: 'utf8', stdio: 'pipe' }) };
      } catch (e) {
        return { code: (e as { status: number }).status, out: String((e as { stderr: string }).stderr) };
      }
    };
    expect(run('--version').code).toBe(0);
    expect(run('inspect', modelFile).out).toMatch(/model +six/);
    expect(run('inspect', join(dir, 'broken.edgeq')).code).toBe(1);
    expect(run('nope').code).toBe(2);
  });
});
