// The docs' checkable claims, checked: the engine's export lists in docs/KERNELS.md and
// docs/ENGINE.md against the built engines (names, kinds and parameter counts, both
// directions), the op table (src/runtime/codes.ts) against the engine's op modules and
// registry and the docs, every repository path the docs write in backticks, the
// README's Layout tree, and no citations of a design document users do not have.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { engineFile } from '../src/runtime/node.js';
import { BUILDS } from './helpers/quant.js';
import { OPS } from '../src/runtime/codes.js';
import * as F from '../assembly/format.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// README.md, models/README.md and every docs/*.md.
const DOCS = ['README.md', 'models/README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

// The export lists: each of these docs has one table between <!-- exports:begin --> and
// <!-- exports:end -->; its first column names exports in backticks, a function with
// its parameters: `name(a, b) → result`, `memory`.
const EXPORT_DOCS = ['docs/KERNELS.md', 'docs/ENGINE.md'];

interface DocumentedExport { name: string; params: number | null; doc: string; line: number }

function documentedExports(doc: string): DocumentedExport[] {
  const lines = read(doc).split('\n');
  const begin = lines.findIndex((l) => l.trim() === '<!-- exports:begin -->');
  const end = lines.findIndex((l) => l.trim() === '<!-- exports:end -->');
  if (begin < 0 || end < begin) throw new Error(`${doc}: no <!-- exports:begin --> … <!-- exports:end --> block`);
  const out: DocumentedExport[] = [];
  for (let i = begin + 1; i < end; i++) {
    const line = lines[i].trim();
    if (!line.startsWith('|')) continue;
    const first = line.split('|')[1].trim();
    if (first === 'export' || /^:?-+:?$/.test(first)) continue; // header, separator
    const spans = [...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    // nothing but backticked names, comma-separated, in the first column
    if (spans.length === 0 || first.replace(/`[^`]+`/g, '').replace(/[,\s]/g, '') !== '') {
      throw new Error(`${doc}:${i + 1}: the first column must be exports in backticks: ${first}`);
    }
    for (const span of spans) {
      const m = /^([A-Za-z_]\w*)\s*(?:\(([^)]*)\))?/.exec(span);
      if (!m) throw new Error(`${doc}:${i + 1}: not an export: \`${span}\``);
      const params = m[2] === undefined ? null : m[2].split(',').map((p) => p.trim()).filter((p) => p !== '').length;
      out.push({ name: m[1], params, doc, line: i + 1 });
    }
  }
  if (out.length === 0) throw new Error(`${doc}: the exports block lists nothing`);
  return out;
}

function engineModule(build: (typeof BUILDS)[number]): WebAssembly.Module {
  const path = engineFile(build);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build:wasm\``);
  return new WebAssembly.Module(readFileSync(path));
}

describe('the engine exports the docs list', () => {
  const documented = EXPORT_DOCS.flatMap(documentedExports);

  it('each export is documented once', () => {
    const seen = new Map<string, DocumentedExport>();
    const twice: string[] = [];
    for (const d of documented) {
      const first = seen.get(d.name);
      if (first) twice.push(`${d.name} (${first.doc}:${first.line} and ${d.doc}:${d.line})`);
      else seen.set(d.name, d);
    }
    expect(twice, 'documented more than once').toEqual([]);
  });

  it.each(BUILDS)('the %s build: every export documented, every documented export exists, parameter counts match', async (build) => {
    const module = engineModule(build);
    const real = new Map(WebAssembly.Module.exports(module).map((x) => [x.name, x.kind]));
    const names = new Set(documented.map((d) => d.name));
    expect([...real.keys()].filter((n) => !names.has(n)).sort(), `exported by build/edgeq.${build}.wasm but not listed in ${EXPORT_DOCS.join(' or ')}`).toEqual([]);
    expect(documented.filter((d) => !real.has(d.name)).map((d) => `${d.name} (${d.doc}:${d.line})`), `listed but not exported by build/edgeq.${build}.wasm`).toEqual([]);

    const instance = await WebAssembly.instantiate(module, {});
    const wrong: string[] = [];
    for (const d of documented) {
      const kind = real.get(d.name);
      if (kind === undefined) continue;
      if (kind !== 'function') {
        if (d.params !== null) wrong.push(`${d.name} is a ${kind}, documented as a function (${d.doc}:${d.line})`);
        continue;
      }
      const length = (instance.exports[d.name] as (...args: number[]) => unknown).length;
      if (d.params === null) wrong.push(`${d.name}: write its parameters, ${length} of them (${d.doc}:${d.line})`);
      else if (d.params !== length) wrong.push(`${d.name}: documented with ${d.params} parameters, takes ${length} (${d.doc}:${d.line})`);
    }
    expect(wrong).toEqual([]);
  });

  it('src/runtime/engine.ts types exactly these exports (EngineExports), as KERNELS.md says', () => {
    const source = read('src/runtime/engine.ts');
    const body = /export interface EngineExports \{([\s\S]*?)\n\}/.exec(source);
    expect(body, 'interface EngineExports in src/runtime/engine.ts').not.toBeNull();
    // members sit two spaces in; deeper lines continue a parameter list
    const typed = [...body![1].matchAll(/^  (\w+)\s*[(:]/gm)].map((m) => m[1]).sort();
    expect(typed).toEqual([...new Set(documented.map((d) => d.name))].sort());
  });
});

describe('one op table: src/runtime/codes.ts OPS', () => {
  const ops = Object.entries(OPS).map(([name, spec]) => ({ name, code: spec.code as number })).sort((a, b) => a.code - b.code);

  it('codes 1 .. OP_LAST, each once', () => {
    expect(ops.map((o) => o.code)).toEqual(Array.from({ length: F.OP_LAST }, (_, i) => i + 1));
  });

  it('assembly/ops/ holds one module per op (and the registry), named as the op', () => {
    const modules = readdirSync(join(ROOT, 'assembly/ops')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
    expect(modules).toEqual([...ops.map((o) => o.name), 'registry'].sort());
  });

  it("the registry's tables list each op's module at its code", () => {
    const registry = read('assembly/ops/registry.ts');
    const table = (name: string) => {
      const m = new RegExp(`export const ${name}: StaticArray<.*> = \\[([\\s\\S]*?)\\];`).exec(registry);
      expect(m, `${name} in assembly/ops/registry.ts`).not.toBeNull();
      return m![1].replace(/\/\/[^\n]*/g, '').split(',').map((x) => x.trim()).filter(Boolean);
    };
    for (const [name, own, fallback] of [['CHECK', 'check', null], ['RUN', 'run', null], ['PREPARE', 'prepare', 'nothing'], ['SCRATCH', 'scratchSize', 'noScratch'], ['FUSE_NEXT', 'fuseNext', 'noFusion']] as const) {
      const rows = table(name);
      expect(rows.length, `${name}: entry 0 and one per op`).toBe(ops.length + 1);
      ops.forEach((o, i) => {
        const row = rows[i + 1];
        expect(row === `${o.name}.${own}` || row === fallback, `${name}[${o.code}] is ${row}: ${o.name}.${own}${fallback ? ` or ${fallback}` : ''}`).toBe(true);
      });
    }
    const flags = [...registry.matchAll(/^\s*[\w |]+, \/\/ (\d+) (\w+)$/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(flags).toEqual(ops.map((o) => [o.code, o.name]));
  });

  it("docs/FORMAT.md's op table has these codes and names, and no others", () => {
    const rows = read('docs/FORMAT.md').split('\n').flatMap((l) => {
      const m = /^\| (\d+) \| (\w+) \|/.exec(l);
      return m && /^\| \d+ \| \w+ \| (int8|as )/.test(l) ? [[Number(m[1]), m[2]]] : [];
    });
    expect(rows).toEqual(ops.map((o) => [o.code, o.name]));
  });

  it('docs/ENGINE.md has a section per op, in code order, naming its module', () => {
    const doc = read('docs/ENGINE.md');
    const sections = [...doc.matchAll(/^### (\w+) \((\d+)\)\n\n`([^`]+)`/gm)].map((m) => [Number(m[2]), m[1], m[3]]);
    expect(sections).toEqual(ops.map((o) => [o.code, o.name, `assembly/ops/${o.name}.ts`]));
  });
});

const PATH_PREFIXES = ['src/', 'assembly/', 'test/', 'bench/', 'examples/', 'models/', 'docs/'];

// Inline code spans outside fenced blocks.
function codeSpans(markdown: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) { fenced = !fenced; return; }
    if (fenced) return;
    for (const m of line.matchAll(/`([^`]+)`/g)) out.push({ text: m[1], line: i + 1 });
  });
  return out;
}

// A path as written: plain, with a glob (`test/*.test.ts`), or with a placeholder
// (`models/float/<name>/`: the folder before the placeholder must exist).
function pathExists(written: string): boolean {
  const placeholder = written.indexOf('<');
  const path = placeholder >= 0 ? written.slice(0, written.lastIndexOf('/', placeholder) + 1) : written;
  if (!path.includes('*')) return existsSync(join(ROOT, path)) && (!path.endsWith('/') || statSync(join(ROOT, path)).isDirectory());
  const slash = path.lastIndexOf('/');
  const dir = join(ROOT, path.slice(0, slash));
  const pattern = new RegExp(`^${path.slice(slash + 1).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  return existsSync(dir) && readdirSync(dir).some((f) => pattern.test(f));
}

describe('paths the docs name exist', () => {
  it.each(DOCS)('%s: every repository path in backticks', (doc) => {
    const missing: string[] = [];
    for (const span of codeSpans(read(doc))) {
      for (let token of span.text.split(/\s+/)) {
        token = token.replace(/^\.\//, '').replace(/[,;:.)\]]+$/, '');
        if (!PATH_PREFIXES.some((p) => token.startsWith(p))) continue;
        if (!pathExists(token)) missing.push(`${doc}:${span.line}: ${token}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("README.md's Layout tree", () => {
    const readme = read('README.md').split('\n');
    const start = readme.findIndex((l) => /^## Layout\b/.test(l));
    expect(start, '## Layout in README.md').toBeGreaterThanOrEqual(0);
    const open = readme.findIndex((l, i) => i > start && l.startsWith('```'));
    const close = readme.findIndex((l, i) => i > open && l.startsWith('```'));
    expect(open > start && close > open, 'a fenced tree under ## Layout').toBe(true);
    // Entry lines: indent 0, 2 or 4, then names (comma-separated) and, after two or more
    // spaces, what they are. Deeper lines continue a description; `#` lines are headings.
    const parents: string[] = [];
    const missing: string[] = [];
    let entries = 0;
    for (let i = open + 1; i < close; i++) {
      const line = readme[i];
      if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
      const indent = line.length - line.trimStart().length;
      if (indent >= 10) continue;
      expect(indent % 2, `README.md:${i + 1}: indent in steps of 2`).toBe(0);
      const level = indent / 2;
      const names = line.trim().split(/\s{2,}/)[0].split(/,\s*/);
      const base = level === 0 ? '' : parents[level - 1];
      expect(base, `README.md:${i + 1}: an indented entry under a folder`).toBeDefined();
      for (const name of names) {
        expect(name, `README.md:${i + 1}: a file or folder name`).toMatch(/^[\w.*/-]+$/);
        const path = base + name;
        entries++;
        if (!path.startsWith('dist/') && !pathExists(path)) missing.push(`README.md:${i + 1}: ${path}`); // dist/: built
      }
      parents[level] = base + names[names.length - 1];
      parents.length = level + 1;
    }
    expect(entries).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });
});

describe('no citations of a document users do not have', () => {
  it.each(DOCS)('%s cites no "DESIGN §…"', (doc) => {
    const cited = read(doc).split('\n').flatMap((l, i) => (/DESIGN(\.md)?\s*§/.test(l) ? [`${doc}:${i + 1}: ${l.trim()}`] : []));
    expect(cited).toEqual([]);
  });
});
