// A kernel call over rows, described once per operation (ops/), and how a thread runs it block by
// block. The one-thread runners call it a block at a time over their copy windows; the pool sends the
// same description to its workers as a BlockJob, so each block is the same kernel call on the same rows
// whichever thread runs it.

import type { Kernels } from './kernels.js';

/** Kernels a job may run: those that sum rows and return the sum. */
export type SumKernel =
  | 'crossEntropySparse' | 'crossEntropySoft' | 'crossEntropyProbsSparse' | 'crossEntropyProbsSoft'
  | 'focalSparse' | 'focalSoft' | 'binaryCrossEntropyLogits' | 'binaryCrossEntropyProbs' | 'binaryFocal';

/**
 * @internal
 * One kernel call as an operation describes it: `args` are the kernel's arguments for a call starting
 * at row 0; pointer arguments advance by `strides[i]` bytes per row (0 for everything else), and
 * argument `count` is replaced by the number of rows of each call.
 */
export interface KernelCall {
  kernel: SumKernel;
  args: number[];
  strides: number[];
  count: number;
  /** Index of a scratch-pointer argument of the kernel's own, which no two threads may share. */
  scratchArg?: number;
}

/**
 * @internal
 * Calls `call` on rows [r0, r0 + n) and returns the kernel's f64 sum over them.
 */
export function callRows(k: Kernels, call: KernelCall, r0: number, n: number): number {
  const { args, strides, count } = call;
  const f = k[call.kernel] as (...args: number[]) => number;
  // Argument i of this call; written out by arity below, since a spread call into WebAssembly costs
  // several times a direct one.
  const a = (i: number): number => (i === count ? n : strides[i] !== 0 ? args[i] + strides[i] * r0 : args[i]);
  switch (args.length) {
    case 11: return f(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10));
    case 12: return f(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10), a(11));
    case 13: return f(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10), a(11), a(12));
    case 15: return f(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10), a(11), a(12), a(13), a(14));
    default: return f(...args.map((_, i) => a(i)));
  }
}

/** @internal A KernelCall over `rows` rows, cut into blocks of `per` rows, as the pool runs it. */
export interface BlockJob extends KernelCall {
  rows: number;
  per: number;
  /** Soft cap: logits at z (rows of `width` floats) are capped in place before the kernel, and the
   * gradient at g (0 for none) is chained through the cap after it. */
  cap: { z: number; g: number; width: number; value: number } | null;
  /** Kernel scratch: argument `arg` of block b is base + b * bytes, so no two workers share one. */
  scratch: { arg: number; base: number; bytes: number } | null;
  /**
   * Pointer arguments whose block of `count` floats must lie in [0, 1] (binary targets, probabilities),
   * scanned by each thread before its block's kernel instead of by the caller before the job; null for
   * none. Only for jobs that write nothing the caller can see before the result is checked.
   */
  check: number[] | null;
  /**
   * An input of another element type than float32, staged raw at src (`bytes` an element): each block's
   * rows of `width` elements are widened into float32 at dst (same rows) before anything reads them,
   * by the thread that runs the block. Kind `code` as the widen kernel takes it.
   */
  widen?: { src: number; dst: number; width: number; bytes: number; code: number } | null;
}

/**
 * Runs blocks [b0, b1) of a job and returns each block's sum (the kernel's f64 total over its rows),
 * followed by one more entry: the number of blocks whose `check` arguments hold a value outside [0, 1]
 * (NaN included). Block b covers rows [b per, min((b + 1) per, rows)); every pointer argument advances
 * by its stride per row, and the count argument is the block's row count. This is the same kernel
 * call, on the same rows, as one block of the one-thread runner (callRows).
 */
export function runBlocks(k: Kernels, job: BlockJob, b0: number, b1: number): Float64Array {
  const sums = new Float64Array(b1 - b0 + 1);
  const kernel = k[job.kernel] as (...args: number[]) => number;
  const args = job.args.slice();
  const { cap } = job;
  for (let b = b0; b < b1; b++) {
    const r0 = b * job.per, n = Math.min(job.per, job.rows - r0);
    for (let i = 0; i < args.length; i++) if (job.strides[i] !== 0) args[i] = job.args[i] + job.strides[i] * r0;
    args[job.count] = n;
    if (job.scratch) args[job.scratch.arg] = job.scratch.base + b * job.scratch.bytes;
    const z = cap ? cap.z + r0 * cap.width * 4 : 0;
    const w = job.widen;
    if (w) k.widen(w.src + r0 * w.width * w.bytes, w.dst + r0 * w.width * 4, n * w.width, w.code);
    if (job.check?.some((i) => k.firstOutside(args[i], n, 0, 1) >= 0)) sums[b1 - b0]++;
    if (cap) k.softcapForward(z, z, n * cap.width, cap.value);
    sums[b - b0] = kernel(...args);
    if (cap && cap.g) k.softcapBackward(z, cap.g + r0 * cap.width * 4, n * cap.width, cap.value);
  }
  return sums;
}
