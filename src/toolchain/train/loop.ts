// The training loop, platform-neutral (TF.js only): Node (train.ts) and the
// browser (browser.ts) both run it.

import * as tf from '@tensorflow/tfjs';

// loss, accuracy: training's running means over the epoch's batches; test*: the held-out
// examples after the epoch
export interface EpochLog { epoch: number; loss: number; accuracy: number; testLoss: number; testAccuracy: number; seconds: number; imagesPerSecond: number }

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

// Loss and accuracy on held-out examples, the numbers training-curves.svg compares with
// training's own. The loss is what training minimizes (sparse categorical cross-entropy
// of the softmax output, probabilities clipped to [1e-7, 1 − 1e-7] as TF.js clips them),
// computed here from the probabilities read back. Reads back asynchronously: a
// synchronous GPU read in a browser's WebGPU loses the device in Chromium ("A valid
// external Instance reference no longer exists").
export async function testMetrics(model: tf.LayersModel, x: tf.Tensor, labels: ArrayLike<number>, batch = 256): Promise<{ loss: number; accuracy: number }> {
  const eps = 1e-7;
  let ok = 0, loss = 0;
  for (let i = 0; i < labels.length; i += batch) {
    const m = Math.min(batch, labels.length - i);
    const scores = tf.tidy(() => model.predict(x.slice(i, m)) as tf.Tensor);
    const p = await scores.data();
    scores.dispose();
    const classes = p.length / m;
    for (let j = 0; j < m; j++) {
      const row = p.subarray(j * classes, (j + 1) * classes), label = labels[i + j];
      let top = 0;
      for (let k = 1; k < classes; k++) if (row[k] > row[top]) top = k;
      if (top === label) ok++;
      loss -= Math.log(Math.min(1 - eps, Math.max(eps, row[label])));
    }
  }
  return { loss: loss / labels.length, accuracy: ok / labels.length };
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
        const test = await testMetrics(o.model, o.test.x, o.test.labels);
        const e = { epoch: epoch + 1, loss: logs?.loss ?? NaN, accuracy: logs?.acc ?? NaN, testLoss: test.loss, testAccuracy: test.accuracy, seconds, imagesPerSecond: n / seconds };
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
