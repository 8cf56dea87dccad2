// The user's data: .npy arrays, CSV files, folders of PNG / JPEG images, read value by
// value from small files this test writes; and bad data refused with the file and the
// row, item or pixel named.

import jpeg from 'jpeg-js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/runtime/errors.js';
import { readExamples } from '../src/toolchain/data/examples.js';
import { decodeImage, encodePng } from '../src/toolchain/data/image.js';
import { rng } from './helpers/quant.js';
import { npy } from './helpers/npy.js';

const dir = mkdtempSync(join(tmpdir(), 'edgeq-data-'));

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function refused(p: Promise<unknown>, message: RegExp): Promise<void> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(DataError);
  expect((e as Error).message).toMatch(message);
}

describe('.npy examples', () => {
  const DTYPES = [
    ['<f4', Float32Array], ['<f8', Float64Array], ['|u1', Uint8Array], ['|i1', Int8Array], ['<i2', Int16Array], ['<i4', Int32Array],
  ] as const;
  for (const [descr, Ctor] of DTYPES) {
    for (const shape of [[2, 3], [4, 2, 3], [1, 5, 1]]) {
      it(`${descr} [${shape}]: every value, in order`, async () => {
        const r = rng(shape.length * 7 + descr.length);
        const n = shape.reduce((a, b) => a * b, 1);
        const data = Ctor.from(Array.from({ length: n }, () => (Ctor === Float32Array || Ctor === Float64Array ? r() * 200 - 100 : Math.floor(r() * 100))));
        const path = file(`x${descr.replace(/\W/g, '')}-${shape.join('x')}.npy`, npy(descr, shape, data));
        const ex = await readExamples(path, { inputShape: shape.slice(1) });
        expect(ex.count).toBe(shape[0]);
        expect(ex.shape).toEqual(shape.slice(1));
        expect(Array.from(ex.values!)).toEqual(Array.from(data, (v) => Math.fround(v)));
        expect(ex.pixels).toBeUndefined();
      });
    }
  }

  it('one example without the leading N; labels from a second .npy', async () => {
    const one = await readExamples(file('one.npy', npy('<f4', [2, 2], Float32Array.of(1, 2, 3, 4))), { inputShape: [2, 2] });
    expect([one.count, Array.from(one.values!)]).toEqual([1, [1, 2, 3, 4]]);
    const x = file('three.npy', npy('<f4', [3, 2], Float32Array.of(1, 2, 3, 4, 5, 6)));
    for (const [descr, labels] of [['<i4', Int32Array.of(2, 0, 1)], ['|u1', Uint8Array.of(2, 0, 1)]] as const) {
      const ex = await readExamples(x, { inputShape: [2], labels: file(`labels${descr.replace(/\W/g, '')}.npy`, npy(descr, [3], labels)) });
      expect(Array.from(ex.labels!)).toEqual([2, 0, 1]);
    }
  });

  it('refuses bad files, naming the file and what is wrong', async () => {
    const good = npy('<f4', [2, 3], new Float32Array(6));
    await refused(readExamples(file('trunc.npy', good.subarray(0, good.length - 8)), { inputShape: [3] }), /trunc\.npy: the header says shape \(2, 3\) = 6 values, the file holds 4: it is truncated/);
    await refused(readExamples(file('odd.npy', good.subarray(0, good.length - 3)), { inputShape: [3] }), /odd\.npy: malformed \.npy/);
    await refused(readExamples(file('shape.npy', good), { inputShape: [4] }), /shape\.npy has shape \[2, 3\]; the model takes \[4\] per example, so the file must be \[N, 4\]/);
    await refused(readExamples(file('big.npy', npy('>f4', [2, 3], new Float32Array(6))), { inputShape: [3] }), /dtype '>f4' is not supported/);
    await refused(readExamples(file('u2.npy', npy('<u2', [2, 3], new Uint16Array(6))), { inputShape: [3] }), /dtype '<u2' is not supported: save float32/);
    await refused(readExamples(file('fort.npy', npy('<f4', [2, 3], new Float32Array(6), { fortran: true })), { inputShape: [3] }), /Fortran order/);
    await refused(readExamples(file('text.npy', 'hello, world'), { inputShape: [3] }), /text\.npy: not a \.npy file/);
    await refused(readExamples(file('nan.npy', npy('<f4', [2, 3], Float32Array.of(0, 0, 0, 0, NaN, 0))), { inputShape: [3] }), /nan\.npy: example 1, value 1 is NaN/);
    await refused(readExamples(file('inf.npy', npy('<f8', [2, 3], Float64Array.of(0, 0, 1e300, 0, 0, 0))), { inputShape: [3] }), /inf\.npy: example 0, value 2 is Infinity/);
    const x = file('two.npy', good);
    await refused(readExamples(x, { inputShape: [3], labels: file('l3.npy', npy('<i4', [3], new Int32Array(3))) }), /l3\.npy has 3 labels for 2 examples/);
    await refused(readExamples(x, { inputShape: [3], labels: file('lf.npy', npy('<f4', [2], Float32Array.of(1, 0.5))) }), /lf\.npy: label 1 is 0\.5/);
    await refused(readExamples(join(dir, 'missing.npy'), { inputShape: [3] }), /missing\.npy not found/);
  });
});

describe('CSV examples', () => {
  it('with a header and a named label column (names or indices), and without either', async () => {
    const named = await readExamples(file('h.csv', 'a,b,kind,c\n1,2,cat,3\n4,5.5,dog,-6\n7,8,cat,9e-1\n'), { inputShape: [3], labelColumn: 'kind' });
    expect([named.count, Array.from(named.values!), Array.from(named.labels!), named.classes]).toEqual([3, [1, 2, 3, 4, 5.5, -6, 7, 8, 0.9].map(Math.fround), [0, 1, 0], ['cat', 'dog']]);
    const indexed = await readExamples(file('i.csv', 'x,y,label\n1,2,3\n4,5,0\n'), { inputShape: [2], labelColumn: 'label' });
    expect([Array.from(indexed.values!), Array.from(indexed.labels!), indexed.classes]).toEqual([[1, 2, 4, 5], [3, 0], undefined]);
    const plain = await readExamples(file('p.csv', '1,2,3,4\n5,6,7,8\n'), { inputShape: [2, 2] });
    expect([plain.count, Array.from(plain.values!), plain.labels]).toEqual([2, [1, 2, 3, 4, 5, 6, 7, 8], undefined]);
    const byNumber = await readExamples(file('n.csv', '9,1,2\n8,3,4\n'), { inputShape: [2], labelColumn: '0' });
    expect([Array.from(byNumber.values!), Array.from(byNumber.labels!)]).toEqual([[1, 2, 3, 4], [9, 8]]);
  });

  it('refuses ragged rows, non-numbers, infinities, a missing label column and the wrong width', async () => {
    await refused(readExamples(file('ragged.csv', 'a,b\n1,2\n3\n'), { inputShape: [2] }), /ragged\.csv: line 3 has 1 columns, the header has 2/);
    await refused(readExamples(file('word.csv', 'a,b\n1,2\n3,x\n'), { inputShape: [2] }), /word\.csv: line 3, column 'b': 'x' is not a number/);
    await refused(readExamples(file('inf.csv', '1,2\n3,Infinity\n'), { inputShape: [2] }), /inf\.csv: line 2, column 1: Infinity is not finite/);
    await refused(readExamples(file('nolabel.csv', 'a,b\n1,2\n'), { inputShape: [1], labelColumn: 'y' }), /no label column 'y' \(columns: a, b\)/);
    await refused(readExamples(file('wide.csv', '1,2,3\n'), { inputShape: [2] }), /wide\.csv has 3 value columns; the model takes \[2\] = 2 values per example \(is one column a label\? --label-column NAME\)/);
    await refused(readExamples(file('empty.csv', 'a,b\n'), { inputShape: [2] }), /a header and no examples/);
  });
});

describe('image folders and image files', () => {
  // 4×3 test pattern: RGB values that differ per pixel
  const W = 4, H = 3;
  const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37 + 11) % 256);
  const grey = Uint8Array.from({ length: W * H }, (_, i) => (i * 53 + 7) % 256);

  it('PNG grey and RGB, and RGBA with alpha over black, decode value by value', () => {
    expect(decodeImage(encodePng(grey, W, H, 1), 'g.png')).toEqual({ width: W, height: H, channels: 1, pixels: grey });
    expect(decodeImage(encodePng(rgb, W, H, 3), 'c.png')).toEqual({ width: W, height: H, channels: 3, pixels: rgb });
    const png = new PNG({ width: 1, height: 1 });
    png.data.set([200, 100, 50, 128]);
    expect(Array.from(decodeImage(PNG.sync.write(png), 'a.png').pixels)).toEqual([100, 50, 25]);
  });

  it('JPEG grey and RGB decode to within JPEG error', () => {
    const rgba = (px: Uint8Array, c: number) => Uint8Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 255 : px[Math.floor(i / 4) * c + (c === 3 ? i % 4 : 0)]));
    for (const [px, c] of [[grey, 1], [rgb, 3]] as const) {
      const bytes = jpeg.encode({ data: rgba(px, c), width: W, height: H }, 100).data;
      const img = decodeImage(bytes, 'x.jpg');
      expect([img.width, img.height]).toEqual([W, H]);
      expect(img.channels).toBe(c); // a grey JPEG comes back grey
      const worst = Math.max(...Array.from(px, (v, i) => Math.abs(v - img.pixels[i])));
      expect(worst).toBeLessThanOrEqual(c === 1 ? 3 : 40);
    }
  });

  it('a folder with one subfolder per class: labels, sizes and channels follow the model', async () => {
    const root = join(dir, 'folder');
    for (const [cls, px] of [['cat', 10], ['dog', 200]] as const) {
      mkdirSync(join(root, cls), { recursive: true });
      writeFileSync(join(root, cls, 'a.png'), encodePng(new Uint8Array(8 * 8).fill(px), 8, 8, 1));
      writeFileSync(join(root, cls, 'b.jpg'), jpeg.encode({ data: new Uint8Array(8 * 8 * 4).fill(px), width: 8, height: 8 }, 100).data);
    }
    const greyEx = await readExamples(root, { inputShape: [4, 4, 1] });
    expect([greyEx.count, greyEx.classes, Array.from(greyEx.labels!)]).toEqual([4, ['cat', 'dog'], [0, 0, 1, 1]]);
    expect(greyEx.pixels!.length).toBe(4 * 16);
    for (let i = 0; i < 4; i++) for (const v of greyEx.pixels!.subarray(i * 16, (i + 1) * 16)) expect(Math.abs(v - (i < 2 ? 10 : 200))).toBeLessThanOrEqual(2);
    const rgbEx = await readExamples(root, { inputShape: [2, 2, 3] });
    expect(rgbEx.pixels!.length).toBe(4 * 12);
    expect(rgbEx.values).toBeUndefined();
  });

  it('refuses corrupt images, naming the file, and folders that are not image data', async () => {
    const root = join(dir, 'corrupt', 'one');
    mkdirSync(root, { recursive: true });
    const png = encodePng(grey, W, H, 1);
    writeFileSync(join(root, 'bad.png'), png.subarray(0, png.length - 20));
    await refused(readExamples(join(dir, 'corrupt'), { inputShape: [3, 4, 1] }), /bad\.png: corrupt PNG/);
    writeFileSync(join(root, 'bad.png'), Uint8Array.of(0xff, 0xd8, 0xff, 0, 1, 2));
    await refused(readExamples(join(dir, 'corrupt'), { inputShape: [3, 4, 1] }), /bad\.png: corrupt JPEG/);
    writeFileSync(join(root, 'bad.png'), 'not an image');
    await refused(readExamples(join(dir, 'corrupt'), { inputShape: [3, 4, 1] }), /bad\.png: not a PNG, JPEG or PGM image/);
    mkdirSync(join(dir, 'none'), { recursive: true });
    await refused(readExamples(join(dir, 'none'), { inputShape: [3, 4, 1] }), /has no images/);
    await refused(readExamples(join(dir, 'corrupt'), { inputShape: [20, 6, 2] }), /the model takes \[20, 6, 2\], which is not an image/);
    await refused(readExamples(join(dir, 'corrupt'), { inputShape: [7] }), /not an image/);
  });

  it('datasets by name still work, and say when they do not fit the model', async () => {
    const ex = await readExamples('mnist', { inputShape: [28, 28, 1], split: 'test', limit: 5 });
    expect([ex.count, ex.pixels!.length, ex.labels!.length]).toEqual([5, 5 * 784, 5]);
    await refused(readExamples('mnist', { inputShape: [96, 96, 3] }), /mnist has 28×28 grey images; the model takes \[96, 96, 3\]/);
    await refused(readExamples(join(dir, 'x.parquet'), { inputShape: [3] }), /not found/);
    await refused(readExamples(file('x.parquet', 'PAR1'), { inputShape: [3] }), /cannot tell what it holds from '\.parquet'/);
  });
});
