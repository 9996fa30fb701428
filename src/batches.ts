// Losses over inputs too large for one call (or for wasm's 4 GiB memory): a sequence of row batches,
// each computed through the streaming window, their sums and 'mean' denominators accumulated in f64.

import type { Resident } from './driver.js';
import { checkChoice, checkOptionNames, describe, type CrossEntropyOptions, type IndexTarget } from './validate.js';

/** One batch of rows for crossEntropyOver: its logits (or probabilities) and targets. */
export interface CrossEntropyBatch {
  /** Row-major [n, classes] Float32Array or resident buffer, as crossEntropy's input. */
  input: Float32Array | Resident;
  /** n class indices or n * classes probabilities, as crossEntropy's target. */
  target: IndexTarget | Float32Array;
  /** n per-row weights, as crossEntropy's options.sampleWeight. */
  sampleWeight?: Float32Array;
}

/** Options of crossEntropyOver: crossEntropy's, less the per-batch and per-row ones. */
export type CrossEntropyOverOptions = Omit<CrossEntropyOptions, 'reduction' | 'sampleWeight' | 'gradOut'> & {
  /** 'mean' (default): the sum over all batches divided by their total denominator; or 'sum'. */
  reduction?: 'mean' | 'sum';
};

/** A batch's loss sum and its share of the 'mean' denominator. */
export type BatchSum = (batch: CrossEntropyBatch, options: CrossEntropyOptions) => { sum: number; denominator: number };

/** Neumaier-compensated running sum: batches can number in the millions. */
class Sum {
  private total = 0;
  private compensation = 0;

  add(x: number): void {
    const t = this.total + x;
    this.compensation += Math.abs(this.total) >= Math.abs(x) ? (this.total - t) + x : (x - t) + this.total;
    this.total = t;
  }

  get value(): number {
    return this.total + this.compensation;
  }
}

/** Accumulates batches one at a time; shared by the sync and async entry points. */
export class BatchAccumulator {
  private readonly sum = new Sum();
  private readonly denominator = new Sum();
  private readonly reduction: 'mean' | 'sum';
  private readonly onAllIgnored: 'nan' | 'zero';
  private readonly perBatch: CrossEntropyOptions;
  private index = 0;

  constructor(options: unknown, private readonly batchSum: BatchSum) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object with classes, got ${describe(options)}`);
    }
    const o = options as CrossEntropyOverOptions & Record<string, unknown>;
    for (const name of ['sampleWeight', 'gradOut']) {
      if (name in o) throw new TypeError(`options.${name} is not an option of crossEntropyOver; pass sampleWeight with each batch`);
    }
    this.reduction = checkChoice('options.reduction', o.reduction, ['mean', 'sum'], 'mean');
    this.onAllIgnored = checkChoice('options.onAllIgnored', o.onAllIgnored, ['nan', 'zero'], 'nan');
    this.perBatch = { ...o, reduction: 'sum' } as CrossEntropyOptions;
    checkOptionNames('options', o, [
      'classes', 'reduction', 'weight', 'ignoreIndex', 'labelSmoothing', 'from', 'epsilon', 'unit', 'onAllIgnored',
      'spatial', 'zLoss', 'softcap', 'focal',
    ]);
  }

  /** Adds one batch; errors name the batch. */
  add(batch: unknown): void {
    const i = this.index++;
    if (batch === null || typeof batch !== 'object' || !('input' in batch) || !('target' in batch)) {
      throw new TypeError(`batches[${i}] must be an object { input, target, sampleWeight? }, got ${describe(batch)}`);
    }
    const b = batch as CrossEntropyBatch;
    const options = b.sampleWeight === undefined ? this.perBatch : { ...this.perBatch, sampleWeight: b.sampleWeight };
    let result;
    try {
      result = this.batchSum(b, options);
    } catch (error) {
      if (error instanceof TypeError) throw new TypeError(`batches[${i}]: ${error.message}`);
      if (error instanceof RangeError) throw new RangeError(`batches[${i}]: ${error.message}`);
      throw error;
    }
    this.sum.add(result.sum);
    this.denominator.add(result.denominator);
  }

  /** The reduced loss over every batch added. */
  result(): number {
    if (this.reduction === 'sum') return this.sum.value;
    const d = this.denominator.value;
    if (d === 0) return this.onAllIgnored === 'zero' ? 0 : NaN;
    return this.sum.value / d;
  }
}
