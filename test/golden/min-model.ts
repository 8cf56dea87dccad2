// The smallest model with a weighted layer: docs/FORMAT.md shows its bytes.
// y = x through one dense unit (weight code 2, scale 0.5), no bias.
// Its converter is set here, fixed: the writer's default is edgeq's package version,
// and the golden dump must not change when that does.
import type { EdgeqModel } from '../../src/toolchain/format/model.js';

export const minModel: EdgeqModel = {
  metadata: { name: 'min', converter: { name: 'edgeq', version: 'golden' } },
  input: { shape: [1], quant: { scale: 1, zeroPoint: 0 } },
  layers: [{
    type: 'dense', units: 1, activation: 'none', weights: Int8Array.from([2]), weightScales: Float32Array.from([0.5]),
    output: { scale: 1, zeroPoint: 0 }, encoding: 'raw',
  }],
};
