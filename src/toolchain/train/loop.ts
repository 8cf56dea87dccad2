// The training loop, platform-neutral (TF.js only): Node (train.ts) and the
// browser (browser.ts) both run it.

import * as tf from '@tensorflow/tfjs';

export interface EpochLog { epoch: number; loss: number; accuracy: number; testAccuracy: number; seconds: number; imagesPerSecond: number }

export interface LoopOptions {
  model: tf.LayersModel;
  x: tf.Tensor;
  y: tf.Tensor;
  test: { x: tf.Tensor; labels: ArrayLike<number> };
  epochs: number;
  batch: number;
  lr: number;
  onBatch?: (epoch: number, fraction: number, loss: number, acc: number) => void;
  onEpoch?: (e: EpochLog) => void;
}

// Reads back asynchronously: a synchronous GPU read in a browser's WebGPU loses the
// device in Chromium ("A valid external Instance reference no longer exists").
export async function accuracy(model: tf.LayersModel, x: tf.Tensor, labels: ArrayLike<number>, batch = 256): Promise<number> {
  let ok = 0;
  for (let i = 0; i < labels.length; i += batch) {
    const m = Math.min(batch, labels.length - i);
    const classes = tf.tidy(() => (model.predict(x.slice(i, m)) as tf.Tensor).argMax(-1));
    const pred = await classes.data();
    classes.dispose();
    for (let j = 0; j < m; j++) if (pred[j] === labels[i + j]) ok++;
  }
  return ok / labels.length;
}

export async function trainLoop(o: LoopOptions): Promise<EpochLog[]> {
  o.model.compile({ optimizer: tf.train.adam(o.lr), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const history: EpochLog[] = [];
  const n = o.x.shape[0];
  const batches = Math.ceil(n / o.batch);
  let start = Date.now();
  await o.model.fit(o.x, o.y, {
    epochs: o.epochs, batchSize: o.batch, shuffle: true, verbose: 0,
    callbacks: {
      onEpochBegin: async () => { start = Date.now(); },
      onBatchEnd: async (b, logs) => { o.onBatch?.(history.length, (b + 1) / batches, logs?.loss ?? NaN, logs?.acc ?? NaN); },
      onEpochEnd: async (epoch, logs) => {
        const seconds = (Date.now() - start) / 1000;
        const e = { epoch: epoch + 1, loss: logs?.loss ?? NaN, accuracy: logs?.acc ?? NaN, testAccuracy: await accuracy(o.model, o.test.x, o.test.labels), seconds, imagesPerSecond: n / seconds };
        history.push(e);
        o.onEpoch?.(e);
      },
    },
  });
  return history;
}

// 28×28 grey pixels (0–255) as the architecture's input, scaled to 0–1.
export function imageTensors(images: Uint8Array, labels: ArrayLike<number>, shape: number[]): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => ({
    x: tf.tensor(images, [labels.length, ...shape], 'float32').div(255),
    y: tf.tensor1d(Array.from(labels), 'float32'),
  }));
}
