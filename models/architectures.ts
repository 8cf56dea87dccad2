// The reference architectures of the project (the seed's CNN and LSTM), exactly, in TF.js Layers.
//   CNN:  Conv2D(32, 3×3, relu, 28×28×1) → MaxPool 2×2 → Conv2D(64, 3×3, relu) → MaxPool 2×2
//         → Conv2D(64, 3×3, relu) → Flatten → Dense(64, relu) → Dense(10, softmax)   2,794,240 MACs
//   LSTM: LSTM(64, relu, input 28 steps × 28 features) → Dense(64, relu) → Dense(10, softmax)
//         (recurrent activation: TF.js's default, hard sigmoid)                         664,192 MACs
// Both train with Adam and sparse categorical cross-entropy; the reference recipe is
// 10 epochs at batch 64.

import type * as tfType from '@tensorflow/tfjs';

export type Arch = 'cnn' | 'lstm';
export const ARCHS: readonly Arch[] = ['cnn', 'lstm'];

export function referenceModel(tf: typeof tfType, arch: Arch, classes = 10, seed?: number): tfType.Sequential {
  const init = (k: number) => (seed === undefined ? undefined : tf.initializers.glorotUniform({ seed: seed + k }));
  if (arch === 'cnn') {
    return tf.sequential({
      name: 'reference_cnn',
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(3) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(4) }),
        tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init(5) }),
      ],
    });
  }
  return tf.sequential({
    name: 'reference_lstm',
    layers: [
      tf.layers.lstm({ inputShape: [28, 28], units: 64, activation: 'relu', kernelInitializer: init(1), recurrentInitializer: seed === undefined ? undefined : tf.initializers.orthogonal({ seed: seed + 2 }) }),
      tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
}

// The input shape each architecture takes from a 28×28 grey image.
export function inputShapeOf(arch: Arch): number[] {
  return arch === 'cnn' ? [28, 28, 1] : [28, 28];
}
