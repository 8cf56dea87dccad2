// Charts as hand-written SVG: what `edgeq train` (training-curves.svg) and `edgeq convert
// --sweep` (size-vs-accuracy.svg) draw. A picture is one or more panels side by side,
// each with its axes, ticks, series (points joined by a line, or points alone) and
// horizontal reference lines, and a legend under it. A page of string building instead
// of a charting dependency; the files open in any browser.
//
// Every series is a <g class="series" data-series="name"> holding its <circle>s (one per
// point) and, when joined, one <polyline> through them: tests and tools count them.

export interface Axis {
  label: string;
  percent?: boolean; // values are fractions, ticks read 0–100 %
  integer?: boolean; // ticks only at whole numbers (epochs)
}

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  line?: boolean; // join the points in the given order (default true)
  labels?: readonly string[]; // a note beside each point (e.g. the sparsity)
}

// A horizontal line across the panel: a baseline to compare the series with.
export interface Reference { name: string; y: number }

export interface Panel { title: string; x: Axis; y: Axis; series: readonly Series[]; references?: readonly Reference[] }

export interface Chart { title: string; panels: readonly Panel[] }

const PANEL_W = 440, PANEL_H = 320;
const M = { left: 64, right: 36, top: 34, bottom: 70 }; // room for ticks, axis labels, point labels, legend
const TITLE_H = 30;
const LEGEND_ROW = 16;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const REFERENCE_COLOR = '#555';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

// Coordinates with two decimals: enough for a screen, and the files stay small.
const n2 = (v: number) => String(Math.round(v * 100) / 100);

// Tick values from lo to hi at a 1, 2 or 5 × 10^k step, about `count` of them; the
// domain widened to whole steps so that the outer ticks sit on the frame.
export function ticks(lo: number, hi: number, o: { count?: number; integer?: boolean } = {}): { values: number[]; lo: number; hi: number; step: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`chart values must be finite numbers, got ${lo} … ${hi}`);
  if (hi - lo < 1e-12) { // one value: a band around it
    const pad = o.integer ? 1 : Math.abs(lo) > 1e-12 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad; hi += pad;
  }
  const raw = (hi - lo) / (o.count ?? 5);
  const p = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  if (o.integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  const values = Array.from({ length: last - first + 1 }, (_, i) => (first + i) * step);
  return { values, lo: first * step, hi: last * step, step };
}

function tickText(v: number, step: number, axis: Axis): string {
  const scaled = axis.percent ? 100 * v : v, s = axis.percent ? 100 * step : step;
  const text = scaled.toFixed(Math.max(0, -Math.floor(Math.log10(s) + 1e-9)));
  return axis.percent ? `${text}%` : text;
}

// A value in full for a point's tooltip.
const valueText = (v: number, axis: Axis) => (axis.percent ? `${(100 * v).toFixed(2)}%` : String(Number(v.toPrecision(4))));

function panelSvg(p: Panel, left: number, top: number): string {
  const w = PANEL_W - M.left - M.right, h = PANEL_H - M.top - M.bottom;
  const x0 = left + M.left, y0 = top + M.top;
  const xs = p.series.flatMap((s) => s.points.map((q) => q[0]));
  const ys = [...p.series.flatMap((s) => s.points.map((q) => q[1])), ...(p.references ?? []).map((r) => r.y)];
  if (!xs.length) throw new RangeError(`chart panel '${p.title}' has no points`);
  const tx = ticks(Math.min(...xs), Math.max(...xs), { integer: p.x.integer });
  const ty = ticks(Math.min(...ys), Math.max(...ys), { integer: p.y.integer });
  const X = (v: number) => x0 + ((v - tx.lo) / (tx.hi - tx.lo)) * w;
  const Y = (v: number) => y0 + h - ((v - ty.lo) / (ty.hi - ty.lo)) * h;
  const out: string[] = [`<g class="panel" data-panel="${escapeXml(p.title)}">`];
  out.push(`<text class="panel-title" x="${n2(x0 + w / 2)}" y="${n2(top + 20)}" text-anchor="middle" font-weight="bold">${escapeXml(p.title)}</text>`);
  // grid and ticks first, so that the data draw over them
  for (const v of tx.values) {
    out.push(`<line x1="${n2(X(v))}" y1="${n2(y0)}" x2="${n2(X(v))}" y2="${n2(y0 + h)}" stroke="#e4e4e4"/>`,
      `<text class="tick" x="${n2(X(v))}" y="${n2(y0 + h + 16)}" text-anchor="middle">${escapeXml(tickText(v, tx.step, p.x))}</text>`);
  }
  for (const v of ty.values) {
    out.push(`<line x1="${n2(x0)}" y1="${n2(Y(v))}" x2="${n2(x0 + w)}" y2="${n2(Y(v))}" stroke="#e4e4e4"/>`,
      `<text class="tick" x="${n2(x0 - 6)}" y="${n2(Y(v) + 4)}" text-anchor="end">${escapeXml(tickText(v, ty.step, p.y))}</text>`);
  }
  out.push(`<rect x="${n2(x0)}" y="${n2(y0)}" width="${n2(w)}" height="${n2(h)}" fill="none" stroke="#333"/>`);
  out.push(`<text class="axis-label" x="${n2(x0 + w / 2)}" y="${n2(y0 + h + 34)}" text-anchor="middle">${escapeXml(p.x.label)}</text>`);
  out.push(`<text class="axis-label" transform="translate(${n2(left + 14)} ${n2(y0 + h / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(p.y.label)}</text>`);
  const legend: { name: string; color: string; dashed: boolean }[] = [];
  for (const r of p.references ?? []) {
    out.push(`<g class="reference" data-reference="${escapeXml(r.name)}"><line x1="${n2(x0)}" y1="${n2(Y(r.y))}" x2="${n2(x0 + w)}" y2="${n2(Y(r.y))}" stroke="${REFERENCE_COLOR}" stroke-width="1.5" stroke-dasharray="6 4"/></g>`);
    legend.push({ name: r.name, color: REFERENCE_COLOR, dashed: true });
  }
  p.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]; // per panel: the same series keep their colour across panels
    const g = [`<g class="series" data-series="${escapeXml(s.name)}">`];
    if (s.line ?? true) g.push(`<polyline points="${s.points.map((q) => `${n2(X(q[0]))},${n2(Y(q[1]))}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    s.points.forEach((q, j) => {
      const value = `${s.name}: ${p.x.label} ${valueText(q[0], p.x)}, ${p.y.label} ${valueText(q[1], p.y)}`;
      g.push(`<circle cx="${n2(X(q[0]))}" cy="${n2(Y(q[1]))}" r="3.5" fill="${color}"><title>${escapeXml(value)}</title></circle>`);
      if (s.labels?.[j]) g.push(`<text class="point-label" x="${n2(X(q[0]) + 6)}" y="${n2(Y(q[1]) - 7)}" fill="${color}">${escapeXml(s.labels[j])}</text>`);
    });
    out.push(...g, '</g>');
    legend.push({ name: s.name, color, dashed: false });
  });
  // the legend under the axis label, in rows as wide as the panel
  const places = legendLayout(legend.map((l) => l.name), x0, left + PANEL_W - 8);
  out.push('<g class="legend">');
  legend.forEach((l, i) => {
    const lx = places[i].x, ly = y0 + h + 56 + places[i].row * LEGEND_ROW;
    out.push(`<line x1="${n2(lx)}" y1="${n2(ly - 4)}" x2="${n2(lx + 22)}" y2="${n2(ly - 4)}" stroke="${l.color}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${n2(lx + 28)}" y="${n2(ly)}">${escapeXml(l.name)}</text>`);
  });
  out.push('</g>', '</g>');
  return out.join('\n');
}

// Where each legend entry goes: left to right from x0, a new row when the next would pass
// `right` (no text metrics in a string: about 7 px a character at 12 px).
function legendLayout(names: string[], x0: number, right: number): { x: number; row: number }[] {
  let x = x0, row = 0;
  return names.map((name) => {
    const width = 28 + 7 * name.length;
    if (x > x0 && x + width > right) { x = x0; row++; }
    const at = { x, row };
    x += width + 18;
    return at;
  });
}

const legendRows = (p: Panel) => 1 + Math.max(0, ...legendLayout([...(p.references ?? []), ...p.series].map((e) => e.name), M.left, PANEL_W - 8).map((e) => e.row));

export function svgChart(c: Chart): string {
  const width = PANEL_W * c.panels.length;
  const height = TITLE_H + PANEL_H + (Math.max(...c.panels.map(legendRows)) - 1) * LEGEND_ROW;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(c.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text class="chart-title" x="${n2(width / 2)}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(c.title)}</text>`,
    ...c.panels.map((p, i) => panelSvg(p, i * PANEL_W, TITLE_H)),
    '</svg>',
    '',
  ].join('\n');
}
