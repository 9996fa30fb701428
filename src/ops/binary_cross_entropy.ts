// Binary cross-entropy: argument checking shared with the float64 reference, and the WebAssembly runner
// that streams elements through the driver's scratch window.

import { callRows, type KernelCall } from '../engine/blocks.js';
import { ownResident, type Driver, type Resident } from '../engine/driver.js';
import { scanDisagreement } from '../engine/element_checks.js';
import { chunkRows, rawBytes, stageFloats, windowRows } from '../engine/staging.js';
import type { ResidentDtype } from '../engine/driver.js';
import {
  isResident, checkChoice, checkClasses, checkDtype, checkFloat32OrResident, floatInputReader, widenValues, checkFocal, checkNumberIn, checkOut, checkUnit, checkWeight,
  describe, overlaps, ownOptions, plainView, rowsOf, typedArrayKind, unwrapTensor, checkDims, zeroOrOne, type FloatData, type FloatKind, type HalfDtype,
  type LossAndGrad, type Reduction, type TensorLike, type Unit,
} from './common.js';

/** What the input of binaryCrossEntropy holds. */
export type BinaryInputForm = 'logits' | 'probs';

/** Targets of binaryCrossEntropy: probabilities in [0, 1] (soft) or 0/1 bytes. */
export type BinaryTarget = Float32Array | Uint8Array;

/** Targets as they may be given: BinaryTarget, or integer labels of 0 and 1 (int64 included, as ONNX labels are). */
export type BinaryTargetInput = BinaryTarget | Int8Array | Int16Array | Int32Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

/** Integer typed arrays whose 0/1 labels become BinaryTarget bytes, by kind. */
const INTEGER_TARGETS: Record<string, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number | bigint>> = {
  Int8Array, Int16Array, Int32Array, Uint16Array, Uint32Array, BigInt64Array, BigUint64Array,
};

/**
 * Options of binaryCrossEntropy (binaryCrossEntropyWithGrad's are BinaryCrossEntropyGradOptions: these
 * and gradOut).
 */
export interface BinaryCrossEntropyOptions {
  /** C: the input is row-major [N, C]; weight and posWeight have C entries. Default 1, or a tensor input's last dimension (1 for a 1-D one). */
  classes?: number;
  /** 'logits' (default, PyTorch's binary_cross_entropy_with_logits) or 'probs' (binary_cross_entropy). */
  from?: BinaryInputForm;
  /** Float32Array(C) of finite, non-negative weights, broadcast over rows (PyTorch `weight`). */
  weight?: Float32Array | TensorLike;
  /** 'logits' only: Float32Array(C) of finite, non-negative positive-class weights (PyTorch `pos_weight`). */
  posWeight?: Float32Array | TensorLike;
  /** eps in [0, 1]: targets become t (1 - eps) + eps / 2 (Keras). Default 0. */
  labelSmoothing?: number;
  /** 'probs' only: inputs are clipped to [epsilon, 1 - epsilon], epsilon in (0, 0.5). Default 1e-7 (Keras). */
  epsilon?: number;
  /** 'mean' (default, over all N·C elements), 'sum' or 'none' (one loss per element). */
  reduction?: Reduction;
  /** 'nats' (default) or 'bits': scales the loss and the gradient. */
  unit?: Unit;
  /**
   * Focal loss (torchvision's sigmoid_focal_loss): each element's loss becomes
   * alpha_t (1 - p_t)^gamma times its cross-entropy, p_t = p t + (1 - p)(1 - t),
   * alpha_t = alpha t + (1 - alpha)(1 - t). gamma >= 0 (default 2), alpha in [0, 1] (default 0.25).
   * Not with posWeight.
   */
  focal?: { gamma?: number; alpha?: number };
  /** What a Uint16Array input holds: 'float16' or 'bfloat16' bits. Targets stay float32 (or Uint8Array). */
  dtype?: HalfDtype;
}

/** Options of binaryCrossEntropyWithGrad: binaryCrossEntropy's, and gradOut. */
export interface BinaryCrossEntropyGradOptions extends BinaryCrossEntropyOptions {
  /** Float32Array (or resident buffer) of N·C for the gradient; may be the input itself. */
  gradOut?: Float32Array | Resident;
}

const BCE_OPTIONS = ['classes', 'from', 'weight', 'posWeight', 'labelSmoothing', 'epsilon', 'reduction', 'unit', 'focal', 'dtype'] as const;
const BCE_GRAD_OPTIONS = [...BCE_OPTIONS, 'gradOut'] as const;

/** @internal A validated binary cross-entropy call, the same for every backend. */
export interface BinaryCrossEntropyPlan {
  /** The input's elements (see inputKind); for a resident input, a view valid only until memory grows. */
  input: FloatData;
  /** What input holds: float32, float64, or float16 / bfloat16 bits (widened in WebAssembly as staged). */
  inputKind: FloatKind;
  /** The target's values; for a resident target, a view valid only until memory grows. */
  target: BinaryTarget;
  /** The resident handles among input, target and options.gradOut (their addresses survive growth). */
  inputResident: Resident<ResidentDtype> | null;
  targetResident: Resident | null;
  gradOutResident: Resident | null;
  /**
   * True when the element checks (targets in [0, 1], probabilities in [0, 1]) are left to the runner,
   * which scans in WebAssembly before anything the caller can see is written (runBinaryCrossEntropy).
   */
  elementChecksPending: boolean;
  /** Number of elements N·C. */
  n: number;
  classes: number;
  from: BinaryInputForm;
  weight: Float32Array | null;
  posWeight: Float32Array | null;
  smoothing: number;
  /** Focal parameters, or null for plain binary cross-entropy. */
  focal: { gamma: number; alpha: number } | null;
  /**
   * Clip bounds of 'probs': the float32 values of epsilon and 1 - epsilon, which both backends use,
   * so that log(1 - hi) is the same number in each (1 - fround(1 - 1e-7) = 1.19e-7, not 1e-7).
   */
  lo: number;
  hi: number;
  reduction: Reduction;
  /** 1 for nats, 1 / ln 2 for bits. */
  unitScale: number;
  /** Factor on each element's gradient: unitScale / n for 'mean', unitScale otherwise. */
  gradScale: number;
  gradOut: Float32Array | undefined;
}

/**
 * @internal
 * Validates a binary cross-entropy call; `withGrad` admits the gradOut option. With
 * `deferElementChecks`, every check but the per-element ranges runs here, and the plan says the runner
 * owes those (the float64 reference checks here; the one-thread runner and the pool scan them in
 * WebAssembly, which is faster).
 */
export function planBinaryCrossEntropy(
  fn: string, input: unknown, target: unknown, options: unknown, withGrad: boolean, deferElementChecks = false,
): BinaryCrossEntropyPlan {
  const reader = floatInputReader('input', input);
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const o = ownOptions(`${fn} options`, options, withGrad ? BCE_GRAD_OPTIONS : BCE_OPTIONS);
  const { data: x, kind: inputKind, resident: inputResident } = reader.finish(checkDtype('options.dtype', o.dtype));
  const classes = binaryClassesOf(o.classes, reader.dims);
  rowsOf('input', x, classes);
  const n = x.length;
  const from = checkChoice<BinaryInputForm>('options.from', o.from, ['logits', 'probs'], 'logits');
  const reduction = checkChoice<Reduction>('options.reduction', o.reduction, ['mean', 'sum', 'none'], 'mean');
  const unitScale = checkUnit('options.unit', o.unit);
  const weight = checkWeight('options.weight', o.weight, classes, 'classes', reader.dims && { whose: "the input's", dims: reader.dims, want: [classes] });
  const smoothing = checkNumberIn('options.labelSmoothing', o.labelSmoothing, 0, 1, 0);

  // Each form's own option is refused by the other rather than silently ignored.
  let posWeight: Float32Array | null = null;
  let epsilon = 1e-7;
  if (from === 'logits') {
    if (o.epsilon !== undefined) {
      throw new TypeError(`options.epsilon applies only to from 'probs' (the clip of probabilities); logits are not clipped`);
    }
    posWeight = checkWeight('options.posWeight', o.posWeight, classes, 'classes', reader.dims && { whose: "the input's", dims: reader.dims, want: [classes] });
  } else {
    if (o.posWeight !== undefined) {
      throw new TypeError(
        `options.posWeight applies only to from 'logits' (PyTorch defines pos_weight only for binary_cross_entropy_with_logits), got from 'probs'`,
      );
    }
    if (o.epsilon !== undefined) {
      if (typeof o.epsilon !== 'number') throw new TypeError(`options.epsilon must be a number, got ${describe(o.epsilon)}`);
      if (!(o.epsilon > 0 && o.epsilon < 0.5)) {
        throw new RangeError(`options.epsilon must be in (0, 0.5), got ${describe(o.epsilon)}`);
      }
      epsilon = o.epsilon;
    }
  }

  const focal = checkFocal('options.focal', o.focal);
  if (focal) {
    // alpha weighs positives and 1 - alpha negatives: above 1 the negatives' loss would turn negative.
    if (focal.alpha > 1) {
      throw new RangeError(`options.focal.alpha must be in [0, 1] for binary cross-entropy, got ${describe(focal.alpha)}`);
    }
    // torchvision's sigmoid_focal_loss has no pos_weight; alpha is the focal loss's class balance.
    if (posWeight) {
      throw new RangeError('options.focal and options.posWeight cannot be combined; focal.alpha weighs the positive class');
    }
  }

  let targetResident: Resident | null = null;
  let t: BinaryTarget;
  // A tensor of targets (float32 probabilities, or a bool / uint8 tensor of 0/1) has the input's dims.
  const { data: targetData, dims: targetDims } = unwrapTensor('target', target);
  checkDims('target', targetDims, "the input's", reader.dims, reader.dims);
  if (isResident(targetData)) {
    ({ array: t, resident: targetResident } = checkFloat32OrResident('target', targetData));
  } else if (typedArrayKind(targetData) === 'Float32Array') {
    t = plainView('target', targetData as Float32Array, Float32Array);
  } else if (typedArrayKind(targetData) === 'Uint8Array') {
    t = plainView('target', targetData as Uint8Array, Uint8Array);
  } else if (INTEGER_TARGETS[typedArrayKind(targetData) ?? '']) {
    // Integer labels: copied into the bytes the kernels read, each 0 or 1.
    const view = plainView('target', targetData as ArrayBufferView, INTEGER_TARGETS[typedArrayKind(targetData)!]);
    t = new Uint8Array(view.length);
    for (let i = 0; i < view.length; i++) t[i] = zeroOrOne('target', i, view[i], ' (integer targets are labels)');
  } else {
    throw new TypeError(
      `target must be a Float32Array of probabilities in [0, 1], a Uint8Array or other integer array of 0/1, a tensor of them (a bool tensor too) or a resident buffer, got ${describe(targetData)}`,
    );
  }
  if (t.length !== n) throw new RangeError(`target.length must equal input.length = ${n}, got ${t.length}`);

  let gradOut: Float32Array | undefined;
  let gradOutResident: Resident | null = null;
  if (withGrad) {
    // In place only over a float32 input: a gradient has float32 elements.
    gradOut = checkOut('options.gradOut', o.gradOut, n, x, inputKind === 'f32');
    if (isResident(o.gradOut)) gradOutResident = o.gradOut;
    if (gradOut && overlaps(gradOut, t)) {
      throw new RangeError('options.gradOut overlaps target; the gradient cannot overwrite the targets');
    }
  }
  const plan: BinaryCrossEntropyPlan = {
    input: x, inputKind, target: t, inputResident, targetResident, gradOutResident, elementChecksPending: deferElementChecks,
    n, classes, from, weight, posWeight, smoothing, focal,
    lo: Math.fround(epsilon), hi: Math.fround(1 - epsilon),
    reduction, unitScale, gradScale: reduction === 'mean' ? unitScale / n : unitScale, gradOut,
  };
  if (!deferElementChecks) checkBinaryElements(widenValues(x, inputKind), t, from);
  return plan;
}

/**
 * options.classes of a binary input: the labels per row that weight and posWeight index. A tensor's
 * last dimension when it has two or more (a 1-D tensor is one label per row); a given value that
 * disagrees with the tensor is a RangeError.
 */
function binaryClassesOf(given: unknown, dims: number[] | null): number {
  if (!dims) return given === undefined ? 1 : checkClasses(given, 'options.classes');
  const fromDims = dims.length >= 2 ? dims[dims.length - 1] : 1;
  if (given === undefined) return checkClasses(fromDims, "the input's last dimension");
  const classes = checkClasses(given, 'options.classes');
  if (classes !== fromDims) {
    throw new RangeError(
      `options.classes = ${classes} disagrees with the input's dims [${dims.join(', ')}] (a binary input's classes is its last dimension, 1 for a 1-D input)`,
    );
  }
  return classes;
}

/**
 * @internal
 * The per-element checks: every target in [0, 1], and with from 'probs' every input too (NaN is
 * neither). Targets are checked first; the error names the first offending element.
 * @throws RangeError naming the element and its value
 */
export function checkBinaryElements(input: Float32Array, target: BinaryTarget, from: BinaryInputForm): void {
  for (let i = 0; i < target.length; i++) {
    const t = target[i];
    if (!(t >= 0 && t <= 1)) throw new RangeError(`target[${i}] = ${describe(t)} is not in [0, 1]`);
  }
  if (from === 'probs') {
    for (let i = 0; i < input.length; i++) {
      const p = input[i];
      if (!(p >= 0 && p <= 1)) {
        throw new RangeError(`input[${i}] = ${describe(p)} is not a probability in [0, 1] (options.from is 'probs')`);
      }
    }
  }
}

/**
 * @internal
 * Throws the element check's RangeError after a range scan found an element outside [0, 1]: the
 * JavaScript check names the first one, as on every backend.
 */
export function refuseBinaryElements(input: Float32Array, target: BinaryTarget, from: BinaryInputForm): never {
  checkBinaryElements(input, target, from);
  throw scanDisagreement();
}

/** @internal The reduced loss from the sum of element losses (in nats) and the per-element losses. */
export function reduceBinary<A>(plan: BinaryCrossEntropyPlan, total: number, losses: A): number | A {
  if (plan.reduction === 'none') return losses;
  // An empty 'mean' is 0 / 0 = NaN, as PyTorch.
  return plan.unitScale * (plan.reduction === 'sum' ? total : total / plan.n);
}

/** @internal Addresses of one binary call's arrays at its first element; 0 for an array it has not. */
export interface BinaryAddresses {
  input: number;
  target: number;
  weight: number;
  posWeight: number;
  losses: number;
  grad: number;
  /** binaryCrossEntropyLogits' own scratch (kernels.binaryScratchBytes()). */
  scratch: number;
}

/**
 * @internal
 * The kernel that serves a plan, its arguments and each pointer's stride per element: the one place
 * that knows the binary kernels' argument orders (assembly/index.ts). The one-thread runner calls it
 * block by block (callRows); the pool sends it to its workers. Elements play the part of rows: a block
 * is whole rows of `classes` elements, whose class is the element's index mod classes.
 */
export function binaryCall(plan: BinaryCrossEntropyPlan, at: BinaryAddresses): KernelCall {
  const { classes, smoothing, unitScale, gradScale, focal } = plan;
  const { input: x, target: t, weight: w, posWeight: pw, losses: l, grad: g } = at;
  const lRow = l ? 4 : 0, gRow = g ? 4 : 0;
  const probs = plan.from === 'probs';
  if (focal) {
    return {
      kernel: 'binaryFocal', count: 2,
      args: [x, t, 0, classes, w, probs ? 1 : 0, plan.lo, plan.hi, smoothing, focal.gamma, focal.alpha, l, unitScale, g, gradScale],
      strides: [4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, lRow, 0, gRow, 0],
    };
  }
  if (!probs) {
    return {
      kernel: 'binaryCrossEntropyLogits', count: 2, scratchArg: 11,
      args: [x, t, 0, classes, w, pw, smoothing, l, unitScale, g, gradScale, at.scratch],
      strides: [4, 4, 0, 0, 0, 0, 0, lRow, 0, gRow, 0, 0],
    };
  }
  return {
    kernel: 'binaryCrossEntropyProbs', count: 2,
    args: [x, t, 0, classes, w, plan.lo, plan.hi, smoothing, l, unitScale, g, gradScale],
    strides: [4, 4, 0, 0, 0, 0, 0, 0, lRow, 0, gRow, 0],
  };
}

/**
 * @internal
 * Runs a plan on the kernels. Resident input, target and gradient are used where they lie; plain
 * arrays are staged through the scratch window in chunks (reserved once), the gradient computed in
 * place over a staged input. Returns the reduced loss, or per-element losses for 'none', and the
 * gradient when `withGrad`.
 *
 * Element checks the plan left pending are scanned in WebAssembly (kernels.firstOutside) before any
 * output the caller can see is written: resident arrays where they lie, first; staged chunks as they
 * are staged, except when the gradient goes to the caller's gradOut, whose chunks are written as the
 * loop goes, where a first pass stages and scans every chunk. On a hit the JavaScript check runs on the
 * whole arrays and throws its own message, so errors are the same on every backend.
 */
export function runBinaryCrossEntropy(
  d: Driver, plan: BinaryCrossEntropyPlan, withGrad: boolean,
): LossAndGrad<number | Float32Array> {
  const { n, classes, weight, posWeight } = plan;
  const inRes = ownResident(d, 'input', plan.inputResident);
  // Only a float32 resident input is read where it lies; a half one is widened window by window.
  const kind = plan.inputKind, inDirect = kind === 'f32' ? inRes : null;
  const tRes = ownResident(d, 'target', plan.targetResident);
  const gRes = withGrad ? ownResident(d, 'options.gradOut', plan.gradOutResident) : null;
  const none = plan.reduction === 'none';
  const logits = plan.from === 'logits' && !plan.focal;
  const k = d.kernels;
  // Blocks of `per` elements are the kernel calls (the sum order); windows of `span` the copies.
  const per = Math.min(chunkRows(classes), n / classes) * classes;
  const span = Math.min(windowRows(classes), n / classes) * classes;
  // The gradient: into a resident gradOut where it lies; else over the staged input when there is one.
  const gradOverInput = withGrad && !gRes && !inDirect;
  const [xBuf, tBuf, wPtr, pwPtr, lPtr, gBuf, sPtr, raw] = d.reserve(
    inDirect ? 0 : span * 4, tRes ? 0 : span * 4, weight ? classes * 4 : 0, posWeight ? classes * 4 : 0,
    none ? span * 4 : 0, withGrad && !gRes && inDirect ? span * 4 : 0, logits ? k.binaryScratchBytes() : 0,
    rawBytes(kind, inRes !== null, span),
  );
  // Memory may have grown: views of resident arguments are taken again from here on.
  const input = inRes ? inRes.array : plan.input;
  const target = tRes ? tRes.array : plan.target;
  const grad = withGrad && !gRes ? plan.gradOut ?? new Float32Array(n) : null;
  const losses = none ? new Float32Array(n) : null;

  const probs = plan.from === 'probs';
  const pending = plan.elementChecksPending;
  const outside = (ptr: number, m: number): boolean => k.firstOutside(ptr, m, 0, 1) >= 0;
  const refuse = (): never => refuseBinaryElements(widenValues(input, kind), target, plan.from);
  if (pending && ((tRes && outside(tRes.ptr, n)) || (probs && inDirect && outside(inDirect.ptr, n)))) refuse();
  const scanStaged = pending && (!tRes || (probs && !inDirect));
  // Chunks of the caller's gradOut are written as the loop goes, so staged elements are scanned first.
  const scanFirst = scanStaged && withGrad && plan.gradOut !== undefined;
  /** Stages elements [a, b) and scans them when `scan`; `onlyScanned` skips the logits (the first pass). */
  const stage = (a: number, b: number, scan: boolean, onlyScanned: boolean): void => {
    const m = b - a;
    if (!tRes) {
      // Uint8Array targets become 0.0 / 1.0 in the copy.
      d.f32(tBuf, m).set(target.subarray(a, b));
      if (scan && outside(tBuf, m)) refuse();
    }
    if (!inDirect && (probs || !onlyScanned)) {
      stageFloats(d, xBuf, raw, input, kind, inRes, a, b);
      if (scan && probs && outside(xBuf, m)) refuse();
    }
  };
  if (scanFirst) for (let a = 0; a < n; a += span) stage(a, Math.min(n, a + span), true, true);

  if (weight) d.f32(wPtr, classes).set(weight);
  if (posWeight) d.f32(pwPtr, classes).set(posWeight);
  let total = 0;
  for (let a = 0; a < n; a += span) {
    const b = Math.min(n, a + span);
    stage(a, b, scanStaged && !scanFirst, false);
    const gBase = !withGrad ? 0 : gRes ? gRes.ptr + a * 4 : gradOverInput ? xBuf : gBuf;
    const call = binaryCall(plan, {
      input: inDirect ? inDirect.ptr + a * 4 : xBuf, target: tRes ? tRes.ptr + a * 4 : tBuf,
      weight: weight ? wPtr : 0, posWeight: posWeight ? pwPtr : 0, losses: none ? lPtr : 0, grad: gBase, scratch: sPtr,
    });
    for (let e = 0; e < b - a; e += per) total += callRows(k, call, e, Math.min(per, b - a - e));
    if (losses) losses.set(d.f32(lPtr, b - a), a);
    if (grad) grad.set(d.f32(gBase, b - a), a);
  }
  return { loss: reduceBinary(plan, total, losses!), grad: gRes ? gRes.array : grad as Float32Array };
}
