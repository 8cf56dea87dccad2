// bench/explain.ts's JSON and its table: printed by the benchmark, and written into the
// README by bench/readme.ts from bench/results/explain.json.

import type { Stat } from './timing.js';

export interface ExplainRow { method: string; runtime: string; explainMs: Stat; predictMs: Stat; samples: number; predictShare: number }
export interface ExplainBench {
  date: string; machine: string; node: string; threads: number; quick: boolean; images: number; rounds: number; model: string;
  rows: ExplainRow[]; // per method: edgeq's row, then TF.js's
  agreement: { method: string; pearson: number[] }[];
}

export function explainMarkdown(j: ExplainBench): string {
  const f = (v: number, d = 1) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const out = [
    `\`npm run bench:explain\` on ${j.date.slice(0, 10)}, ${j.machine}, Node ${j.node}, one thread${j.quick ? ', --quick' : ''}: explain() on the ${j.model}, ${j.images} test images × ${j.rounds} rounds, batch 64, seed 1; the same algorithm and masks with the forward passes on edgeq (int8, SIMD build) and on TF.js's wasm backend (float model). Pearson r: the two explanations' segment weights (occlusion: per-pixel attributions), per image (min–max), both for the float model's class.`,
    '',
    '| method | runtime | model runs | ms per explanation, median (p90) | of which predict, ms | edgeq faster | Pearson r, edgeq vs TF.js |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (let i = 0; i < j.rows.length; i += 2) {
    const [a, b] = [j.rows[i], j.rows[i + 1]];
    const r = j.agreement[i / 2].pearson;
    for (const x of [a, b]) out.push(`| ${x.method} | ${x.runtime} | ${x.samples.toLocaleString('en-US')} | ${f(x.explainMs.median)} (${f(x.explainMs.p90)}) | ${f(x.predictMs.median)} | ${x === a ? `${f(b.explainMs.median / a.explainMs.median)}×` : ''} | ${x === a ? `${f(Math.min(...r), 2)}–${f(Math.max(...r), 2)}` : ''} |`);
  }
  return out.join('\n');
}
