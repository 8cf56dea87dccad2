// Picks TF.js's backend for training: WebGPU on a GPU first (Dawn through the `webgpu`
// npm package in Node, navigator.gpu in a browser), else the fastest backend that can
// train here, named. Measured on this project's 2-core machines (img/s, reference CNN /
// LSTM): wasm 120 / 445 (with the gradient kernels of wasm-gradients.ts), WebGPU on
// SwiftShader ≈ 5 / –, cpu 2 / 90.
//
// Without a GPU, Debian's chromium package ships SwiftShader's software Vulkan driver,
// which gives Dawn an adapter: `--backend webgpu` uses it (CI does, to exercise the
// WebGPU path for real); `auto` prefers wasm, which is much faster than software WebGPU.

import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { EdgeqError } from '../../runtime/errors.js';
import { registerWasmGradients } from './wasm-gradients.js';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
export type BackendName = 'webgpu' | 'wasm' | 'cpu';
export interface BackendChoice { name: BackendName; adapter?: string; note: string }

let webgpuRegistered = false;

async function webgpuAdapter(): Promise<GPUAdapter | null> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const adapter = await gpu.requestAdapter();
  if (adapter && !webgpuRegistered) {
    // TF.js registers its WebGPU backend only where navigator.gpu exists
    Object.defineProperty(globalThis, 'navigator', { value: { ...(globalThis.navigator ?? {}), gpu }, configurable: true, writable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
    webgpuRegistered = true;
  }
  return adapter;
}

function describe(adapter: GPUAdapter): { name: string; software: boolean } {
  const i = adapter.info;
  const name = [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { name, software: /swiftshader|llvmpipe|lavapipe|software/i.test(name) };
}

async function useWasm(why: string): Promise<BackendChoice> {
  await import('@tensorflow/tfjs-backend-wasm');
  registerWasmGradients();
  if (!(await tf.setBackend('wasm'))) throw new EdgeqError('E_BACKEND', "TF.js's wasm backend did not start: train with --backend cpu");
  return { name: 'wasm', note: `TF.js's wasm backend (XNNPACK, with edgeq's gradient kernels): ${why}` };
}

export async function chooseBackend(wanted: 'auto' | BackendName = 'auto'): Promise<BackendChoice> {
  if (wanted === 'cpu') {
    await tf.setBackend('cpu');
    return { name: 'cpu', note: "TF.js's cpu backend (asked for)" };
  }
  if (wanted === 'wasm') return useWasm('asked for');
  let adapter: GPUAdapter | null = null;
  let why = '';
  try {
    adapter = await webgpuAdapter();
    if (!adapter && wanted === 'webgpu' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD; // the software driver Chromium ships
      adapter = await webgpuAdapter();
    }
  } catch (e) {
    why = (e as Error).message;
  }
  const found = adapter ? describe(adapter) : undefined;
  if (adapter && found && (wanted === 'webgpu' || !found.software) && (await tf.setBackend('webgpu'))) {
    return { name: 'webgpu', adapter: found.name, note: `WebGPU on ${found.name}${found.software ? ' (software Vulkan: slow)' : ''}` };
  }
  if (wanted === 'webgpu') throw new EdgeqError('E_BACKEND', `no WebGPU adapter${why ? ` (${why})` : ''}: without a GPU, install Debian's chromium (SwiftShader) and libvulkan1, or use --backend wasm`);
  return useWasm(found ? `the only WebGPU adapter is ${found.name}, a software driver, which is slower` : `no WebGPU adapter found${why ? ` (${why})` : ''}`);
}
