import { Resident } from './driver.js';
import type { ElementCheck } from './element_checks.js';
// Argument checking shared by the WebAssembly API and the float64 reference, so both refuse the same
// calls with the same errors. Everything here runs before any kernel call: a refused call has written
// nothing. TypeError means a wrong type, RangeError a wrong size or value; every message names the
// argument and shows the value received.

/** Integer typed arrays and plain arrays accepted as class-index targets. */
export type IndexTarget = Int32Array | Uint8Array | Uint16Array | Uint32Array | readonly number[];

/** A short, safe description of any value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'boolean' || typeof value === 'symbol') return String(value);
  if (typeof value === 'function') return 'a function';
  if (ArrayBuffer.isView(value)) {
    const length = (value as unknown as { length?: number }).length ?? value.byteLength;
    return `${value.constructor.name}(${length})`;
  }
  if (Array.isArray(value)) return `Array(${value.length})`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/**
 * True when the view's buffer has been transferred away. A detached view reads as length 0, which
 * would otherwise pass for an empty batch. (ArrayBuffer.prototype.detached is missing before Node 22.)
 */
function isDetached(view: ArrayBufferView): boolean {
  if (view.byteLength !== 0) return false;
  const buffer = view.buffer as ArrayBuffer & { detached?: boolean };
  if (buffer.detached !== undefined) return buffer.detached;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** Throws TypeError when a typed array argument's buffer is detached. */
export function checkAttached(name: string, view: ArrayBufferView): void {
  if (isDetached(view)) throw new TypeError(`${name} is a ${view.constructor.name} whose buffer is detached`);
}

/**
 * A Float32Array argument that may also be a resident buffer (xe.alloc / xe.tensor), resolved to its
 * current view; `resident` is the handle, so that the caller can use its address after memory grows.
 */
export function checkFloat32OrResident(name: string, value: unknown): { array: Float32Array; resident: Resident | null } {
  if (value instanceof Resident) {
    if (value.freed) throw new TypeError(`${name} is a resident buffer that was freed`);
    return { array: value.array, resident: value };
  }
  return { array: checkFloat32(name, value), resident: null };
}

/** Throws TypeError unless value is a Float32Array with an attached buffer. */
export function checkFloat32(name: string, value: unknown): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new TypeError(`${name} must be a Float32Array, got ${describe(value)}`);
  }
  checkAttached(name, value);
  return value;
}

/** Checks `classes` is a positive integer that fits a wasm32 row. */
export function checkClasses(classes: unknown, name = 'classes'): number {
  if (typeof classes !== 'number') throw new TypeError(`${name} must be a number, got ${describe(classes)}`);
  if (!Number.isInteger(classes) || classes < 1 || classes > 2 ** 28) {
    throw new RangeError(`${name} must be an integer in [1, 2^28], got ${describe(classes)}`);
  }
  return classes;
}

/** Number of rows of a row-major [rows, classes] array; RangeError when the length does not divide. */
export function rowsOf(name: string, array: Float32Array, classes: number, what = 'classes'): number {
  if (array.length % classes !== 0) {
    throw new RangeError(
      `${name}.length = ${array.length} is not a multiple of ${what} = ${classes}`,
    );
  }
  return array.length / classes;
}

/** True when two typed arrays share any byte. */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer
    && a.byteOffset < b.byteOffset + b.byteLength
    && b.byteOffset < a.byteOffset + a.byteLength;
}

/** True when two typed arrays cover exactly the same bytes. */
export function sameRegion(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
}

/**
 * Checks an optional output array: a Float32Array of exactly `length` elements that either is
 * `input` itself (in place, when allowed) or shares no memory with it.
 */
export function checkOut(
  name: string, out: unknown, length: number, input: Float32Array, inPlaceAllowed: boolean,
  float64Allowed = false,
): Float32Array | undefined {
  if (out === undefined) return undefined;
  if (float64Allowed && out instanceof Float64Array) {
    if (out.length !== length) throw new RangeError(`${name}.length must be ${length}, got ${out.length}`);
    return undefined;
  }
  const array = checkFloat32OrResident(name, out).array;
  if (array.length !== length) {
    throw new RangeError(`${name}.length must be ${length}, got ${array.length}`);
  }
  if (overlaps(array, input) && !(inPlaceAllowed && sameRegion(array, input))) {
    throw new RangeError(
      `${name} overlaps the input without being the same array; pass the input itself to work in place, or separate memory`,
    );
  }
  return array;
}

/** Throws TypeError for any key of options not in `known`. */
export function checkOptionNames(name: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${name} has no option ${JSON.stringify(key)}; known options: ${known.join(', ')}`);
    }
  }
}

/** Checks a string option against its allowed values. */
export function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${describe(value)}`);
  if (!(choices as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** Checks a finite number in [lo, hi]. */
export function checkNumberIn(name: string, value: unknown, lo: number, hi: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!(value >= lo && value <= hi)) throw new RangeError(`${name} must be in [${lo}, ${hi}], got ${describe(value)}`);
  return value;
}

/** Checks a number in the open interval (lo, hi). */
export function checkOpenInterval(name: string, value: unknown, lo: number, hi: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!(value > lo && value < hi)) throw new RangeError(`${name} must be in (${lo}, ${hi}), got ${describe(value)}`);
  return value;
}

/** RangeError unless every value is a probability in [0, 1] (NaN is not). */
export function checkProbabilities(name: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= 1)) throw new RangeError(`${name}[${i}] = ${describe(v)} is not a probability in [0, 1]`);
  }
}

/**
 * RangeError unless every value is a log-probability in [-Infinity, 0] (NaN is not); `range` ends the
 * message.
 */
export function checkLogProbabilities(name: string, values: Float32Array, range = 'in [-Infinity, 0]'): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v <= 0)) throw new RangeError(`${name}[${i}] = ${describe(v)} is not a log-probability ${range}`);
  }
}

/** @internal checkProbabilities(name, ·) as an element check (src/element_checks.ts). */
export function probabilityCheck(name: string): ElementCheck {
  return { lo: 0, hi: 1, explain: (values) => checkProbabilities(name, values) };
}

/** @internal checkLogProbabilities(name, ·, range) as an element check. */
export function logProbabilityCheck(name: string, range?: string): ElementCheck {
  return { lo: -Infinity, hi: 0, explain: (values) => checkLogProbabilities(name, values, range) };
}

/** Checks a positive integer option. */
export function checkPositiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new RangeError(`${name} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

/** Checks an integer that fits in a signed 32-bit wasm argument. */
export function checkInt32(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw new RangeError(`${name} must be an integer in [-2^31, 2^31), got ${describe(value)}`);
  }
  return value;
}

/**
 * Checks weights: a Float32Array of `length` finite, non-negative values (`lengthName` says what the
 * length is, for the message: 'classes' by default).
 */
export function checkWeight(
  name: string, value: unknown, length: number, lengthName = 'classes',
): Float32Array | null {
  if (value === undefined) return null;
  const weight = checkFloat32(name, value);
  if (weight.length !== length) {
    throw new RangeError(`${name}.length must equal ${lengthName} = ${length}, got ${weight.length}`);
  }
  for (let c = 0; c < length; c++) {
    const w = weight[c];
    if (!(w >= 0 && w < Infinity)) {
      throw new RangeError(`${name}[${c}] = ${describe(w)} must be finite and non-negative`);
    }
  }
  return weight;
}

export type Reduction = 'mean' | 'sum' | 'none';

/** Options of crossEntropy / crossEntropyWithGrad. */
export interface CrossEntropyOptions {
  /** Number of classes C; input is row-major [N, C]. Required. */
  classes: number;
  /** 'mean' (default): weighted mean over counted rows; 'sum'; 'none': one loss per row. */
  reduction?: Reduction;
  /** One non-negative weight per class (PyTorch `weight`). */
  weight?: Float32Array;
  /** Rows whose label equals this give loss 0 and gradient 0 and are not counted. Default -100. */
  ignoreIndex?: number;
  /** Label smoothing eps in [0, 1]: targets become (1 - eps) y + eps / C. Default 0. */
  labelSmoothing?: number;
  /** What the input holds: 'logits' (default), 'probs' (softmax outputs) or 'logProbs' (NLL). */
  from?: CrossEntropyInput;
  /** from 'probs' only: probabilities are clipped to [epsilon, 1 - epsilon]. Default 1e-7 (Keras). */
  epsilon?: number;
  /** 'nats' (default) or 'bits': the unit of the loss (and so of the gradient). */
  unit?: Unit;
  /** What a 'mean' over no counted rows gives: 'nan' (default, PyTorch, ONNX) or 'zero' (Keras). */
  onAllIgnored?: 'nan' | 'zero';
  /**
   * PyTorch's [N, C, d1..dK] layout: spatial = d1 * ... * dK, classes at stride `spatial`; targets
   * are [N, d1..dK] indices or [N, C, d1..dK] probabilities. Default 1 (class axis last).
   */
  spatial?: number;
  /** One finite, non-negative weight per row (N * spatial); 'mean' divides by their sum (Keras). */
  sampleWeight?: Float32Array;
  /** PaLM z-loss: adds zLoss * lse^2 to each row's loss (logits only). Default 0. */
  zLoss?: number;
  /** Logit soft-capping (Gemma 2): logits become softcap * tanh(x / softcap) first. Default off. */
  softcap?: number;
  /**
   * Focal loss (Lin et al.; Keras CategoricalFocalCrossentropy): each class term is scaled by
   * alpha (1 - p_c)^gamma. gamma >= 0 (default 2), alpha >= 0 (default 0.25, Keras). Logits only.
   */
  focal?: FocalOptions;
  /**
   * crossEntropyWithGrad only: Float32Array (or resident buffer) of input.length to write the gradient
   * into; may be the input itself.
   */
  gradOut?: Float32Array | Resident;
}

/** Parameters of the focal loss. */
export interface FocalOptions {
  /** Focusing exponent gamma >= 0; 0 gives alpha times cross-entropy. Default 2. */
  gamma?: number;
  /** Overall weight alpha >= 0. Default 0.25 (Keras). */
  alpha?: number;
}

/** Checks options.focal: undefined, or an object with finite, non-negative gamma and alpha. */
export function checkFocal(name: string, value: unknown): { gamma: number; alpha: number } | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${name} must be an object { gamma?, alpha? }, got ${describe(value)}`);
  }
  checkOptionNames(name, value, ['gamma', 'alpha']);
  const f = value as Record<string, unknown>;
  return {
    gamma: checkNumberIn(`${name}.gamma`, f.gamma, 0, 1e6, 2),
    alpha: checkNumberIn(`${name}.alpha`, f.alpha, 0, Number.MAX_VALUE, 0.25),
  };
}

/** What a cross-entropy input holds. */
export type CrossEntropyInput = 'logits' | 'probs' | 'logProbs';

/** Keras' clipping epsilon for probabilities. */
export const DEFAULT_EPSILON = 1e-7;

/** float32's smallest normal number, 2^-126 (about 1.18e-38). */
const MIN_NORMAL_F32 = 2 ** -126;

const CE_OPTIONS = [
  'classes', 'reduction', 'weight', 'ignoreIndex', 'labelSmoothing', 'from', 'epsilon', 'unit', 'onAllIgnored',
  'spatial', 'sampleWeight', 'zLoss', 'softcap', 'focal',
] as const;
const CE_GRAD_OPTIONS = [...CE_OPTIONS, 'gradOut'] as const;

/**
 * @internal
 * Runs `check` now, in JavaScript, unless the plan defers it to a WebAssembly runner: returns the
 * check the runner owes (null when none is left).
 */
export function checkOrDefer(check: ElementCheck, values: Float32Array, defer: boolean): ElementCheck | null {
  if (defer) return check;
  check.explain(values);
  return null;
}

/** A validated cross-entropy call, the same for every backend. */
export interface CrossEntropyPlan {
  /** The input's values; for a resident input, a view valid only until memory grows. */
  input: Float32Array;
  /** The input's resident handle, when it is one: its address survives memory growth. */
  inputResident: Resident | null;
  /** options.gradOut's resident handle, when it is one. */
  gradOutResident: Resident | null;
  /** @internal The input's range check the runner owes (deferred element checks, from 'probs' or 'logProbs'), or null. */
  inputCheck: ElementCheck | null;
  /** Rows of C classes: N for class-last input, N * spatial for [N, C, spatial]. */
  rows: number;
  classes: number;
  /** Positions per sample in PyTorch's [N, C, d1..dK] layout (d1 * ... * dK); 1 for class-last. */
  spatial: number;
  reduction: Reduction;
  weight: Float32Array | null;
  ignoreIndex: number;
  smoothing: number;
  from: CrossEntropyInput;
  /** Clipping bound for from 'probs' (0 otherwise). */
  epsilon: number;
  /** Factor from nats to the requested unit, applied to losses and gradients. */
  unitScale: number;
  /** One weight per row (Keras sample_weight), or null. */
  sampleWeight: Float32Array | null;
  /** PaLM z-loss scale: zLoss * lse^2 is added to each row's loss. */
  zLoss: number;
  /** Soft cap c > 0 applied to logits as c tanh(x / c), or 0 for none. */
  softcap: number;
  /** Focal parameters, or null for plain cross-entropy. */
  focal: { gamma: number; alpha: number } | null;
  /** Class indices (any accepted integer array), or null for soft targets. */
  labels: IndexTarget | null;
  /** Soft targets [rows, classes], or null for class indices. */
  soft: Float32Array | null;
  /**
   * Divisor of the 'mean' reduction: sum of w_y over counted rows, or rows for soft targets; NaN when
   * that is 0 (the mean is NaN), Infinity with onAllIgnored 'zero' (the mean is 0).
   */
  denominator: number;
  /** Factor applied to each row's gradient so that it is the gradient of the reduced loss (NaN with the NaN mean). */
  gradScale: number;
  gradOut: Float32Array | undefined;
}

function isIndexArray(value: unknown): value is IndexTarget {
  return value instanceof Int32Array || value instanceof Uint8Array || value instanceof Uint16Array
    || value instanceof Uint32Array || Array.isArray(value);
}

/**
 * Validates a cross-entropy call; `withGrad` admits the gradOut option. With `deferElementChecks` (the
 * one-thread WebAssembly backends), the input's per-element range check for from 'probs' or 'logProbs'
 * is left to the runner as plan.inputCheck; otherwise it runs here, last.
 */
export function planCrossEntropy(
  fn: string, input: unknown, target: unknown, options: unknown, withGrad: boolean, deferElementChecks = false,
): CrossEntropyPlan {
  const { array: logits, resident: inputResident } = checkFloat32OrResident('input', input);
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object with at least { classes }, got ${describe(options)}`);
  }
  checkOptionNames(`${fn} options`, options, withGrad ? CE_GRAD_OPTIONS : CE_OPTIONS);
  const o = options as Record<string, unknown>;
  const classes = checkClasses(o.classes, 'options.classes');
  const spatial = checkPositiveInt('options.spatial', o.spatial, 1);
  const rows = rowsOf('input', logits, classes * spatial, spatial > 1 ? 'classes * spatial' : 'classes') * spatial;
  const reduction = checkChoice<Reduction>('options.reduction', o.reduction, ['mean', 'sum', 'none'], 'mean');
  const weight = checkWeight('options.weight', o.weight, classes);
  const ignoreIndex = checkInt32('options.ignoreIndex', o.ignoreIndex, -100);
  const smoothing = checkNumberIn('options.labelSmoothing', o.labelSmoothing, 0, 1, 0);
  const from = checkChoice<CrossEntropyInput>('options.from', o.from, ['logits', 'probs', 'logProbs'], 'logits');
  let epsilon = 0;
  if (from === 'probs') {
    epsilon = checkOpenInterval('options.epsilon', o.epsilon, 0, 0.5, DEFAULT_EPSILON);
  } else if (o.epsilon !== undefined) {
    throw new RangeError(`options.epsilon applies only to from: 'probs', got from: '${from}'`);
  }
  const unitScale = checkUnit('options.unit', o.unit);
  const onAllIgnored = checkChoice('options.onAllIgnored', o.onAllIgnored, ['nan', 'zero'], 'nan');
  const sampleWeight = checkWeight('options.sampleWeight', o.sampleWeight, rows, 'the number of rows');
  const zLoss = checkNumberIn('options.zLoss', o.zLoss, 0, Number.MAX_VALUE, 0);
  if (zLoss !== 0 && from !== 'logits') {
    throw new RangeError(`options.zLoss needs logits (it penalises log-sum-exp), got from: '${from}'`);
  }
  const rowWeight = (r: number) => (sampleWeight ? sampleWeight[r] : 1);
  const softcap = o.softcap === undefined ? 0 : checkOpenInterval('options.softcap', o.softcap, 0, Infinity, 0);
  if (softcap !== 0 && from !== 'logits') {
    throw new RangeError(`options.softcap caps logits, got from: '${from}'`);
  }
  const focal = checkFocal('options.focal', o.focal);
  if (focal && from !== 'logits') throw new RangeError(`options.focal needs logits, got from: '${from}'`);
  if (focal && zLoss !== 0) throw new RangeError(`options.focal and options.zLoss = ${zLoss} cannot be combined`);

  let labels: IndexTarget | null = null;
  let soft: Float32Array | null = null;
  let denominator: number;
  if (target instanceof Float32Array) {
    checkAttached('target', target);
    if (target.length !== logits.length) {
      throw new RangeError(
        `target is a Float32Array, so it holds probabilities and its length must be input.length = ${logits.length}, got ${target.length}`,
      );
    }
    soft = target;
    denominator = 0;
    for (let r = 0; r < rows; r++) denominator += rowWeight(r);
  } else if (isIndexArray(target)) {
    if (ArrayBuffer.isView(target)) checkAttached('target', target);
    if (target.length !== rows) {
      throw new RangeError(`target.length must be the number of rows ${rows}, got ${target.length}`);
    }
    labels = target;
    denominator = 0;
    for (let r = 0; r < rows; r++) {
      const y = target[r];
      if (y === ignoreIndex) continue;
      if (typeof y !== 'number') throw new TypeError(`target[${r}] must be a number, got ${describe(y)}`);
      if (!Number.isInteger(y) || y < 0 || y >= classes) {
        throw new RangeError(
          `target[${r}] = ${describe(y)} is not a class index in [0, ${classes}) nor ignoreIndex = ${ignoreIndex}`,
        );
      }
      denominator += (weight ? weight[y] : 1) * rowWeight(r);
    }
  } else {
    throw new TypeError(
      `target must be class indices (Int32Array, Uint8Array, Uint16Array, Uint32Array or number[]) or a Float32Array of probabilities, got ${describe(target)}`,
    );
  }

  let gradOut: Float32Array | undefined;
  const gradOutResident = withGrad && o.gradOut instanceof Resident ? o.gradOut : null;
  if (withGrad) {
    gradOut = checkOut('options.gradOut', o.gradOut, logits.length, logits, true);
    if (gradOut && soft && overlaps(gradOut, soft)) {
      throw new RangeError('options.gradOut overlaps target; the gradient cannot overwrite the targets');
    }
    if (gradOut && weight && overlaps(gradOut, weight)) {
      throw new RangeError('options.gradOut overlaps options.weight');
    }
    if (gradOut && sampleWeight && overlaps(gradOut, sampleWeight)) {
      throw new RangeError('options.gradOut overlaps options.sampleWeight');
    }
    if (gradOut && labels && ArrayBuffer.isView(labels) && overlaps(gradOut, labels)) {
      throw new RangeError('options.gradOut overlaps target; the gradient cannot overwrite the labels');
    }
  }
  // float32 kernels multiply by 1 / denominator: below 2^-126 that overflows float32 (NaN gradients
  // where a zero weight meets it) and the rows' subnormal weighted losses carry no precision.
  if (reduction === 'mean' && denominator > 0 && denominator < MIN_NORMAL_F32) {
    throw new RangeError(
      `the 'mean' denominator (the sum of the counted rows' weights) is ${denominator}, below float32's smallest normal `
      + `2^-126 = ${MIN_NORMAL_F32}; scale options.weight or options.sampleWeight up (the mean does not change)`,
    );
  }
  // A mean over nothing is NaN (PyTorch) or, on request, 0 with a zero gradient (Keras). The NaN
  // mean's gradient is NaN wherever the loss depends on the input (PyTorch's nll_loss gives
  // -weight / 0 there), and 0 elsewhere: ignored rows, clipped probabilities, non-label classes.
  const emptyMean = reduction === 'mean' && denominator === 0;
  const zero = emptyMean && onAllIgnored === 'zero';
  const gradScale = unitScale * (zero ? 0 : emptyMean ? NaN : reduction === 'mean' ? 1 / denominator : 1);
  // Last, so that a runner that scans the input in WebAssembly throws the same first error.
  const inputCheck = from === 'probs'
    ? checkOrDefer(probabilityCheck('input'), logits, deferElementChecks)
    : from === 'logProbs'
    ? checkOrDefer(logProbabilityCheck('input', "(from: 'logProbs' needs values <= 0)"), logits, deferElementChecks)
    : null;
  return {
    input: logits, inputResident, gradOutResident, inputCheck, rows, classes, spatial, reduction, weight, ignoreIndex, smoothing, from, epsilon, unitScale,
    sampleWeight, zLoss, softcap, focal, labels, soft, denominator: zero ? Infinity : emptyMean ? NaN : denominator, gradScale, gradOut,
  };
}

/** Validates the (logits, classes, out?) shape shared by softmax, logSoftmax and logSumExp. */
export function planRows(
  logits: unknown, classes: unknown, out: unknown, perRow: boolean, float64Allowed = false,
): {
  input: Float32Array; rows: number; classes: number; out: Float32Array | undefined;
  inputResident: Resident | null; outResident: Resident | null;
} {
  const { array: input, resident: inputResident } = checkFloat32OrResident('logits', logits);
  const c = checkClasses(classes);
  const rows = rowsOf('logits', input, c);
  const checked = checkOut('out', out, perRow ? rows : input.length, input, !perRow, float64Allowed);
  return { input, rows, classes: c, out: checked, inputResident, outResident: out instanceof Resident ? out : null };
}

/** Unit of every loss, entropy and divergence. */
export type Unit = 'nats' | 'bits';

/** Checks options.unit and returns the factor that converts nats into it (1 or 1 / ln 2). */
export function checkUnit(name: string, value: unknown): number {
  return checkChoice<Unit>(name, value, ['nats', 'bits'], 'nats') === 'bits' ? 1 / Math.LN2 : 1;
}
