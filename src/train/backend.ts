// Picks TF.js's backend for training: WebGPU first (Dawn through the `webgpu` npm
// package in Node, navigator.gpu in a browser), else the fastest one that can train
// here, named. On a machine without a GPU, Debian's Chromium ships SwiftShader's
// Vulkan driver, which gives Dawn a (slow, software) adapter.

import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface BackendChoice { name: 'webgpu' | 'cpu'; adapter?: string; note: string }

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

export async function chooseBackend(wanted: 'auto' | 'webgpu' | 'cpu' = 'auto'): Promise<BackendChoice> {
  if (wanted !== 'cpu') {
    let adapter: GPUAdapter | null = null;
    let why = '';
    try {
      adapter = await webgpuAdapter();
      if (!adapter && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
        // no hardware adapter: try the software Vulkan driver Chromium ships
        process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
        adapter = await webgpuAdapter();
      }
    } catch (e) {
      why = (e as Error).message;
    }
    if (adapter && (await tf.setBackend('webgpu'))) {
      const info = (adapter as unknown as { info?: { vendor?: string; architecture?: string; description?: string } }).info;
      const soft = process.env.VK_ICD_FILENAMES === SWIFTSHADER_ICD;
      const name = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || (soft ? 'SwiftShader' : 'unknown');
      return { name: 'webgpu', adapter: name, note: `WebGPU on ${soft ? 'SwiftShader (software Vulkan: slow)' : name}` };
    }
    if (wanted === 'webgpu') throw new Error(`no WebGPU adapter${why ? ` (${why})` : ''}: without a GPU, install Debian's chromium (SwiftShader) and libvulkan1, or use --backend cpu`);
    await tf.setBackend('cpu');
    return { name: 'cpu', note: `no WebGPU adapter found${why ? ` (${why})` : ''}; training on TF.js's cpu backend, the fastest here that has every gradient (its wasm backend lacks convolution gradients)` };
  }
  await tf.setBackend('cpu');
  return { name: 'cpu', note: "TF.js's cpu backend (asked for)" };
}
