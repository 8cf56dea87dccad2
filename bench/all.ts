// `npm run bench`: the benchmarks whose JSON the README's tables quote, one after the
// other, each in its own process, then bench/readme.ts rewrites the tables. One driver,
// so that the flags npm appends (`npm run bench -- --browser`) reach it rather than the
// last command of a chain.
//
//   npx tsx bench/all.ts [--browser] [--only NAME] [--quick]
//   --browser    also bench/browser.ts (headless Chromium)
//   --only NAME  that benchmark alone (compare, edge, sequence, explain, browser)
//   --quick      passed to each benchmark

import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const root = new URL('..', import.meta.url).pathname;
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const only = opt('--only');
// each writes bench/results/NAME.json; browser also its chart
const steps: Record<string, string[]> = {
  compare: [],
  edge: [],
  sequence: [],
  explain: [],
  browser: ['--svg', 'bench/results/browser.svg'],
};
const names = only ? [only] : ['compare', 'edge', 'sequence', 'explain', ...(args.includes('--browser') ? ['browser'] : [])];
for (const name of names) {
  if (!steps[name]) { console.error(`bench/all.ts: no benchmark ${name} (${Object.keys(steps).join(', ')})`); process.exit(2); }
  const tsxArgs = [`bench/${name}.ts`, '--json', `bench/results/${name}.json`, ...steps[name], ...(args.includes('--quick') ? ['--quick'] : [])];
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...tsxArgs], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/readme.ts'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
