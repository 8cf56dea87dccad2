// Inputs against a model's shape: nested arrays ([steps][features], [rows][cols][channels]
// …) checked and flattened, and the messages for an input of the wrong size, which name
// the shape the model takes. Model.predict and `edgeq run` use them.

import { InputError } from './errors.js';

const isList = (v: unknown): v is ArrayLike<unknown> => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
const withoutOnes = (shape: readonly number[]) => shape.filter((d) => d !== 1).join(',');

// '[32, 1] (32 steps × 1 feature)' for a sequence input [steps, features], else '[28, 28, 1]'.
export function itemShapeText(shape: readonly number[]): string {
  const s = `[${shape.join(', ')}]`;
  return shape.length === 2 ? `${s} (${shape[0]} steps × ${shape[1]} feature${shape[1] === 1 ? '' : 's'})` : s;
}

// For a sequence model ([steps, features]) given `values` values for `batch` items: what
// they would be as sequences, when whole steps of another length. '' otherwise.
export function sequenceNote(shape: readonly number[], values: number, batch = 1): string {
  if (shape.length !== 2) return '';
  const [steps, features] = shape;
  if (values === 0 || values % (batch * features) !== 0 || values / (batch * features) === steps) return '';
  const n = values / (batch * features);
  return `; that is ${n} steps of ${features} value${features === 1 ? '' : 's'}${batch === 1 ? '' : ' per item'}, and this model's sequences are fixed at ${steps} steps (set when it was converted; a model converted with --sequence-length N takes exactly N): pad or cut each sequence to ${steps} steps`;
}

// The input as flat values: a nested array (an array of arrays or typed arrays) whose
// shape is the model's ([...shape], or [batch, ...shape]; axes of size 1 may be left
// out), or that is a list per item or one list in wrappers, becomes one list of its
// values (whose length Model.predict checks); anything else is returned as it is. A
// ragged nested array, or one of another shape, is an InputError that names the shape
// the model takes.
export function flattenInput<T>(input: ArrayLike<T>, shape: readonly number[], batch = 1): ArrayLike<T> | unknown[] {
  if (!Array.isArray(input) || input.length === 0 || !isList(input[0])) return input;
  const dims: number[] = [];
  for (let v: unknown = input; isList(v); v = v.length ? v[0] : undefined) dims.push(v.length);
  const values: unknown[] = [];
  const walk = (v: ArrayLike<unknown>, depth: number, at: string) => {
    if (v.length !== dims[depth]) throw new InputError('E_INPUT_SHAPE', `input is a ragged nested array: input${at} has ${v.length} entries, input${at.replace(/\[\d+\]/g, '[0]')} has ${dims[depth]}; the model takes ${itemShapeText(shape)} per item`);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (depth + 1 < dims.length) {
        if (!isList(x)) throw new InputError('E_INPUT_SHAPE', `input is a ragged nested array: input${at}[${i}] is ${String(x)}, not an array like input${at.replace(/\[\d+\]/g, '[0]')}[0]; the model takes ${itemShapeText(shape)} per item`);
        walk(x, depth + 1, `${at}[${i}]`);
      } else if (isList(x)) {
        throw new InputError('E_INPUT_SHAPE', `input is a ragged nested array: input${at}[${i}] is an array where input${at.replace(/\[\d+\]/g, '[0]')}[0] is a value; the model takes ${itemShapeText(shape)} per item`);
      } else values.push(x);
    }
  };
  walk(input, 0, '');
  // a list in wrappers ([[v, …]]) is flat; so is a list per item
  const length = shape.reduce((a, b) => a * b, 1);
  const got = withoutOnes(dims);
  if (!got.includes(',') || got === withoutOnes([batch, ...shape]) || got === withoutOnes([batch, length])) return values;
  const items = batch === 1 && dims.length === shape.length + 1 && withoutOnes(dims.slice(1)) === withoutOnes(shape) ? ` (for ${dims[0]} items pass { batch: ${dims[0]} })` : '';
  let note = '';
  const item = batch > 1 && dims.length === shape.length + 1 && dims[0] === batch ? dims.slice(1) : dims;
  if (shape.length === 2 && item.length === 2) {
    if (item[1] !== shape[1]) note = `: its steps have ${item[1]} values, the model's ${shape[1]}${item[0] === shape[1] && item[1] === shape[0] ? ' (transposed? give [steps][features])' : ''}`;
    else note = sequenceNote(shape, item[0] * item[1]);
  }
  throw new InputError('E_INPUT_SHAPE', `input is a nested array of shape [${dims.join(', ')}]; the model takes ${itemShapeText(shape)} per item${batch === 1 ? '' : `, [${[batch, ...shape].join(', ')}] for ${batch} items`}${items}${note}`);
}
