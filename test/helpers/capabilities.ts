// What some tests need from the machine beyond `npm ci`: Debian packages that .ci/run
// installs. On a developer's machine without them those tests are skipped, loudly (a
// banner per capability per test file, and a summary with the install command at the
// end of the run: test/helpers/capabilities-summary.ts). Under CI=true nothing is
// skipped: a missing capability fails the test that needs it, with the reason.
//
//   const chromium = capability('chromium');
//   it.skipIf(chromium.skip)('…', async () => { chromium.require(); … });
//
// The checks here are cheap and synchronous (files on disk). Whatever needs an async
// check (a WebGPU adapter actually being returned) is done in the test after
// require(), and fails there — never returns early.

import { accessSync, appendFileSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { FASHION_MNIST_DIR } from '../../src/toolchain/data/datasets.js';

export type CapabilityName = 'chromium' | 'jsc' | 'fashion-mnist' | 'webgpu' | 'arm64';

export interface Capability {
  name: CapabilityName;
  available: boolean;
  // what was found, or what is missing and the Debian package that provides it
  reason: string;
  // skip the tests that need it: not available, and not on CI (CI=true)
  skip: boolean;
  // throws an Error with the reason when not available
  require(): void;
}

// Every Debian package the capabilities come from, in one command (.ci/run installs the
// same packages).
export const INSTALL_COMMAND = 'sudo apt-get install -y --no-install-recommends chromium libvulkan1 libjavascriptcoregtk-4.0-bin dataset-fashion-mnist';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const FASHION_MNIST_FILE = join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz');
// the software Vulkan driver Debian's chromium ships (src/toolchain/train/backend.ts
// points Dawn at it when no other adapter is found)
export const SWIFTSHADER_ICD_PATH = '/usr/lib/chromium/vk_swiftshader_icd.json';

// Where the capability summary of this run is recorded (set by the global setup).
export const CAPABILITY_LOG_ENV = 'EDGEQ_CAPABILITY_LOG';

const TRIPLETS = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'i386-linux-gnu'];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// WebKit's JavaScriptCore shell: `jsc` on PATH (Debian's libjavascriptcoregtk-4.0-bin
// installs /usr/bin/jsc), else where other WebKitGTK builds keep it.
export function jscPath(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'jsc'));
  const elsewhere = ['/usr/bin/jsc', ...TRIPLETS.flatMap((t) => ['4.0', '4.1'].map((v) => `/usr/lib/${t}/webkit2gtk-${v}/jsc`)), '/usr/libexec/webkit2gtk-4.0/jsc', '/usr/libexec/webkit2gtk-4.1/jsc'];
  return [...onPath, ...elsewhere].find(executable);
}

// arm64 Node under qemu (test/arm64.test.ts): qemu-user-static's qemu-aarch64-static, and
// Debian's arm64 nodejs unpacked with its libraries where test/arm64/setup.sh puts it
// (or EDGEQ_ARM64_ROOT).
export const ARM64_ROOT = process.env.EDGEQ_ARM64_ROOT ?? join(new URL('../..', import.meta.url).pathname, '.cache/arm64-node');
export const ARM64_SETUP = 'sudo bash test/arm64/setup.sh';
export function qemuAarch64(): string | undefined {
  return [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin'].map((d) => join(d, 'qemu-aarch64-static')).find(executable);
}

function vulkanLoader(): string | undefined {
  const dirs = [...TRIPLETS.flatMap((t) => [`/usr/lib/${t}`, `/lib/${t}`]), '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib'];
  return dirs.map((d) => join(d, 'libvulkan.so.1')).find((f) => existsSync(f));
}

function check(name: CapabilityName): { available: boolean; reason: string } {
  switch (name) {
    case 'chromium':
      return existsSync(CHROMIUM_PATH)
        ? { available: true, reason: `Chromium at ${CHROMIUM_PATH}` }
        : { available: false, reason: `Chromium is not installed (${CHROMIUM_PATH} is missing): Debian package chromium` };
    case 'jsc': {
      const jsc = jscPath();
      return jsc
        ? { available: true, reason: `JavaScriptCore's shell at ${jsc}` }
        : { available: false, reason: "WebKit's JavaScriptCore shell jsc is not installed (not on PATH, nor /usr/bin/jsc, nor /usr/lib/<arch>/webkit2gtk-4.0/jsc): Debian package libjavascriptcoregtk-4.0-bin" };
    }
    case 'fashion-mnist':
      return existsSync(FASHION_MNIST_FILE)
        ? { available: true, reason: `Fashion-MNIST in ${FASHION_MNIST_DIR}` }
        : { available: false, reason: `Fashion-MNIST is not installed (${FASHION_MNIST_FILE} is missing): Debian package dataset-fashion-mnist` };
    case 'webgpu': {
      const loader = vulkanLoader();
      const icd = existsSync(SWIFTSHADER_ICD_PATH);
      if (loader && icd) return { available: true, reason: `the Vulkan loader ${loader} and SwiftShader's Vulkan driver ${SWIFTSHADER_ICD_PATH}` };
      const missing = [
        ...(loader ? [] : ['the Vulkan loader libvulkan.so.1 (Debian package libvulkan1)']),
        ...(icd ? [] : [`SwiftShader's Vulkan driver ${SWIFTSHADER_ICD_PATH} (Debian package chromium)`]),
      ];
      return { available: false, reason: `no software WebGPU adapter for Dawn: missing ${missing.join(' and ')}` };
    }
    case 'arm64': {
      const qemu = qemuAarch64(), node = existsSync(join(ARM64_ROOT, 'usr/bin/node'));
      if (qemu && node) return { available: true, reason: `${qemu} and arm64 Node in ${ARM64_ROOT}` };
      return { available: false, reason: `no arm64 Node to run: ${qemu ? '' : 'qemu-aarch64-static is missing (Debian package qemu-user-static); '}${node ? '' : `${ARM64_ROOT}/usr/bin/node is missing; `}\`${ARM64_SETUP}\` installs both` };
    }
    default:
      throw new Error(`unknown capability '${name as string}'`);
  }
}

// The test file that asked, for the summary (from the call stack; undefined if unknown).
function callerFile(): string | undefined {
  const m = /[\\/](test[\\/][^\s:()]+\.test\.ts)/.exec(new Error().stack ?? '');
  return m?.[1].replace(/\\/g, '/');
}

const warned = new Set<CapabilityName>(); // per test file: vitest isolates each file's modules

export function capability(name: CapabilityName): Capability {
  const { available, reason } = check(name);
  const skip = !available && process.env.CI !== 'true';
  if (skip && !warned.has(name)) {
    warned.add(name);
    const file = callerFile();
    const line = `*** SKIPPED (${name}${file ? `, ${file}` : ''}): ${reason}; install: ${INSTALL_COMMAND} ***`;
    const bar = '*'.repeat(Math.min(line.length, 100));
    console.warn(`\n${bar}\n${line}\n${bar}\n`);
    const log = process.env[CAPABILITY_LOG_ENV];
    if (log) {
      try {
        appendFileSync(log, `${JSON.stringify({ name, reason, file })}\n`);
      } catch {
        // the summary is a courtesy; the banner above has been printed
      }
    }
  }
  return {
    name, available, reason, skip,
    require() {
      if (!available) throw new Error(`${reason}${process.env.CI === 'true' ? ' (CI=true: nothing is skipped; .ci/run installs it)' : ''}; install: ${INSTALL_COMMAND}`);
    },
  };
}
