// bench/train.ts's JSON and its table: printed by the benchmark, and written into the
// README by bench/readme.ts from bench/results/train.json.

export interface TrainRow { arch: string; data: string; backend: string; note: string; images: number; imagesPerSecond: number; firstEpochImagesPerSecond: number }
export interface TrainBench { date: string; machine: string; node: string; quick: boolean; rows: TrainRow[] }

export function trainMarkdown(j: TrainBench): string {
  const f = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: v < 10 ? 1 : 0 });
  return [
    `\`npm run bench:train\` on ${j.date.slice(0, 10)}, ${j.machine}, Node ${j.node}${j.quick ? ', --quick' : ''}: the reference models as \`edgeq train\` trains them (batch 64, Adam), two epochs over the first N training images from the same seeded weights; images per second of the second epoch (the first includes warm-up), the test pass excluded.`,
    '',
    '| model | backend | training images | img/s | img/s, 1st epoch |',
    '| --- | --- | ---: | ---: | ---: |',
    ...j.rows.map((r) => `| ${r.arch} (${r.data}) | ${r.backend} | ${r.images.toLocaleString('en-US')} | ${f(r.imagesPerSecond)} | ${f(r.firstEpochImagesPerSecond)} |`),
  ].join('\n');
}
