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
