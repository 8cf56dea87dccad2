// CSV examples (csv-parse reads the text): one example per row, its numeric columns
// flattened into the model input, optionally one label column. A first row with a
// non-numeric cell is the header.

import { parse } from 'csv-parse/sync';
import { DataError } from '../../runtime/errors.js';

export interface CsvExamples {
  count: number;
  width: number; // values per example
  values: Float32Array; // count × width
  labels?: Int32Array;
  classes?: string[]; // when the labels are names: index → name
}

export interface CsvOptions { labelColumn?: string }

const isNumber = (s: string) => s.trim() !== '' && !Number.isNaN(Number(s));

export function parseCsv(text: string, file: string, options: CsvOptions = {}): CsvExamples {
  const bad = (what: string): never => { throw new DataError('E_CSV', `${file}: ${what}`); };
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true, bom: true }) as string[][];
  } catch (e) {
    return bad(`malformed CSV (${(e as Error).message})`);
  }
  if (rows.length === 0) bad('no rows');
  const header = rows[0].some((c) => !isNumber(c)) ? rows[0] : undefined;
  const body = header ? rows.slice(1) : rows;
  const line = (i: number) => i + (header ? 2 : 1); // 1-based line in the file
  if (body.length === 0) bad('a header and no examples');
  let labelAt = -1;
  if (options.labelColumn !== undefined) {
    const byName = header?.indexOf(options.labelColumn) ?? -1;
    labelAt = byName >= 0 ? byName : /^\d+$/.test(options.labelColumn) ? Number(options.labelColumn) : -1;
    if (labelAt < 0 || labelAt >= rows[0].length) {
      bad(`no label column '${options.labelColumn}'${header ? ` (columns: ${header.join(', ')})` : ' (the file has no header: give the column number, from 0)'}`);
    }
  }
  const columns = rows[0].length;
  const width = columns - (labelAt >= 0 ? 1 : 0);
  if (width === 0) bad('no value columns besides the label');
  const values = new Float32Array(body.length * width);
  const names: string[] = [];
  body.forEach((row, r) => {
    if (row.length !== columns) bad(`line ${line(r)} has ${row.length} columns, the ${header ? 'header' : 'first row'} has ${columns}`);
    let j = 0;
    row.forEach((cell, c) => {
      if (c === labelAt) { names.push(cell); return; }
      const v = Number(cell);
      if (!isNumber(cell)) bad(`line ${line(r)}, column ${header ? `'${header[c]}'` : c}: '${cell}' is not a number`);
      if (!Number.isFinite(v)) bad(`line ${line(r)}, column ${header ? `'${header[c]}'` : c}: ${cell} is not finite`);
      values[r * width + j++] = v;
    });
  });
  if (labelAt < 0) return { count: body.length, width, values };
  // integer labels are class indices; any other labels are class names, indexed in sorted order
  if (names.every((n) => /^\d+$/.test(n))) return { count: body.length, width, values, labels: Int32Array.from(names, Number) };
  const classes = [...new Set(names)].sort();
  return { count: body.length, width, values, labels: Int32Array.from(names, (n) => classes.indexOf(n)), classes };
}
