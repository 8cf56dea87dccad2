// The webview page: draw on the canvas (or tap a sample), classify with the shipped
// MNIST CNN in edgeq's engine, show the top 3 and the inference time, then why: LIME's
// heat map over the drawing. Served under a Content-Security-Policy without
// 'unsafe-eval' (only 'wasm-unsafe-eval').

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
  // the answer first; the explanation (a thousand inferences) on the next task
  lastExplanation = new Promise((done) => setTimeout(() => done(showExplanation(input, top[0].index, top[0].label)), 0));
  return top;
}

// LIME rather than occlusion: on a thin stroke a 4 × 4 occluding patch mostly covers
// background, so occlusion's map is faint and blotchy; LIME switches whole patches of
// the stroke on and off together and weighs them against each other.
interface HeatMap { map: Float32Array; ms: number; target: number }
let lastExplanation: Promise<HeatMap> | null = null;

async function showExplanation(input: Uint8Array, target: number, label: string): Promise<HeatMap> {
  const model = await modelReady;
  const t = performance.now();
  const e = explain(model, input, { method: 'lime', samples: 1000, target, seed: 1 });
  const ms = performance.now() - t;
  const map = imageMap(e);
  // the digit in grey, red where a patch supports the class, blue where it speaks against
  // it, opacity by |weight| / max |weight|
  const heat = document.getElementById('heat') as HTMLCanvasElement;
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const sx = small.getContext('2d')!;
  const img = sx.createImageData(28, 28);
  const max = map.reduce((a, v) => Math.max(a, Math.abs(v)), 0) || 1;
  for (let i = 0; i < 784; i++) {
    const a = Math.abs(map[i]) / max, g = input[i] * 0.6;
    const [r, gr, b] = map[i] >= 0 ? [255, 40, 40] : [40, 90, 255];
    img.data.set([g * (1 - a) + r * a, g * (1 - a) + gr * a, g * (1 - a) + b * a, 255], i * 4);
  }
  sx.putImageData(img, 0, 0);
  const hx = heat.getContext('2d')!;
  hx.imageSmoothingEnabled = false;
  hx.drawImage(small, 0, 0, heat.width, heat.height);
  document.getElementById('why')!.hidden = false;
  document.getElementById('why-text')!.textContent = `Why ${label}: LIME, 1,000 samples in ${ms.toFixed(0)} ms. Scale: blue −${max.toPrecision(2)}, red +${max.toPrecision(2)} (score per pixel)`;
  return { map, ms, target };
}

document.getElementById('classify')!.addEventListener('click', () => { void classify(pixels()); });
document.getElementById('clear')!.addEventListener('click', () => { clear(); document.getElementById('top')!.innerHTML = ''; document.getElementById('why')!.hidden = true; });

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

(window as unknown as { edgeqClassify: typeof classify; edgeqPixels: typeof pixels }).edgeqClassify = classify;
(window as unknown as { edgeqPixels: typeof pixels }).edgeqPixels = pixels;
(window as unknown as { edgeqExplanation: () => Promise<HeatMap> | null }).edgeqExplanation = () => lastExplanation;
