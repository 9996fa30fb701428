// Binary and multilabel models on the command line. The shapes say which: logits [N] (or [N, 1]) with
// labels of the same N score one positive class (xe.binaryScorer); logits [N, L] with labels [N, L]
// score L independent labels (xe.multilabelScorer). Labels are 0/1 (any integer or bool type) or soft
// targets in [0, 1] (a float type). The binary scorers are JavaScript over N (x L) scores, so half and
// float64 scores are turned into float32 here, one chunk at a time.

import type { BinaryScoreResult, BinaryScorerOptions, MultilabelScoreResult, MultilabelScorerOptions } from '../ops/binary_scorer.js';
import { type ArrayReader, ELEMENT_SIZE, type FloatData, elementCount, floatAt, floatView, intData, isFloat, shapeText } from './arrays.js';

/** What the shapes of the logits and labels describe. */
export type Task = 'multiclass' | 'binary' | 'multilabel';

/**
 * [N] logits, or [N, 1] with labels [N] or [N, 1]: binary; [N, L] logits with labels of the same shape:
 * multilabel (L > 1); anything else is left to the multiclass path, which explains what it expects.
 */
export function taskOf(logits: readonly number[], labels: readonly number[]): Task {
  if (logits.length === 1) return 'binary';
  if (logits.length !== 2) return 'multiclass';
  const same = labels.length === 2 && labels[0] === logits[0] && labels[1] === logits[1];
  if (logits[1] === 1 && (same || (labels.length === 1 && labels[0] === logits[0]))) return 'binary';
  return same ? 'multilabel' : 'multiclass';
}

/** Options of a binary or multilabel run (the command line's flags that apply to one). */
export interface BinaryRunOptions {
  /** What the logits file holds: logits (default; p = sigmoid) or probabilities of the positive class. */
  from?: 'logits' | 'probs';
  /** Rows predicted positive when p >= threshold (default 0.5). */
  threshold?: number;
  /** Calibration bins (default 15). */
  bins?: number;
  /** Rows per chunk of the logits (default: chunkBytes of the file). */
  chunkRows?: number;
  chunkBytes: number;
  onProgress?: (done: number, total: number) => void;
}

/** A binary or multilabel scorer as a run uses it: a pool's update returns a promise, an instance's does not. */
interface RunScorer<R> {
  update(scores: Float32Array, targets: Int32Array | Float32Array): unknown;
  result(): R;
}

/** What scores a binary or multilabel model: the library's scorers, or a pool's (xentropy.createPool). */
export interface BinaryScorers {
  binaryScorer(options: BinaryScorerOptions): RunScorer<BinaryScoreResult>;
  multilabelScorer(options: MultilabelScorerOptions): RunScorer<MultilabelScoreResult>;
}

/** What a binary or multilabel run found. */
export interface BinaryRun {
  task: 'binary' | 'multilabel';
  /** Rows N, and labels per row L (1 for binary). */
  n: number;
  labels: number;
  binary?: BinaryScoreResult;
  multilabel?: MultilabelScoreResult;
  /** With from 'logits': every score lies in [0, 1], as probabilities do. */
  looksLikeProbabilities: boolean;
  chunks: number;
}

/** The scalar figures of a binary result, as --json prints them (the curves and bins are left to --report). */
export function binaryFigures(r: BinaryScoreResult): Record<string, unknown> {
  return {
    count: r.count, positives: r.positives, logLoss: r.logLoss, brier: r.brier, accuracy: r.accuracy,
    precision: r.precision, recall: r.recall, f1: r.f1, rocAuc: r.rocAuc, averagePrecision: r.averagePrecision,
    ece: r.ece, mce: r.mce, rmsce: r.rmsce, confusion: r.confusion,
  };
}

/**
 * Scores binary or multilabel logits against their labels, reading the logits in chunks and the
 * labels whole. `fail` reports a problem with the input (the command line's exit status 2).
 */
export async function scoreBinaryInputs(
  xe: BinaryScorers, task: 'binary' | 'multilabel', logits: ArrayReader, labels: ArrayReader, options: BinaryRunOptions,
  name: (reader: ArrayReader) => string, fail: (message: string) => never,
): Promise<BinaryRun> {
  const dims = logits.shape;
  const n = dims[0];
  const L = task === 'binary' ? 1 : dims[1];
  if (n === 0) fail(`logits file ${name(logits)} has no rows to score`);
  if (task === 'binary' && labels.shape.length === 1 ? labels.shape[0] !== n : elementCount(labels.shape) !== n * L) {
    const want = task === 'binary' ? `[${n}]` : shapeText(dims);
    fail(`shape mismatch: labels file ${name(labels)} has shape ${shapeText(labels.shape)}, logits file ${name(logits)} has shape ${shapeText(dims)}; `
      + `a ${task} model's labels have shape ${want}`);
  }
  const targets = await readTargets(labels, n * L, name, fail);
  const config: BinaryScorerOptions = { from: options.from ?? 'logits' };
  if (options.threshold !== undefined) config.threshold = options.threshold;
  if (options.bins !== undefined) config.bins = options.bins;
  const scorer = task === 'binary' ? xe.binaryScorer(config) : xe.multilabelScorer({ ...config, labels: L });
  const size = ELEMENT_SIZE[logits.type];
  const per = options.chunkRows ?? Math.max(1, Math.floor(options.chunkBytes / (L * size)));
  const bytes = new Uint8Array(Math.min(n, per) * L * size);
  let looksLikeProbabilities = config.from === 'logits';
  let chunks = 0;
  for (let r0 = 0; r0 < n; r0 += per) {
    const r1 = Math.min(n, r0 + per);
    const count = (r1 - r0) * L;
    const raw = floatView(await logits.read(count, bytes.subarray(0, count * size)), logits.type);
    const scores = float32Of(raw, logits.type);
    if (looksLikeProbabilities) looksLikeProbabilities = scores.every((x) => x >= 0 && x <= 1);
    try {
      await scorer.update(scores, targets.subarray(r0 * L, r1 * L));
    } catch (e) {
      // A score the scorer refuses: name the file and the row in it rather than in the chunk.
      const match = e instanceof RangeError ? /^scores\[(\d+)\] = (\S+) (.*)$/.exec(e.message) : null;
      if (!match) throw e;
      const i = r0 * L + Number(match[1]);
      fail(`logits file ${name(logits)}: value ${match[2]} at row ${Math.floor(i / L)}${L > 1 ? `, label ${i % L}` : ''} ${match[3]}`);
    }
    chunks++;
    options.onProgress?.(r1, n);
  }
  await logits.finish();
  const result = scorer.result();
  return {
    task, n, labels: L, looksLikeProbabilities, chunks,
    ...(task === 'binary' ? { binary: result as BinaryScoreResult } : { multilabel: result as MultilabelScoreResult }),
  };
}

/** The scores as float32: a float32 file's own view, other types rounded (float64) or widened (halves). */
function float32Of(data: FloatData, type: ArrayReader['type']): Float32Array {
  if (type === 'float32') return data as Float32Array;
  if (type === 'float64') return Float32Array.from(data as Float64Array);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = floatAt(data, type, i);
  return out;
}

/** Targets: 0 or 1 from an integer or bool array, or soft targets in [0, 1] from a float array. */
async function readTargets(
  input: ArrayReader, count: number, name: (reader: ArrayReader) => string, fail: (message: string) => never,
): Promise<Int32Array | Float32Array> {
  const bytes = await input.read(count);
  await input.finish();
  if (isFloat(input.type)) {
    // A float32 file's view lies in the reader's buffer: copied; other types are converted into a new array.
    const view = floatView(bytes, input.type);
    const soft = input.type === 'float32' ? (view as Float32Array).slice() : float32Of(view, input.type);
    const bad = soft.findIndex((t) => !(t >= 0 && t <= 1));
    if (bad >= 0) fail(`labels file ${name(input)}: value ${soft[bad]} at index ${bad} is not a target in [0, 1]`);
    return soft;
  }
  const hard = intData(bytes, input.type, input.label);
  const bad = hard.findIndex((t) => t !== 0 && t !== 1);
  if (bad >= 0) fail(`labels file ${name(input)}: label ${hard[bad]} at index ${bad} is not 0 or 1 (binary and multilabel labels)`);
  return hard;
}
