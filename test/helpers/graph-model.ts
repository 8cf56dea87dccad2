// Writes the Keras MNIST CNN of test/fixtures/keras-mnist-cnn as a TF.js Graph model, the
// way tensorflowjs_converter lays one out (Const nodes named like the weights, fused
// and unfused ops), so that the graph-model path can be tested without Python.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
const list = (...i: number[]) => ({ list: { i: i.map(String) } });
const conv = { strides: list(1, 1, 1, 1), padding: { s: b64('VALID') }, data_format: { s: b64('NHWC') }, dilations: list(1, 1, 1, 1), T: { type: 'DT_FLOAT' } };
const pool = { ksize: list(1, 2, 2, 1), strides: list(1, 2, 2, 1), padding: { s: b64('VALID') }, data_format: { s: b64('NHWC') }, T: { type: 'DT_FLOAT' } };
const fused = (...ops: string[]) => ({ fused_ops: { list: { s: ops.map(b64) } }, num_args: { i: '1' }, epsilon: { f: 0 } });
const mm = { transpose_a: { b: false }, transpose_b: { b: false }, T: { type: 'DT_FLOAT' } };

export function writeGraphModel(extraNode?: { name: string; op: string }): string {
  const src = new URL('../fixtures/keras-mnist-cnn/', import.meta.url).pathname;
  const keras = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8'));
  const specs = keras.weightsManifest[0].weights as { name: string; shape: number[]; dtype: string }[];
  const shard = readFileSync(join(src, 'group1-shard1of1.bin'));
  const flat = Buffer.from(new Int32Array([-1, 375]).buffer);
  const constNode = (name: string, dtype = 'DT_FLOAT') => ({ name, op: 'Const', attr: { value: { tensor: { dtype } }, dtype: { type: dtype } } });
  const node = [
    { name: 'x', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }, { size: '28' }, { size: '28' }, { size: '1' }] } }, dtype: { type: 'DT_FLOAT' } } },
    ...specs.map((s) => constNode(s.name)),
    constNode('flatten/Const', 'DT_INT32'),
    { name: 'c1', op: '_FusedConv2D', input: ['x', 'conv2d/kernel', 'conv2d/bias'], attr: { ...conv, ...fused('BiasAdd', 'Relu') } },
    { name: 'p1', op: 'MaxPool', input: ['c1'], attr: pool },
    { name: 'c2', op: 'Conv2D', input: ['p1', 'conv2d_1/kernel'], attr: conv },
    { name: 'c2b', op: 'BiasAdd', input: ['c2', 'conv2d_1/bias'], attr: { T: { type: 'DT_FLOAT' }, data_format: { s: b64('NHWC') } } },
    { name: 'c2r', op: 'Relu', input: ['c2b'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'p2', op: 'MaxPool', input: ['c2r'], attr: pool },
    { name: 'drop', op: 'Identity', input: ['p2'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'flat', op: 'Reshape', input: ['drop', 'flatten/Const'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'd1', op: '_FusedMatMul', input: ['flat', 'dense/kernel', 'dense/bias'], attr: { ...mm, ...fused('BiasAdd', 'Relu') } },
    { name: 'd2', op: 'MatMul', input: ['d1', 'dense_1/kernel'], attr: mm },
    { name: 'd2b', op: 'BiasAdd', input: ['d2', 'dense_1/bias'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'd2r', op: 'Relu', input: ['d2b'], attr: { T: { type: 'DT_FLOAT' } } },
    ...(extraNode ? [{ ...extraNode, input: ['d2r'], attr: { T: { type: 'DT_FLOAT' } } }] : []),
    { name: 'd3', op: '_FusedMatMul', input: [extraNode ? extraNode.name : 'd2r', 'dense_2/kernel', 'dense_2/bias'], attr: { ...mm, ...fused('BiasAdd') } },
    { name: 'y', op: 'Softmax', input: ['d3'], attr: { T: { type: 'DT_FLOAT' } } },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'edgeq-graph-'));
  writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.concat([shard, flat]));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({
    format: 'graph-model', generatedBy: 'test', convertedBy: 'test/helpers/graph-model.ts',
    modelTopology: { node, library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [...specs, { name: 'flatten/Const', shape: [2], dtype: 'int32' }] }],
    signature: { inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT' } }, outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT' } } },
  }));
  return join(dir, 'model.json');
}
