// Model evaluation in one pass: a mergeable scorer whose state is O(classes + bins + k) f64 sums and
// counts (with confusion, classes² more; with perSequence, two numbers per sequence).
//
// The WebAssembly kernel (assembly/score.ts) reduces each row of C scores to five numbers (loss,
// top-label confidence, Brier term, arg-max, rank of the true class) and folds them into the state,
// which this file copies into WebAssembly memory before an update and back after (O(classes + bins + k)).
// Floating sums are kept as Neumaier (compensated) pairs, so the result hardly depends on how the
// rows were split into updates and shards: merging scorers fed disjoint shards gives the result of
// one scorer fed everything to within a few units in the last place. Within an update, rows fold into
// fixed groups (engine/score_groups.ts) whose partial sums merge in order, which is what lets the
// pool's scorer (pool/pool_scorer.ts) fold the groups on several threads and still give these bits.
//
// Language models: with shift, row t of each sequence of T rows is scored against token t + 1 (the last
// row against nothing), and an attention mask drops the rows whose (predicted) token it masks. Both
// only rewrite the private copy of the labels: the rows are read where they lie.
//
// Everything that comes from outside (options, states, labels, masks, logits) is read once, from own
// properties, into private memory that is then both checked and used (ops/common.ts's readers): a
// getter, a Proxy, a typed array subclass, another thread writing a SharedArrayBuffer or a polluted
// Object.prototype cannot make the kernel see a label that was not checked, nor make a state hold
// what no scorer can hold.

import { ownResident, type Driver, type Resident, type ResidentDtype } from '../engine/driver.js';
import { groupRows, mergePartial, stateLength, zeroPartial } from '../engine/score_groups.js';
import { chunkRows, rawBytes, stageFloats, type FloatData, type FloatKind } from '../engine/staging.js';
import {
  DEFAULT_EPSILON, checkChoice, checkClasses, checkClippableProbabilities, checkDtype, checkInt32,
  checkOpenInterval, checkPositiveInt, classesOf, describe, onSharedMemory, ownElements, ownOptions, ownProps, plainView,
  readMask, resolveFloatInput, rowsOf, takeFloatInput, typedArrayKind, unwrapTensor, widenValues, checkDims, maskDimsOf, refuseFloatTensor,
  type FloatValues, type HalfDtype, type IndexTarget, type TensorLike, type Unit,
  decodeStateNumber, encodeStateNumber, type StateNumber, MAX_CONFUSION_CLASSES, QUANTILE_SLOTS,
} from './common.js';

/** What a scorer's input rows hold. */
export type ScorerInput = 'logits' | 'probs' | 'logProbs';

/** Options of `xe.scorer`. */
export interface ScorerOptions {
  /** Number of classes C (at least 2); every update's input is row-major [N, C]. Required. */
  classes: number;
  /** The k of each top-k accuracy: distinct positive integers below classes. Default [1, 5] without the k >= classes. */
  topK?: readonly number[];
  /** Confidence bins over [0, 1] for calibration. Default 15. */
  bins?: number;
  /**
   * 'uniform' (default): bins of equal width. 'quantile': bins of (nearly) equal counts, cut from a
   * histogram of QUANTILE_SLOTS x bins equal-width slots kept in the state, at slot edges.
   */
  binning?: Binning;
  /** Rows with this label are skipped entirely. Default -100. */
  ignoreIndex?: number;
  /** What the input holds: 'logits' (default), 'probs' (softmax outputs) or 'logProbs'. */
  from?: ScorerInput;
  /** from 'probs' only: the loss clips q_y to [epsilon, 1 - epsilon]. Default 1e-7. */
  epsilon?: number;
  /** Unit of `result().loss`: 'nats' (default) or 'bits'. lossNats and lossBits are always given. */
  unit?: Unit;
  /**
   * Causal language models: in each sequence of T rows, row t is scored against token t + 1 and the
   * last row against nothing (Hugging Face's shift). Every update then holds whole sequences. Default false.
   */
  shift?: boolean;
  /** T, the rows of a sequence, for shift and perSequence with flat arrays; a [B, T, V] tensor input gives it. */
  sequenceLength?: number;
  /** Also report each sequence's loss, perplexity and tokens (`result().perSequence`), in update order. Default false. */
  perSequence?: boolean;
  /**
   * Also keep the classes x classes confusion counts (`result().confusion`; true class x arg-max), at
   * most MAX_CONFUSION_CLASSES classes. Default false.
   */
  confusion?: boolean;
}

/** How calibration bins are cut. */
export type Binning = 'uniform' | 'quantile';

/** The options object `scorer.update` takes as its third argument (or just the bytes, as a number). */
export interface ScorerUpdateOptions {
  /** Bytes the rows encode, for `bitsPerByte`. */
  bytes?: number;
  /**
   * [B, T] (or one per row): a row whose entry is 0 (false) is not counted; with shift, the entry of the
   * predicted token decides. Any integer typed array, a bool tensor, or numbers / booleans.
   */
  attentionMask?: unknown;
  /** What a Uint16Array of logits holds: 'float16' or 'bfloat16' bits (tensors and resident buffers say it themselves). */
  dtype?: HalfDtype;
}

/** One calibration bin of `result().bins`. */
export interface CalibrationBin {
  /** The bin covers confidences in [lower, upper) (the last bin includes 1). */
  lower: number;
  upper: number;
  /** Rows whose top-label confidence fell in the bin. */
  count: number;
  /** Mean top-label confidence of those rows (NaN when empty). */
  confidence: number;
  /** Fraction of those rows whose arg-max is the label (NaN when empty). */
  accuracy: number;
}

/** Per-sequence results: one entry per sequence, in the order the sequences were given (and merged). */
export interface PerSequenceResult {
  /** The sequence's mean loss in nats (NaN with no counted token). */
  lossNats: Float64Array;
  /** exp(lossNats). */
  perplexity: Float64Array;
  /** Counted tokens (rows) of the sequence. */
  tokens: Int32Array;
}

/**
 * Per-class figures of `result().perClass`, one entry per class, from the arg-max (first on ties).
 * A ratio whose denominator is 0 is 0, as scikit-learn's `zero_division=0`: precision of a class
 * never predicted, recall of a class absent from the labels, F1 of a class neither.
 */
export interface PerClassResult {
  /** correct_c / predicted_c. */
  precision: Float64Array;
  /** correct_c / support_c. */
  recall: Float64Array;
  /** 2 correct_c / (support_c + predicted_c), the harmonic mean of precision and recall. */
  f1: Float64Array;
  /** Rows whose label is c. */
  support: Float64Array;
}

/** An average of the per-class precision, recall and F1 (`result().macro`, `micro`, `weighted`). */
export interface AveragedResult {
  precision: number;
  recall: number;
  f1: number;
}

/** What `scorer.result()` reports. Means over no rows are NaN. */
export interface ScoreResult {
  /** Rows counted (not ignored). */
  count: number;
  /** Mean loss −log p_y in `unit`. */
  loss: number;
  unit: Unit;
  /** Mean loss in nats. */
  lossNats: number;
  /** Mean loss in bits (lossNats / ln 2); also the bits per token. */
  lossBits: number;
  /** exp(lossNats). */
  perplexity: number;
  /** Equal to lossBits. */
  bitsPerToken: number;
  /** Fraction of rows whose arg-max (first on ties) is the label. */
  accuracy: number;
  /** Top-k accuracy by k: the fraction of rows with fewer than k classes scored strictly above the label. */
  topK: Record<string, number>;
  /** Mean over rows of sum_c (p_c − [c = y])^2. */
  brier: number;
  /** Expected calibration error: sum_b (n_b / N) |acc_b − conf_b|. */
  ece: number;
  /** Maximum calibration error: max over non-empty bins of |acc_b − conf_b|. */
  mce: number;
  /** Root-mean-square (L2) calibration error: sqrt(sum_b (n_b / N) (acc_b − conf_b)^2). */
  rmsce: number;
  /**
   * Per-class precision, recall, F1 and support (see PerClassResult). Absent, as the averages below,
   * for a scorer restored from a version 1 or 2 state, which holds no per-class counts.
   */
  perClass?: PerClassResult;
  /**
   * Unweighted mean over the classes present as a label or an arg-max (scikit-learn's default
   * labels, unique_labels(y_true, y_pred)); NaN with no rows.
   */
  macro?: AveragedResult;
  /** From the counts summed over classes: each of the three is the accuracy. */
  micro?: AveragedResult;
  /** Mean over classes weighted by support (classes absent from the labels weigh 0). */
  weighted?: AveragedResult;
  /** Mean recall over the classes present in the labels (scikit-learn's balanced_accuracy_score). */
  balancedAccuracy?: number;
  /** With the option confusion only: classes x classes counts, row-major, true class x arg-max. */
  confusion?: Float64Array;
  /** The calibration bins. */
  bins: CalibrationBin[];
  /** Total loss in bits / total bytes, when every update with counted rows gave `bytes`; else null. */
  bitsPerByte: number | null;
  /** With the option perSequence only: each sequence's figures (as `xe.perplexity(...).perSequence`). */
  perSequence?: PerSequenceResult;
}

/**
 * A float of a scorer state: a JSON number when finite, else one of the strings `'Infinity'`,
 * `'-Infinity'` and `'NaN'` (JSON has no non-finite numbers, and would turn them all into null).
 */
export type ScorerNumber = StateNumber;

/**
 * A plain, JSON-serialisable snapshot of a scorer (see `Scorer.state`).
 *
 * Every number is a JSON number except in the float sums (`loss`, `brier`, `binConf`, `binConfComp`,
 * `sequences.loss`), where a non-finite value is written as the string `'Infinity'`, `'-Infinity'` or
 * `'NaN'` (see `ScorerNumber`), so that `JSON.parse(JSON.stringify(state))` gives back exactly the
 * same values: a row whose true class had probability 0 keeps its infinite loss through JSON,
 * `fromState` and `merge`. Finite values are written as they are, so they round-trip through JSON bit
 * for bit. Readers (`fromState`, `merge`) take those strings or numbers, infinite or not; `null` (what
 * JSON made of a non-finite value before this encoding) is refused, since it cannot tell Infinity from
 * NaN. (No sum a scorer keeps can be -Infinity, so `'-Infinity'` only completes the encoding: a state
 * holding it is refused as inconsistent.)
 *
 * Version 1 held no shift, sequenceLength and perSequence; version 2 added those three fields, and
 * version 3, which every scorer created by this version writes, the per-class counts (`classSupport`,
 * `classPredicted`, `classCorrect`) and `confusion`. Versions 1 and 2 are still read (per-class
 * results are then null); a reader of an older version refuses a newer one rather than drop what it
 * cannot hold.
 *
 * Every field is required (in its version) and read as an own property; a state that no scorer could
 * have reached (more correct rows or top-k hits than rows, bins that do not add up, sums over no
 * rows...) is refused.
 */
export interface ScorerState {
  format: 'xentropy-scorer';
  version: 1 | 2 | 3;
  classes: number;
  bins: number;
  topK: number[];
  ignoreIndex: number;
  from: ScorerInput;
  /** The clipping epsilon for from 'probs'; 0 otherwise. */
  epsilon: number;
  unit: Unit;
  count: number;
  correct: number;
  /** Hits for each k of topK, in the same order. */
  topKHits: number[];
  /** Compensated sums [sum, compensation] of the per-row loss (nats) and Brier term. */
  loss: [ScorerNumber, ScorerNumber];
  brier: [ScorerNumber, ScorerNumber];
  /** Sum of the `bytes` given, and rows counted in updates that gave none. */
  bytes: number;
  rowsWithoutBytes: number;
  binCount: number[];
  binCorrect: number[];
  /** Compensated sums of the confidences per bin: sums and compensations. */
  binConf: ScorerNumber[];
  binConfComp: ScorerNumber[];
  /** Version 2: the shift option. */
  shift?: boolean;
  /** Version 2: the sequenceLength option, or null when the updates' tensors give it. */
  sequenceLength?: number | null;
  /**
   * Version 2: with perSequence, each sequence's loss sum (nats) and counted tokens, in order; null
   * without.
   */
  sequences?: { loss: ScorerNumber[]; tokens: number[] } | null;
  /**
   * Version 3: the binning option. With 'quantile' the bin arrays hold the fine histogram, bins x
   * QUANTILE_SLOTS equal-width slots; versions 1 and 2 are 'uniform'.
   */
  binning?: Binning;
  /** Version 3: rows whose label is c, for each class c. */
  classSupport?: number[];
  /** Version 3: rows whose arg-max (first on ties) is c. */
  classPredicted?: number[];
  /** Version 3: rows whose label and arg-max are both c. */
  classCorrect?: number[];
  /** Version 3: with the option confusion, classes x classes counts (row-major, true x arg-max); else null. */
  confusion?: number[] | null;
}

/** The fields of version 3 that a scorer holds as typed arrays. */
type ClassFields = 'classSupport' | 'classPredicted' | 'classCorrect' | 'confusion';

/** A state's floats as numbers, recursively (ScorerNumber to number). */
type Numeric<T> = [ScorerNumber] extends [T] ? number : T extends object ? { -readonly [K in keyof T]: Numeric<T[K]> } : T;

/** A scorer's state as it holds it (not part of the API): ScorerState with its floats as numbers and every field present. */
type StateWithoutClasses = Omit<ScorerState, ClassFields>;
export type ScorerData = { [K in keyof StateWithoutClasses]-?: Numeric<StateWithoutClasses[K]> } & {
  /** support, predicted and correct counts, C each, one after the other; null when read from version 1 or 2. */
  classCounts: Float64Array | null;
  /** C x C counts with the option confusion, else null. */
  confusion: Float64Array | null;
};

/** The checked configuration of a scorer. */
export type ScorerConfig = Pick<ScorerData, 'classes' | 'bins' | 'binning' | 'topK' | 'ignoreIndex' | 'from' | 'epsilon' | 'unit' | 'shift' | 'sequenceLength'> & {
  perSequence: boolean;
  confusion: boolean;
};

const SCORER_OPTIONS = [
  'classes', 'topK', 'bins', 'binning', 'ignoreIndex', 'from', 'epsilon', 'unit', 'shift', 'sequenceLength', 'perSequence',
  'confusion',
] as const;
/** The options a version 1 state holds. */
const V1_CONFIG = ['classes', 'topK', 'bins', 'ignoreIndex', 'from', 'epsilon', 'unit'] as const;
const STATE_FIELDS = [
  'format', 'version', 'classes', 'bins', 'topK', 'ignoreIndex', 'from', 'epsilon', 'unit', 'count', 'correct',
  'topKHits', 'loss', 'brier', 'bytes', 'rowsWithoutBytes', 'binCount', 'binCorrect', 'binConf', 'binConfComp',
] as const;
const V2_FIELDS = ['shift', 'sequenceLength', 'sequences'] as const;
const V3_FIELDS = ['binning', 'classSupport', 'classPredicted', 'classCorrect', 'confusion'] as const;
const UPDATE_OPTIONS = ['bytes', 'attentionMask', 'dtype'] as const;
const MAX_BINS = 1_000_000;

// ---------------------------------------------------------------------------------------------------
// Updates

const LABEL_TYPES = 'Int32Array, Uint8Array, Uint16Array, Uint32Array, BigInt64Array, BigUint64Array, number[] or a tensor of them';

/** Integer typed arrays accepted as labels, by kind. */
const LABEL_VIEWS: Record<string, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number | bigint>> = {
  Int32Array, Uint8Array, Uint16Array, Uint32Array, BigInt64Array, BigUint64Array,
};

/** How the rows of one update form sequences. */
interface Sequences {
  shift: boolean;
  /** One byte per row (0: not counted), or null. */
  mask: Uint8Array | null;
  /** T for this update; 0 when nothing gives it (then neither shift nor perSequence is on). */
  length: number;
}

/**
 * The labels of an update, read once each into a private copy that is then checked, and turned into
 * the Int32Array the kernel gets (ignoreIndex where shift, the mask or the label says a row is not
 * counted): nothing the caller does afterwards (a getter, a Proxy trap, another thread writing a
 * SharedArrayBuffer) can change a checked label. A typed array is copied whole first; an array's
 * elements are read once each, and only those that are some row's label.
 */
function readLabels(labels: unknown, rows: number, config: ScorerConfig, seq: Sequences): Int32Array {
  const { classes, ignoreIndex } = config;
  const kind = typedArrayKind(labels);
  let at: (i: number) => unknown;
  if (kind !== undefined) {
    const View = LABEL_VIEWS[kind];
    if (!View) throw new TypeError(`labels must be class indices (${LABEL_TYPES}), got ${describe(labels)}`);
    const view = plainView('labels', labels as ArrayBufferView, View) as unknown as Int32Array;
    if (view.length !== rows) throw new RangeError(`labels.length must be the number of rows ${rows}, got ${view.length}`);
    // One copy, each element read once (the constructor copies a typed array without looking up species).
    const copy = new (View as unknown as new (source: ArrayLike<number>) => Int32Array)(view);
    if (!seq.shift && seq.mask === null && kind !== 'BigInt64Array' && kind !== 'BigUint64Array') {
      // Every row's own label, checked where it lies (uint32 values before they are seen as int32).
      for (let r = 0; r < rows; r++) {
        const y = copy[r];
        if (y !== ignoreIndex && !(y >= 0 && y < classes)) {
          throw new RangeError(`labels[${r}] = ${y} is not a class index in [0, ${classes}) nor ignoreIndex = ${ignoreIndex}`);
        }
      }
      return kind === 'Int32Array' ? copy : kind === 'Uint32Array' ? new Int32Array(copy.buffer) : new Int32Array(copy);
    }
    at = (i) => copy[i];
  } else if (Array.isArray(labels)) {
    const length: unknown = labels.length;
    if (length !== rows) throw new RangeError(`labels.length must be the number of rows ${rows}, got ${describe(length)}`);
    at = (i) => (Object.prototype.hasOwnProperty.call(labels, i) ? labels[i] : undefined);
  } else {
    throw new TypeError(`labels must be class indices (${LABEL_TYPES}), got ${describe(labels)}`);
  }
  const { shift, mask, length: T } = seq;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const i = shift ? r + 1 : r;
    if ((shift && r % T === T - 1) || (mask !== null && mask[i] === 0)) {
      out[r] = ignoreIndex;
      continue;
    }
    const raw = at(i);
    // int64 labels: as a number when they fit int32 (ignoreIndex does), else NaN, refused below.
    const y = typeof raw === 'bigint' ? (raw >= -(2n ** 31n) && raw < 2n ** 31n ? Number(raw) : NaN) : raw;
    if (y !== ignoreIndex) {
      if (typeof y !== 'number') throw new TypeError(`labels[${i}] must be a number, got ${describe(y)}`);
      if (!Number.isInteger(y) || y < 0 || y >= classes) {
        throw new RangeError(`labels[${i}] = ${describe(raw)} is not a class index in [0, ${classes}) nor ignoreIndex = ${ignoreIndex}`);
      }
    }
    out[r] = y as number;
  }
  return out;
}


/**
 * The third argument of update: bytes as a number, or an options object { bytes, attentionMask }
 * (own properties, each read once).
 */
function readUpdateOptions(value: unknown): { bytes: unknown; attentionMask: unknown; dtype: HalfDtype | undefined } {
  if (typeof value === 'object' && value !== null) {
    if (Array.isArray(value) || typedArrayKind(value) !== undefined) {
      throw new TypeError(
        `the third argument of update must be bytes (a number) or an options object { bytes, attentionMask }, got ${describe(value)}`,
      );
    }
    const o = ownOptions('update options', value, UPDATE_OPTIONS);
    return { bytes: o.bytes, attentionMask: o.attentionMask, dtype: checkDtype('update options.dtype', o.dtype) };
  }
  return { bytes: value, attentionMask: undefined, dtype: undefined };
}

/**
 * Resolves T for one update: the scorer's sequenceLength, or the tensors' (logits [..., T, V], labels
 * [..., T]); they must agree. shift and perSequence need it, and whole sequences.
 */
function sequencesOf(
  config: ScorerConfig, rows: number, dims: number[] | null, labelDims: number[] | null, mask: unknown,
): { length: number; readMask: (() => Uint8Array | null) } {
  const fromDims = dims && dims.length >= 3 ? dims[dims.length - 2]
    : labelDims && labelDims.length >= 2 ? labelDims[labelDims.length - 1] : undefined;
  const given = config.sequenceLength;
  if (given !== null && fromDims !== undefined && given !== fromDims) {
    throw new RangeError(`the scorer's sequenceLength = ${given} disagrees with the tensors' sequence dimension ${fromDims}`);
  }
  const T = given ?? fromDims ?? 0;
  if (config.shift || config.perSequence) {
    const what = config.shift ? 'shift' : 'perSequence';
    if (T === 0) throw new RangeError(`the scorer's ${what} needs the sequence length: create it with sequenceLength, or pass [B, T, V] logits as a tensor`);
    if (rows % T !== 0) throw new RangeError(`logits hold ${rows} rows, not whole sequences of ${T} (the scorer's ${what} needs them)`);
  }
  return { length: T, readMask: () => (mask === undefined ? null : readMask('attentionMask', mask, rows, maskDimsOf(dims, labelDims, "the logits'", "the labels'"))) };
}

/** A validated update: the input, its rows, and labels as checked integers. */
export interface ScorerUpdate {
  /**
   * The logits' values: a plain view of the caller's memory (a private copy when a SharedArrayBuffer
   * holds probabilities or log-probabilities, so that the values checked are the values scored); for
   * a resident input, a view valid only until memory grows. Elements of `inputKind`, widened as staged.
   */
  input: FloatData;
  inputKind: FloatKind;
  /** The logits' resident handle, when they are read where they lie. */
  inputResident: Resident<ResidentDtype> | null;
  rows: number;
  /** The labels, checked, in memory only the scorer holds: ignoreIndex on every row not counted. */
  labels: Int32Array;
  bytes: number | undefined;
  /** T: rows per sequence in this update (0 when nothing gives it). */
  sequenceLength: number;
}

/** Validates one update (shared with the reference). */
export function checkScorerUpdate(config: ScorerConfig, input: unknown, labels: unknown, bytesOrOptions: unknown): ScorerUpdate {
  // A tensor's data, dims, type and dataSync are read here, once; what follows reads its data.
  const taken = takeFloatInput('logits', input);
  const dims = taken.dims;
  // A Uint16Array waits for the dtype (the options come next); every other input's type errors come first.
  const halfBits = !taken.resident && typedArrayKind(taken.data) === 'Uint16Array';
  const first = halfBits ? plainView('logits', taken.data as Uint16Array, Uint16Array) : resolveFloatInput('logits', taken, undefined, 'update options.dtype').data;
  if (dims) classesOf("the scorer's classes", config.classes, dims);
  const rows = rowsOf('logits', first, config.classes);
  const { bytes, attentionMask, dtype } = readUpdateOptions(bytesOrOptions);
  if (bytes !== undefined) {
    if (typeof bytes !== 'number') throw new TypeError(`bytes must be a number, got ${describe(bytes)}`);
    if (!(bytes >= 0 && bytes < Infinity)) throw new RangeError(`bytes must be a finite number >= 0, got ${describe(bytes)}`);
  }
  const { data: labelData, dims: labelDims, type: labelType } = unwrapTensor('labels', labels);
  refuseFloatTensor('labels', labelType, false);
  checkDims('labels', labelDims, "the logits'", dims, dims?.slice(0, -1) ?? null);
  const seq = sequencesOf(config, rows, dims, labelDims, attentionMask);
  // The steps that can run the caller's code (accessor elements, Proxy traps)...
  const mask = seq.readMask();
  const y = readLabels(labelData, rows, config, { shift: config.shift, mask, length: seq.length });
  // ...so the logits are read again after them: a getter may have detached, freed or moved them.
  const read = resolveFloatInput('logits', taken, dtype, 'update options.dtype');
  let z = read.data;
  let inputResident = read.resident;
  if (z.length !== rows * config.classes) {
    throw new TypeError(`logits changed length during the call, from ${rows * config.classes} to ${z.length}`);
  }
  if (config.from !== 'logits' && onSharedMemory(z)) {
    // Another thread may write a shared buffer between the check and the kernel: check a copy, score it.
    z = z.slice();
    inputResident = null;
  }
  if (config.from === 'probs') {
    checkClippableProbabilities('logits', widenValues(z, read.kind), " (from: 'probs')");
  } else if (config.from === 'logProbs') {
    const v = widenValues(z, read.kind);
    for (let i = 0; i < v.length; i++) {
      if (!(v[i] <= 0)) throw new RangeError(`logits[${i}] = ${describe(v[i])} is not a log-probability (from: 'logProbs' needs values <= 0)`);
    }
  }
  return {
    input: z, inputKind: read.kind, inputResident, rows, labels: y, bytes: bytes as number | undefined, sequenceLength: seq.length,
  };
}

// ---------------------------------------------------------------------------------------------------
// Options

/**
 * Reads scorer options (shared with the reference): own properties only, each read once; `extra`
 * names further options the caller reads from `extras` (the reference's `bytes` and `attentionMask`).
 */
export function readScorerOptions(
  options: unknown, extra: readonly string[] = [],
): { config: ScorerConfig; extras: Record<string, unknown> } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`scorer options must be an object with at least { classes }, got ${describe(options)}`);
  }
  const o = ownOptions('scorer options', options, [...SCORER_OPTIONS, ...extra]);
  return { config: checkConfig(o, 'options', false), extras: o };
}

/** Validates scorer options (shared with the reference). */
export function checkScorerOptions(options: unknown): ScorerConfig {
  return readScorerOptions(options).config;
}

/**
 * Checks the configuration fields of options (`prefix` 'options', defaults for what is absent) or of
 * a state (`prefix` its name, every field of its version required and epsilon 0 unless from is
 * 'probs'; `version` 1 states hold no shift, sequenceLength nor sequences, and only version 3 ones
 * hold confusion).
 */
function checkConfig(o: Record<string, unknown>, prefix: string, required: boolean, version = 3): ScorerConfig {
  if (required) {
    for (const key of V1_CONFIG) if (o[key] === undefined) throw new TypeError(`${prefix}.${key} is missing`);
  }
  const classes = checkClasses(o.classes, `${prefix}.classes`);
  if (classes === 1) {
    throw new RangeError(
      `${prefix}.classes = 1: a softmax over one class is always 1, so there is nothing to score; `
      + 'score a binary model with binaryCrossEntropy, or xe.binaryScorer',
    );
  }
  const bins = checkPositiveInt(`${prefix}.bins`, o.bins, 15);
  if (bins > MAX_BINS) throw new RangeError(`${prefix}.bins must be at most ${MAX_BINS}, got ${bins}`);
  // Versions 1 and 2 knew only equal widths; a version 3 state's binning was checked present.
  const binning = required && version < 3 ? 'uniform' : checkChoice<Binning>(`${prefix}.binning`, o.binning, ['uniform', 'quantile'], 'uniform');
  if (binning === 'quantile' && bins * QUANTILE_SLOTS > MAX_BINS) {
    throw new RangeError(`${prefix}.bins must be at most ${Math.floor(MAX_BINS / QUANTILE_SLOTS)} with binning 'quantile', got ${bins}`);
  }
  const topK = checkTopK(`${prefix}.topK`, o.topK, classes, required);
  const ignoreIndex = checkInt32(`${prefix}.ignoreIndex`, o.ignoreIndex, -100);
  const from = checkChoice<ScorerInput>(`${prefix}.from`, o.from, ['logits', 'probs', 'logProbs'], 'logits');
  let epsilon = 0;
  if (from === 'probs') epsilon = checkOpenInterval(`${prefix}.epsilon`, o.epsilon, 0, 0.5, DEFAULT_EPSILON);
  else if (required) {
    if (typeof o.epsilon !== 'number') throw new TypeError(`${prefix}.epsilon must be a number, got ${describe(o.epsilon)}`);
    if (o.epsilon !== 0) throw new RangeError(`${prefix}.epsilon = ${describe(o.epsilon)} must be 0 when ${prefix}.from is '${from}'`);
  } else if (o.epsilon !== undefined) throw new RangeError(`options.epsilon applies only to from: 'probs', got from: '${from}'`);
  const unit = checkChoice<Unit>(`${prefix}.unit`, o.unit, ['nats', 'bits'], 'nats');
  let shift = false, sequenceLength: number | null = null, perSequence = false, confusion = false;
  if (!required) {
    shift = checkBoolean(`${prefix}.shift`, o.shift);
    perSequence = checkBoolean(`${prefix}.perSequence`, o.perSequence);
    if (o.sequenceLength !== undefined) sequenceLength = checkPositiveInt(`${prefix}.sequenceLength`, o.sequenceLength, 1);
    confusion = checkBoolean(`${prefix}.confusion`, o.confusion);
  } else if (version >= 2) {
    if (typeof o.shift !== 'boolean') throw new TypeError(`${prefix}.shift must be a boolean, got ${describe(o.shift)}`);
    shift = o.shift;
    if (o.sequenceLength !== null) sequenceLength = checkPositiveInt(`${prefix}.sequenceLength`, o.sequenceLength, 1);
    perSequence = o.sequences !== null;
    confusion = version === 3 && o.confusion !== null;
  }
  if (confusion && classes > MAX_CONFUSION_CLASSES) {
    throw new RangeError(
      `${prefix}.confusion keeps classes² counts, for at most ${MAX_CONFUSION_CLASSES} classes, got classes = ${classes}; `
      + 'without it, result().perClass still gives every class its precision, recall, F1 and support',
    );
  }
  return { classes, bins, binning, topK, ignoreIndex, from, epsilon, unit, shift, sequenceLength, perSequence, confusion };
}

function checkBoolean(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
  return value;
}

/**
 * topK of options (the default [1, 5] keeps only the k below classes; a k >= classes given is refused,
 * since every row would be a hit) or of a state (as written: older scorers kept such k).
 */
function checkTopK(name: string, value: unknown, classes: number, state: boolean): number[] {
  if (value === undefined) return [1, 5].filter((k) => k < classes);
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of positive integers, got ${describe(value)}`);
  const out: number[] = [];
  const seen = new Set<number>();
  ownElements(name, value).forEach((k, i) => {
    if (typeof k !== 'number') throw new TypeError(`${name}[${i}] must be a number, got ${describe(k)}`);
    if (!Number.isInteger(k) || k < 1 || k > 2 ** 31 - 1) {
      throw new RangeError(`${name}[${i}] = ${describe(k)} is not a positive integer`);
    }
    if (seen.has(k)) throw new RangeError(`${name}[${i}] = ${k} repeats an earlier k`);
    if (!state && k >= classes) {
      throw new RangeError(`${name}[${i}] = ${k} is not below classes = ${classes}: every row would be a top-${k} hit`);
    }
    seen.add(k);
    out.push(k);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Folding rows into a state

/** Neumaier's compensated addition into pair[i] (sum) and comp[i] (compensation). */
function addTo(sum: number[], comp: number[], i: number, x: number): void {
  const s = sum[i];
  const t = s + x;
  // An infinite sum has no rounding error to recover (and inf - inf would make the compensation NaN).
  if (Number.isFinite(t)) comp[i] += Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s;
  sum[i] = t;
}

/** Compensated addition into a [sum, compensation] pair. */
function addPair(pair: [number, number], x: number): void {
  const s = pair[0];
  const t = s + x;
  if (Number.isFinite(t)) pair[1] += Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s;
  pair[0] = t;
}

/** Equal-width bin of a confidence in [0, 1]; NaN goes to bin 0, where it makes the ECE NaN. */
export function binOf(conf: number, bins: number): number {
  return conf > 0 ? Math.min(bins - 1, Math.floor(conf * bins)) : 0;
}

/** Entries of a state's bin arrays: its bins, or with quantile binning the slots of its fine histogram. */
export function slotsOf(c: Pick<ScorerConfig, 'bins' | 'binning'>): number {
  return c.binning === 'quantile' ? c.bins * QUANTILE_SLOTS : c.bins;
}

/** The empty state of a configuration. */
function emptyState(c: ScorerConfig): ScorerData {
  const zeros = () => new Array<number>(slotsOf(c)).fill(0);
  const { perSequence, confusion, ...config } = c;
  return {
    format: 'xentropy-scorer', version: 3, ...config, topK: [...c.topK],
    count: 0, correct: 0, topKHits: c.topK.map(() => 0), loss: [0, 0], brier: [0, 0], bytes: 0, rowsWithoutBytes: 0,
    binCount: zeros(), binCorrect: zeros(), binConf: zeros(), binConfComp: zeros(),
    sequences: perSequence ? { loss: [], tokens: [] } : null,
    classCounts: new Float64Array(3 * c.classes), confusion: confusion ? new Float64Array(c.classes * c.classes) : null,
  };
}

/** @internal Lays out a state's counts and sums for the kernel (scoreRows in assembly/score.ts). */
export function writeState(s: ScorerData, m: Float64Array): void {
  const K = s.topK.length, B = slotsOf(s);
  m[0] = s.count;
  m[1] = s.correct;
  m[2] = s.loss[0];
  m[3] = s.loss[1];
  m[4] = s.brier[0];
  m[5] = s.brier[1];
  for (let j = 0; j < K; j++) {
    m[6 + j] = s.topK[j];
    m[6 + K + j] = s.topKHits[j];
  }
  const o = 6 + 2 * K;
  for (let b = 0; b < B; b++) {
    m[o + b] = s.binCount[b];
    m[o + B + b] = s.binCorrect[b];
    m[o + 2 * B + b] = s.binConf[b];
    m[o + 3 * B + b] = s.binConfComp[b];
  }
}

/** @internal Reads back what the kernel folded into the layout of writeState. */
export function readState(s: ScorerData, m: Float64Array): void {
  const K = s.topK.length, B = slotsOf(s);
  s.count = m[0];
  s.correct = m[1];
  s.loss[0] = m[2];
  s.loss[1] = m[3];
  s.brier[0] = m[4];
  s.brier[1] = m[5];
  for (let j = 0; j < K; j++) s.topKHits[j] = m[6 + K + j];
  const o = 6 + 2 * K;
  for (let b = 0; b < B; b++) {
    s.binCount[b] = m[o + b];
    s.binCorrect[b] = m[o + B + b];
    s.binConf[b] = m[o + 2 * B + b];
    s.binConfComp[b] = m[o + 3 * B + b];
  }
}

/**
 * @internal
 * Per-sequence results from each sequence's loss sum and tokens (a sequence with none: NaN), as
 * `xe.perplexity` reports them.
 */
export function perSequenceOf(loss: readonly number[], tokens: readonly number[]): PerSequenceResult {
  const B = loss.length;
  const out = { lossNats: new Float64Array(B), perplexity: new Float64Array(B), tokens: new Int32Array(B) };
  for (let b = 0; b < B; b++) {
    out.lossNats[b] = loss[b] / tokens[b];
    out.perplexity[b] = Math.exp(loss[b] / tokens[b]);
    out.tokens[b] = tokens[b];
  }
  return out;
}

/** @internal The metrics of a state. */
export function resultOf(s: ScorerData): ScoreResult {
  const n = s.count;
  const lossNats = (s.loss[0] + s.loss[1]) / n;
  const lossBits = lossNats / Math.LN2;
  const bins: CalibrationBin[] = [];
  let ece = 0, squares = 0;
  let mce = NaN;
  const edges = binEdges(s.binCount, s.bins, s.binning);
  const slots = s.binCount.length;
  for (let b = 0; b < s.bins; b++) {
    let count = 0, right = 0, conf = 0, comp = 0;
    for (let i = edges[b]; i < edges[b + 1]; i++) {
      count += s.binCount[i];
      right += s.binCorrect[i];
      conf += s.binConf[i];
      comp += s.binConfComp[i];
    }
    const confidence = (conf + comp) / count;
    const accuracy = right / count;
    bins.push({ lower: edges[b] / slots, upper: edges[b + 1] / slots, count, confidence, accuracy });
    if (count > 0) {
      const gap = Math.abs(accuracy - confidence);
      ece += (count / n) * gap;
      squares += (count / n) * gap * gap;
      if (!(mce >= gap)) mce = gap;
    }
  }
  const topK: Record<string, number> = {};
  s.topK.forEach((k, j) => { topK[String(k)] = s.topKHits[j] / n; });
  const totalBits = (s.loss[0] + s.loss[1]) / Math.LN2;
  const result: ScoreResult = {
    count: n, loss: s.unit === 'bits' ? lossBits : lossNats, unit: s.unit, lossNats, lossBits,
    perplexity: Math.exp(lossNats), bitsPerToken: lossBits, accuracy: s.correct / n, topK,
    brier: (s.brier[0] + s.brier[1]) / n, ece: n > 0 ? ece : NaN, mce,
    // torchmetrics' L2 calibration error (_ce_compute, norm='l2'): sqrt(sum_b prop_b (acc_b - conf_b)^2).
    rmsce: n > 0 ? Math.sqrt(squares) : NaN,
    ...classMetricsOf(s.classCounts, s.classes, n),
    bins, bitsPerByte: s.bytes > 0 && s.rowsWithoutBytes === 0 ? totalBits / s.bytes : null,
  };
  if (s.confusion) result.confusion = s.confusion.slice();
  if (s.sequences) result.perSequence = perSequenceOf(s.sequences.loss, s.sequences.tokens);
  return result;
}

/**
 * @internal
 * The slot index where each of the bins begins, and the end: bin b covers slots [edges[b], edges[b + 1]).
 * Uniform: one slot per bin. Quantile: bin b ends at the first slot edge where at least (b + 1) N / bins
 * rows lie below (so a slot holding many rows may leave the bins after it empty, of width 0); with no
 * rows, equal widths.
 */
export function binEdges(counts: readonly number[], bins: number, binning: Binning): number[] {
  const slots = counts.length, per = slots / bins;
  const edges = [0];
  let n = 0;
  for (const c of counts) n += c;
  if (binning === 'uniform' || n === 0) {
    for (let b = 1; b <= bins; b++) edges.push(b * per);
    return edges;
  }
  let below = 0, slot = 0;
  for (let b = 1; b < bins; b++) {
    // below >= b n / bins without a division (exact while b n stays below 2^53).
    while (slot < slots && below * bins < b * n) below += counts[slot++];
    edges.push(slot);
  }
  edges.push(slots);
  return edges;
}

/** A ratio of counts, 0 when the denominator is (scikit-learn's zero_division=0). */
function ratio(num: number, den: number): number {
  return den > 0 ? num / den : 0;
}

/**
 * @internal
 * Per-class figures and their averages from the counts [support C, predicted C, correct C] of n rows
 * (none without counts), with scikit-learn's conventions: zero_division=0, macro over the classes
 * present as a label or a prediction, weighted by support, balanced accuracy over the labels' classes.
 */
export function classMetricsOf(
  counts: Float64Array | null, C: number, n: number,
): Pick<ScoreResult, 'perClass' | 'macro' | 'micro' | 'weighted' | 'balancedAccuracy'> {
  if (counts === null) return {};
  const support = counts.slice(0, C), predicted = counts.subarray(C, 2 * C), correct = counts.subarray(2 * C, 3 * C);
  const precision = new Float64Array(C), recall = new Float64Array(C), f1 = new Float64Array(C);
  const macro = { precision: 0, recall: 0, f1: 0 }, weighted = { precision: 0, recall: 0, f1: 0 };
  let present = 0, labelled = 0, recalls = 0, right = 0;
  for (let c = 0; c < C; c++) {
    precision[c] = ratio(correct[c], predicted[c]);
    recall[c] = ratio(correct[c], support[c]);
    f1[c] = ratio(2 * correct[c], support[c] + predicted[c]);
    right += correct[c];
    if (support[c] > 0 || predicted[c] > 0) {
      present++;
      macro.precision += precision[c];
      macro.recall += recall[c];
      macro.f1 += f1[c];
    }
    if (support[c] > 0) {
      labelled++;
      recalls += recall[c];
      weighted.precision += support[c] * precision[c];
      weighted.recall += support[c] * recall[c];
      weighted.f1 += support[c] * f1[c];
    }
  }
  // With no rows every average is NaN, as the result's other means.
  for (const key of ['precision', 'recall', 'f1'] as const) {
    macro[key] /= present;
    weighted[key] /= n;
  }
  const accuracy = right / n;
  return {
    perClass: { precision, recall, f1, support },
    macro, micro: { precision: accuracy, recall: accuracy, f1: accuracy }, weighted,
    balancedAccuracy: recalls / labelled,
  };
}

/** @internal Creates an empty state for validated options. */
export function newScorerState(config: ScorerConfig): ScorerData {
  return emptyState(config);
}

// ---------------------------------------------------------------------------------------------------
// States

const encode = encodeStateNumber;
const decode = decodeStateNumber;

function countOf(name: string, x: unknown): number {
  if (typeof x !== 'number') throw new TypeError(`${name} must be a number, got ${describe(x)}`);
  if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`${name} = ${describe(x)} is not a count`);
  return x === 0 ? 0 : x;
}

function countsOf(name: string, value: unknown, length: number): number[] {
  const out = ownElements(name, value, length);
  // The name of an element is only written for a refusal: per-class arrays hold a count per class.
  for (let i = 0; i < out.length; i++) {
    const x = out[i];
    if (!(typeof x === 'number' && x > 0 && Number.isSafeInteger(x))) out[i] = countOf(`${name}[${i}]`, x);
  }
  return out as number[];
}

function floatsOf(name: string, value: unknown, length: number): number[] {
  return ownElements(name, value, length).map((x, i) => decode(`${name}[${i}]`, x));
}

/** Sum of counts: exact, since once a partial sum passes 2^53 it stays above any count. */
function sumOf(counts: number[]): number {
  let sum = 0;
  for (const c of counts) sum += c;
  return sum;
}

/**
 * @internal
 * Checks a state received from `state()`, a file or another process, and returns a private copy.
 * Own properties only, each read once; TypeError for a wrong type or a missing field, RangeError for
 * a value no scorer could have reached; both name the field and the value.
 */
export function checkScorerState(value: unknown, name = 'state'): ScorerData {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be a scorer state object, got ${describe(value)}`);
  }
  const v = ownProps(value, STATE_FIELDS);
  if (v.format !== 'xentropy-scorer') throw new TypeError(`${name}.format must be 'xentropy-scorer', got ${describe(v.format)}`);
  if (typeof v.version !== 'number') throw new TypeError(`${name}.version must be a number, got ${describe(v.version)}`);
  if (v.version !== 1 && v.version !== 2 && v.version !== 3) {
    throw new RangeError(`${name}.version = ${describe(v.version)} is not supported (this version reads 1, 2 and 3)`);
  }
  const version = v.version;
  // A later version's fields are read only from a state of that version (each once, as the others).
  const fields: readonly string[] = [...STATE_FIELDS, ...(version >= 2 ? V2_FIELDS : []), ...(version === 3 ? V3_FIELDS : [])];
  if (version >= 2) Object.assign(v, ownProps(value, fields.slice(STATE_FIELDS.length)));
  for (const key of fields) {
    if (v[key] === undefined) throw new TypeError(`${name}.${key} is missing`);
  }
  const config = checkConfig(v, name, true, version);
  let sequences: ScorerData['sequences'] = null;
  if (version >= 2 && v.sequences !== null) {
    if (typeof v.sequences !== 'object' || Array.isArray(v.sequences)) {
      throw new TypeError(`${name}.sequences must be null or an object { loss, tokens }, got ${describe(v.sequences)}`);
    }
    const q = ownProps(v.sequences, ['loss', 'tokens']);
    if (!Array.isArray(q.loss)) throw new TypeError(`${name}.sequences.loss must be an array, got ${describe(q.loss)}`);
    const loss = floatsOf(`${name}.sequences.loss`, q.loss, q.loss.length);
    sequences = { loss, tokens: countsOf(`${name}.sequences.tokens`, q.tokens, loss.length) };
  }
  const count = countOf(`${name}.count`, v.count);
  const correct = countOf(`${name}.correct`, v.correct);
  const topKHits = countsOf(`${name}.topKHits`, v.topKHits, config.topK.length);
  const loss = floatsOf(`${name}.loss`, v.loss, 2) as [number, number];
  const brier = floatsOf(`${name}.brier`, v.brier, 2) as [number, number];
  const bytes = v.bytes;
  if (typeof bytes !== 'number') throw new TypeError(`${name}.bytes must be a number, got ${describe(bytes)}`);
  if (!(bytes >= 0 && bytes < Infinity)) throw new RangeError(`${name}.bytes must be a finite number >= 0, got ${describe(bytes)}`);
  const rowsWithoutBytes = countOf(`${name}.rowsWithoutBytes`, v.rowsWithoutBytes);
  const slots = slotsOf(config);
  const binCount = countsOf(`${name}.binCount`, v.binCount, slots);
  const binCorrect = countsOf(`${name}.binCorrect`, v.binCorrect, slots);
  const binConf = floatsOf(`${name}.binConf`, v.binConf, slots);
  const binConfComp = floatsOf(`${name}.binConfComp`, v.binConfComp, slots);
  const C = config.classes;
  let classCounts: Float64Array | null = null, confusion: Float64Array | null = null;
  if (version === 3) {
    classCounts = new Float64Array(3 * C);
    const parts = [v.classSupport, v.classPredicted, v.classCorrect];
    ['classSupport', 'classPredicted', 'classCorrect'].forEach((key, j) => {
      const part = countsOf(`${name}.${key}`, parts[j], C);
      for (let c = 0; c < C; c++) classCounts![j * C + c] = part[c];
    });
    if (config.confusion) confusion = new Float64Array(countsOf(`${name}.confusion`, v.confusion, C * C));
  }
  const { perSequence: _, confusion: __, ...stateConfig } = config;
  const s: ScorerData = {
    format: 'xentropy-scorer', version, ...stateConfig, count, correct, topKHits, loss, brier,
    bytes: bytes === 0 ? 0 : bytes, rowsWithoutBytes, binCount, binCorrect, binConf, binConfComp, sequences, classCounts, confusion,
  };
  checkConsistent(s, name);
  return s;
}

/**
 * RangeError unless the state is one a scorer can reach. Per row the kernel gives a loss >= 0, +inf or
 * NaN (never -inf), a Brier term >= 0 or NaN, a confidence in [0, 1] or NaN (NaN goes to bin 0), and
 * a rank below the classes that is 0 when the arg-max is the label; compensations stay finite.
 */
function checkConsistent(s: ScorerData, name: string): void {
  const fail = (message: string): never => {
    throw new RangeError(`${name}.${message}`);
  };
  const { count, correct } = s;
  if (correct > count) fail(`correct = ${correct} exceeds ${name}.count = ${count}`);
  if (s.rowsWithoutBytes > count) fail(`rowsWithoutBytes = ${s.rowsWithoutBytes} exceeds ${name}.count = ${count}`);
  s.topKHits.forEach((hits, j) => {
    const k = s.topK[j];
    if (hits > count) fail(`topKHits[${j}] = ${hits} exceeds ${name}.count = ${count}`);
    if (hits < correct) fail(`topKHits[${j}] = ${hits} is less than ${name}.correct = ${correct} (a row whose arg-max is its label is a hit for every k)`);
    if (k >= s.classes && hits !== count) {
      fail(`topKHits[${j}] = ${hits} (k = ${k}) must equal ${name}.count = ${count}: with ${s.classes} classes every row is a top-${k} hit`);
    }
  });
  const byK = s.topK.map((k, j) => [k, j] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < byK.length; i++) {
    const [k0, j0] = byK[i - 1], [k1, j1] = byK[i];
    if (s.topKHits[j1] < s.topKHits[j0]) {
      fail(`topKHits[${j1}] = ${s.topKHits[j1]} (k = ${k1}) is less than ${name}.topKHits[${j0}] = ${s.topKHits[j0]} (k = ${k0}): a hit for k is a hit for every larger k`);
    }
  }
  const binned = sumOf(s.binCount);
  if (binned !== count) fail(`binCount sums to ${Number.isSafeInteger(binned) ? binned : 'more than 2^53 - 1'}, not ${name}.count = ${count}`);
  for (let b = 0; b < s.binCount.length; b++) {
    if (s.binCorrect[b] > s.binCount[b]) fail(`binCorrect[${b}] = ${s.binCorrect[b]} exceeds ${name}.binCount[${b}] = ${s.binCount[b]}`);
  }
  // Each binCorrect is at most its binCount, so this sum stays below 2^53.
  const right = sumOf(s.binCorrect);
  if (right !== correct) fail(`binCorrect sums to ${right}, not ${name}.correct = ${correct}`);
  for (const key of ['loss', 'brier'] as const) {
    const [sum, comp] = s[key];
    if (count === 0) {
      if (sum !== 0) fail(`${key}[0] = ${describe(sum)} must be 0 when ${name}.count = 0`);
      if (comp !== 0) fail(`${key}[1] = ${describe(comp)} must be 0 when ${name}.count = 0`);
    }
    if (sum < 0) fail(`${key}[0] = ${describe(sum)} is negative: a sum of ${key === 'loss' ? 'losses' : 'Brier terms'} is >= 0 or NaN`);
    if (key === 'brier' && sum === Infinity) fail(`brier[0] = Infinity is not a sum of Brier terms, which are finite`);
    if (!Number.isFinite(comp)) fail(`${key}[1] = ${describe(comp)} is not finite, as every compensation is`);
  }
  for (let b = 0; b < s.binCount.length; b++) {
    const conf = s.binConf[b], comp = s.binConfComp[b];
    if (s.binCount[b] === 0) {
      if (conf !== 0) fail(`binConf[${b}] = ${describe(conf)} must be 0 when ${name}.binCount[${b}] = 0`);
      if (comp !== 0) fail(`binConfComp[${b}] = ${describe(comp)} must be 0 when ${name}.binCount[${b}] = 0`);
    }
    if (conf !== conf && b > 0) fail(`binConf[${b}] = NaN is not possible: only bin 0 holds NaN confidences`);
    if (conf < 0 || conf === Infinity) fail(`binConf[${b}] = ${describe(conf)} is not a sum of confidences in [0, 1]`);
    if (!Number.isFinite(comp)) fail(`binConfComp[${b}] = ${describe(comp)} is not finite, as every compensation is`);
  }
  if (s.sequences) {
    const { loss, tokens } = s.sequences;
    // Every counted row belongs to one sequence, which holds at most T (T - 1 with shift) counted rows.
    const most = s.sequenceLength === null ? Infinity : s.sequenceLength - (s.shift ? 1 : 0);
    for (let b = 0; b < loss.length; b++) {
      if (tokens[b] > most) fail(`sequences.tokens[${b}] = ${tokens[b]} exceeds the ${most} rows a sequence of ${name}.sequenceLength = ${s.sequenceLength} can count`);
      if (tokens[b] > 2 ** 31 - 1) fail(`sequences.tokens[${b}] = ${tokens[b]} is more than 2^31 - 1`);
      if (tokens[b] === 0 && loss[b] !== 0) fail(`sequences.loss[${b}] = ${describe(loss[b])} must be 0 when ${name}.sequences.tokens[${b}] = 0`);
      if (loss[b] < 0) fail(`sequences.loss[${b}] = ${describe(loss[b])} is negative: a sum of losses is >= 0 or NaN`);
    }
    const counted = sumOf(tokens);
    if (counted !== count) fail(`sequences.tokens sums to ${Number.isSafeInteger(counted) ? counted : 'more than 2^53 - 1'}, not ${name}.count = ${count}`);
  }
  if (s.classCounts) checkClassCounts(s.classCounts, s.confusion, s.classes, name, count, correct, fail);
}

/** sumOf's message for a sum that may pass 2^53 - 1. */
function shown(sum: number): string {
  return Number.isSafeInteger(sum) ? String(sum) : 'more than 2^53 - 1';
}

/**
 * The per-class counts of a state: every row has one label and one arg-max, so support and predicted
 * each sum to count; a class is right at most as often as it is a label or a prediction, and the
 * rights sum to correct. The confusion's rows sum to the support, its columns to the predictions and
 * its diagonal is classCorrect.
 */
function checkClassCounts(
  counts: Float64Array, confusion: Float64Array | null, C: number, name: string, count: number, correct: number,
  fail: (message: string) => never,
): void {
  // Exact, as sumOf: once a partial sum passes 2^53 it stays above any count.
  const sum = (from: number) => {
    let total = 0;
    for (let c = from; c < from + C; c++) total += counts[c];
    return total;
  };
  const support = sum(0), predicted = sum(C);
  if (support !== count) fail(`classSupport sums to ${shown(support)}, not ${name}.count = ${count}`);
  if (predicted !== count) fail(`classPredicted sums to ${shown(predicted)}, not ${name}.count = ${count}`);
  for (let c = 0; c < C; c++) {
    const right = counts[2 * C + c];
    if (right > counts[c]) fail(`classCorrect[${c}] = ${right} exceeds ${name}.classSupport[${c}] = ${counts[c]}`);
    if (right > counts[C + c]) fail(`classCorrect[${c}] = ${right} exceeds ${name}.classPredicted[${c}] = ${counts[C + c]}`);
  }
  // Each classCorrect is at most its classSupport, so this sum stays below 2^53.
  const rights = sum(2 * C);
  if (rights !== correct) fail(`classCorrect sums to ${rights}, not ${name}.correct = ${correct}`);
  if (!confusion) return;
  for (let c = 0; c < C; c++) {
    let row = 0, column = 0;
    for (let d = 0; d < C; d++) {
      row += confusion[c * C + d];
      column += confusion[d * C + c];
    }
    if (row !== counts[c]) fail(`confusion's row ${c} sums to ${shown(row)}, not ${name}.classSupport[${c}] = ${counts[c]}`);
    if (column !== counts[C + c]) fail(`confusion's column ${c} sums to ${shown(column)}, not ${name}.classPredicted[${c}] = ${counts[C + c]}`);
    if (confusion[c * C + c] !== counts[2 * C + c]) {
      fail(`confusion[${c * C + c}] = ${confusion[c * C + c]} (class ${c}, predicted ${c}) is not ${name}.classCorrect[${c}] = ${counts[2 * C + c]}`);
    }
  }
}

/** Adds state b into a (same classes, bins and topK). */
function mergeInto(a: ScorerData, b: ScorerData): void {
  a.count += b.count;
  a.correct += b.correct;
  for (let j = 0; j < a.topK.length; j++) a.topKHits[j] += b.topKHits[j];
  a.loss[1] += b.loss[1];
  addPair(a.loss, b.loss[0]);
  a.brier[1] += b.brier[1];
  addPair(a.brier, b.brier[0]);
  a.bytes += b.bytes;
  a.rowsWithoutBytes += b.rowsWithoutBytes;
  for (let i = 0; i < a.binCount.length; i++) {
    a.binCount[i] += b.binCount[i];
    a.binCorrect[i] += b.binCorrect[i];
    a.binConfComp[i] += b.binConfComp[i];
    addTo(a.binConf, a.binConfComp, i, b.binConf[i]);
  }
  if (a.classCounts && b.classCounts) for (let i = 0; i < a.classCounts.length; i++) a.classCounts[i] += b.classCounts[i];
  if (a.confusion && b.confusion) for (let i = 0; i < a.confusion.length; i++) a.confusion[i] += b.confusion[i];
  // Shard order: this scorer's sequences, then the other's.
  if (a.sequences && b.sequences) {
    for (let j = 0; j < b.sequences.loss.length; j++) {
      a.sequences.loss.push(b.sequences.loss[j]);
      a.sequences.tokens.push(b.sequences.tokens[j]);
    }
  }
}

/** A deep copy of a state. */
function copyOf(s: ScorerData): ScorerData {
  return {
    ...s, topK: s.topK.slice(), topKHits: s.topKHits.slice(), loss: [s.loss[0], s.loss[1]], brier: [s.brier[0], s.brier[1]],
    binCount: s.binCount.slice(), binCorrect: s.binCorrect.slice(), binConf: s.binConf.slice(), binConfComp: s.binConfComp.slice(),
    sequences: s.sequences && { loss: s.sequences.loss.slice(), tokens: s.sequences.tokens.slice() },
    classCounts: s.classCounts && s.classCounts.slice(), confusion: s.confusion && s.confusion.slice(),
  };
}

/** @internal scoreRows' code for what the input holds. */
export const FROM_CODE: Record<ScorerInput, number> = { logits: 0, probs: 1, logProbs: 2 };

/**
 * @internal
 * Checks one update of state s (scorer.update's checks, the resident's owner among them, with `hint`
 * in its message): nothing is changed yet.
 */
export function checkUpdateOf(
  driver: Driver, s: ScorerData, logits: unknown, labels: unknown, bytesOrOptions: unknown, hint = '',
): ScorerUpdate {
  const u = checkScorerUpdate({ ...s, perSequence: s.sequences !== null, confusion: s.confusion !== null }, logits, labels, bytesOrOptions);
  u.inputResident = ownResident(driver, 'logits', u.inputResident, hint);
  if (u.bytes !== undefined && !(s.bytes + u.bytes < Infinity)) {
    throw new RangeError(`bytes = ${u.bytes} would make the total bytes ${s.bytes + u.bytes}, not a finite number`);
  }
  return u;
}

/** @internal What an update adds besides the folded rows: its bytes, or its counted rows without. */
export function addBytes(s: ScorerData, u: ScorerUpdate, counted: number): void {
  if (u.bytes !== undefined) s.bytes += u.bytes;
  else s.rowsWithoutBytes += counted;
}

/**
 * @internal
 * Folds a checked update into s on this thread: fold groups (engine/score_groups.ts) of staging
 * chunks, each chunk staged into scratch memory and scored into its group's partial, each partial
 * merged into the state as its group ends (one group: scored into the state itself).
 */
export function foldUpdate(d: Driver, s: ScorerData, u: ScorerUpdate): void {
  const { classes } = s;
  const inRes = u.inputResident;
  const T = u.sequenceLength;
  const seqLoss = s.sequences ? new Float64Array(u.rows / T) : null;
  const seqTokens = s.sequences ? new Int32Array(u.rows / T) : null;
  const per = Math.min(chunkRows(classes), Math.max(1, u.rows)), group = groupRows(classes);
  const K = s.topK.length, slots = slotsOf(s), length = stateLength(K, slots);
  const kind = u.inputKind, direct = inRes !== null && kind === 'f32';
  const countsLength = s.classCounts ? s.classCounts.length : 0, cellsLength = s.confusion ? s.confusion.length : 0;
  const [zBuf, yPtr, statePtr, partialPtr, lossPtr, raw, countsPtr, cellsPtr] = d.reserve(
    direct ? 0 : per * classes * 4, per * 4, length * 8, length * 8, seqLoss ? per * 8 : 0,
    rawBytes(kind, inRes !== null, per * classes), countsLength * 8, cellsLength * 8,
  );
  const input = inRes ? inRes.array : u.input;
  // The kernel folds rows into the partial where it lies in WebAssembly memory (assembly/score.ts).
  writeState(s, d.f64(statePtr, length));
  if (s.classCounts) d.f64(countsPtr, countsLength).set(s.classCounts);
  if (s.confusion) d.f64(cellsPtr, cellsLength).set(s.confusion);
  const from = FROM_CODE[s.from];
  // One group: the rows fold straight into the state (engine/score_groups.ts).
  const oneGroup = u.rows <= group, target = oneGroup ? statePtr : partialPtr;
  let counted = 0;
  for (let g0 = 0; g0 < u.rows; g0 += group) {
    const g1 = Math.min(u.rows, g0 + group);
    if (!oneGroup) zeroPartial(d.f64(partialPtr, length), s.topK);
    for (let r0 = g0; r0 < g1; r0 += per) {
      const n = Math.min(per, g1 - r0);
      const zPtr = stageFloats(d, zBuf, raw, input, kind, inRes, r0 * classes, (r0 + n) * classes);
      const y = d.i32(yPtr, n);
      y.set(u.labels.subarray(r0, r0 + n));
      counted += d.kernels.scoreRows(
        zPtr, yPtr, n, classes, s.ignoreIndex, from, s.epsilon, target, K, slots, seqLoss ? lossPtr : 0,
        s.classCounts ? countsPtr : 0, s.confusion ? cellsPtr : 0,
      );
      if (seqLoss) {
        const losses = d.f64(lossPtr, n);
        for (let i = 0; i < n; i++) {
          if (y[i] === s.ignoreIndex) continue;
          // Row order within each sequence, in float64: as xe.perplexity sums its tokens.
          const b = Math.floor((r0 + i) / T);
          seqLoss[b] += losses[i];
          seqTokens![b]++;
        }
      }
    }
    if (!oneGroup) mergePartial(d.f64(statePtr, length), d.f64(partialPtr, length), K, slots);
  }
  readState(s, d.f64(statePtr, length));
  if (s.classCounts) s.classCounts.set(d.f64(countsPtr, countsLength));
  if (s.confusion) s.confusion.set(d.f64(cellsPtr, cellsLength));
  if (seqLoss) addSequences(s, seqLoss, seqTokens!);
  addBytes(s, u, counted);
}

/** @internal Appends an update's per-sequence loss sums and tokens to s. */
export function addSequences(s: ScorerData, seqLoss: Float64Array, seqTokens: Int32Array): void {
  for (let b = 0; b < seqLoss.length; b++) {
    s.sequences!.loss.push(seqLoss[b]);
    s.sequences!.tokens.push(seqTokens[b]);
  }
}

/** @internal Empties s, keeping its options (a scorer restored from a version 1 or 2 state gains per-class counts). */
export function resetData(s: ScorerData): void {
  Object.assign(s, emptyState({
    classes: s.classes, bins: s.bins, binning: s.binning, topK: s.topK, ignoreIndex: s.ignoreIndex, from: s.from,
    epsilon: s.epsilon, unit: s.unit, shift: s.shift, sequenceLength: s.sequenceLength, perSequence: s.sequences !== null,
    confusion: s.confusion !== null,
  }));
}

/**
 * @internal The state a Scorer holds (for the pool's scorer, which folds its rows elsewhere). A static
 * method rather than a `static {}` block, which would keep the class wherever this module is bundled.
 */
export function dataOf(scorer: Scorer): ScorerData {
  return Scorer.dataOf(scorer);
}
/** What lets Scorer.create skip checking the state it has just built. */
const FRESH = Symbol('fresh scorer');

/** A Scorer, built here rather than by name in its own body (see newBinaryScorer in binary_scorer.ts). */
function newScorer(driver: Driver, state: unknown, token?: symbol): Scorer {
  return new Scorer(driver, state, token);
}

/**
 * A one-pass, mergeable evaluation of a classifier: loss, perplexity, accuracy, top-k accuracy, Brier
 * score and calibration errors. Create one with `xe.scorer(options)`; feed it with `update`; read
 * `result()`; combine scorers of disjoint shards with `merge`, across processes through `state()`.
 */
export class Scorer {
  readonly #driver: Driver;
  #s: ScorerData;

  /** @internal See dataOf. */
  static dataOf(scorer: Scorer): ScorerData {
    return scorer.#s;
  }

  /**
   * @internal Use `xe.scorer(options)` or `Scorer.fromState(xe, state)`.
   * @throws TypeError / RangeError for a state `fromState` would refuse
   */
  constructor(driver: Driver, state: unknown, token?: symbol) {
    this.#driver = driver;
    // Only create() holds the token: its empty state is built here, from checked options.
    this.#s = token === FRESH ? state as ScorerData : checkScorerState(state);
  }

  /** @internal */
  static create(driver: Driver, options: unknown): Scorer {
    return newScorer(driver, emptyState(checkScorerOptions(options)), FRESH);
  }

  /**
   * Rebuilds a scorer from `state()` (possibly after JSON.stringify / JSON.parse) on an instance.
   * @throws TypeError / RangeError for a malformed or inconsistent state, naming the field and value
   */
  static fromState(xe: { scorerFromState(state: ScorerState): Scorer }, state: ScorerState): Scorer {
    return xe.scorerFromState(state);
  }

  /** @internal `xe.scorerFromState`: the checked state, bound to the instance's driver. */
  static restore(driver: Driver, state: unknown): Scorer {
    return newScorer(driver, state);
  }

  /** Rows counted so far. */
  get count(): number {
    return this.#s.count;
  }

  /**
   * Adds rows. Ignored rows (label == ignoreIndex, masked, or each sequence's last with shift) are
   * skipped entirely. Every label is read once, into memory of the scorer's, before anything is checked.
   * @param logits row-major [N, classes] Float32Array, resident buffer or tensor ([B, T, classes]
   *   gives T) of logits (probabilities or log-probabilities with `from`)
   * @param labels N class indices (token ids): Int32Array, Uint8Array, Uint16Array, Uint32Array,
   *   BigInt64Array, BigUint64Array, number[] or a tensor of them
   * @param bytesOrOptions the number of bytes the rows encode (for `bitsPerByte`), or
   *   `{ bytes?, attentionMask? }`
   * @returns this, for chaining
   * @throws TypeError / RangeError before anything is added, naming the argument and the value;
   *   TypeError for a Proxy of a typed array, or a typed array on a resizable ArrayBuffer (pass
   *   `.slice()`)
   */
  update(
    logits: FloatValues | TensorLike, labels: IndexTarget | TensorLike, bytesOrOptions?: number | ScorerUpdateOptions,
  ): this {
    foldUpdate(this.#driver, this.#s, checkUpdateOf(this.#driver, this.#s, logits, labels, bytesOrOptions));
    return this;
  }

  /** The metrics of every row added (and merged) so far; see ScoreResult. */
  result(): ScoreResult {
    return resultOf(this.#s);
  }

  /**
   * A plain, versioned, JSON-serialisable copy of the state: O(classes + bins + topK.length) numbers, with
   * non-finite sums written as the strings 'Infinity', '-Infinity' or 'NaN' (see ScorerState), so
   * that JSON.parse(JSON.stringify(state)) gives `fromState` and `merge` exactly these values.
   */
  state(): ScorerState {
    const s = this.#s;
    const state: ScorerState = {
      format: 'xentropy-scorer', version: 1, classes: s.classes, bins: s.bins, topK: s.topK.slice(),
      ignoreIndex: s.ignoreIndex, from: s.from, epsilon: s.epsilon, unit: s.unit,
      count: s.count, correct: s.correct, topKHits: s.topKHits.slice(),
      loss: [encode(s.loss[0]), encode(s.loss[1])], brier: [encode(s.brier[0]), encode(s.brier[1])],
      bytes: s.bytes, rowsWithoutBytes: s.rowsWithoutBytes, binCount: s.binCount.slice(), binCorrect: s.binCorrect.slice(),
      binConf: s.binConf.map(encode), binConfComp: s.binConfComp.map(encode),
    };
    // A scorer restored from a version 1 or 2 state has no per-class counts, and writes its version back.
    if (s.classCounts || s.shift || s.sequenceLength !== null || s.sequences !== null) {
      state.version = 2;
      state.shift = s.shift;
      state.sequenceLength = s.sequenceLength;
      state.sequences = s.sequences && { loss: s.sequences.loss.map(encode), tokens: s.sequences.tokens.slice() };
    }
    if (s.classCounts) {
      const C = s.classes;
      state.version = 3;
      state.binning = s.binning;
      state.classSupport = Array.from(s.classCounts.subarray(0, C));
      state.classPredicted = Array.from(s.classCounts.subarray(C, 2 * C));
      state.classCorrect = Array.from(s.classCounts.subarray(2 * C));
      state.confusion = s.confusion && Array.from(s.confusion);
    }
    return state;
  }

  /**
   * Empties the scorer, keeping its options: afterwards it reads as a new `xe.scorer(options)`, and a
   * scorer restored from a version 1 or 2 state gains the per-class counts such a state lacks.
   */
  reset(): this {
    resetData(this.#s);
    return this;
  }

  /**
   * Adds another scorer's rows (or a state from `state()`), exactly as if they had been given to
   * this one: counts add, float sums add with compensation. Only a genuine Scorer is merged as one;
   * anything else (a Proxy of a scorer included) is read and checked as a state.
   * @throws TypeError for a malformed state; RangeError for an inconsistent one, when classes, bins
   *   or topK differ, or when the merged count would pass 2^53 - 1; nothing is merged then
   */
  merge(other: Scorer | ScorerState): this {
    const b = typeof other === 'object' && other !== null && #s in other
      ? (other as Scorer).#s : checkScorerState(other, 'other');
    const a = this.#s;
    if (b.classes !== a.classes) throw new RangeError(`other.classes = ${b.classes} does not match this scorer's classes = ${a.classes}`);
    if (b.bins !== a.bins) throw new RangeError(`other.bins = ${b.bins} does not match this scorer's bins = ${a.bins}`);
    if (b.binning !== a.binning) throw new RangeError(`other.binning = '${b.binning}' does not match this scorer's binning = '${a.binning}'`);
    if (b.topK.join() !== a.topK.join()) {
      throw new RangeError(`other.topK = [${b.topK.join(', ')}] does not match this scorer's topK = [${a.topK.join(', ')}]`);
    }
    if ((a.sequences === null) !== (b.sequences === null)) {
      throw new RangeError(
        `other ${b.sequences ? 'has' : 'has no'} per-sequence results and this scorer ${a.sequences ? 'has' : 'has none'}: `
        + 'merge only scorers created with the same perSequence option',
      );
    }
    // Per-class counts (which a version 1 or 2 state lacks) or confusion counts on one side only: the
    // merge is exact when the side without them is empty (it counts zeros), or, for the per-class
    // counts alone, when the side with them is (the merged scorer then has none).
    let dropCounts = false;
    if ((a.classCounts === null) !== (b.classCounts === null)) {
      const [without, withCounts, what] = a.classCounts === null ? [a, b, 'this scorer'] : [b, a, 'other'];
      if (without.count > 0) {
        if (withCounts.count > 0 || withCounts.confusion !== null) {
          throw new RangeError(
            `${what} holds no per-class counts (it comes from a version 1 or 2 state) and has ${without.count} rows, `
            + 'so merged per-class counts could not be exact: merge states written by this version, or an empty one',
          );
        }
        dropCounts = true;
      }
    }
    if ((a.confusion === null) !== (b.confusion === null) && (a.confusion === null ? a : b).count > 0) {
      throw new RangeError(
        `other ${b.confusion ? 'has' : 'has no'} confusion counts and this scorer ${a.confusion ? 'has' : 'has none'}: `
        + 'merge only scorers created with the same confusion option (or an empty one)',
      );
    }
    if (!Number.isSafeInteger(a.count + b.count)) {
      throw new RangeError(`other.count = ${b.count} would make the count ${a.count + b.count}, more than 2^53 - 1`);
    }
    if (!(a.bytes + b.bytes < Infinity)) {
      throw new RangeError(`other.bytes = ${b.bytes} would make the total bytes ${a.bytes + b.bytes}, not a finite number`);
    }
    const from = b === a ? copyOf(b) : b;
    if (dropCounts) a.classCounts = null;
    else {
      // An empty side without them counts zeros.
      if (a.classCounts === null && b.classCounts !== null) a.classCounts = new Float64Array(3 * a.classes);
      if (a.confusion === null && b.confusion !== null) a.confusion = new Float64Array(a.classes * a.classes);
    }
    mergeInto(a, from);
    return this;
  }
}
