// Binary and multilabel evaluation in one pass: mergeable scorers whose state is compensated float64
// sums, counts and either the rows themselves (thresholds 'exact': ROC AUC and average precision as
// scikit-learn computes them) or a k-bin histogram of the scores (thresholds k: O(k) state, with an
// error bound on AUC and AP computed from the histogram itself).
//
// Every row is O(1) work (a sigmoid, a log, a few sums), done here in float64: a WebAssembly kernel
// would save no pass over memory worth having, and the binary cross-entropy kernel returns float32
// element losses, which would cost the sums their float64 precision.
//
// Arguments are read once into private copies, then checked, then folded: nothing the caller does in a
// getter or another thread changes what was checked, and a refused update adds nothing.

import {
  DEFAULT_EPSILON, checkChoice, checkFloat32OrResident, checkOptions, checkPositiveInt, checkWeight, describe,
  ownProps, plainView, typedArrayKind, unwrapTensor, checkDims, type Unit,
  decodeStateNumber, encodeStateNumber, type StateNumber, type TensorLike,
} from './common.js';
import type { Resident } from '../engine/driver.js';

/** What a binary scorer's scores are: logits (default; p = sigmoid(x)) or probabilities of the positive class. */
export type BinaryScorerInput = 'logits' | 'probs';

/** How calibration bins are drawn: equal width over [0, 1], or (thresholds 'exact' only) equal counts. */
export type CalibrationBinning = 'uniform' | 'quantile';

/** Options of `xe.binaryScorer`. */
export interface BinaryScorerOptions {
  /** 'logits' (default) or 'probs' (probabilities of the positive class, in [0, 1]). */
  from?: BinaryScorerInput;
  /** A row is predicted positive when its probability p >= threshold; in [0, 1]. Default 0.5. */
  threshold?: number;
  /**
   * 'exact' (default): the scorer keeps every row (O(N) state; merge concatenates) and ROC AUC, average
   * precision and the curves are exact. A positive integer k: a k-bin histogram of p over [0, 1]
   * (O(k) state); AUC and AP then come with an error bound (`rocAucErrorBound`, `averagePrecisionErrorBound`).
   */
  thresholds?: 'exact' | number;
  /** Calibration bins. Default 15. */
  bins?: number;
  /** 'uniform' (default) or 'quantile' (thresholds 'exact' only, as sklearn's calibration_curve). */
  binning?: CalibrationBinning;
  /** from 'probs' only: the log loss clips p and 1 - p to [epsilon, 1 - epsilon], epsilon in (0, 0.5). Default 1e-7. */
  epsilon?: number;
  /** Unit of `result().logLoss`: 'nats' (default) or 'bits'. */
  unit?: Unit;
}

/** Options of `xe.multilabelScorer`: the binary scorer's, and the number of labels. */
export interface MultilabelScorerOptions extends BinaryScorerOptions {
  /** L: every update's scores and targets are row-major [N, L]. Required. */
  labels: number;
}

/** Options of `update`. */
export interface BinaryUpdateOptions {
  /** One finite, non-negative weight per row (Float32Array of N). Default: every row weighs 1. */
  sampleWeight?: Float32Array | TensorLike;
}

/** Targets: 0/1 (Uint8Array, Int32Array, number[]) or soft labels in [0, 1] (Float32Array, number[]). */
export type BinaryLabels = Float32Array | Uint8Array | Int8Array | Int16Array | Int32Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array | readonly number[] | TensorLike;

/** One calibration bin of `result().bins`. */
export interface BinaryCalibrationBin {
  /** For 'uniform', the bin covers p in [lower, upper) (the last one includes 1); for 'quantile', (lower, upper] (the first includes lower). */
  lower: number;
  upper: number;
  /** Rows in the bin, and their total weight. */
  count: number;
  weight: number;
  /** Weighted mean p of the bin's rows (NaN when its weight is 0). */
  confidence: number;
  /** Weighted fraction of positives (the mean target) of the bin's rows (NaN when its weight is 0). */
  accuracy: number;
}

/** The ROC curve: points in order of decreasing threshold, the first (0, 0) at threshold Infinity. */
export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  /** Probabilities: a row is predicted positive at a point when p >= its threshold. */
  thresholds: Float64Array;
}

/**
 * The precision-recall curve as sklearn's precision_recall_curve gives it: thresholds increasing,
 * precision and recall one longer, ending with precision 1 and recall 0.
 */
export interface PrecisionRecallCurve {
  precision: Float64Array;
  recall: Float64Array;
  thresholds: Float64Array;
}

/** The weighted confusion counts at the threshold (soft labels count t positive and 1 - t negative). */
export interface BinaryConfusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** What `binaryScorer.result()` reports. Means over no weight are NaN. */
export interface BinaryScoreResult {
  /** Rows counted. */
  count: number;
  /** Their total sample weight, and the weight of positives (sum of weight times target). */
  weight: number;
  positives: number;
  /** Weighted mean binary cross-entropy in `unit` (sklearn's log_loss). */
  logLoss: number;
  unit: Unit;
  /** Weighted mean of (p - t)^2 (sklearn's brier_score_loss). */
  brier: number;
  /** At the threshold: (tp + tn) / weight. */
  accuracy: number;
  /** tp / (tp + fp), 0 when nothing is predicted positive (sklearn's zero_division default). */
  precision: number;
  /** tp / (tp + fn), 0 when there is no positive. */
  recall: number;
  /** 2 precision recall / (precision + recall), 0 when both are 0. */
  f1: number;
  confusion: BinaryConfusion;
  /** Area under the ROC curve (ties count one half); NaN without both positives and negatives. */
  rocAuc: number;
  /** sum over thresholds of (R_k - R_{k-1}) P_k (sklearn's average_precision_score); NaN without positives. */
  averagePrecision: number;
  /** 0 for thresholds 'exact'; else a bound on |rocAuc - exact ROC AUC| computed from the histogram. */
  rocAucErrorBound: number;
  /** 0 for thresholds 'exact'; else a bound on |averagePrecision - exact AP| computed from the histogram. */
  averagePrecisionErrorBound: number;
  /** Calibration errors over the bins (torchmetrics' binary_calibration_error, norms l1, max and l2). */
  ece: number;
  mce: number;
  rmsce: number;
  bins: BinaryCalibrationBin[];
  roc: RocCurve;
  pr: PrecisionRecallCurve;
}

/** Per-label metrics averaged over labels. */
export interface LabelAverages {
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  averagePrecision: number;
  accuracy: number;
  logLoss: number;
  brier: number;
  ece: number;
}

/** What `multilabelScorer.result()` reports. */
export interface MultilabelScoreResult {
  labels: number;
  /** Rows counted (each holds L labels). */
  count: number;
  /** The binary result of each label. */
  perLabel: BinaryScoreResult[];
  /** The unweighted mean over labels of each per-label metric (sklearn's average='macro'). */
  macro: LabelAverages;
  /** The mean over labels weighted by each label's positives (sklearn's average='weighted'). */
  weighted: LabelAverages;
  /** Every (row, label) pair as one binary problem (sklearn's average='micro'). */
  micro: BinaryScoreResult;
}

export type { StateNumber };

/** The checked configuration of a binary scorer (and of each label of a multilabel one). */
export interface BinaryScorerConfig {
  from: BinaryScorerInput;
  threshold: number;
  thresholds: 'exact' | number;
  bins: number;
  binning: CalibrationBinning;
  /** The clip of from 'probs'; 0 for logits. */
  epsilon: number;
  unit: Unit;
}

/**
 * A plain, JSON-serialisable snapshot of a binary scorer. Compensated sums are pairs [sum,
 * compensation] (the value is their sum); per-bin sums are flat arrays of such pairs, [s0, c0, s1, c1,
 * ...]. `scores`, `targets` and `weights` hold the rows for thresholds 'exact' (empty otherwise);
 * `histPositive` and `histNegative` the histogram's weight of positives and negatives per bin for
 * thresholds k (empty for 'exact'). Only `loss` and `scores` can hold a non-finite value, written as a
 * StateNumber string.
 */
export interface BinaryScorerState extends BinaryScorerConfig {
  format: 'xentropy-binary-scorer';
  version: 1;
  count: number;
  weight: [number, number];
  positive: [number, number];
  predicted: [number, number];
  truePositive: [number, number];
  loss: [StateNumber, StateNumber];
  brier: [number, number];
  binCount: number[];
  binWeight: number[];
  binConfidence: number[];
  binPositive: number[];
  histPositive: number[];
  histNegative: number[];
  scores: StateNumber[];
  targets: number[];
  weights: number[];
}

/** A plain snapshot of a multilabel scorer: one binary state per label, all of the same configuration. */
export interface MultilabelScorerState {
  format: 'xentropy-multilabel-scorer';
  version: 1;
  labels: number;
  /** Rows counted (every label's state has counted each of them). */
  count: number;
  perLabel: BinaryScorerState[];
}

const BINARY_OPTIONS = ['from', 'threshold', 'thresholds', 'bins', 'binning', 'epsilon', 'unit'] as const;
const MAX_BINS = 1_000_000;
const MAX_LABELS = 1 << 16;

// Indices of the compensated pairs in BinaryData.sums.
const WEIGHT = 0, POSITIVE = 2, PREDICTED = 4, TRUE_POSITIVE = 6, LOSS = 8, BRIER = 10, SUMS = 12;
const PAIR_NAMES = ['weight', 'positive', 'predicted', 'truePositive', 'loss', 'brier'] as const;

/** @internal A binary scorer's state as it holds it. */
export interface BinaryData {
  config: BinaryScorerConfig;
  count: number;
  sums: Float64Array;
  binCount: Float64Array;
  /** Per bin, three pairs: weight, confidence (w p), positive (w t). */
  bin: Float64Array;
  /** Per histogram bin, two pairs: positive (w t), negative (w (1 - t)). Empty for 'exact'. */
  hist: Float64Array;
  /** The rows, for 'exact': `count` of each is used, the rest is capacity. */
  scores: Float32Array;
  targets: Float32Array;
  weights: Float32Array;
}

// ---------------------------------------------------------------------------------------------------
// Options

function checkIntIn(name: string, value: unknown, lo: number, hi: number, fallback: number): number {
  const n = checkPositiveInt(name, value, fallback);
  if (n < lo || n > hi) throw new RangeError(`${name} must be an integer in [${lo}, ${hi}], got ${n}`);
  return n;
}

/**
 * @internal
 * Checks the configuration fields of options (`prefix` 'options', defaults for what is absent) or of
 * a state (`prefix` its name, every field required, epsilon 0 unless from is 'probs').
 */
export function checkBinaryConfig(o: Record<string, unknown>, prefix: string, required: boolean): BinaryScorerConfig {
  if (required) for (const key of BINARY_OPTIONS) if (o[key] === undefined) throw new TypeError(`${prefix}.${key} is missing`);
  const from = checkChoice<BinaryScorerInput>(`${prefix}.from`, o.from, ['logits', 'probs'], 'logits');
  let threshold = 0.5;
  if (o.threshold !== undefined) {
    if (typeof o.threshold !== 'number') throw new TypeError(`${prefix}.threshold must be a number, got ${describe(o.threshold)}`);
    if (!(o.threshold >= 0 && o.threshold <= 1)) {
      throw new RangeError(`${prefix}.threshold must be a probability in [0, 1], got ${describe(o.threshold)}`);
    }
    threshold = o.threshold === 0 ? 0 : o.threshold;
  }
  let thresholds: 'exact' | number = 'exact';
  if (typeof o.thresholds === 'string') {
    if (o.thresholds !== 'exact') throw new RangeError(`${prefix}.thresholds must be 'exact' or a positive integer, got ${describe(o.thresholds)}`);
  } else if (o.thresholds !== undefined) {
    if (typeof o.thresholds !== 'number') {
      throw new TypeError(`${prefix}.thresholds must be 'exact' or a positive integer, got ${describe(o.thresholds)}`);
    }
    thresholds = checkIntIn(`${prefix}.thresholds`, o.thresholds, 1, MAX_BINS, 1);
  }
  const bins = checkIntIn(`${prefix}.bins`, o.bins, 1, MAX_BINS, 15);
  const binning = checkChoice<CalibrationBinning>(`${prefix}.binning`, o.binning, ['uniform', 'quantile'], 'uniform');
  if (binning === 'quantile' && thresholds !== 'exact') {
    throw new RangeError(`${prefix}.binning 'quantile' needs ${prefix}.thresholds 'exact' (quantiles come from the kept scores), got thresholds ${thresholds}`);
  }
  let epsilon = 0;
  if (from === 'probs') {
    if (o.epsilon === undefined) epsilon = DEFAULT_EPSILON;
    else if (typeof o.epsilon !== 'number') throw new TypeError(`${prefix}.epsilon must be a number, got ${describe(o.epsilon)}`);
    else if (!(o.epsilon > 0 && o.epsilon < 0.5)) throw new RangeError(`${prefix}.epsilon must be in (0, 0.5), got ${describe(o.epsilon)}`);
    else epsilon = o.epsilon;
  } else if (required) {
    if (typeof o.epsilon !== 'number') throw new TypeError(`${prefix}.epsilon must be a number, got ${describe(o.epsilon)}`);
    if (o.epsilon !== 0) throw new RangeError(`${prefix}.epsilon = ${describe(o.epsilon)} must be 0 when ${prefix}.from is '${from}'`);
  } else if (o.epsilon !== undefined) {
    throw new TypeError(`${prefix}.epsilon applies only to from 'probs' (the clip of probabilities); logits are not clipped`);
  }
  const unit = checkChoice<Unit>(`${prefix}.unit`, o.unit, ['nats', 'bits'], 'nats');
  return { from, threshold, thresholds, bins, binning, epsilon, unit };
}

function optionsObject(fn: string, options: unknown, known: readonly string[], what: string): Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${fn} options must be an object${what}, got ${describe(options)}`);
  }
  return checkOptions(fn, options, known);
}

/** @internal Reads binaryScorer options (shared with the reference); `extra` names options the caller reads. */
export function readBinaryOptions(options: unknown, extra: readonly string[] = []): { config: BinaryScorerConfig; extras: Record<string, unknown> } {
  const o = options === undefined ? {} : optionsObject('binaryScorer', options, [...BINARY_OPTIONS, ...extra], '');
  return { config: checkBinaryConfig(o, 'options', false), extras: o };
}

/** @internal Reads multilabelScorer options (shared with the reference). */
export function readMultilabelOptions(
  options: unknown, extra: readonly string[] = [],
): { config: BinaryScorerConfig; labels: number; extras: Record<string, unknown> } {
  const o = optionsObject('multilabelScorer', options, ['labels', ...BINARY_OPTIONS, ...extra], ' with at least { labels }');
  if (o.labels === undefined) throw new TypeError('options.labels is missing: the number of labels L is required');
  const labels = checkIntIn('options.labels', o.labels, 1, MAX_LABELS, 1);
  return { config: checkBinaryConfig(o, 'options', false), labels, extras: o };
}

// ---------------------------------------------------------------------------------------------------
// Updates

/** @internal One update read and checked: private copies of scores, targets and weights. */
export interface BinaryUpdate {
  rows: number;
  /** N·width raw scores (logits or probabilities), float32 values. */
  scores: Float32Array;
  /** N·width targets in [0, 1]. */
  targets: Float32Array;
  /** N weights, or null for all 1. */
  weights: Float32Array | null;
}

const LABEL_TYPES = 'a Float32Array of targets in [0, 1], a Uint8Array or other integer array of 0/1 (int64 too), an array of numbers, or a tensor of them (a bool tensor too)';

/** The targets, each element read once into a private Float32Array (checked afterwards). */
/** Typed arrays of labels, by kind: soft targets (Float32Array) or integers of 0 and 1. */
const TARGET_VIEWS: Record<string, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number | bigint>> = {
  Float32Array, Uint8Array, Int8Array, Int16Array, Int32Array, Uint16Array, Uint32Array, BigInt64Array, BigUint64Array,
};

function readTargets(value: unknown, length: number): Float32Array {
  const kind = typedArrayKind(value);
  let copy: Float32Array;
  if (kind !== undefined && TARGET_VIEWS[kind]) {
    const view = plainView('labels', value as ArrayBufferView, TARGET_VIEWS[kind]);
    if (view.length !== length) throw new RangeError(`labels.length must be ${length} (the scores' length), got ${view.length}`);
    copy = new Float32Array(length);
    if (kind === 'BigInt64Array' || kind === 'BigUint64Array') {
      // int64 labels (ONNX's): each 0 or 1.
      for (let i = 0; i < length; i++) {
        const v = view[i];
        if (v !== 0n && v !== 1n) throw new RangeError(`labels[${i}] = ${describe(v)} is not a target in [0, 1]`);
        copy[i] = Number(v);
      }
    } else {
      // Integers of 0/1 convert exactly; any other integer still fails the range check below (2^31 - 1 rounds to 2^31).
      copy.set(view as ArrayLike<number>);
    }
  } else if (Array.isArray(value)) {
    const n: unknown = value.length;
    if (n !== length) throw new RangeError(`labels.length must be ${length} (the scores' length), got ${describe(n)}`);
    const raw: unknown[] = [];
    for (let i = 0; i < length; i++) raw.push(Object.prototype.hasOwnProperty.call(value, i) ? value[i] : undefined);
    copy = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      const t = raw[i];
      if (typeof t !== 'number') throw new TypeError(`labels[${i}] must be a number, got ${describe(t)}`);
      if (!(t >= 0 && t <= 1)) throw new RangeError(`labels[${i}] = ${describe(t)} is not a target in [0, 1]`);
      copy[i] = t;
    }
  } else {
    throw new TypeError(`labels must be ${LABEL_TYPES}, got ${describe(value)}`);
  }
  for (let i = 0; i < length; i++) {
    const t = copy[i];
    if (!(t >= 0 && t <= 1)) {
      throw new RangeError(`labels[${i}] = ${describe(kind !== undefined && kind !== 'Float32Array' ? (value as ArrayLike<number>)[i] : t)} is not a target in [0, 1]`);
    }
  }
  return copy;
}

/**
 * @internal
 * Reads one update of `width` scores per row (1 binary, L multilabel): everything is copied first,
 * then checked. TypeError for a wrong type, RangeError for a wrong length or value, naming both.
 */
export function readBinaryUpdate(config: BinaryScorerConfig, width: number, scores: unknown, labels: unknown, options: unknown): BinaryUpdate {
  const read = checkFloat32OrResident('scores', scores);
  const z = new Float32Array(read.array);
  if (z.length % width !== 0) throw new RangeError(`scores.length = ${z.length} is not a multiple of labels = ${width}`);
  const dims = read.dims;
  // A scores tensor is [N] or [N, 1] for a binary scorer, [N, L] for a multilabel one.
  if (dims && (dims.length >= 2 ? dims[dims.length - 1] : 1) !== width) {
    throw new RangeError(`scores has dims [${dims.join(', ')}], but the scorer scores ${width} label${width === 1 ? '' : 's'} per row`);
  }
  const rows = z.length / width;
  const { data: labelData, dims: labelDims } = unwrapTensor('labels', labels);
  checkDims('labels', labelDims, "the scores'", dims, dims);
  const t = readTargets(labelData, z.length);
  const o = options === undefined ? {} : optionsObject('update', options, ['sampleWeight'], '');
  const w = checkWeight('options.sampleWeight', o.sampleWeight, rows, 'the number of rows');
  for (let i = 0; i < z.length; i++) {
    const x = z[i];
    if (x !== x) throw new RangeError(`scores[${i}] = NaN is not a score (a NaN cannot be ranked)`);
    if (config.from === 'probs' && !(x >= 0 && x <= 1)) {
      throw new RangeError(`scores[${i}] = ${describe(x)} is not a probability in [0, 1] (from: 'probs')`);
    }
  }
  return { rows, scores: z, targets: t, weights: w };
}

// ---------------------------------------------------------------------------------------------------
// Per-row arithmetic (the reference uses the same definitions, written out again)

/** @internal The logistic function in float64, without overflow. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** @internal The probability of the positive class for a raw score. */
export function probabilityOf(config: BinaryScorerConfig, x: number): number {
  return config.from === 'logits' ? sigmoid(x) : x;
}

/**
 * @internal
 * A row's binary cross-entropy in nats: t softplus(-x) + (1 - t) softplus(x) for logits (exact for
 * any |x|), -t log clip(p) - (1 - t) log clip(1 - p) for probabilities, clip to [epsilon, 1 - epsilon].
 * A term whose coefficient is 0 is 0 (so a logit of -inf with target 0 costs nothing).
 */
export function rowLoss(config: BinaryScorerConfig, x: number, t: number): number {
  if (config.from === 'logits') return (t > 0 ? t * softplus(-x) : 0) + (t < 1 ? (1 - t) * softplus(x) : 0);
  // p and 1 - p each clipped, as sklearn's log_loss clips both columns (1 - p is exact for a float32 p
  // above 2^-29, and rounds to 1 below, where log1p(-p) and log(1 - p) agree to the ulp anyway).
  const { epsilon: e } = config;
  const clip = (q: number) => Math.min(Math.max(q, e), 1 - e);
  return (t > 0 ? -t * Math.log(clip(x)) : 0) + (t < 1 ? -(1 - t) * Math.log(clip(1 - x)) : 0);
}

/** @internal Equal-width bin of p in [0, 1] over n bins: [b/n, (b+1)/n), the last including 1. */
export function binIndex(p: number, n: number): number {
  return p > 0 ? Math.min(n - 1, Math.floor(p * n)) : 0;
}

/** Neumaier's compensated addition of x into the pair a[i] (sum), a[i + 1] (compensation). */
function add(a: Float64Array, i: number, x: number): void {
  const s = a[i];
  const t = s + x;
  // An infinite sum has no rounding error to recover (and inf - inf would make the compensation NaN).
  if (Number.isFinite(t)) a[i + 1] += Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s;
  a[i] = t;
}

/** Adds the pair b[j], b[j + 1] into a[i], a[i + 1]. */
function addPairOf(a: Float64Array, i: number, b: Float64Array, j: number): void {
  a[i + 1] += b[j + 1];
  add(a, i, b[j]);
}

const value = (a: Float64Array, i: number): number => a[i] + a[i + 1];

/** @internal An empty state of a configuration. */
export function emptyBinary(config: BinaryScorerConfig): BinaryData {
  const exact = config.thresholds === 'exact';
  return {
    config, count: 0, sums: new Float64Array(SUMS), binCount: new Float64Array(config.bins),
    bin: new Float64Array(config.bins * 6), hist: new Float64Array(exact ? 0 : (config.thresholds as number) * 4),
    scores: new Float32Array(exact ? 16 : 0), targets: new Float32Array(exact ? 16 : 0), weights: new Float32Array(exact ? 16 : 0),
  };
}

/** Room for `more` rows in an exact state (capacity doubles). */
function reserveRows(s: BinaryData, more: number): void {
  const need = s.count + more;
  if (s.config.thresholds !== 'exact' || need <= s.scores.length) return;
  let capacity = Math.max(16, s.scores.length);
  while (capacity < need) capacity *= 2;
  for (const key of ['scores', 'targets', 'weights'] as const) {
    const grown = new Float32Array(capacity);
    grown.set(s[key].subarray(0, s.count));
    s[key] = grown;
  }
}

/**
 * @internal Folds one checked row (raw score x, target t, weight w) into a state; with `keep` false
 * (a fold group's partial), an exact state's rows are not stored (the caller appends them).
 */
export function foldBinary(s: BinaryData, x: number, t: number, w: number, keep = true): void {
  const c = s.config;
  let p: number, loss: number;
  if (c.from === 'logits') {
    // sigmoid and softplus share e^-|x|: one exp and one log1p per row, the same bits as sigmoid(x) and rowLoss.
    const e = Math.exp(-Math.abs(x)), lp = Math.log1p(e);
    p = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    loss = (t > 0 ? t * (Math.max(-x, 0) + lp) : 0) + (t < 1 ? (1 - t) * (Math.max(x, 0) + lp) : 0);
  } else {
    p = x;
    loss = rowLoss(c, x, t);
  }
  const a = s.sums;
  const wt = w * t;
  add(a, WEIGHT, w);
  add(a, POSITIVE, wt);
  if (p >= c.threshold) {
    add(a, PREDICTED, w);
    add(a, TRUE_POSITIVE, wt);
  }
  // A row of weight 0 adds nothing, even an infinite loss (0 * inf would be NaN).
  if (w > 0) {
    add(a, LOSS, w * loss);
    add(a, BRIER, w * (p - t) * (p - t));
  }
  const b = binIndex(p, c.bins);
  s.binCount[b]++;
  add(s.bin, 6 * b, w);
  add(s.bin, 6 * b + 2, w * p);
  add(s.bin, 6 * b + 4, wt);
  if (c.thresholds === 'exact') {
    if (!keep) {
      s.count++;
      return;
    }
    s.scores[s.count] = x;
    s.targets[s.count] = t;
    s.weights[s.count] = w;
  } else {
    const h = binIndex(p, c.thresholds);
    add(s.hist, 4 * h, wt);
    add(s.hist, 4 * h + 2, w - wt);
  }
  s.count++;
}

/**
 * Elements (rows x labels) per fold group: the partials' merges (O(bins + thresholds) a label) then
 * cost little next to the group's rows, and a pool's workers get tens of groups from 10^7 elements.
 */
export const BINARY_GROUP_ELEMENTS = 1 << 16;

/**
 * @internal
 * Rows per fold group of an update of `width` labels: about BINARY_GROUP_ELEMENTS elements, and at least
 * 16 rows per f64 of a label's partial (so that merging it stays cheap with many thresholds or bins).
 * Fixed by the configuration and width alone.
 */
export function binaryGroupRows(config: BinaryScorerConfig, width: number): number {
  return Math.max(Math.ceil(BINARY_GROUP_ELEMENTS / width), 16 * partialLength(config));
}

/** @internal f64s of a serialised partial: count, sums, bin counts, bin pairs, histogram pairs. */
export function partialLength(config: BinaryScorerConfig): number {
  return 1 + SUMS + 7 * config.bins + (config.thresholds === 'exact' ? 0 : 4 * config.thresholds);
}

/**
 * @internal
 * Folds rows [r0, r1) of an update (scores and targets row-major [rows, width], weights per row or
 * null) into one fresh partial per label, rows in order; an exact partial keeps no rows.
 */
export function foldGroup(
  config: BinaryScorerConfig, width: number, scores: Float32Array, targets: Float32Array, weights: Float32Array | null,
  r0: number, r1: number,
): BinaryData[] {
  const partials: BinaryData[] = [];
  for (let l = 0; l < width; l++) partials.push(emptyPartial(config));
  for (let r = r0; r < r1; r++) {
    const w = weights ? weights[r] : 1;
    for (let l = 0; l < width; l++) foldBinary(partials[l], scores[r * width + l], targets[r * width + l], w, false);
  }
  return partials;
}

/** An empty partial: emptyBinary without room for rows. */
function emptyPartial(config: BinaryScorerConfig): BinaryData {
  const empty = new Float32Array(0);
  return {
    config, count: 0, sums: new Float64Array(SUMS), binCount: new Float64Array(config.bins), bin: new Float64Array(config.bins * 6),
    hist: new Float64Array(config.thresholds === 'exact' ? 0 : (config.thresholds as number) * 4), scores: empty, targets: empty, weights: empty,
  };
}

/** @internal Writes a partial into out at `at` (partialLength f64s). */
export function writePartial(p: BinaryData, out: Float64Array, at: number): void {
  out[at] = p.count;
  out.set(p.sums, at + 1);
  out.set(p.binCount, at + 1 + SUMS);
  out.set(p.bin, at + 1 + SUMS + p.binCount.length);
  out.set(p.hist, at + 1 + SUMS + 7 * p.binCount.length);
}

/** @internal A partial read back from writePartial's layout (views of `from`). */
export function readPartial(config: BinaryScorerConfig, from: Float64Array, at: number): BinaryData {
  const B = config.bins, H = config.thresholds === 'exact' ? 0 : 4 * config.thresholds, o = at + 1 + SUMS;
  const empty = new Float32Array(0);
  return {
    config, count: from[at], sums: from.subarray(at + 1, o), binCount: from.subarray(o, o + B), bin: from.subarray(o + B, o + 7 * B),
    hist: from.subarray(o + 7 * B, o + 7 * B + H), scores: empty, targets: empty, weights: empty,
  };
}

/**
 * @internal
 * Merges fold group [r0, r1)'s partials into the states, label by label: an exact state first takes
 * the group's rows (in order, from the update), then the partial's counts and sums as mergeBinary adds
 * them. The states must have room for the rows (reserveUpdate).
 */
export function mergeGroup(
  states: BinaryData[], partials: readonly BinaryData[], u: BinaryUpdate, r0: number, r1: number,
): void {
  const L = states.length;
  for (let l = 0; l < L; l++) {
    const a = states[l], b = partials[l];
    if (a.config.thresholds === 'exact' && L === 1) {
      a.scores.set(u.scores.subarray(r0, r1), a.count);
      a.targets.set(u.targets.subarray(r0, r1), a.count);
      if (u.weights) a.weights.set(u.weights.subarray(r0, r1), a.count);
      else a.weights.fill(1, a.count, a.count + r1 - r0);
    } else if (a.config.thresholds === 'exact') {
      for (let r = r0, i = a.count; r < r1; r++, i++) {
        a.scores[i] = u.scores[r * L + l];
        a.targets[i] = u.targets[r * L + l];
        a.weights[i] = u.weights ? u.weights[r] : 1;
      }
    }
    for (let i = 0; i < SUMS; i += 2) addPairOf(a.sums, i, b.sums, i);
    for (let i = 0; i < a.binCount.length; i++) a.binCount[i] += b.binCount[i];
    for (let i = 0; i < a.bin.length; i += 2) addPairOf(a.bin, i, b.bin, i);
    for (let i = 0; i < a.hist.length; i += 2) addPairOf(a.hist, i, b.hist, i);
    a.count += b.count;
  }
}

/**
 * @internal
 * A binary or multilabel update as the pool's workers fold it: scores and targets (float32, row-major
 * [rows, width]) and weights (float32 per row; 0 for none) staged in shared memory by the main thread.
 */
export interface BinaryScoreJob {
  config: BinaryScorerConfig;
  width: number;
  rows: number;
  /** Rows per fold group (binaryGroupRows). */
  group: number;
  scores: number;
  targets: number;
  weights: number;
}

/**
 * @internal
 * A worker's part of a BinaryScoreJob: fold groups taken one at a time from the Int32 counter at
 * `steal` in `buffer` until none is left. Returns, for each group taken, its index and then its
 * width partials (writePartial's layout).
 */
export function foldBinaryJob(buffer: ArrayBufferLike, job: BinaryScoreJob, steal: number): Float64Array {
  const { config, width, rows, group } = job;
  const n = rows * width;
  const scores = new Float32Array(buffer, job.scores, n), targets = new Float32Array(buffer, job.targets, n);
  const weights = job.weights ? new Float32Array(buffer, job.weights, rows) : null;
  const counter = new Int32Array(buffer, steal, 1);
  const groups = Math.ceil(rows / group), P = partialLength(config), each = 1 + width * P;
  const taken: BinaryData[][] = [], index: number[] = [];
  for (let g = Atomics.add(counter, 0, 1); g < groups; g = Atomics.add(counter, 0, 1)) {
    index.push(g);
    taken.push(foldGroup(config, width, scores, targets, weights, g * group, Math.min(rows, (g + 1) * group)));
  }
  const out = new Float64Array(taken.length * each);
  for (let i = 0; i < taken.length; i++) {
    out[i * each] = index[i];
    for (let l = 0; l < width; l++) writePartial(taken[i][l], out, i * each + 1 + l * P);
  }
  return out;
}

/** @internal Room for an update's rows in every state (exact thresholds keep them). */
export function reserveUpdate(states: BinaryData[], rows: number): void {
  for (const s of states) reserveRows(s, rows);
}

/**
 * @internal
 * Folds a checked update into one state (binary) or one per label (multilabel, width L): fold groups
 * of binaryGroupRows rows, each folded into fresh partials and merged in order (mergeGroup), which is
 * what the pool's workers reproduce group by group. An update of one group folds straight into the
 * states (the pool runs it on the calling thread).
 */
export function foldUpdate(states: BinaryData[], u: BinaryUpdate): void {
  const L = states.length, config = states[0].config;
  reserveUpdate(states, u.rows);
  const group = binaryGroupRows(config, L);
  if (u.rows <= group) {
    // One group: nothing to split, so the rows fold straight into the states (no partials to merge).
    for (let r = 0; r < u.rows; r++) {
      const w = u.weights ? u.weights[r] : 1;
      for (let l = 0; l < L; l++) foldBinary(states[l], u.scores[r * L + l], u.targets[r * L + l], w);
    }
    return;
  }
  for (let r0 = 0; r0 < u.rows; r0 += group) {
    const r1 = Math.min(u.rows, r0 + group);
    mergeGroup(states, foldGroup(config, L, u.scores, u.targets, u.weights, r0, r1), u, r0, r1);
  }
}

/** @internal Adds state b into a (same configuration, checked by the caller). */
export function mergeBinary(a: BinaryData, b: BinaryData): void {
  for (let i = 0; i < SUMS; i += 2) addPairOf(a.sums, i, b.sums, i);
  for (let i = 0; i < a.binCount.length; i++) a.binCount[i] += b.binCount[i];
  for (let i = 0; i < a.bin.length; i += 2) addPairOf(a.bin, i, b.bin, i);
  for (let i = 0; i < a.hist.length; i += 2) addPairOf(a.hist, i, b.hist, i);
  if (a.config.thresholds === 'exact') {
    const n = b.count;
    const from = { scores: b.scores.slice(0, n), targets: b.targets.slice(0, n), weights: b.weights.slice(0, n) };
    reserveRows(a, n);
    a.scores.set(from.scores, a.count);
    a.targets.set(from.targets, a.count);
    a.weights.set(from.weights, a.count);
  }
  a.count += b.count;
}

/** @internal A deep copy. */
export function copyBinary(s: BinaryData): BinaryData {
  return {
    config: s.config, count: s.count, sums: s.sums.slice(), binCount: s.binCount.slice(), bin: s.bin.slice(), hist: s.hist.slice(),
    scores: s.scores.slice(), targets: s.targets.slice(), weights: s.weights.slice(),
  };
}

// ---------------------------------------------------------------------------------------------------
// Results

/** Distinct thresholds in decreasing order, each with the weight of positives and negatives at it. */
interface Ranking {
  thresholds: Float64Array;
  positive: Float64Array;
  negative: Float64Array;
}

/**
 * The exact ranking: rows sorted by raw score (decreasing), ties broken by target then weight, so that
 * the order, and every sum taken along it, depends only on the multiset of rows: states merged in any
 * order give bit-identical AUC, AP and curves.
 */
function exactRanking(s: BinaryData): Ranking {
  const { scores, targets, weights } = s;
  // Rows of weight 0 are not on the curves (as sklearn drops them).
  let m = 0;
  for (let i = 0; i < s.count; i++) if (weights[i] > 0) m++;
  // Each kept row's score as a uint32 whose order is the score's, decreasing (-0 read as 0: one score),
  // with the row's score, target and weight beside it. A stable radix sort over the key's four bytes
  // moves all four together: each pass reads them in order and writes to 256 places, and nothing after
  // it looks a row up by its index (in arrays of millions nearly every such read missed the cache).
  let key = new Uint32Array(m), score = new Float32Array(m), target = new Float32Array(m), weight = new Float32Array(m);
  const f = new Float32Array(1), bits = new Uint32Array(f.buffer);
  for (let i = 0, k = 0; i < s.count; i++) {
    if (!(weights[i] > 0)) continue;
    f[0] = scores[i] || 0;
    const b = bits[0];
    key[k] = ~(b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
    score[k] = scores[i];
    target[k] = targets[i];
    weight[k++] = weights[i];
  }
  let key2 = new Uint32Array(m), score2 = new Float32Array(m), target2 = new Float32Array(m), weight2 = new Float32Array(m);
  const count = new Uint32Array(257);
  for (let shift = 0; shift < 32 && m > 0; shift += 8) {
    count.fill(0);
    for (let k = 0; k < m; k++) count[((key[k] >>> shift) & 0xff) + 1]++;
    // Every key has this byte: the pass would move nothing.
    if (count[((key[0] >>> shift) & 0xff) + 1] === m) continue;
    for (let d = 0; d < 256; d++) count[d + 1] += count[d];
    for (let k = 0; k < m; k++) {
      const at = count[(key[k] >>> shift) & 0xff]++;
      key2[at] = key[k];
      score2[at] = score[k];
      target2[at] = target[k];
      weight2[at] = weight[k];
    }
    [key, key2, score, score2, target, target2, weight, weight2] = [key2, key, score2, score, target2, target, weight2, weight];
  }
  // From the highest score down, one group per distinct score; within a tie, rows in order of target
  // then weight, so that every sum depends only on the multiset of rows.
  const thresholds = new Float64Array(m), positive = new Float64Array(m), negative = new Float64Array(m);
  let G = 0;
  for (let a = 0; a < m;) {
    let b = a + 1;
    while (b < m && key[b] === key[a]) b++;
    if (b - a > 1) sortTie(a, b, score, target, weight);
    let pos = 0, neg = 0;
    for (let k = a; k < b; k++) {
      const wt = weight[k] * target[k];
      pos += wt;
      neg += weight[k] - wt;
    }
    thresholds[G] = probabilityOf(s.config, score[a]);
    positive[G] = pos;
    negative[G++] = neg;
    a = b;
  }
  return { thresholds: thresholds.subarray(0, G), positive: positive.subarray(0, G), negative: negative.subarray(0, G) };
}

/**
 * Sorts the rows [a, b) of one tied score by target, then weight, both decreasing, and stably (rows
 * equal in both keep their order, and add the same terms whatever it is): by insertion for the few
 * rows a tie usually has, else through a sorted permutation.
 */
function sortTie(a: number, b: number, score: Float32Array, target: Float32Array, weight: Float32Array): void {
  if (b - a <= 32) {
    for (let k = a + 1; k < b; k++) {
      const sk = score[k], tk = target[k], wk = weight[k];
      let h = k - 1;
      // Row k goes before each row it sorts ahead of: a larger target, or the same target and a larger weight.
      for (; h >= a && (tk > target[h] || (tk === target[h] && wk > weight[h])); h--) {
        score[h + 1] = score[h];
        target[h + 1] = target[h];
        weight[h + 1] = weight[h];
      }
      score[h + 1] = sk;
      target[h + 1] = tk;
      weight[h + 1] = wk;
    }
    return;
  }
  const s0 = score.slice(a, b), t0 = target.slice(a, b), w0 = weight.slice(a, b);
  const order = Array.from({ length: b - a }, (_, i) => i).sort((i, j) => (t0[j] - t0[i]) || (w0[j] - w0[i]));
  for (let k = 0; k < order.length; k++) {
    score[a + k] = s0[order[k]];
    target[a + k] = t0[order[k]];
    weight[a + k] = w0[order[k]];
  }
}

/** The histogram's ranking: each non-empty bin one threshold (its lower edge), from the top bin down. */
function histogramRanking(s: BinaryData): Ranking {
  const k = s.config.thresholds as number;
  const thresholds: number[] = [], positive: number[] = [], negative: number[] = [];
  for (let b = k - 1; b >= 0; b--) {
    const pos = value(s.hist, 4 * b), neg = value(s.hist, 4 * b + 2);
    if (pos > 0 || neg > 0) {
      thresholds.push(b / k);
      positive.push(pos);
      negative.push(neg);
    }
  }
  return { thresholds: Float64Array.from(thresholds), positive: Float64Array.from(positive), negative: Float64Array.from(negative) };
}

interface RankedMetrics {
  rocAuc: number;
  averagePrecision: number;
  rocAucErrorBound: number;
  averagePrecisionErrorBound: number;
  roc: RocCurve;
  pr: PrecisionRecallCurve;
}

/**
 * AUC, AP, the curves and (binned) the error bounds from a ranking. With P and N the total weights of
 * positives and negatives and TP_g, FP_g those ranked above group g:
 *   AUC = sum_g n_g (TP_g + p_g / 2) / (P N)          (a tie counts one half, as the ROC trapezoid)
 *   AP  = sum_g (p_g / P) (TP_g + p_g) / (TP_g + p_g + FP_g + n_g)
 * For a histogram, only pairs within one bin can be ordered differently than exactly, and each such
 * pair moves the AUC by at most 1/2 of its weight: |AUC - exact| <= sum_b p_b n_b / (2 P N). Every
 * precision the exact curve takes inside bin b, as the one the histogram gives it, lies in
 * [TP_b / (TP_b + FP_b + n_b), (TP_b + p_b) / (TP_b + p_b + FP_b)], for a recall step p_b / P in
 * total: |AP - exact| <= sum_b (p_b / P) (upper_b - lower_b).
 */
function ranked(r: Ranking, binned: boolean): RankedMetrics {
  const G = r.thresholds.length;
  let P = 0, N = 0;
  for (let g = 0; g < G; g++) {
    P += r.positive[g];
    N += r.negative[g];
  }
  const fpr = new Float64Array(G + 1), tpr = new Float64Array(G + 1), rocThresholds = new Float64Array(G + 1);
  rocThresholds[0] = Infinity;
  const precision = new Float64Array(G + 1), recall = new Float64Array(G + 1), prThresholds = new Float64Array(G);
  let tp = 0, fp = 0, auc = 0, ap = 0, aucBound = 0, apBound = 0;
  for (let g = 0; g < G; g++) {
    const pg = r.positive[g], ng = r.negative[g];
    auc += ng * (tp + pg / 2);
    aucBound += pg * ng;
    if (binned && pg > 0) {
      const lowerDen = tp + fp + ng, upperDen = tp + pg + fp;
      apBound += pg * ((tp + pg) / upperDen - (lowerDen > 0 ? tp / lowerDen : 0));
    }
    tp += pg;
    fp += ng;
    const prec = tp + fp > 0 ? tp / (tp + fp) : 0;
    if (pg > 0) ap += pg * prec;
    fpr[g + 1] = N > 0 ? fp / N : NaN;
    tpr[g + 1] = P > 0 ? tp / P : NaN;
    rocThresholds[g + 1] = r.thresholds[g];
    // sklearn's order: increasing thresholds, then the closing point (1, 0).
    precision[G - 1 - g] = prec;
    recall[G - 1 - g] = P > 0 ? tp / P : 1;
    prThresholds[G - 1 - g] = r.thresholds[g];
  }
  precision[G] = 1;
  recall[G] = 0;
  const both = P > 0 && N > 0;
  return {
    rocAuc: both ? auc / (P * N) : NaN,
    averagePrecision: P > 0 ? ap / P : NaN,
    rocAucErrorBound: binned ? (both ? aucBound / (2 * P * N) : NaN) : 0,
    averagePrecisionErrorBound: binned ? (P > 0 ? apBound / P : NaN) : 0,
    roc: { fpr, tpr, thresholds: rocThresholds },
    pr: { precision, recall, thresholds: prThresholds },
  };
}

/**
 * @internal
 * numpy's percentile (linear interpolation) of sorted values at the b-th of B + 1 evenly spaced levels,
 * with numpy's own rounding (np.linspace, then times 100 and divided by 100 again, as sklearn's
 * calibration_curve and np.percentile do): an edge that falls on a value must be that value exactly
 * for a row on it to land in the same bin as sklearn puts it.
 */
export function quantileEdge(sorted: ArrayLike<number>, level: number, B: number): number {
  const q = level === B ? 1 : level * (1 / B);
  const h = (sorted.length - 1) * ((q * 100) / 100);
  const lo = Math.floor(h), hi = Math.min(sorted.length - 1, lo + 1);
  const t = h - lo;
  const a = sorted[lo], b = sorted[hi];
  // numpy's _lerp: exact at both ends.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/**
 * Quantile calibration bins as sklearn's calibration_curve(strategy='quantile'): edges at the
 * percentiles of p, a row in the first bin whose upper edge is >= p (numpy's searchsorted).
 */
function quantileBins(s: BinaryData): { edges: Float64Array; count: Float64Array; bin: Float64Array } {
  const n = s.count, B = s.config.bins;
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) p[i] = probabilityOf(s.config, s.scores[i]);
  const sorted = p.slice().sort();
  const edges = new Float64Array(B + 1);
  for (let b = 0; b <= B; b++) edges[b] = n > 0 ? quantileEdge(sorted, b, B) : b / B;
  const count = new Float64Array(B), bin = new Float64Array(6 * B);
  for (let i = 0; i < n; i++) {
    // The first interior edge >= p[i], as np.searchsorted(edges[1:-1], p) with side 'left'.
    let lo = 0, hi = B - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid + 1] >= p[i]) hi = mid;
      else lo = mid + 1;
    }
    const w = s.weights[i], t = s.targets[i];
    count[lo]++;
    add(bin, 6 * lo, w);
    add(bin, 6 * lo + 2, w * p[i]);
    add(bin, 6 * lo + 4, w * t);
  }
  return { edges, count, bin };
}

/** @internal The metrics of a state. */
export function binaryResult(s: BinaryData): BinaryScoreResult {
  const c = s.config;
  const a = s.sums;
  const W = value(a, WEIGHT), P = value(a, POSITIVE), predicted = value(a, PREDICTED), tp = value(a, TRUE_POSITIVE);
  const fp = Math.max(0, predicted - tp), fn = Math.max(0, P - tp), tn = Math.max(0, W - P - fp);
  const precision = predicted > 0 ? tp / predicted : 0;
  const recall = P > 0 ? tp / P : 0;
  // sklearn's fbeta: (1 + b^2) P R / (b^2 P + R), 0 where the denominator is 0.
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;

  const quantile = c.binning === 'quantile' ? quantileBins(s) : null;
  const binCount = quantile ? quantile.count : s.binCount, bin = quantile ? quantile.bin : s.bin;
  // torchmetrics' binary_calibration_error (torchmetrics/functional/classification/calibration_error.py:
  // _binning_bucketize, then _ce_compute with norm 'l1', 'max', 'l2'): confidence p, accuracy the target,
  // bin b weighted by its share of the rows (here of the weight), MCE over non-empty bins, RMSCE the
  // square root of the weighted mean squared gap.
  const bins: BinaryCalibrationBin[] = [];
  let ece = 0, mce = NaN, ms = 0;
  for (let b = 0; b < c.bins; b++) {
    const wb = value(bin, 6 * b);
    const confidence = value(bin, 6 * b + 2) / wb, accuracy = value(bin, 6 * b + 4) / wb;
    const lower = quantile ? quantile.edges[b] : b / c.bins, upper = quantile ? quantile.edges[b + 1] : (b + 1) / c.bins;
    bins.push({ lower, upper, count: binCount[b], weight: wb, confidence, accuracy });
    if (wb > 0) {
      const gap = Math.abs(accuracy - confidence);
      ece += (wb / W) * gap;
      ms += (wb / W) * gap * gap;
      if (!(mce >= gap)) mce = gap;
    }
  }
  const some = W > 0;
  const r = ranked(c.thresholds === 'exact' ? exactRanking(s) : histogramRanking(s), c.thresholds !== 'exact');
  return {
    count: s.count, weight: W, positives: P,
    logLoss: (value(a, LOSS) / W) * (c.unit === 'bits' ? 1 / Math.LN2 : 1), unit: c.unit,
    brier: value(a, BRIER) / W, accuracy: (tp + tn) / W, precision, recall, f1, confusion: { tp, fp, fn, tn },
    ...r, ece: some ? ece : NaN, mce: some ? mce : NaN, rmsce: some ? Math.sqrt(ms) : NaN, bins,
  };
}

const AVERAGED = ['precision', 'recall', 'f1', 'rocAuc', 'averagePrecision', 'accuracy', 'logLoss', 'brier', 'ece'] as const;

/** @internal Macro and support-weighted averages of per-label results (a NaN label makes its average NaN). */
export function labelAverages(perLabel: BinaryScoreResult[], weighted: boolean): LabelAverages {
  const out = {} as LabelAverages;
  let total = 0;
  for (const r of perLabel) total += weighted ? r.positives : 1;
  for (const key of AVERAGED) {
    let sum = 0;
    for (const r of perLabel) sum += (weighted ? r.positives : 1) * r[key];
    // sklearn's weighted average over labels without any positive is 0.
    out[key] = total > 0 ? sum / total : weighted ? 0 : NaN;
  }
  return out;
}

/** @internal The multilabel result of per-label states. */
export function multilabelResult(states: BinaryData[]): MultilabelScoreResult {
  const perLabel = states.map(binaryResult);
  const pooled = copyBinary(states[0]);
  for (let l = 1; l < states.length; l++) mergeBinary(pooled, states[l]);
  return {
    labels: states.length, count: states[0].count, perLabel,
    macro: labelAverages(perLabel, false), weighted: labelAverages(perLabel, true), micro: binaryResult(pooled),
  };
}

// ---------------------------------------------------------------------------------------------------
// States

const encode = encodeStateNumber;
const decode = decodeStateNumber;

const pairOf = (a: Float64Array, i: number): [number, number] => [a[i], a[i + 1]];

/** @internal The JSON snapshot of a state. */
export function binaryState(s: BinaryData): BinaryScorerState {
  const n = s.count;
  const exact = s.config.thresholds === 'exact';
  const hist = (j: number): number[] => {
    const out: number[] = [];
    for (let i = j; i < s.hist.length; i += 4) out.push(s.hist[i], s.hist[i + 1]);
    return out;
  };
  const bins = (j: number): number[] => {
    const out: number[] = [];
    for (let i = j; i < s.bin.length; i += 6) out.push(s.bin[i], s.bin[i + 1]);
    return out;
  };
  return {
    format: 'xentropy-binary-scorer', version: 1, ...s.config, count: n,
    weight: pairOf(s.sums, WEIGHT), positive: pairOf(s.sums, POSITIVE), predicted: pairOf(s.sums, PREDICTED),
    truePositive: pairOf(s.sums, TRUE_POSITIVE), loss: [encode(s.sums[LOSS]), encode(s.sums[LOSS + 1])],
    brier: pairOf(s.sums, BRIER), binCount: Array.from(s.binCount), binWeight: bins(0), binConfidence: bins(2),
    binPositive: bins(4), histPositive: hist(0), histNegative: hist(2),
    // -0 is written as 0 (JSON would), which scores and ranks the same.
    scores: exact ? Array.from(s.scores.subarray(0, n), (x) => encode(x === 0 ? 0 : x)) : [],
    targets: exact ? Array.from(s.targets.subarray(0, n)) : [],
    weights: exact ? Array.from(s.weights.subarray(0, n)) : [],
  };
}

const STATE_FIELDS = [
  'format', 'version', ...BINARY_OPTIONS, 'count', ...PAIR_NAMES, 'binCount', 'binWeight', 'binConfidence', 'binPositive',
  'histPositive', 'histNegative', 'scores', 'targets', 'weights',
] as const;

/** The elements of an own array, each read once (a hole reads as undefined). */
function elementsOf(name: string, v: unknown, length?: number): unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`${name} must be an array, got ${describe(v)}`);
  const n: unknown = v.length;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new TypeError(`${name}.length must be an array length, got ${describe(n)}`);
  if (length !== undefined && n !== length) throw new RangeError(`${name}.length must be ${length}, got ${n}`);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(Object.prototype.hasOwnProperty.call(v, i) ? v[i] : undefined);
  return out;
}

function countOf(name: string, x: unknown): number {
  if (typeof x !== 'number') throw new TypeError(`${name} must be a number, got ${describe(x)}`);
  if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`${name} = ${describe(x)} is not a count`);
  return x === 0 ? 0 : x;
}

/** A relative slack for sums that bound one another exactly in real arithmetic but are rounded here. */
const SLACK = 1e-9;
const atMost = (a: number, b: number): boolean => a <= b + SLACK * Math.abs(b);

/**
 * @internal
 * Checks a binary state from `state()`, a file or another process and returns the private data.
 * Own properties only, each read once. TypeError for a wrong type or missing field, RangeError for a
 * value no scorer could reach (a negative or non-finite weight sum, positives or predictions
 * exceeding the weight, bins that do not add up to the count, sums over no rows, rows that are no
 * float32 values or out of range), naming the field and the value.
 */
export function checkBinaryState(value: unknown, name = 'state'): BinaryData {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be a binary scorer state object, got ${describe(value)}`);
  }
  const v = ownProps(value, STATE_FIELDS);
  if (v.format !== 'xentropy-binary-scorer') throw new TypeError(`${name}.format must be 'xentropy-binary-scorer', got ${describe(v.format)}`);
  if (typeof v.version !== 'number') throw new TypeError(`${name}.version must be a number, got ${describe(v.version)}`);
  if (v.version !== 1) throw new RangeError(`${name}.version = ${describe(v.version)} is not supported (this version reads 1)`);
  for (const key of STATE_FIELDS) if (v[key] === undefined) throw new TypeError(`${name}.${key} is missing`);
  const config = checkBinaryConfig(v, name, true);
  const s = emptyBinary(config);
  const count = countOf(`${name}.count`, v.count);
  const fail = (message: string): never => {
    throw new RangeError(`${name}.${message}`);
  };
  const floats = (field: string, length: number): number[] =>
    elementsOf(`${name}.${field}`, v[field], length).map((x, i) => decode(`${name}.${field}[${i}]`, x));
  /** Reads pairs into `into` at stride `stride` from offset `at`: sums >= 0 and finite (loss may be +inf), compensations finite. */
  const pairs = (field: string, n: number, into: Float64Array, at: number, stride: number, infinite = false): void => {
    const x = floats(field, 2 * n);
    for (let i = 0; i < n; i++) {
      const sum = x[2 * i], comp = x[2 * i + 1];
      const where = `${field}[${2 * i}]`;
      if (!(sum >= 0) || (sum === Infinity && !infinite)) fail(`${where} = ${describe(sum)} is not a sum of non-negative ${infinite ? 'losses' : 'weights'}`);
      if (!Number.isFinite(comp)) fail(`${field}[${2 * i + 1}] = ${describe(comp)} is not finite, as every compensation is`);
      into[at + stride * i] = sum;
      into[at + stride * i + 1] = comp;
    }
  };
  PAIR_NAMES.forEach((field, j) => {
    pairs(field, 1, s.sums, 2 * j, 0, field === 'loss');
  });
  const sum = (i: number): number => s.sums[i] + s.sums[i + 1];
  const W = sum(WEIGHT);
  if (!atMost(sum(POSITIVE), W)) fail(`positive = ${sum(POSITIVE)} exceeds ${name}.weight = ${W}`);
  if (!atMost(sum(PREDICTED), W)) fail(`predicted = ${sum(PREDICTED)} exceeds ${name}.weight = ${W}`);
  if (!atMost(sum(TRUE_POSITIVE), Math.min(sum(POSITIVE), sum(PREDICTED)))) {
    fail(`truePositive = ${sum(TRUE_POSITIVE)} exceeds ${name}.positive or ${name}.predicted`);
  }
  if (count === 0) {
    for (let j = 0; j < SUMS; j++) if (s.sums[j] !== 0) fail(`${PAIR_NAMES[j >> 1]}[${j & 1}] = ${s.sums[j]} must be 0 when ${name}.count = 0`);
  }
  const binCount = elementsOf(`${name}.binCount`, v.binCount, config.bins).map((x, i) => countOf(`${name}.binCount[${i}]`, x));
  let binned = 0;
  for (const n of binCount) binned += n;
  if (binned !== count) fail(`binCount sums to ${binned}, not ${name}.count = ${count}`);
  s.binCount.set(binCount);
  pairs('binWeight', config.bins, s.bin, 0, 6);
  pairs('binConfidence', config.bins, s.bin, 2, 6);
  pairs('binPositive', config.bins, s.bin, 4, 6);
  for (let b = 0; b < config.bins; b++) {
    const wb = s.bin[6 * b] + s.bin[6 * b + 1];
    if (binCount[b] === 0) for (let j = 0; j < 6; j++) if (s.bin[6 * b + j] !== 0) fail(`bin ${b} holds sums but ${name}.binCount[${b}] = 0`);
    if (!atMost(s.bin[6 * b + 2] + s.bin[6 * b + 3], wb)) fail(`binConfidence[${2 * b}] exceeds ${name}.binWeight[${2 * b}] = ${wb}: confidences are at most 1`);
    if (!atMost(s.bin[6 * b + 4] + s.bin[6 * b + 5], wb)) fail(`binPositive[${2 * b}] exceeds ${name}.binWeight[${2 * b}] = ${wb}: targets are at most 1`);
  }
  const exact = config.thresholds === 'exact';
  const k = exact ? 0 : (config.thresholds as number);
  pairs('histPositive', k, s.hist, 0, 4);
  pairs('histNegative', k, s.hist, 2, 4);
  if (count === 0) for (let i = 0; i < s.hist.length; i++) if (s.hist[i] !== 0) fail(`histPositive / histNegative must be 0 when ${name}.count = 0`);
  const rows = exact ? count : 0;
  const scores = floats('scores', rows), targets = floats('targets', rows), weights = floats('weights', rows);
  reserveRows(s, rows);
  for (let i = 0; i < rows; i++) {
    const x = scores[i], t = targets[i], w = weights[i];
    if (x !== x || Math.fround(x) !== x) fail(`scores[${i}] = ${describe(x)} is not a float32 score`);
    if (config.from === 'probs' && !(x >= 0 && x <= 1)) fail(`scores[${i}] = ${describe(x)} is not a probability in [0, 1] (from 'probs')`);
    if (!(t >= 0 && t <= 1) || Math.fround(t) !== t) fail(`targets[${i}] = ${describe(t)} is not a float32 target in [0, 1]`);
    if (!(w >= 0 && w < Infinity) || Math.fround(w) !== w) fail(`weights[${i}] = ${describe(w)} is not a finite, non-negative float32 weight`);
    s.scores[i] = x;
    s.targets[i] = t;
    s.weights[i] = w;
  }
  s.count = count;
  return s;
}

/** @internal RangeError unless two configurations can merge (the unit of the loss may differ). */
export function checkSameConfig(a: BinaryScorerConfig, b: BinaryScorerConfig, what = 'other'): void {
  for (const key of ['from', 'threshold', 'thresholds', 'bins', 'binning', 'epsilon'] as const) {
    if (a[key] !== b[key]) {
      throw new RangeError(`${what}.${key} = ${describe(b[key])} does not match this scorer's ${key} = ${describe(a[key])}`);
    }
  }
}

/** @internal Checks a multilabel state; returns its per-label data. */
export function checkMultilabelState(value: unknown, name = 'state'): BinaryData[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be a multilabel scorer state object, got ${describe(value)}`);
  }
  const v = ownProps(value, ['format', 'version', 'labels', 'count', 'perLabel']);
  if (v.format !== 'xentropy-multilabel-scorer') throw new TypeError(`${name}.format must be 'xentropy-multilabel-scorer', got ${describe(v.format)}`);
  if (typeof v.version !== 'number') throw new TypeError(`${name}.version must be a number, got ${describe(v.version)}`);
  if (v.version !== 1) throw new RangeError(`${name}.version = ${describe(v.version)} is not supported (this version reads 1)`);
  if (v.labels === undefined) throw new TypeError(`${name}.labels is missing`);
  const labels = checkIntIn(`${name}.labels`, v.labels, 1, MAX_LABELS, 1);
  const count = countOf(`${name}.count`, v.count);
  const states = elementsOf(`${name}.perLabel`, v.perLabel, labels).map((x, l) => checkBinaryState(x, `${name}.perLabel[${l}]`));
  states.forEach((s, l) => {
    checkSameConfig(states[0].config, s.config, `${name}.perLabel[${l}]`);
    if (s.config.unit !== states[0].config.unit) throw new RangeError(`${name}.perLabel[${l}].unit = '${s.config.unit}' differs from ${name}.perLabel[0].unit`);
    if (s.count !== count) throw new RangeError(`${name}.perLabel[${l}].count = ${s.count} is not ${name}.count = ${count}: every label counts every row`);
  });
  return states;
}

// ---------------------------------------------------------------------------------------------------
// The scorers

// The pool's scorer folds rows elsewhere and reaches a scorer's state through these. Static methods, not
// a `static {}` block that exports a closure: a static block runs when the module loads, so bundlers
// (and the pool's worker script) would keep both classes wherever this module is imported.

/** @internal The state of a BinaryScorer, as a one-label list (for the pool's scorer). */
export function binaryDataOf(scorer: BinaryScorer): BinaryData[] {
  return BinaryScorer.dataOf(scorer);
}

/** @internal The states of a MultilabelScorer, one per label. */
export function multilabelDataOf(scorer: MultilabelScorer): BinaryData[] {
  return MultilabelScorer.dataOf(scorer);
}

// The classes below are built through these, never by name in their own bodies: esbuild bundles a class
// that names itself as `var C = class _C`, and users would see `_C` as its name (scripts/finish-dist.mjs
// refuses such a bundle).
function newBinaryScorer(state: unknown): BinaryScorer {
  return new BinaryScorer(state);
}
function newMultilabelScorer(state: unknown): MultilabelScorer {
  return new MultilabelScorer(state);
}

/** A fresh state handed to a constructor by this module only (callers' states are checked). */
class Fresh<T> {
  readonly #data: T;
  constructor(data: T) {
    this.#data = data;
  }

  /** The data of a genuine Fresh (a private-field brand check: a Proxy or look-alike has none), else undefined. */
  static open<T>(x: unknown): T | undefined {
    return typeof x === 'object' && x !== null && #data in x ? (x as unknown as Fresh<T>).#data : undefined;
  }
}

/**
 * A one-pass, mergeable evaluation of a binary classifier: log loss, Brier score, accuracy, precision,
 * recall and F1 at a threshold, ROC AUC, average precision, the ROC and precision-recall curves, and
 * calibration errors. Create one with `xe.binaryScorer(options)`.
 */
export class BinaryScorer {
  #s: BinaryData;

  /** @internal See binaryDataOf. */
  static dataOf(scorer: BinaryScorer): BinaryData[] {
    return [scorer.#s];
  }

  /** @internal Use `xe.binaryScorer(options)` or `xe.binaryScorerFromState(state)`. */
  constructor(state: unknown) {
    this.#s = Fresh.open<BinaryData>(state) ?? checkBinaryState(state);
  }

  /** @internal */
  static create(options: unknown): BinaryScorer {
    return newBinaryScorer(new Fresh(emptyBinary(readBinaryOptions(options).config)));
  }

  /**
   * Rebuilds a scorer from `state()` (possibly after JSON.stringify / JSON.parse).
   * @throws TypeError / RangeError for a malformed or inconsistent state, naming the field and value
   */
  static fromState(state: BinaryScorerState): BinaryScorer {
    return newBinaryScorer(state);
  }

  /** Rows counted so far. */
  get count(): number {
    return this.#s.count;
  }

  /**
   * Adds rows.
   * @param scores N logits (or probabilities with from 'probs'): a Float32Array or resident buffer
   * @param labels N targets in [0, 1]: 0/1 (Uint8Array, Int32Array, number[]) or soft (Float32Array)
   * @param options sampleWeight: a Float32Array of N finite, non-negative weights
   * @returns this
   * @throws TypeError / RangeError before anything is added: a wrong type or length, a target outside
   *   [0, 1] or NaN, a NaN score, a probability outside [0, 1], a negative or non-finite weight
   */
  update(scores: Float32Array | Resident | TensorLike, labels: BinaryLabels, options?: BinaryUpdateOptions): this {
    const u = readBinaryUpdate(this.#s.config, 1, scores, labels, options);
    if (!Number.isSafeInteger(this.#s.count + u.rows)) throw new RangeError(`scores would make the count pass 2^53 - 1`);
    foldUpdate([this.#s], u);
    return this;
  }

  /** Forgets every row (the options stay). */
  reset(): this {
    this.#s = emptyBinary(this.#s.config);
    return this;
  }

  /** The metrics of every row added (and merged) so far. */
  result(): BinaryScoreResult {
    return binaryResult(this.#s);
  }

  /** A plain, versioned, JSON-serialisable copy of the state (see BinaryScorerState). */
  state(): BinaryScorerState {
    return binaryState(this.#s);
  }

  /**
   * Adds another scorer's rows, or a state's: counts add, float sums add with compensation, kept rows
   * are concatenated. Anything but a genuine BinaryScorer is read and checked as a state.
   * @throws TypeError / RangeError for a malformed or inconsistent state, or one of another
   *   configuration (from, threshold, thresholds, bins, binning, epsilon); nothing is merged then
   */
  merge(other: BinaryScorer | BinaryScorerState): this {
    const b = typeof other === 'object' && other !== null && #s in other ? (other as BinaryScorer).#s : checkBinaryState(other, 'other');
    const a = this.#s;
    checkSameConfig(a.config, b.config);
    if (!Number.isSafeInteger(a.count + b.count)) throw new RangeError(`other.count = ${b.count} would make the count pass 2^53 - 1`);
    mergeBinary(a, b === a ? copyBinary(b) : b);
    return this;
  }
}

/**
 * The binary scorer's metrics for each of L labels, with macro, weighted and micro averages. Create
 * one with `xe.multilabelScorer({ labels: L })`.
 */
export class MultilabelScorer {
  #s: BinaryData[];

  /** @internal See multilabelDataOf. */
  static dataOf(scorer: MultilabelScorer): BinaryData[] {
    return scorer.#s;
  }

  /** @internal Use `xe.multilabelScorer(options)` or `xe.multilabelScorerFromState(state)`. */
  constructor(state: unknown) {
    this.#s = Fresh.open<BinaryData[]>(state) ?? checkMultilabelState(state);
  }

  /** @internal */
  static create(options: unknown): MultilabelScorer {
    const { config, labels } = readMultilabelOptions(options);
    return newMultilabelScorer(new Fresh(Array.from({ length: labels }, () => emptyBinary(config))));
  }

  /** Rebuilds a scorer from `state()`. @throws as BinaryScorer.fromState */
  static fromState(state: MultilabelScorerState): MultilabelScorer {
    return newMultilabelScorer(state);
  }

  /** The number of labels L. */
  get labels(): number {
    return this.#s.length;
  }

  /** Rows counted so far. */
  get count(): number {
    return this.#s[0].count;
  }

  /**
   * Adds rows: scores and labels row-major [N, L], sampleWeight N. Arguments and errors as
   * BinaryScorer.update (scores.length must be a multiple of L).
   */
  update(scores: Float32Array | Resident | TensorLike, labels: BinaryLabels, options?: BinaryUpdateOptions): this {
    const u = readBinaryUpdate(this.#s[0].config, this.#s.length, scores, labels, options);
    if (!Number.isSafeInteger(this.#s[0].count + u.rows * this.#s.length)) throw new RangeError(`scores would make the count pass 2^53 - 1`);
    foldUpdate(this.#s, u);
    return this;
  }

  /** Forgets every row. */
  reset(): this {
    this.#s = this.#s.map((s) => emptyBinary(s.config));
    return this;
  }

  /** Per-label metrics and their averages. */
  result(): MultilabelScoreResult {
    return multilabelResult(this.#s);
  }

  /** A plain, versioned, JSON-serialisable copy of the state. */
  state(): MultilabelScorerState {
    return {
      format: 'xentropy-multilabel-scorer', version: 1, labels: this.#s.length, count: this.#s[0].count,
      perLabel: this.#s.map(binaryState),
    };
  }

  /** Adds another multilabel scorer's rows, or a state's. @throws as BinaryScorer.merge, and for another L */
  merge(other: MultilabelScorer | MultilabelScorerState): this {
    const b = typeof other === 'object' && other !== null && #s in other
      ? (other as MultilabelScorer).#s : checkMultilabelState(other, 'other');
    const a = this.#s;
    if (b.length !== a.length) throw new RangeError(`other.labels = ${b.length} does not match this scorer's labels = ${a.length}`);
    checkSameConfig(a[0].config, b[0].config);
    if (!Number.isSafeInteger(a[0].count + b[0].count)) throw new RangeError(`other.count = ${b[0].count} would make the count pass 2^53 - 1`);
    const from = b === a ? b.map(copyBinary) : b;
    for (let l = 0; l < a.length; l++) mergeBinary(a[l], from[l]);
    return this;
  }
}
