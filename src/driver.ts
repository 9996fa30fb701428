// The only module that touches WebAssembly: it instantiates the kernels and owns linear memory.
//
// Memory policy: memory grows on demand and is never shrunk. Growing detaches every view of the old
// buffer, so no view is kept here or anywhere else: `f32` / `i32` build a fresh view from the current
// buffer on every call, and callers use it only until their next call into the driver. Each operation
// reserves all of its scratch space first (one possible growth), then takes views, then runs kernels.
//
// Scratch space starts at the module's heap base and is reused by every call; inputs larger than a
// window are streamed through it in row chunks (src/api.ts), so memory stays bounded by the window
// (or one row, when a row is larger) rather than growing with the input.

import { instantiate, instantiateSync } from '@assemblyscript/loader';

/** Raw kernel exports: pointers and sizes only (see assembly/index.ts). */
export interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  logSumExp(src: number, dst: number, rows: number, cols: number): void;
  logSoftmax(src: number, dst: number, rows: number, cols: number): void;
  softmax(src: number, dst: number, rows: number, cols: number): void;
  crossEntropySparse(
    logits: number, labels: number, rows: number, cols: number,
    weight: number, ignoreIndex: number, smoothing: number, sampleWeight: number, zLoss: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  crossEntropySoft(
    logits: number, target: number, rows: number, cols: number,
    weight: number, smoothing: number, sampleWeight: number, zLoss: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  crossEntropyProbsSparse(
    input: number, labels: number, rows: number, cols: number,
    weight: number, ignoreIndex: number, smoothing: number, sampleWeight: number, probs: number, eps: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  crossEntropyProbsSoft(
    input: number, target: number, rows: number, cols: number,
    weight: number, smoothing: number, sampleWeight: number, probs: number, eps: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  binaryCrossEntropyLogits(
    input: number, target: number, n: number, cols: number, weight: number, posWeight: number,
    smoothing: number, lossOut: number, lossScale: number, gradOut: number, gradScale: number,
  ): number;
  binaryCrossEntropyProbs(
    input: number, target: number, n: number, cols: number, weight: number, lo: number, hi: number,
    smoothing: number, lossOut: number, lossScale: number, gradOut: number, gradScale: number,
  ): number;
  entropy(src: number, rows: number, cols: number, fromLogits: number, lossOut: number, unit: number): number;
  klDivergence(
    target: number, q: number, rows: number, cols: number,
    form: number, logTarget: number, eps: number,
    lossOut: number, gradOut: number, gradScale: number, unit: number,
  ): number;
  jsDivergence(p: number, q: number, rows: number, cols: number, fromLogits: number, lossOut: number, unit: number): number;
  focalSparse(
    logits: number, labels: number, rows: number, cols: number,
    weight: number, ignoreIndex: number, smoothing: number, sampleWeight: number, gamma: number, alpha: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  focalSoft(
    logits: number, target: number, rows: number, cols: number,
    weight: number, smoothing: number, sampleWeight: number, gamma: number, alpha: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  softcapForward(src: number, dst: number, n: number, cap: number): void;
  softcapBackward(capped: number, grad: number, n: number, cap: number): void;
  scoreRows(
    input: number, labels: number, rows: number, cols: number, ignoreIndex: number, from: number, eps: number,
    outs: number, ints: number,
  ): number;
  expNegArray(src: number, dst: number, n: number): void;
  logArray(src: number, dst: number, n: number): void;
}

/** Anything `init` can compile: a module, its bytes, a fetch Response, or a promise of one. */
export type ModuleSource =
  | WebAssembly.Module
  | BufferSource
  | Response
  | PromiseLike<WebAssembly.Module | BufferSource | Response>;

const PAGE = 65536;
/** Scratch alignment: v128 loads are fastest on 16-byte boundaries. */
const ALIGN = 16;

/** Rounds n up to a multiple of ALIGN. */
export function align(n: number): number {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}

/** Owner of one kernel instance and its linear memory. */
export class Driver {
  readonly kernels: Kernels;
  private readonly memory: WebAssembly.Memory;
  private readonly scratchBase: number;

  constructor(kernels: Kernels) {
    this.kernels = kernels;
    this.memory = kernels.memory;
    this.scratchBase = align(kernels.heapBase());
  }

  /**
   * Reserves scratch regions of the given byte sizes, each 16-byte aligned, growing memory at most
   * once, and returns their addresses. Regions are valid until the next `reserve`.
   */
  reserve(...sizes: number[]): number[] {
    const ptrs: number[] = [];
    let top = this.scratchBase;
    for (const size of sizes) {
      ptrs.push(top);
      top = align(top + size);
    }
    const have = this.memory.buffer.byteLength;
    if (top > have) {
      const pages = Math.ceil((top - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (cause) {
        throw new RangeError(
          `xentropy needs ${top} bytes of WebAssembly memory and the runtime refused to grow it`,
          { cause },
        );
      }
    }
    return ptrs;
  }

  /** A Float32Array over memory at ptr; valid until the next call that may grow memory. */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  /** A Float64Array over memory at ptr (8-byte aligned); valid until the next call that may grow memory. */
  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  /** An Int32Array over memory at ptr; valid until the next call that may grow memory. */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  /** Current size of linear memory in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }
}

/** Compiles (when needed) and instantiates the kernels asynchronously. */
export async function loadDriver(source: ModuleSource): Promise<Driver> {
  const { exports } = await instantiate<Record<string, unknown>>(source as never);
  return new Driver(exports as unknown as Kernels);
}

/** Compiles (when needed) and instantiates the kernels synchronously. */
export function loadDriverSync(source: WebAssembly.Module | BufferSource): Driver {
  const { exports } = instantiateSync<Record<string, unknown>>(source as never);
  return new Driver(exports as unknown as Kernels);
}
