// The page's script: loads the MNIST slices served next to it and trains with
// edgeq's browser trainer. window.edgeqTrain is also what the end-to-end test calls.

import { trainInBrowser, type BrowserTrainOptions } from '../../src/toolchain/train/browser.js';

// [u32 count][count × 784 pixels][count labels], as examples/train-browser/README.md says
async function slice(url: string, limit?: number): Promise<{ images: Uint8Array; labels: Uint8Array }> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const buf = new Uint8Array(await res.arrayBuffer());
  const count = new DataView(buf.buffer).getUint32(0, true);
  const n = Math.min(count, limit ?? count);
  return { images: buf.subarray(4, 4 + n * 784), labels: buf.subarray(4 + count * 784, 4 + count * 784 + n) };
}

async function edgeqTrain(o: Partial<BrowserTrainOptions> & { subset?: number; testSubset?: number }) {
  const [train, test] = await Promise.all([slice('./mnist-train.bin', o.subset), slice('./mnist-test.bin', o.testSubset)]);
  return trainInBrowser({ arch: 'cnn', epochs: 1, ...o, train, test });
}

(window as unknown as { edgeqTrain: typeof edgeqTrain }).edgeqTrain = edgeqTrain;

const $ = (id: string) => document.getElementById(id)!;
$('train').addEventListener('click', async () => {
  const log = $('log');
  log.textContent = 'loading data…\n';
  try {
    const r = await edgeqTrain({
      arch: ($('arch') as HTMLSelectElement).value as 'cnn' | 'lstm', epochs: Number(($('epochs') as HTMLInputElement).value),
      onBatch: (e, f, loss) => { log.textContent = log.textContent!.replace(/batch.*\n?$/, '') + `batch: epoch ${e + 1}, ${(100 * f).toFixed(0)} %, loss ${loss.toFixed(4)}`; },
      onEpoch: (e) => { log.textContent += `\nepoch ${e.epoch}: loss ${e.loss.toFixed(4)}, test accuracy ${(100 * e.testAccuracy).toFixed(2)} %, ${e.imagesPerSecond.toFixed(1)} img/s\n`; },
    });
    log.textContent += `\ntrained on ${r.backend}${r.adapter ? ` (${r.adapter})` : ''}`;
    ($('json') as HTMLAnchorElement).href = URL.createObjectURL(new Blob([JSON.stringify(r.modelJson)], { type: 'application/json' }));
    ($('bin') as HTMLAnchorElement).href = URL.createObjectURL(new Blob([r.weights]));
    $('save').hidden = false;
  } catch (e) {
    log.textContent += `\nerror: ${(e as Error).message}`;
  }
});
