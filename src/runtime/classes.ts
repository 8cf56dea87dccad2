// Scores → classes, in one place: the API's classify, `edgeq serve` and the Worker's
// predict responses, `edgeq run`, and the toolchain's accuracy figures all use these.

export interface Classification { index: number; label: string; score: number }

// Index of the largest score of each row (the first on ties), rows × classes scores.
export function argmaxRows(scores: ArrayLike<number>, rows: number, classes: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (scores[r * classes + j] > scores[r * classes + best]) best = j;
    out[r] = best;
  }
  return out;
}

// The k best classes of one row of scores, best first (lower index first on ties).
export function topClasses(scores: ArrayLike<number>, labels: readonly string[], k: number): Classification[] {
  return Array.from(scores, (score, index) => ({ index, label: labels[index] ?? String(index), score }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k);
}

// Fraction of predicted classes equal to the labels.
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) ok++;
  return predicted.length ? ok / predicted.length : 0;
}
