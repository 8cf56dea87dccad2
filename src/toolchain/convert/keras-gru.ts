// Keras' GRU with reset_after = true (its default since TensorFlow 2), which TF.js's GRU
// refuses ("GRUCell does not support reset_after"). The loader renames such layers in a
// Keras model's topology to 'KerasGRU' (normalizeTopology in load.ts), so that TF.js
// builds this layer instead: the same weights ([F, 3U] kernel, [U, 3U] recurrent kernel,
// bias [2, 3U]: input bias, recurrent bias), the same RNN wrapper (return_sequences,
// go_backwards, Bidirectional), and Keras' cell:
//
//   x_z, x_r, x_h = x·W + b_in;   h_z, h_r, h_h = h·U + b_rec
//   z = recAct(x_z + h_z);  r = recAct(x_r + h_r);  hh = act(x_h + r ⊙ h_h)
//   h' = z ⊙ h + (1 − z) ⊙ hh
//
// gruStep is that step, and TF.js's own step for reset_after = false; the converter's
// float graph (runFloat in graph.ts) runs it too, so the float reference is one piece of code.

import * as tf from '@tensorflow/tfjs';
import { UnsupportedOpError } from '../../runtime/errors.js';

// The recurrent cells' activations (GRU's here, LSTM's and the activation op's in graph.ts).
export type CellActivation = 'relu' | 'tanh' | 'sigmoid' | 'hardSigmoid';

export function cellActivation(x: tf.Tensor, a: CellActivation): tf.Tensor {
  switch (a) {
    case 'relu': return tf.relu(x);
    case 'tanh': return tf.tanh(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'hardSigmoid': return tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1); // TF.js's and Keras 2's
  }
}

// One step for a batch: x [B, F], h [B, U]; kernel [F, 3U], recurrent [U, 3U] (Keras'
// layout), bias [3U] or [2, 3U] (reset_after) or null.
export function gruStep(
  x: tf.Tensor2D, h: tf.Tensor2D, kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor | null,
  resetAfter: boolean, act: CellActivation, recAct: CellActivation,
): tf.Tensor2D {
  return tf.tidy(() => {
    const units = h.shape[1];
    const [bIn, bRec] = !bias ? [null, null] : resetAfter ? tf.unstack(bias.reshape([2, 3 * units])) : [bias, null];
    let mx: tf.Tensor = tf.matMul(x, kernel);
    if (bIn) mx = tf.add(mx, bIn);
    const [xz, xr, xh] = tf.split(mx, 3, 1);
    let hh: tf.Tensor, z: tf.Tensor;
    if (resetAfter) {
      let mh: tf.Tensor = tf.matMul(h, recurrent);
      if (bRec) mh = tf.add(mh, bRec);
      const [hz, hr, hhRec] = tf.split(mh, 3, 1);
      z = cellActivation(tf.add(xz, hz), recAct);
      const r = cellActivation(tf.add(xr, hr), recAct);
      hh = cellActivation(tf.add(xh, tf.mul(r, hhRec)), act);
    } else {
      const [uzr, uh] = tf.split(recurrent, [2 * units, units], 1);
      const [hz, hr] = tf.split(tf.matMul(h, uzr), 2, 1);
      z = cellActivation(tf.add(xz, hz), recAct);
      const r = cellActivation(tf.add(xr, hr), recAct);
      hh = cellActivation(tf.add(xh, tf.matMul(tf.mul(r, h), uh)), act);
    }
    return tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hh)) as tf.Tensor2D;
  });
}

interface KerasGruArgs {
  units: number;
  activation?: string;
  recurrentActivation?: string;
  useBias?: boolean;
  [key: string]: unknown;
}

const activationName = (v: unknown, fallback: CellActivation): CellActivation => {
  const a = v === undefined || v === null ? fallback : v === 'hard_sigmoid' ? 'hardSigmoid' : v;
  if (a !== 'relu' && a !== 'tanh' && a !== 'sigmoid' && a !== 'hardSigmoid') throw new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION', `GRU activation '${String(v)}' is not supported (relu, tanh, sigmoid, hard_sigmoid)`);
  return a;
};

class KerasGRUCell extends tf.layers.RNNCell {
  static className = 'KerasGRUCell';
  readonly units: number;
  readonly stateSize: number;
  readonly activation: CellActivation;
  readonly recurrentActivation: CellActivation;
  readonly useBias: boolean;
  kernel!: tf.LayerVariable;
  recurrentKernel!: tf.LayerVariable;
  bias: tf.LayerVariable | null = null;

  constructor(args: KerasGruArgs) {
    super(args as never);
    this.units = args.units;
    this.stateSize = args.units;
    this.activation = activationName(args.activation, 'tanh'); // Keras' defaults
    this.recurrentActivation = activationName(args.recurrentActivation, 'sigmoid');
    this.useBias = args.useBias ?? true;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const f = shape[shape.length - 1] as number, n = 3 * this.units;
    const init = tf.initializers.zeros();
    this.kernel = this.addWeight('kernel', [f, n], 'float32', init);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, n], 'float32', init);
    if (this.useBias) this.bias = this.addWeight('bias', [2, n], 'float32', init);
    this.built = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const [x, h] = inputs as tf.Tensor[];
    const y = gruStep(x as tf.Tensor2D, h as tf.Tensor2D, this.kernel.read() as tf.Tensor2D, this.recurrentKernel.read() as tf.Tensor2D,
      this.bias?.read() ?? null, true, this.activation, this.recurrentActivation);
    return [y, y];
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, activation: this.activation, recurrentActivation: this.recurrentActivation, useBias: this.useBias, resetAfter: true };
  }
}

export class KerasGRU extends tf.layers.RNN {
  static className = 'KerasGRU';
  constructor(args: KerasGruArgs) {
    super({ ...args, cell: new KerasGRUCell(args) } as never);
  }
  static fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }
}
tf.serialization.registerClass(KerasGRU);
tf.serialization.registerClass(KerasGRUCell);
