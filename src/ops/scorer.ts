// Model evaluation in one pass: a mergeable scorer whose state is O(bins + k) f64 sums and counts.
//
// The WebAssembly kernel (assembly/score.ts) reduces each row of C scores to five numbers (loss,
// top-label confidence, Brier term, arg-max, rank of the true class); this file folds those into the
// state, O(N) work in JavaScript against the kernel's O(N·C). Floating sums are kept as Neumaier
// (compensated) pairs, so the result hardly depends on how the rows were split into updates and
// shards: merging scorers fed disjoint shards gives the result of one scorer fed everything to within
// a few units in the last place.

import { ownResident, type Driver, type Resident } from '../engine/driver.js';
import { chunkRows, stageInput } from '../engine/staging.js';
import {
  DEFAULT_EPSILON, checkAttached, checkChoice, checkClasses, checkFloat32OrResident, checkInt32, checkOpenInterval,
  checkOptionNames, checkPositiveInt, describe, rowsOf, type IndexTarget, type Unit,
} from './common.js';

/** What a scorer's input rows hold. */
export type ScorerInput = 'logits' | 'probs' | 'logProbs';

/** Options of `xe.scorer`. */
export interface ScorerOptions {
  /** Number of classes C; every update's input is row-major [N, C]. Required. */
  classes: number;
  /** The k of each top-k accuracy: distinct positive integers. Default [1, 5]. */
  topK?: readonly number[];
  /** Equal-width confidence bins over [0, 1] for calibration. Default 15. */
  bins?: number;
  /** Rows with this label are skipped entirely. Default -100. */
  ignoreIndex?: number;
  /** What the input holds: 'logits' (default), 'probs' (softmax outputs) or 'logProbs'. */
  from?: ScorerInput;
  /** from 'probs' only: the loss clips q_y to [epsilon, 1 - epsilon]. Default 1e-7. */
  epsilon?: number;
  /** Unit of `result().loss`: 'nats' (default) or 'bits'. lossNats and lossBits are always given. */
  unit?: Unit;
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
  /** The calibration bins. */
  bins: CalibrationBin[];
  /** Total loss in bits / total bytes, when every update with counted rows gave `bytes`; else null. */
  bitsPerByte: number | null;
}

/** A plain, JSON-serialisable snapshot of a scorer (see `Scorer.state`). */
export interface ScorerState {
  format: 'xentropy-scorer';
  version: 1;
  classes: number;
  bins: number;
  topK: number[];
  ignoreIndex: number;
  from: ScorerInput;
  epsilon: number;
  unit: Unit;
  count: number;
  correct: number;
  /** Hits for each k of topK, in the same order. */
  topKHits: number[];
  /** Compensated sums [sum, compensation] of the per-row loss (nats) and Brier term. */
  loss: [number, number];
  brier: [number, number];
  /** Sum of the `bytes` given, and rows counted in updates that gave none. */
  bytes: number;
  rowsWithoutBytes: number;
  binCount: number[];
  binCorrect: number[];
  /** Compensated sums of the confidences per bin: sums and compensations. */
  binConf: number[];
  binConfComp: number[];
}

/** The checked configuration of a scorer. */
export interface ScorerConfig {
  classes: number;
  bins: number;
  topK: number[];
  ignoreIndex: number;
  from: ScorerInput;
  epsilon: number;
  unit: Unit;
}

const SCORER_OPTIONS = ['classes', 'topK', 'bins', 'ignoreIndex', 'from', 'epsilon', 'unit'] as const;
const MAX_BINS = 1_000_000;

/** Validates scorer options (shared with the reference). */
export function checkScorerOptions(options: unknown): ScorerConfig {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`scorer options must be an object with at least { classes }, got ${describe(options)}`);
  }
  checkOptionNames('scorer options', options, SCORER_OPTIONS);
  const o = options as Record<string, unknown>;
  const classes = checkClasses(o.classes, 'options.classes');
  const bins = checkPositiveInt('options.bins', o.bins, 15);
  if (bins > MAX_BINS) throw new RangeError(`options.bins must be at most ${MAX_BINS}, got ${bins}`);
  const topK = checkTopK('options.topK', o.topK);
  const ignoreIndex = checkInt32('options.ignoreIndex', o.ignoreIndex, -100);
  const from = checkChoice<ScorerInput>('options.from', o.from, ['logits', 'probs', 'logProbs'], 'logits');
  let epsilon = 0;
  if (from === 'probs') epsilon = checkOpenInterval('options.epsilon', o.epsilon, 0, 0.5, DEFAULT_EPSILON);
  else if (o.epsilon !== undefined) throw new RangeError(`options.epsilon applies only to from: 'probs', got from: '${from}'`);
  const unit = checkChoice<Unit>('options.unit', o.unit, ['nats', 'bits'], 'nats');
  return { classes, bins, topK, ignoreIndex, from, epsilon, unit };
}

function checkTopK(name: string, value: unknown): number[] {
  if (value === undefined) return [1, 5];
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of positive integers, got ${describe(value)}`);
  const out: number[] = [];
  value.forEach((k: unknown, i) => {
    if (typeof k !== 'number') throw new TypeError(`${name}[${i}] must be a number, got ${describe(k)}`);
    if (!Number.isInteger(k) || k < 1 || k > 2 ** 31 - 1) {
      throw new RangeError(`${name}[${i}] = ${describe(k)} is not a positive integer`);
    }
    if (out.includes(k)) throw new RangeError(`${name}[${i}] = ${k} repeats an earlier k`);
    out.push(k);
  });
  return out;
}

/** A validated update: the input, its rows, and labels as checked integers. */
export interface ScorerUpdate {
  /** The logits' values; for a resident input, a view valid only until memory grows. */
  input: Float32Array;
  /** The logits' resident handle, when it is one. */
  inputResident: Resident | null;
  rows: number;
  labels: IndexTarget;
  bytes: number | undefined;
}

/** Validates one update (shared with the reference). */
export function checkScorerUpdate(config: ScorerConfig, input: unknown, labels: unknown, bytes: unknown): ScorerUpdate {
  const { array: z, resident: inputResident } = checkFloat32OrResident('logits', input);
  const rows = rowsOf('logits', z, config.classes);
  if (!(labels instanceof Int32Array || labels instanceof Uint8Array || labels instanceof Uint16Array
    || labels instanceof Uint32Array || Array.isArray(labels))) {
    throw new TypeError(
      `labels must be class indices (Int32Array, Uint8Array, Uint16Array, Uint32Array or number[]), got ${describe(labels)}`,
    );
  }
  if (ArrayBuffer.isView(labels)) checkAttached('labels', labels);
  if (labels.length !== rows) throw new RangeError(`labels.length must be the number of rows ${rows}, got ${labels.length}`);
  const { classes, ignoreIndex } = config;
  for (let r = 0; r < rows; r++) {
    const y: unknown = labels[r];
    if (y === ignoreIndex) continue;
    if (typeof y !== 'number') throw new TypeError(`labels[${r}] must be a number, got ${describe(y)}`);
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new RangeError(`labels[${r}] = ${describe(y)} is not a class index in [0, ${classes}) nor ignoreIndex = ${ignoreIndex}`);
    }
  }
  if (config.from === 'probs') {
    for (let i = 0; i < z.length; i++) {
      if (!(z[i] >= 0 && z[i] <= 1)) throw new RangeError(`logits[${i}] = ${describe(z[i])} is not a probability in [0, 1] (from: 'probs')`);
    }
  } else if (config.from === 'logProbs') {
    for (let i = 0; i < z.length; i++) {
      if (!(z[i] <= 0)) throw new RangeError(`logits[${i}] = ${describe(z[i])} is not a log-probability (from: 'logProbs' needs values <= 0)`);
    }
  }
  if (bytes !== undefined) {
    if (typeof bytes !== 'number') throw new TypeError(`bytes must be a number, got ${describe(bytes)}`);
    if (!(bytes >= 0 && bytes < Infinity)) throw new RangeError(`bytes must be a finite number >= 0, got ${describe(bytes)}`);
  }
  return { input: z, inputResident, rows, labels: labels as IndexTarget, bytes };
}

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

/** The empty state of a configuration. */
function emptyState(c: ScorerConfig): ScorerState {
  const zeros = () => new Array<number>(c.bins).fill(0);
  return {
    format: 'xentropy-scorer', version: 1, ...c, topK: [...c.topK],
    count: 0, correct: 0, topKHits: c.topK.map(() => 0), loss: [0, 0], brier: [0, 0], bytes: 0, rowsWithoutBytes: 0,
    binCount: zeros(), binCorrect: zeros(), binConf: zeros(), binConfComp: zeros(),
  };
}

/** Folds one row's statistics into a state (used by the wasm scorer and the reference alike). */
export function foldRow(
  s: ScorerState, loss: number, conf: number, brier: number, correct: boolean, rank: number,
): void {
  s.count++;
  if (correct) s.correct++;
  for (let j = 0; j < s.topK.length; j++) if (rank < s.topK[j]) s.topKHits[j]++;
  addPair(s.loss, loss);
  addPair(s.brier, brier);
  const b = binOf(conf, s.bins);
  s.binCount[b]++;
  if (correct) s.binCorrect[b]++;
  addTo(s.binConf, s.binConfComp, b, conf);
}

/** The metrics of a state. */
export function resultOf(s: ScorerState): ScoreResult {
  const n = s.count;
  const lossNats = (s.loss[0] + s.loss[1]) / n;
  const lossBits = lossNats / Math.LN2;
  const bins: CalibrationBin[] = [];
  let ece = 0;
  let mce = NaN;
  for (let b = 0; b < s.bins; b++) {
    const count = s.binCount[b];
    const confidence = (s.binConf[b] + s.binConfComp[b]) / count;
    const accuracy = s.binCorrect[b] / count;
    bins.push({ lower: b / s.bins, upper: (b + 1) / s.bins, count, confidence, accuracy });
    if (count > 0) {
      const gap = Math.abs(accuracy - confidence);
      ece += (count / n) * gap;
      if (!(mce >= gap)) mce = gap;
    }
  }
  const topK: Record<string, number> = {};
  s.topK.forEach((k, j) => { topK[String(k)] = s.topKHits[j] / n; });
  const totalBits = (s.loss[0] + s.loss[1]) / Math.LN2;
  return {
    count: n, loss: s.unit === 'bits' ? lossBits : lossNats, unit: s.unit, lossNats, lossBits,
    perplexity: Math.exp(lossNats), bitsPerToken: lossBits, accuracy: s.correct / n, topK,
    brier: (s.brier[0] + s.brier[1]) / n, ece: n > 0 ? ece : NaN, mce,
    bins, bitsPerByte: s.bytes > 0 && s.rowsWithoutBytes === 0 ? totalBits / s.bytes : null,
  };
}

/** Creates an empty state for validated options (for the reference). */
export function newScorerState(config: ScorerConfig): ScorerState {
  return emptyState(config);
}

/** Checks a state received from `state()`, a file or another process, and returns a private copy. */
export function checkScorerState(value: unknown, name = 'state'): ScorerState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be a scorer state object, got ${describe(value)}`);
  }
  const v = value as Record<string, unknown>;
  if (v.format !== 'xentropy-scorer') throw new TypeError(`${name}.format must be 'xentropy-scorer', got ${describe(v.format)}`);
  if (v.version !== 1) throw new RangeError(`${name}.version = ${describe(v.version)} is not supported (this version reads 1)`);
  const config = checkScorerOptions({
    classes: v.classes, bins: v.bins, topK: v.topK, ignoreIndex: v.ignoreIndex, from: v.from,
    unit: v.unit, ...(v.from === 'probs' ? { epsilon: v.epsilon } : {}),
  });
  const count = (key: string): number => {
    const x = v[key];
    if (typeof x !== 'number') throw new TypeError(`${name}.${key} must be a number, got ${describe(x)}`);
    if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`${name}.${key} = ${describe(x)} is not a count`);
    return x;
  };
  const numbers = (key: string, length: number, counts: boolean): number[] => {
    const x = v[key];
    if (!Array.isArray(x)) throw new TypeError(`${name}.${key} must be an array, got ${describe(x)}`);
    if (x.length !== length) throw new RangeError(`${name}.${key}.length must be ${length}, got ${x.length}`);
    return x.map((e: unknown, i) => {
      // JSON turns NaN into null; it is read back as NaN.
      if (e === null && !counts) return NaN;
      if (typeof e !== 'number') throw new TypeError(`${name}.${key}[${i}] must be a number, got ${describe(e)}`);
      if (counts && (!Number.isSafeInteger(e) || e < 0)) throw new RangeError(`${name}.${key}[${i}] = ${describe(e)} is not a count`);
      return e;
    });
  };
  const bytes = v.bytes;
  if (typeof bytes !== 'number') throw new TypeError(`${name}.bytes must be a number, got ${describe(bytes)}`);
  if (!(bytes >= 0 && bytes < Infinity)) throw new RangeError(`${name}.bytes must be a finite number >= 0, got ${describe(bytes)}`);
  return {
    format: 'xentropy-scorer', version: 1, ...config,
    count: count('count'), correct: count('correct'), topKHits: numbers('topKHits', config.topK.length, true),
    loss: numbers('loss', 2, false) as [number, number], brier: numbers('brier', 2, false) as [number, number],
    bytes, rowsWithoutBytes: count('rowsWithoutBytes'),
    binCount: numbers('binCount', config.bins, true), binCorrect: numbers('binCorrect', config.bins, true),
    binConf: numbers('binConf', config.bins, false), binConfComp: numbers('binConfComp', config.bins, false),
  };
}

/** Adds state b into a (same classes, bins and topK). */
function mergeInto(a: ScorerState, b: ScorerState): void {
  a.count += b.count;
  a.correct += b.correct;
  for (let j = 0; j < a.topK.length; j++) a.topKHits[j] += b.topKHits[j];
  a.loss[1] += b.loss[1];
  addPair(a.loss, b.loss[0]);
  a.brier[1] += b.brier[1];
  addPair(a.brier, b.brier[0]);
  a.bytes += b.bytes;
  a.rowsWithoutBytes += b.rowsWithoutBytes;
  for (let i = 0; i < a.bins; i++) {
    a.binCount[i] += b.binCount[i];
    a.binCorrect[i] += b.binCorrect[i];
    a.binConfComp[i] += b.binConfComp[i];
    addTo(a.binConf, a.binConfComp, i, b.binConf[i]);
  }
}

const FROM_CODE: Record<ScorerInput, number> = { logits: 0, probs: 1, logProbs: 2 };

/**
 * A one-pass, mergeable evaluation of a classifier: loss, perplexity, accuracy, top-k accuracy, Brier
 * score and calibration errors. Create one with `xe.scorer(options)`; feed it with `update`; read
 * `result()`; combine scorers of disjoint shards with `merge`, across processes through `state()`.
 */
export class Scorer {
  /** @internal */
  private readonly driver: Driver;
  /** @internal */
  private s: ScorerState;

  /** @internal Use `xe.scorer(options)` or `Scorer.fromState(xe, state)`. */
  constructor(driver: Driver, state: ScorerState) {
    this.driver = driver;
    this.s = state;
  }

  /** @internal */
  static create(driver: Driver, options: unknown): Scorer {
    return new Scorer(driver, emptyState(checkScorerOptions(options)));
  }

  /**
   * Rebuilds a scorer from `state()` (possibly after JSON.stringify / JSON.parse) on an instance.
   * @throws TypeError / RangeError for a malformed state, naming the field and value
   */
  static fromState(xe: { scorerFromState(state: ScorerState): Scorer }, state: ScorerState): Scorer {
    return xe.scorerFromState(state);
  }

  /** @internal `xe.scorerFromState`: the checked state, bound to the instance's driver. */
  static restore(driver: Driver, state: unknown): Scorer {
    return new Scorer(driver, checkScorerState(state));
  }

  /** Rows counted so far. */
  get count(): number {
    return this.s.count;
  }

  /**
   * Adds rows. Ignored rows (label == ignoreIndex) are skipped entirely.
   * @param logits row-major [N, classes] Float32Array or resident buffer (probabilities or
   *   log-probabilities with `from`)
   * @param labels N class indices: Int32Array, Uint8Array, Uint16Array, Uint32Array or number[]
   * @param bytes optional number of bytes the rows encode, for `bitsPerByte`
   * @returns this, for chaining
   * @throws TypeError / RangeError before anything is added, naming the argument and the value
   */
  update(logits: Float32Array | Resident, labels: IndexTarget, bytes?: number): this {
    const u = checkScorerUpdate(this.s, logits, labels, bytes);
    const s = this.s;
    const { classes } = s;
    const d = this.driver;
    const per = Math.min(chunkRows(classes), Math.max(1, u.rows));
    const inRes = ownResident(d, 'logits', u.inputResident);
    const [zBuf, yPtr, outPtr, intPtr] = d.reserve(inRes ? 0 : per * classes * 4, per * 4, per * 24, per * 8);
    const from = FROM_CODE[s.from];
    let counted = 0;
    for (let r0 = 0; r0 < u.rows; r0 += per) {
      const n = Math.min(per, u.rows - r0);
      const zPtr = stageInput(d, zBuf, u.input, inRes, r0 * classes, (r0 + n) * classes);
      const y = d.i32(yPtr, n);
      if (Array.isArray(u.labels)) for (let i = 0; i < n; i++) y[i] = u.labels[r0 + i];
      else y.set((u.labels as Int32Array).subarray(r0, r0 + n));
      counted += d.kernels.scoreRows(zPtr, yPtr, n, classes, s.ignoreIndex, from, s.epsilon, outPtr, intPtr);
      const outs = d.f64(outPtr, n * 3), ints = d.i32(intPtr, n * 2);
      for (let i = 0; i < n; i++) {
        const label = y[i];
        if (label === s.ignoreIndex) continue;
        foldRow(s, outs[3 * i], outs[3 * i + 1], outs[3 * i + 2], ints[2 * i] === label, ints[2 * i + 1]);
      }
    }
    if (u.bytes !== undefined) s.bytes += u.bytes;
    else s.rowsWithoutBytes += counted;
    return this;
  }

  /** The metrics of every row added (and merged) so far; see ScoreResult. */
  result(): ScoreResult {
    return resultOf(this.s);
  }

  /** A plain, versioned, JSON-serialisable copy of the state: O(bins + topK.length) numbers. */
  state(): ScorerState {
    return JSON.parse(JSON.stringify(this.s)) as ScorerState;
  }

  /**
   * Adds another scorer's rows (or a state from `state()`), exactly as if they had been given to
   * this one: counts add, float sums add with compensation.
   * @throws TypeError for a malformed state; RangeError when classes, bins or topK differ
   */
  merge(other: Scorer | ScorerState): this {
    const b = other instanceof Scorer ? other.state() : checkScorerState(other, 'other');
    const a = this.s;
    if (b.classes !== a.classes) throw new RangeError(`other.classes = ${b.classes} does not match this scorer's classes = ${a.classes}`);
    if (b.bins !== a.bins) throw new RangeError(`other.bins = ${b.bins} does not match this scorer's bins = ${a.bins}`);
    if (b.topK.join() !== a.topK.join()) {
      throw new RangeError(`other.topK = [${b.topK.join(', ')}] does not match this scorer's topK = [${a.topK.join(', ')}]`);
    }
    mergeInto(a, b);
    return this;
  }
}
