// xentropy: cross-entropy, softmax and their gradients in SIMD WebAssembly, with a float64 reference.

import { loadDriver, loadDriverSync, type ModuleSource } from './driver.js';
import { Xentropy } from './api.js';
import { describe } from './validate.js';
import * as reference from './reference/index.js';

export { Xentropy, reference };
export type { LossAndGrad } from './api.js';
export type { ModuleSource } from './driver.js';
export { Resident } from './driver.js';
export type { EntropyOptions, EntropyReduction, DistributionForm } from './entropy.js';
export type {
  KlDivergenceOptions, KlDivergenceGradOptions, JsDivergenceOptions, KlInput, DivergenceReduction,
} from './kl_divergence.js';
export type {
  BinaryCrossEntropyOptions, BinaryInputForm, BinaryTarget,
} from './binary_cross_entropy.js';
export type { CrossEntropyOptions, Reduction, IndexTarget } from './validate.js';
export { Scorer } from './scorer.js';
export type {
  ScorerOptions, ScorerInput, ScorerState, ScoreResult, CalibrationBin,
} from './scorer.js';

/** Options of `init`. */
export interface InitOptions {
  /**
   * The kernels: a WebAssembly.Module, its bytes, a fetch Response, a URL (or URL string) of the
   * .wasm, or a promise of any of these. Default: the package's own build/xentropy.wasm.
   */
  module?: ModuleSource | URL | string;
}

/** Options of `initSync`. */
export interface InitSyncOptions {
  /** A WebAssembly.Module or its bytes. Default (Node only): the package's own .wasm, read from disk. */
  module?: WebAssembly.Module | BufferSource;
}

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
}

/** URL of the package's own kernels; computed on demand (a module-level URL breaks some workers). */
function ownWasmUrl(): URL {
  return new URL('../build/xentropy.wasm', import.meta.url);
}

let ownModule: Promise<WebAssembly.Module> | undefined;

async function fetchModule(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:') {
    const node = nodeProcess();
    if (!node) throw new TypeError(`cannot read ${url.href} outside Node`);
    const fs = await import('node:fs/promises');
    return WebAssembly.compile(await fs.readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url.href} failed: HTTP ${response.status}`);
  if (response.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

/**
 * Loads the kernels and returns a new xentropy instance with its own memory.
 * The package's own module is compiled once per process and reused by later calls.
 * @throws TypeError when `module` is of an unusable type
 */
export async function init(options: InitOptions = {}): Promise<Xentropy> {
  let source = await options.module;
  if (source === undefined) {
    // A failed load is not cached, so a later call can retry.
    ownModule ??= fetchModule(ownWasmUrl()).catch((error: unknown) => {
      ownModule = undefined;
      throw error;
    });
    source = await ownModule;
  } else if (typeof source === 'string' || source instanceof URL) {
    source = await fetchModule(new URL(source, typeof location === 'undefined' ? undefined : location.href));
  } else if (!isModuleSource(source)) {
    throw new TypeError(`options.module must be a WebAssembly.Module, bytes, a Response or a URL, got ${describe(source)}`);
  }
  return new Xentropy(await loadDriver(source));
}

/**
 * Synchronous `init`, for Node and workers. Without a module it reads the package's own .wasm (Node).
 * @throws TypeError when no module is given outside Node, or `module` is of an unusable type
 */
export function initSync(options: InitSyncOptions = {}): Xentropy {
  let source = options.module;
  if (source === undefined) {
    const fs = nodeProcess()?.getBuiltinModule?.('node:fs') as typeof import('node:fs') | undefined;
    if (!fs) throw new TypeError('initSync() needs options.module outside Node');
    source = fs.readFileSync(ownWasmUrl());
  } else if (!(source instanceof WebAssembly.Module || ArrayBuffer.isView(source) || source instanceof ArrayBuffer)) {
    throw new TypeError(`options.module must be a WebAssembly.Module or bytes, got ${describe(source)}`);
  }
  return new Xentropy(loadDriverSync(source));
}

function isModuleSource(value: unknown): boolean {
  return value instanceof WebAssembly.Module || ArrayBuffer.isView(value) || value instanceof ArrayBuffer
    || Object.prototype.toString.call(value) === '[object WebAssembly.Module]'
    || (typeof Response !== 'undefined' && value instanceof Response);
}
