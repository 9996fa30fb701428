// Model evaluation in one pass: a mergeable scorer whose state is O(bins + k) f64 sums and counts.
//
// The WebAssembly kernel (assembly/score.ts) reduces each row of C scores to five numbers (loss,
// top-label confidence, Brier term, arg-max, rank of the true class); this file folds those into the
// state, O(N) work in JavaScript against the kernel's O(N·C). Floating sums are kept as Neumaier
// (compensated) pairs, so the result hardly depends on how the rows were split into updates and
// shards: merging scorers fed disjoint shards gives the result of one scorer fed everything to within
// a few units in the last place.
//
// Everything that comes from outside (options, states, labels, logits) is read once, from own
// properties, into private memory that is then both checked and used: a getter, a Proxy, a typed array
// subclass, another thread writing a SharedArrayBuffer or a polluted Object.prototype cannot make the
// kernel see a label that was not checked, nor make a state hold what no scorer can hold.

import { ownResident, Resident, type Driver } from '../engine/driver.js';
import { chunkRows, stageInput } from '../engine/staging.js';
import {
  DEFAULT_EPSILON, checkChoice, checkClasses, checkInt32, checkOpenInterval, checkPositiveInt, describe, isResident,
  rowsOf, type IndexTarget, type Unit,
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

/**
 * A float of a scorer state: a JSON number when finite, else one of the strings `'Infinity'`,
 * `'-Infinity'` and `'NaN'` (JSON has no non-finite numbers, and would turn them all into null).
 */
export type ScorerNumber = number | 'Infinity' | '-Infinity' | 'NaN';

/**
 * A plain, JSON-serialisable snapshot of a scorer (see `Scorer.state`).
 *
 * Every number is a JSON number except in the float sums (`loss`, `brier`, `binConf`, `binConfComp`),
 * where a non-finite value is written as the string `'Infinity'`, `'-Infinity'` or `'NaN'` (see
 * `ScorerNumber`), so that `JSON.parse(JSON.stringify(state))` gives back exactly the same values: a
 * row whose true class had probability 0 keeps its infinite loss through JSON, `fromState` and `merge`.
 * Finite values are written as they are, so they round-trip through JSON bit for bit. Readers
 * (`fromState`, `merge`) take those strings or numbers, infinite or not; `null` (what JSON made of a
 * non-finite value before this encoding) is refused, since it cannot tell Infinity from NaN. (No sum a
 * scorer keeps can be -Infinity, so `'-Infinity'` only completes the encoding: a state holding it is
 * refused as inconsistent.)
 *
 * Every field is required and read as an own property; a state that no scorer could have reached
 * (more correct rows or top-k hits than rows, bins that do not add up, sums over no rows...) is refused.
 */
export interface ScorerState {
  format: 'xentropy-scorer';
  version: 1;
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

/** @internal A scorer's state as it holds it: ScorerState with its floats as numbers. */
export interface ScorerData extends ScorerConfig {
  format: 'xentropy-scorer';
  version: 1;
  count: number;
  correct: number;
  topKHits: number[];
  loss: [number, number];
  brier: [number, number];
  bytes: number;
  rowsWithoutBytes: number;
  binCount: number[];
  binCorrect: number[];
  binConf: number[];
  binConfComp: number[];
}

const SCORER_OPTIONS = ['classes', 'topK', 'bins', 'ignoreIndex', 'from', 'epsilon', 'unit'] as const;
const STATE_FIELDS = [
  'format', 'version', 'classes', 'bins', 'topK', 'ignoreIndex', 'from', 'epsilon', 'unit', 'count', 'correct',
  'topKHits', 'loss', 'brier', 'bytes', 'rowsWithoutBytes', 'binCount', 'binCorrect', 'binConf', 'binConfComp',
] as const;
const MAX_BINS = 1_000_000;

// ---------------------------------------------------------------------------------------------------
// Reading foreign objects: own properties, each read once. The intrinsics are taken when the module
// loads, so that nothing a caller later puts on a prototype is called.

const objectHasOwn = Object.prototype.hasOwnProperty;
const { apply, getOwnPropertyDescriptor, ownKeys } = Reflect;

function hasOwn(o: object, key: PropertyKey): boolean {
  return apply(objectHasOwn, o, [key]) as boolean;
}

/** The value of an own property descriptor: its value, or what its getter returns (called once). */
function descriptorValue(o: object, d: PropertyDescriptor): unknown {
  if (hasOwn(d, 'get')) return d.get === undefined ? undefined : apply(d.get, o, []);
  return hasOwn(d, 'value') ? d.value : undefined;
}

/**
 * The own properties `known` of `o` in a null-prototype record, each read once (a getter is called
 * once, a Proxy asked once per key); inherited properties count as absent. With `refuse`, an own
 * enumerable string key outside `known` is a TypeError naming `what`.
 */
function readOwn(what: string, o: object, known: readonly string[], refuse: boolean): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of refuse ? ownKeys(o) : known) {
    if (typeof key !== 'string') continue;
    const d = getOwnPropertyDescriptor(o, key);
    if (d === undefined) continue;
    if (known.includes(key)) out[key] = descriptorValue(o, d);
    else if (d.enumerable) throw new TypeError(`${what} has no option ${JSON.stringify(key)}; known options: ${known.join(', ')}`);
  }
  return out;
}

/**
 * The elements of an array, each read once and only if it is an own element (a hole reads as
 * undefined, whatever a prototype holds); the length is read once. TypeError unless it is an array.
 */
function elementsOf(name: string, value: unknown, expected?: number): unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array, got ${describe(value)}`);
  const length: unknown = value.length;
  if (expected !== undefined && length !== expected) {
    throw new RangeError(`${name}.length must be ${expected}, got ${describe(length)}`);
  }
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new TypeError(`${name}.length must be an array length, got ${describe(length)}`);
  }
  const out: unknown[] = [];
  for (let i = 0; i < length; i++) out.push(hasOwn(value, i) ? value[i] : undefined);
  return out;
}

type Getter = (this: unknown) => unknown;
function getter(proto: object, key: PropertyKey): Getter | undefined {
  const d = getOwnPropertyDescriptor(proto, key);
  return d !== undefined && hasOwn(d, 'get') ? (d.get as Getter | undefined) : undefined;
}
const TYPED_ARRAY = Object.getPrototypeOf(Int32Array.prototype) as object;
// Always present (ES2015); the others are missing where the feature is (resizable buffers: ES2024).
const typedArrayTag = getter(TYPED_ARRAY, Symbol.toStringTag)!;
const typedArrayBuffer = getter(TYPED_ARRAY, 'buffer')!;
const typedArrayByteOffset = getter(TYPED_ARRAY, 'byteOffset')!;
const typedArrayLength = getter(TYPED_ARRAY, 'length')!;
const bufferByteLength = getter(ArrayBuffer.prototype, 'byteLength')!;
const bufferResizable = getter(ArrayBuffer.prototype, 'resizable');
const bufferDetached = getter(ArrayBuffer.prototype, 'detached');
const sharedGrowable = typeof SharedArrayBuffer === 'function' ? getter(SharedArrayBuffer.prototype, 'growable') : undefined;
const residentFreed = getter(Resident.prototype, 'freed')!;
const residentArray = getter(Resident.prototype, 'array')!;

/** A genuine typed array, seen through the intrinsics (what a subclass overrides is never called). */
interface View {
  tag: string;
  buffer: ArrayBufferLike;
  byteOffset: number;
  length: number;
  /** On a SharedArrayBuffer, which another thread may be writing. */
  shared: boolean;
}

function isDetached(buffer: ArrayBufferLike): boolean {
  if (bufferDetached !== undefined) return bufferDetached.call(buffer) === true;
  try {
    new Uint8Array(buffer as ArrayBuffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * `value` seen as a typed array, or null when it is none (a Proxy of one is none: its traps could
 * answer differently each time). TypeError for one on a resizable ArrayBuffer or growable
 * SharedArrayBuffer, whose length a getter or another thread could change during the call, and for
 * a detached one.
 */
function viewOf(name: string, value: unknown): View | null {
  const tag = typedArrayTag.call(value) as string | undefined;
  if (tag === undefined) return null;
  const buffer = typedArrayBuffer.call(value) as ArrayBufferLike;
  let shared = false;
  try {
    bufferByteLength.call(buffer);
  } catch {
    shared = true;
  }
  const resizable = shared
    ? sharedGrowable !== undefined && sharedGrowable.call(buffer) === true
    : bufferResizable !== undefined && bufferResizable.call(buffer) === true;
  if (resizable) {
    const kind = shared ? 'growable SharedArrayBuffer' : 'resizable ArrayBuffer';
    throw new TypeError(
      `${name} is ${/^[AEIOU]/.test(tag) ? 'an' : 'a'} ${tag} on a ${kind}, whose length could change during the call; `
      + `pass a copy (${name}.slice()) or a view of a fixed-length buffer`,
    );
  }
  const length = typedArrayLength.call(value) as number;
  if (length === 0 && !shared && isDetached(buffer)) {
    throw new TypeError(`${name} is ${/^[AEIOU]/.test(tag) ? 'an' : 'a'} ${tag} whose buffer is detached`);
  }
  return { tag, buffer, byteOffset: typedArrayByteOffset.call(value) as number, length, shared };
}

/** For a message: what a value that failed a typed array check looks like. */
function lookalike(value: unknown, ctor: abstract new (...args: never[]) => unknown): string {
  let fake = false;
  try {
    fake = typeof value === 'object' && value !== null && value instanceof ctor;
  } catch {
    fake = true;
  }
  return fake ? `${describe(value)} that is not one (a Proxy, or an object with its prototype)` : describe(value);
}

/**
 * The logits of an update: a genuine Float32Array (as a plain view of its memory) or a resident
 * buffer of any instance (the caller checks the owner). Runs no code of the caller's.
 */
function readLogits(name: string, value: unknown): { array: Float32Array; resident: Resident | null; shared: boolean } {
  if (isResident(value)) {
    if (residentFreed.call(value)) throw new TypeError(`${name} is a resident buffer that was freed`);
    const array = residentArray.call(value) as Float32Array;
    return { array, resident: value, shared: viewOf(name, array)!.shared };
  }
  const view = viewOf(name, value);
  if (view === null || view.tag !== 'Float32Array') {
    throw new TypeError(`${name} must be a Float32Array, got ${view === null ? lookalike(value, Float32Array) : describe(value)}`);
  }
  return { array: new Float32Array(view.buffer, view.byteOffset, view.length), resident: null, shared: view.shared };
}

const LABEL_TYPES = 'Int32Array, Uint8Array, Uint16Array, Uint32Array or number[]';

function labelError(r: number, y: unknown, config: ScorerConfig): RangeError {
  return new RangeError(
    `labels[${r}] = ${describe(y)} is not a class index in [0, ${config.classes}) nor ignoreIndex = ${config.ignoreIndex}`,
  );
}

/**
 * The labels of an update, read once each into a private Int32Array that is then checked and is what
 * the kernel gets: nothing the caller does afterwards (a getter, a Proxy trap, another thread writing
 * a SharedArrayBuffer) can change a checked label.
 */
function readLabels(labels: unknown, rows: number, config: ScorerConfig): Int32Array {
  const { classes, ignoreIndex } = config;
  const view = viewOf('labels', labels);
  if (view !== null) {
    let Plain: typeof Int32Array | typeof Uint8Array | typeof Uint16Array | typeof Uint32Array;
    switch (view.tag) {
      case 'Int32Array': Plain = Int32Array; break;
      case 'Uint8Array': Plain = Uint8Array; break;
      case 'Uint16Array': Plain = Uint16Array; break;
      case 'Uint32Array': Plain = Uint32Array; break;
      default: throw new TypeError(`labels must be class indices (${LABEL_TYPES}), got ${describe(labels)}`);
    }
    if (view.length !== rows) throw new RangeError(`labels.length must be the number of rows ${rows}, got ${view.length}`);
    // One copy, each element read once; uint32 values are checked before they are seen as int32.
    const source = new Plain(view.buffer as ArrayBuffer, view.byteOffset, view.length);
    const copy = view.tag === 'Uint32Array' ? new Uint32Array(source) : new Int32Array(source);
    for (let r = 0; r < rows; r++) {
      const y = copy[r];
      if (y !== ignoreIndex && !(y >= 0 && y < classes)) throw labelError(r, y, config);
    }
    return copy instanceof Int32Array ? copy : new Int32Array(copy.buffer);
  }
  if (!Array.isArray(labels)) {
    throw new TypeError(`labels must be class indices (${LABEL_TYPES}), got ${lookalike(labels, Int32Array)}`);
  }
  const length: unknown = labels.length;
  if (length !== rows) throw new RangeError(`labels.length must be the number of rows ${rows}, got ${describe(length)}`);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const y: unknown = hasOwn(labels, r) ? labels[r] : undefined;
    if (y !== ignoreIndex) {
      if (typeof y !== 'number') throw new TypeError(`labels[${r}] must be a number, got ${describe(y)}`);
      if (!Number.isInteger(y) || y < 0 || y >= classes) throw labelError(r, y, config);
    }
    out[r] = y as number;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Options

/**
 * Reads scorer options (shared with the reference): own properties only, each read once; `extra`
 * names further options the caller reads from `extras` (the reference's `bytes`).
 */
export function readScorerOptions(
  options: unknown, extra: readonly string[] = [],
): { config: ScorerConfig; extras: Record<string, unknown> } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`scorer options must be an object with at least { classes }, got ${describe(options)}`);
  }
  const o = readOwn('scorer options', options, [...SCORER_OPTIONS, ...extra], true);
  return { config: checkConfig(o, 'options', false), extras: o };
}

/** Validates scorer options (shared with the reference). */
export function checkScorerOptions(options: unknown): ScorerConfig {
  return readScorerOptions(options).config;
}

/**
 * Checks the configuration fields of options (`prefix` 'options', defaults for what is absent) or of
 * a state (`prefix` its name, every field required and epsilon 0 unless from is 'probs').
 */
function checkConfig(o: Record<string, unknown>, prefix: string, required: boolean): ScorerConfig {
  if (required) {
    for (const key of SCORER_OPTIONS) if (o[key] === undefined) throw new TypeError(`${prefix}.${key} is missing`);
  }
  const classes = checkClasses(o.classes, `${prefix}.classes`);
  const bins = checkPositiveInt(`${prefix}.bins`, o.bins, 15);
  if (bins > MAX_BINS) throw new RangeError(`${prefix}.bins must be at most ${MAX_BINS}, got ${bins}`);
  const topK = checkTopK(`${prefix}.topK`, o.topK);
  const ignoreIndex = checkInt32(`${prefix}.ignoreIndex`, o.ignoreIndex, -100);
  const from = checkChoice<ScorerInput>(`${prefix}.from`, o.from, ['logits', 'probs', 'logProbs'], 'logits');
  let epsilon = 0;
  if (from === 'probs') epsilon = checkOpenInterval(`${prefix}.epsilon`, o.epsilon, 0, 0.5, DEFAULT_EPSILON);
  else if (required) {
    if (typeof o.epsilon !== 'number') throw new TypeError(`${prefix}.epsilon must be a number, got ${describe(o.epsilon)}`);
    if (o.epsilon !== 0) throw new RangeError(`${prefix}.epsilon = ${describe(o.epsilon)} must be 0 when ${prefix}.from is '${from}'`);
  } else if (o.epsilon !== undefined) throw new RangeError(`options.epsilon applies only to from: 'probs', got from: '${from}'`);
  const unit = checkChoice<Unit>(`${prefix}.unit`, o.unit, ['nats', 'bits'], 'nats');
  return { classes, bins, topK, ignoreIndex, from, epsilon, unit };
}

function checkTopK(name: string, value: unknown): number[] {
  if (value === undefined) return [1, 5];
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of positive integers, got ${describe(value)}`);
  const out: number[] = [];
  const seen = new Set<number>();
  elementsOf(name, value).forEach((k, i) => {
    if (typeof k !== 'number') throw new TypeError(`${name}[${i}] must be a number, got ${describe(k)}`);
    if (!Number.isInteger(k) || k < 1 || k > 2 ** 31 - 1) {
      throw new RangeError(`${name}[${i}] = ${describe(k)} is not a positive integer`);
    }
    if (seen.has(k)) throw new RangeError(`${name}[${i}] = ${k} repeats an earlier k`);
    seen.add(k);
    out.push(k);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Updates

/** A validated update: the input, its rows, and labels as checked integers. */
export interface ScorerUpdate {
  /**
   * The logits' values: a plain view of the caller's memory (a private copy when a SharedArrayBuffer
   * holds probabilities or log-probabilities, so that the values checked are the values scored); for
   * a resident input, a view valid only until memory grows.
   */
  input: Float32Array;
  /** The logits' resident handle, when they are read where they lie. */
  inputResident: Resident | null;
  rows: number;
  /** The labels, checked, in memory only the scorer holds. */
  labels: Int32Array;
  bytes: number | undefined;
}

/** Validates one update (shared with the reference). */
export function checkScorerUpdate(config: ScorerConfig, input: unknown, labels: unknown, bytes: unknown): ScorerUpdate {
  const rows = rowsOf('logits', readLogits('logits', input).array, config.classes);
  // The only step that can run the caller's code (an accessor element, a Proxy trap)...
  const y = readLabels(labels, rows, config);
  // ...so the logits are read again after it: a getter may have detached, freed or moved them.
  const read = readLogits('logits', input);
  let z = read.array;
  let inputResident = read.resident;
  if (z.length !== rows * config.classes) {
    throw new TypeError(`logits changed length during the call, from ${rows * config.classes} to ${z.length}`);
  }
  if (config.from !== 'logits' && read.shared) {
    // Another thread may write a shared buffer between the check and the kernel: check a copy, score it.
    z = new Float32Array(z);
    inputResident = null;
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
  return { input: z, inputResident, rows, labels: y, bytes };
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
function emptyState(c: ScorerConfig): ScorerData {
  const zeros = () => new Array<number>(c.bins).fill(0);
  return {
    format: 'xentropy-scorer', version: 1, ...c, topK: [...c.topK],
    count: 0, correct: 0, topKHits: c.topK.map(() => 0), loss: [0, 0], brier: [0, 0], bytes: 0, rowsWithoutBytes: 0,
    binCount: zeros(), binCorrect: zeros(), binConf: zeros(), binConfComp: zeros(),
  };
}

/** @internal Folds one row's statistics into a state. */
export function foldRow(
  s: ScorerData, loss: number, conf: number, brier: number, correct: boolean, rank: number,
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

/** @internal The metrics of a state. */
export function resultOf(s: ScorerData): ScoreResult {
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

/** @internal Creates an empty state for validated options. */
export function newScorerState(config: ScorerConfig): ScorerData {
  return emptyState(config);
}

// ---------------------------------------------------------------------------------------------------
// States

/** A float of a state written for JSON: non-finite values as strings (see ScorerNumber). */
function encode(x: number): ScorerNumber {
  if (Number.isFinite(x)) return x;
  return x > 0 ? 'Infinity' : x < 0 ? '-Infinity' : 'NaN';
}

/** A float of a state read back: a number (-0 read as 0, which no sum from 0 can reach) or a ScorerNumber string. */
function decode(name: string, x: unknown): number {
  if (typeof x === 'number') return x === 0 ? 0 : x;
  if (x === 'Infinity') return Infinity;
  if (x === '-Infinity') return -Infinity;
  if (x === 'NaN') return NaN;
  if (x === null) {
    throw new TypeError(
      `${name} must be a number or one of "Infinity", "-Infinity", "NaN", got null `
      + '(what JSON made of Infinity and NaN alike before states encoded them; it cannot be read back)',
    );
  }
  throw new TypeError(`${name} must be a number or one of "Infinity", "-Infinity", "NaN", got ${describe(x)}`);
}

function countOf(name: string, x: unknown): number {
  if (typeof x !== 'number') throw new TypeError(`${name} must be a number, got ${describe(x)}`);
  if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`${name} = ${describe(x)} is not a count`);
  return x === 0 ? 0 : x;
}

function countsOf(name: string, value: unknown, length: number): number[] {
  return elementsOf(name, value, length).map((x, i) => countOf(`${name}[${i}]`, x));
}

function floatsOf(name: string, value: unknown, length: number): number[] {
  return elementsOf(name, value, length).map((x, i) => decode(`${name}[${i}]`, x));
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
  const v = readOwn(name, value, STATE_FIELDS, false);
  if (v.format !== 'xentropy-scorer') throw new TypeError(`${name}.format must be 'xentropy-scorer', got ${describe(v.format)}`);
  if (typeof v.version !== 'number') throw new TypeError(`${name}.version must be a number, got ${describe(v.version)}`);
  if (v.version !== 1) throw new RangeError(`${name}.version = ${describe(v.version)} is not supported (this version reads 1)`);
  for (const key of STATE_FIELDS) if (v[key] === undefined) throw new TypeError(`${name}.${key} is missing`);
  const config = checkConfig(v, name, true);
  const count = countOf(`${name}.count`, v.count);
  const correct = countOf(`${name}.correct`, v.correct);
  const topKHits = countsOf(`${name}.topKHits`, v.topKHits, config.topK.length);
  const loss = floatsOf(`${name}.loss`, v.loss, 2) as [number, number];
  const brier = floatsOf(`${name}.brier`, v.brier, 2) as [number, number];
  const bytes = v.bytes;
  if (typeof bytes !== 'number') throw new TypeError(`${name}.bytes must be a number, got ${describe(bytes)}`);
  if (!(bytes >= 0 && bytes < Infinity)) throw new RangeError(`${name}.bytes must be a finite number >= 0, got ${describe(bytes)}`);
  const rowsWithoutBytes = countOf(`${name}.rowsWithoutBytes`, v.rowsWithoutBytes);
  const binCount = countsOf(`${name}.binCount`, v.binCount, config.bins);
  const binCorrect = countsOf(`${name}.binCorrect`, v.binCorrect, config.bins);
  const binConf = floatsOf(`${name}.binConf`, v.binConf, config.bins);
  const binConfComp = floatsOf(`${name}.binConfComp`, v.binConfComp, config.bins);
  const s: ScorerData = {
    format: 'xentropy-scorer', version: 1, ...config, count, correct, topKHits, loss, brier,
    bytes: bytes === 0 ? 0 : bytes, rowsWithoutBytes, binCount, binCorrect, binConf, binConfComp,
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
  for (let b = 0; b < s.bins; b++) {
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
  for (let b = 0; b < s.bins; b++) {
    const conf = s.binConf[b], comp = s.binConfComp[b];
    if (s.binCount[b] === 0) {
      if (conf !== 0) fail(`binConf[${b}] = ${describe(conf)} must be 0 when ${name}.binCount[${b}] = 0`);
      if (comp !== 0) fail(`binConfComp[${b}] = ${describe(comp)} must be 0 when ${name}.binCount[${b}] = 0`);
    }
    if (conf !== conf && b > 0) fail(`binConf[${b}] = NaN is not possible: only bin 0 holds NaN confidences`);
    if (conf < 0 || conf === Infinity) fail(`binConf[${b}] = ${describe(conf)} is not a sum of confidences in [0, 1]`);
    if (!Number.isFinite(comp)) fail(`binConfComp[${b}] = ${describe(comp)} is not finite, as every compensation is`);
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
  for (let i = 0; i < a.bins; i++) {
    a.binCount[i] += b.binCount[i];
    a.binCorrect[i] += b.binCorrect[i];
    a.binConfComp[i] += b.binConfComp[i];
    addTo(a.binConf, a.binConfComp, i, b.binConf[i]);
  }
}

/** A deep copy of a state. */
function copyOf(s: ScorerData): ScorerData {
  return {
    ...s, topK: s.topK.slice(), topKHits: s.topKHits.slice(), loss: [s.loss[0], s.loss[1]], brier: [s.brier[0], s.brier[1]],
    binCount: s.binCount.slice(), binCorrect: s.binCorrect.slice(), binConf: s.binConf.slice(), binConfComp: s.binConfComp.slice(),
  };
}

const FROM_CODE: Record<ScorerInput, number> = { logits: 0, probs: 1, logProbs: 2 };

/**
 * A one-pass, mergeable evaluation of a classifier: loss, perplexity, accuracy, top-k accuracy, Brier
 * score and calibration errors. Create one with `xe.scorer(options)`; feed it with `update`; read
 * `result()`; combine scorers of disjoint shards with `merge`, across processes through `state()`.
 */
export class Scorer {
  readonly #driver: Driver;
  #s: ScorerData;

  /**
   * @internal Use `xe.scorer(options)` or `Scorer.fromState(xe, state)`.
   * @throws TypeError / RangeError for a state `fromState` would refuse
   */
  constructor(driver: Driver, state: unknown) {
    this.#driver = driver;
    this.#s = checkScorerState(state);
  }

  /** @internal */
  static create(driver: Driver, options: unknown): Scorer {
    return new Scorer(driver, emptyState(checkScorerOptions(options)));
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
    return new Scorer(driver, state);
  }

  /** Rows counted so far. */
  get count(): number {
    return this.#s.count;
  }

  /**
   * Adds rows. Ignored rows (label == ignoreIndex) are skipped entirely. Every label is read once,
   * into memory of the scorer's, before anything is checked.
   * @param logits row-major [N, classes] Float32Array or resident buffer (probabilities or
   *   log-probabilities with `from`)
   * @param labels N class indices: Int32Array, Uint8Array, Uint16Array, Uint32Array or number[]
   * @param bytes optional number of bytes the rows encode, for `bitsPerByte`
   * @returns this, for chaining
   * @throws TypeError / RangeError before anything is added, naming the argument and the value;
   *   TypeError for a Proxy of a typed array, or a typed array on a resizable ArrayBuffer or
   *   growable SharedArrayBuffer (pass `.slice()`)
   */
  update(logits: Float32Array | Resident, labels: IndexTarget, bytes?: number): this {
    const s = this.#s;
    const u = checkScorerUpdate(s, logits, labels, bytes);
    const { classes } = s;
    const d = this.#driver;
    const inRes = ownResident(d, 'logits', u.inputResident);
    if (u.bytes !== undefined && !(s.bytes + u.bytes < Infinity)) {
      throw new RangeError(`bytes = ${u.bytes} would make the total bytes ${s.bytes + u.bytes}, not a finite number`);
    }
    const per = Math.min(chunkRows(classes), Math.max(1, u.rows));
    const [zBuf, yPtr, outPtr, intPtr] = d.reserve(inRes ? 0 : per * classes * 4, per * 4, per * 24, per * 8);
    const from = FROM_CODE[s.from];
    let counted = 0;
    for (let r0 = 0; r0 < u.rows; r0 += per) {
      const n = Math.min(per, u.rows - r0);
      const zPtr = stageInput(d, zBuf, u.input, inRes, r0 * classes, (r0 + n) * classes);
      const y = d.i32(yPtr, n);
      y.set(u.labels.subarray(r0, r0 + n));
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
    return resultOf(this.#s);
  }

  /**
   * A plain, versioned, JSON-serialisable copy of the state: O(bins + topK.length) numbers, with
   * non-finite sums written as the strings 'Infinity', '-Infinity' or 'NaN' (see ScorerState), so
   * that JSON.parse(JSON.stringify(state)) gives `fromState` and `merge` exactly these values.
   */
  state(): ScorerState {
    const s = this.#s;
    return {
      format: 'xentropy-scorer', version: 1, classes: s.classes, bins: s.bins, topK: s.topK.slice(),
      ignoreIndex: s.ignoreIndex, from: s.from, epsilon: s.epsilon, unit: s.unit,
      count: s.count, correct: s.correct, topKHits: s.topKHits.slice(),
      loss: [encode(s.loss[0]), encode(s.loss[1])], brier: [encode(s.brier[0]), encode(s.brier[1])],
      bytes: s.bytes, rowsWithoutBytes: s.rowsWithoutBytes, binCount: s.binCount.slice(), binCorrect: s.binCorrect.slice(),
      binConf: s.binConf.map(encode), binConfComp: s.binConfComp.map(encode),
    };
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
    if (b.topK.join() !== a.topK.join()) {
      throw new RangeError(`other.topK = [${b.topK.join(', ')}] does not match this scorer's topK = [${a.topK.join(', ')}]`);
    }
    if (!Number.isSafeInteger(a.count + b.count)) {
      throw new RangeError(`other.count = ${b.count} would make the count ${a.count + b.count}, more than 2^53 - 1`);
    }
    if (!(a.bytes + b.bytes < Infinity)) {
      throw new RangeError(`other.bytes = ${b.bytes} would make the total bytes ${a.bytes + b.bytes}, not a finite number`);
    }
    mergeInto(a, b === a ? copyOf(b) : b);
    return this;
  }
}
