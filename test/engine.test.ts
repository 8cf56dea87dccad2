import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simdSupported } from '../src/runtime/engine.js';
import { engineFile } from '../src/runtime/node.js';
import { BUILDS, engine } from './helpers/quant.js';

describe.each(BUILDS)('the %s engine build', (build) => {
  it('is a module with no imports, exporting its memory', () => {
    const module = new WebAssembly.Module(readFileSync(engineFile(build)));
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    expect(WebAssembly.Module.exports(module).map((x) => x.name)).toContain('memory');
  });

  it('says which build it is', async () => {
    expect((await engine(build)).engine_simd()).toBe(build === 'simd' ? 1 : 0);
  });

  it('allocates 16-byte aligned blocks, refuses impossible sizes, and resets', async () => {
    const e = await engine(build);
    e.mem_reset();
    const a = e.mem_alloc(3), b = e.mem_alloc(100_000);
    expect(a % 16).toBe(0);
    expect(b % 16).toBe(0);
    expect(b - a).toBeGreaterThanOrEqual(3 + 16);
    expect(e.memory.buffer.byteLength).toBeGreaterThanOrEqual(b + 100_000);
    expect(e.mem_alloc(0x7fff_ffff)).toBe(0);
    e.mem_reset();
    expect(e.mem_used()).toBe(0);
    expect(e.mem_alloc(3)).toBe(a);
  });
});

describe('the SIMD probe', () => {
  it('matches what the engine actually compiles', () => {
    let compiles = true;
    try { new WebAssembly.Module(readFileSync(engineFile('simd'))); } catch { compiles = false; }
    expect(simdSupported()).toBe(compiles);
  });
});

describe('the version', () => {
  it('written into models is package.json\'s', async () => {
    const { EDGEQ_VERSION } = await import('../src/runtime/version.js');
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(EDGEQ_VERSION).toBe(pkg.version);
  });
});
