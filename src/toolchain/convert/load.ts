// Reads a TF.js Layers model from disk: model.json (as TF.js saves it, or as the Keras
// → TF.js converter writes it, old and new Keras) and its weight shards.

import * as tf from '@tensorflow/tfjs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConvertError, UnsupportedOpError } from '../../runtime/errors.js';
import { KerasGRU } from './keras-gru.js';
import { withSequenceLength } from './graph.js';

export interface LoadedLayersModel {
  model: tf.LayersModel;
  // model.json + every shard: what the float model costs to ship
  floatBytes: number;
  files: string[];
  generatedBy?: string;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8, string: 0 };

// Keras 2.13+ and 3 write keys TF.js's deserializer does not know; they carry nothing
// the model needs for inference. Also the Keras 3 dtype policy object and batch_shape,
// and Keras' default GRU (reset_after: true), which TF.js's GRU refuses: it becomes the
// KerasGRU layer (keras-gru.ts), also inside a Bidirectional.
export function normalizeTopology(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalizeTopology);
  if (!node || typeof node !== 'object') return node;
  const gru = node as { class_name?: unknown; config?: { reset_after?: unknown } };
  if (gru.class_name === 'GRU' && gru.config?.reset_after === true) return normalizeTopology({ ...gru, class_name: KerasGRU.className });
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'module' || k === 'registered_name' || k === 'build_config' || k === 'compile_config' || k === 'shared_object_id') continue;
    if (k === 'dtype' && v && typeof v === 'object' && (v as { class_name?: string }).class_name?.includes('DTypePolicy')) {
      out.dtype = ((v as { config?: { name?: string } }).config?.name) ?? 'float32';
      continue;
    }
    if (k === 'batch_shape') { out.batch_input_shape = v; continue; }
    out[k] = normalizeTopology(v);
  }
  return out;
}

export interface ModelFiles {
  json: Record<string, unknown>;
  specs: tf.io.WeightsManifestEntry[];
  weightData: Uint8Array;
  floatBytes: number; // model.json + shards
  files: string[];
}

// model.json and every weight shard it lists, checked against the manifest.
export async function readModelFiles(path: string): Promise<ModelFiles> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConvertError('E_MODEL_JSON', (e as NodeJS.ErrnoException).code === 'ENOENT' ? `model file not found: ${path}` : `cannot read ${path}: ${(e as Error).message}`);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConvertError('E_MODEL_JSON', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new ConvertError('E_MODEL_JSON', `${path} is not a TF.js model: it has no "modelTopology" (a Keras .h5/.keras file? convert it with the TensorFlow.js converter first)`);
  }
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) throw new ConvertError('E_MODEL_JSON', `${path} has no "weightsManifest" array`);
  const dir = dirname(path);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  const files = [path];
  let floatBytes = Buffer.byteLength(text);
  for (const group of manifest as { paths?: unknown; weights?: unknown }[]) {
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) throw new ConvertError('E_MODEL_JSON', `${path}: a weightsManifest entry lacks "paths" or "weights"`);
    let expected = 0;
    for (const w of group.weights as tf.io.WeightsManifestEntry[]) {
      if (typeof w.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string') throw new ConvertError('E_MODEL_JSON', `${path}: a weight entry lacks name, shape or dtype`);
      const dtype = w.quantization?.dtype ?? w.dtype;
      if (!(dtype in BYTES) || BYTES[dtype] === 0) throw new ConvertError('E_MODEL_JSON', `${path}: weight ${w.name} has unsupported dtype ${dtype}`);
      expected += w.shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
      specs.push(w);
    }
    let got = 0;
    for (const p of group.paths as string[]) {
      const file = join(dir, p);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(file);
      } catch {
        throw new ConvertError('E_WEIGHTS_MISSING', `weight shard not found: ${file} (listed in ${path}); copy every file next to model.json`);
      }
      shards.push(bytes);
      files.push(file);
      floatBytes += (await stat(file)).size;
      got += bytes.length;
    }
    if (got < expected) {
      throw new ConvertError('E_WEIGHTS_SHORT', `weight shards ${(group.paths as string[]).join(', ')} hold ${got} bytes, the manifest needs ${expected}: a shard is truncated; download it again`);
    }
  }
  const weightData = new Uint8Array(shards.reduce((a, sh) => a + sh.length, 0));
  let at = 0;
  for (const sh of shards) { weightData.set(sh, at); at += sh.length; }
  return { json, specs, weightData, floatBytes, files };
}

export function isGraphModel(json: Record<string, unknown>): boolean {
  return json.format === 'graph-model' || Array.isArray((json.modelTopology as { node?: unknown } | undefined)?.node);
}

// --sequence-length: the time dimension of the model's input (the first axis after the
// batch: a Keras / TF.js Conv1D or LSTM model's [None, None, features]) fixed to `steps`
// in its topology (as normalizeTopology leaves it; in place), before TF.js builds it, so
// every shape after it is known. The input shape is declared by the first layer that has
// a batch_input_shape: a Sequential's first layer (or InputLayer), a functional model's
// InputLayer; a Keras 2 Sequential may repeat it on the layer after its InputLayer.
export function setSequenceLength(topology: Record<string, unknown>, steps: number, source: string): void {
  const root = (topology.model_config ?? topology) as { config?: unknown };
  const layers = Array.isArray(root.config) ? root.config : (root.config as { layers?: unknown } | undefined)?.layers;
  const declared = (Array.isArray(layers) ? layers as { config?: { batch_input_shape?: unknown } }[] : [])
    .map((l) => l?.config).filter((c): c is { batch_input_shape: (number | null)[] } => Array.isArray(c?.batch_input_shape));
  if (declared.length === 0) throw new ConvertError('E_SEQUENCE_LENGTH', `${source} declares no input shape (batch_input_shape) for --sequence-length to fix; re-export the model with an input shape`);
  const first = JSON.stringify(declared[0].batch_input_shape);
  const fixed = withSequenceLength(declared[0].batch_input_shape, steps, source);
  for (const c of declared) if (JSON.stringify(c.batch_input_shape) === first) c.batch_input_shape = fixed;
}

export interface LoadLayersOptions {
  // fix the input's time dimension to this many steps (setSequenceLength)
  sequenceLength?: number;
}

export async function loadLayersModelFile(path: string, options: LoadLayersOptions = {}): Promise<LoadedLayersModel> {
  const { json, specs, weightData, floatBytes, files } = await readModelFiles(path);
  if (isGraphModel(json)) {
    throw new ConvertError('E_GRAPH_MODEL', `${path} is a TF.js Graph model: load it with loadGraphModelFile`);
  }
  const topology = normalizeTopology(json.modelTopology) as Record<string, unknown>;
  delete topology.training_config; // the converter does not train with the original optimizer
  if (options.sequenceLength !== undefined) setSequenceLength(topology, options.sequenceLength, path);
  const handler: tf.io.IOHandler = {
    load: async () => ({ modelTopology: topology, weightSpecs: specs, weightData: weightData.buffer as ArrayBuffer, format: json.format as string | undefined }),
  };
  try {
    const model = await tf.loadLayersModel(handler);
    return { model, floatBytes, files, generatedBy: typeof json.generatedBy === 'string' ? json.generatedBy : undefined };
  } catch (e) {
    // edgeq's own layers (KerasGRU) say what is unsupported: kept, with the file named
    if (e instanceof UnsupportedOpError) throw new UnsupportedOpError(e.code, `${path}: ${e.message}`);
    throw new ConvertError('E_MODEL_TOPOLOGY', `TF.js cannot build the model in ${path}: ${(e as Error).message}`);
  }
}
