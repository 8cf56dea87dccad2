// Bundle sizes for the README's Bundles table: builds dist/web (src/toolchain/bundle.ts)
// and writes its raw and gzip sizes with the date, machine and Node version.
//
//   npx tsx bench/bundles.ts [--json FILE]   (default bench/results/bundles.json)

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { buildBundles } from '../src/toolchain/bundle.js';

const args = process.argv.slice(2);
const i = args.indexOf('--json');
const file = i >= 0 ? args[i + 1] : new URL('results/bundles.json', import.meta.url).pathname;
const sizes = await buildBundles();
for (const s of sizes) console.log(`${s.file.padEnd(18)} ${String(s.raw).padStart(8)} B raw ${String(s.gzip).padStart(8)} B gzip`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: `${cpus().length} × ${cpus()[0]?.model.trim()}`, node: process.version, sizes }, null, 2) + '\n');
