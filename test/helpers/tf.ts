// TF.js on its cpu backend: the float reference every kernel is measured against.
import * as tf from '@tensorflow/tfjs';

let ready: Promise<typeof tf> | undefined;
export function tfCpu(): Promise<typeof tf> {
  ready ??= tf.setBackend('cpu').then((ok) => {
    if (!ok) throw new Error('TF.js cpu backend unavailable');
    return tf;
  });
  return ready;
}

// The largest difference between a TF.js model's output and its lowered float graph's
// on input x (the converter's rewrites are exact in float, up to rounding). Disposes x.
export async function loweringError(model: import('@tensorflow/tfjs').LayersModel, graph: import('../../src/toolchain/convert/graph.js').FloatGraph, x: import('@tensorflow/tfjs').Tensor): Promise<number> {
  const tf = await import('@tensorflow/tfjs');
  const { runFloat } = await import('../../src/toolchain/convert/graph.js');
  const want = (model.predict(x) as import('@tensorflow/tfjs').Tensor).dataSync();
  const outs = runFloat(graph, x);
  const got = outs[outs.length - 1].dataSync();
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(want[i] - got[i]));
  tf.dispose([x, ...outs]);
  return err;
}
