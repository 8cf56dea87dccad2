// Opens an SVG file in headless Chromium as its own document (an XML parse error then
// shows as a parsererror page, not as an <svg>) and reports what was drawn: the
// picture's box, and per series its circles and polyline vertices with their boxes.

import { pathToFileURL } from 'node:url';
import { launchChromium } from './pages.js';

export interface Rendered {
  root: string; // the document element's name: 'svg' when the file parsed
  box: { width: number; height: number };
  series: { name: string; circles: number; vertices: number; width: number; height: number }[];
  references: string[];
  texts: string[];
}

export async function renderSvg(file: string): Promise<Rendered> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(file).href);
    return await page.evaluate(() => {
      const root = document.documentElement;
      const r = root.getBoundingClientRect();
      const series = Array.from(root.querySelectorAll('g.series')).map((g) => {
        const b = (g as SVGGraphicsElement).getBBox();
        const line = g.querySelector('polyline') as SVGPolylineElement | null;
        return { name: g.getAttribute('data-series') ?? '', circles: g.querySelectorAll('circle').length, vertices: line ? line.points.numberOfItems : 0, width: b.width, height: b.height };
      });
      const references = Array.from(root.querySelectorAll('g.reference')).map((g) => g.getAttribute('data-reference') ?? '');
      const texts = Array.from(root.querySelectorAll('text')).filter((t) => (t as SVGTextElement).getComputedTextLength() > 0).map((t) => t.textContent ?? '');
      return { root: root.localName, box: { width: r.width, height: r.height }, series, references, texts };
    });
  } finally {
    await browser.close();
  }
}
