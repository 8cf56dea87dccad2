// The chart module on its own: well-formed markup, escaped text, one circle per point.
// (The pictures edgeq writes are rendered in Chromium by train.test.ts and convert.test.ts.)

import { describe, expect, it } from 'vitest';
import { escapeXml, svgChart, ticks } from '../src/toolchain/report/svg.js';

// Every tag closed in order (no XML parser in Node: a small tokenizer is enough here).
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.replace(/<\?xml[^>]*\?>/, '').matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (!m[1]) stack.push(m[2]);
    else if (stack.pop() !== m[2]) return false;
  }
  return stack.length === 0;
}

describe('svg charts', () => {
  it('escapes text and attribute values', () => {
    expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
    const svg = svgChart({ title: 'x < y & z', panels: [{ title: '"t"', x: { label: 'a<b' }, y: { label: 'y' }, series: [{ name: `s'1"`, points: [[1, 2], [2, 3]] }] }] });
    expect(balanced(svg)).toBe(true);
    expect(svg).toContain('x &lt; y &amp; z');
    expect(svg).toContain('data-series="s&apos;1&quot;"');
    expect(svg).not.toMatch(/<[^>]*<|x < y/);
  });

  it('draws a circle per point, a polyline through them, reference lines and a legend', () => {
    const svg = svgChart({
      title: 'demo', panels: [
        { title: 'loss', x: { label: 'epoch', integer: true }, y: { label: 'loss' }, series: [{ name: 'train', points: [[1, 2], [2, 1], [3, 0.5]] }, { name: 'test', points: [[1, 2.2], [2, 1.4], [3, 1.1]] }] },
        { title: 'acc', x: { label: 'size' }, y: { label: 'accuracy', percent: true }, series: [{ name: 'int8', points: [[10, 0.9], [5, 0.8]], labels: ['50%', '90%'] }], references: [{ name: 'float', y: 0.95 }] },
      ],
    });
    expect(balanced(svg)).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(8);
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg.match(/class="reference"/g)).toHaveLength(1);
    for (const text of ['>epoch<', '>accuracy<', '>train<', '>test<', '>float<', '>90%<', '>95%<']) expect(svg).toContain(text);
    expect(() => svgChart({ title: 't', panels: [{ title: 'empty', x: { label: 'x' }, y: { label: 'y' }, series: [] }] })).toThrow(/no points/);
    expect(() => svgChart({ title: 't', panels: [{ title: 'nan', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 's', points: [[1, NaN]] }] }] })).toThrow(/finite/);
  });

  it('ticks: 1, 2 or 5 steps covering the data, whole numbers for integer axes, a band around one value', () => {
    const t = ticks(0.12, 0.87);
    expect([t.values.map((v) => Number(v.toFixed(9))), t.lo, t.hi]).toEqual([[0, 0.2, 0.4, 0.6, 0.8, 1], 0, 1]);
    expect(ticks(1, 3, { integer: true }).values).toEqual([1, 1.5, 2, 2.5, 3].filter(Number.isInteger));
    expect(ticks(1, 1, { integer: true })).toMatchObject({ lo: 0, hi: 2 });
  });
});
