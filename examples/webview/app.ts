// The webview page: draw on the canvas (or tap a sample), classify with the shipped
// MNIST CNN in edgeq's engine, show the top 3 and the inference time, then a heat map
// of which pixels the predicted class's score depends on (explain). Served under a
// Content-Security-Policy without 'unsafe-eval' (only 'wasm-unsafe-eval').

import { explain, imageMap, loadModel, type Classification } from '../../src/runtime/browser.js';

const pad = document.getElementById('pad') as HTMLCanvasElement;
const ctx = pad.getContext('2d', { willReadFrequently: true })!;
const modelReady = fetch('./cnn-mnist.edgeq').then((r) => loadModel(r));

function clear(): void {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
}
clear();

let drawing = false;
const at = (e: PointerEvent) => { const r = pad.getBoundingClientRect(); return [(e.clientX - r.left) * (pad.width / r.width), (e.clientY - r.top) * (pad.height / r.height)]; };
pad.addEventListener('pointerdown', (e) => { drawing = true; const [x, y] = at(e); ctx.beginPath(); ctx.moveTo(x, y); });
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const [x, y] = at(e);
  ctx.strokeStyle = '#fff'; ctx.lineWidth = 22; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  ctx.lineTo(x, y); ctx.stroke();
});
addEventListener('pointerup', () => { drawing = false; });

// The drawing as the model's input: 28×28 grey, light on dark, like MNIST.
function pixels(): Uint8Array {
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const s = small.getContext('2d', { willReadFrequently: true })!;
  s.imageSmoothingEnabled = true;
  s.drawImage(pad, 4, 4, 20, 20); // MNIST digits sit in a 20×20 box
  const rgba = s.getImageData(0, 0, 28, 28).data;
  return Uint8Array.from({ length: 784 }, (_, i) => rgba[i * 4]);
}

async function classify(input: Uint8Array): Promise<Classification[]> {
  const model = await modelReady;
  const t = performance.now();
  const top = model.classify(input, 3);
  const ms = performance.now() - t;
  document.getElementById('top')!.innerHTML = top.map((c) => `<li data-index="${c.index}">${c.label}: ${(100 * c.score).toFixed(1)} %</li>`).join('');
  document.getElementById('time')!.textContent = `${ms.toFixed(2)} ms (${model.info.build} build, ${(model.info.fileBytes / 1024).toFixed(1)} KB model)`;
  // the explanation after the next frame, so the top 3 is on screen first (and the
  // previous drawing's map is not shown beside it meanwhile)
  hideExplanation();
  const id = explained;
  requestAnimationFrame(() => setTimeout(() => { if (id === explained) void explainInput(input, top[0].index); }));
  return top;
}

// Occlusion rather than LIME (the default): on the MNIST test digits a 4×4 patch moved
// by 2 puts 99.6 % of the positive attribution within 2 pixels of the ink in 9 ms (Node),
// LIME's 1000 samples 84 % in 63 ms. The baseline is black, the background, so occluding
// blank pad changes nothing and the map stays on the stroke; patches overlap, so it is
// finer than LIME's 4×4 segments.
const EXPLAIN = { method: 'occlusion', patch: 4, stride: 2 } as const;
let explained = 0; // the latest classification: a slower, older explanation is dropped

const heat = document.getElementById('heat') as HTMLCanvasElement;

// The attribution map of `input` for class `target`, [28 × 28] row by row, drawn over
// the input: red supports the class, blue argues against it, opacity ∝ |attribution|.
async function explainInput(input: Uint8Array, target: number): Promise<{ map: number[]; ms: number }> {
  const model = await modelReady;
  const t = performance.now();
  const map = imageMap(explain(model, input, { ...EXPLAIN, target }));
  const ms = performance.now() - t;
  let max = 0;
  for (const v of map) max = Math.max(max, Math.abs(v));
  const img = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const a = max > 0 ? Math.abs(map[i]) / max : 0;
    const g = input[i] * 0.6; // the drawing, dimmed under the colour
    const [r, gr, b] = map[i] >= 0 ? [255, 40, 40] : [40, 90, 255];
    img.data.set([g + (r - g) * a * 0.8, g + (gr - g) * a * 0.8, g + (b - g) * a * 0.8, 255], i * 4);
  }
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  small.getContext('2d')!.putImageData(img, 0, 0);
  const h = heat.getContext('2d')!;
  h.imageSmoothingEnabled = false;
  h.drawImage(small, 0, 0, heat.width, heat.height);
  heat.hidden = false;
  document.getElementById('legend')!.hidden = false;
  document.getElementById('explain-time')!.textContent = `explained class ${model.labels[target] ?? target} in ${ms.toFixed(1)} ms (occlusion, ${EXPLAIN.patch}×${EXPLAIN.patch} patch)`;
  return { map: Array.from(map), ms };
}

document.getElementById('classify')!.addEventListener('click', () => { void classify(pixels()); });
// Drops a pending explanation and hides the shown one.
function hideExplanation(): void {
  explained++;
  heat.hidden = true;
  document.getElementById('legend')!.hidden = true;
  document.getElementById('explain-time')!.textContent = '';
}

document.getElementById('clear')!.addEventListener('click', () => {
  clear();
  document.getElementById('top')!.innerHTML = '';
  hideExplanation();
});

// sample digits: samples.bin is [count][count × 784 pixels]
void fetch('./samples.bin').then(async (r) => {
  const buf = new Uint8Array(await r.arrayBuffer());
  const n = buf[0];
  for (let i = 0; i < n; i++) {
    const img = buf.subarray(1 + i * 784, 1 + (i + 1) * 784);
    const c = document.createElement('canvas');
    c.width = c.height = 28;
    const cx = c.getContext('2d')!;
    const data = cx.createImageData(28, 28);
    img.forEach((v, j) => { data.data.set([v, v, v, 255], j * 4); });
    cx.putImageData(data, 0, 0);
    const el = document.createElement('img');
    el.src = c.toDataURL();
    el.alt = `sample ${i}`;
    el.addEventListener('click', () => { ctx.drawImage(el, 0, 0, 280, 280); void classify(img); });
    document.getElementById('samples')!.append(el);
  }
});

// hooks for test/webview.test.ts
Object.assign(window, { edgeqClassify: classify, edgeqPixels: pixels, edgeqExplain: explainInput });
