// Cross-entropy (PyTorch's F.cross_entropy with the class axis last, and its options): the options, the
// plan shared with the float64 reference, the kernel call that the one-thread runner and the pool both
// read, the one-thread runner, and crossEntropyOver's accumulation of batches.

import { callRows, type KernelCall } from '../engine/blocks.js';
import { ownResident, type Driver, type Resident } from '../engine/driver.js';
import { startScan, type ElementCheck } from '../engine/element_checks.js';
import { chunkRows, gatherRows, rawBytes, scatterRows, stageLabels, stageRaw, stageRows, WIDEN_CODE, windowRows } from '../engine/staging.js';
import {
  isResident, checkChoice, checkDtype, floatInputReader, widenValues, checkFocal, checkInt32, checkNumberIn, checkOpenInterval, checkOrDefer,
  checkOut, checkPositiveInt, checkUnit, checkWeight, classesOf, describe, logProbabilityCheck, overlaps, ownOptions,
  ownProps, plainView, clippableProbabilityCheck, readMask, rowsOf, typedArrayKind, unwrapTensor, DEFAULT_EPSILON, checkDims, maskDimsOf, refuseFloatTensor,
  type FloatData, type FloatKind, type FocalOptions, type HalfDtype, type IndexTarget, type LossAndGrad, type Reduction, type TensorLike,
  type Unit,
} from './common.js';
import type { ResidentDtype } from '../engine/driver.js';

/** Options of crossEntropy (crossEntropyWithGrad's are CrossEntropyGradOptions: these and gradOut). */
export interface CrossEntropyOptions {
  /** Number of classes C; input is row-major [N, C]. Required, but for a tensor input (its last dimension). */
  classes: number;
  /** 'mean' (default): weighted mean over counted rows; 'sum'; 'none': one loss per row. */
  reduction?: Reduction;
  /** One non-negative weight per class (PyTorch `weight`). */
  weight?: Float32Array | TensorLike;
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
  sampleWeight?: Float32Array | TensorLike;
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
   * Causal language models: the input is [B, T, V] logits and the target [B, T] token ids; position t
   * predicts token t + 1 and each sequence's last position predicts nothing (Hugging Face's shift).
   * The logits are not moved: the labels are. Default false.
   */
  shift?: boolean;
  /**
   * [B, T] mask (any integer typed array, a bool tensor, numbers or booleans): a position whose mask is
   * 0 is not counted. With shift, the mask of the predicted token decides.
   */
  attentionMask?: unknown;
  /** T, for shift and attentionMask with flat arrays; a [B, T, V] tensor input gives it. */
  sequenceLength?: number;
  /** What a Uint16Array input holds: 'float16' or 'bfloat16' bit patterns (ORT keeps float16 tensors so). */
  dtype?: HalfDtype;
}

/** Options of crossEntropyWithGrad: crossEntropy's, and gradOut. */
export interface CrossEntropyGradOptions extends CrossEntropyOptions {
  /**
   * Float32Array (or resident buffer) of input.length to write the gradient into; may be the input
   * itself.
   */
  gradOut?: Float32Array | Resident;
}

/** What a cross-entropy input holds. */
export type CrossEntropyInput = 'logits' | 'probs' | 'logProbs';

/** float32's smallest normal number, 2^-126 (about 1.18e-38). */
const MIN_NORMAL_F32 = 2 ** -126;

/** float32's largest finite number, (2 - 2^-23) 2^127. */
const MAX_F32 = (2 - 2 ** -23) * 2 ** 127;

const CE_OPTIONS = [
  'classes', 'reduction', 'weight', 'ignoreIndex', 'labelSmoothing', 'from', 'epsilon', 'unit', 'onAllIgnored',
  'spatial', 'sampleWeight', 'zLoss', 'softcap', 'focal', 'shift', 'attentionMask', 'sequenceLength', 'dtype',
] as const;
const CE_GRAD_OPTIONS = [...CE_OPTIONS, 'gradOut'] as const;

/** A validated cross-entropy call, the same for every backend. */
export interface CrossEntropyPlan {
  /** The input's elements (see inputKind); for a resident input, a view valid only until memory grows. */
  input: FloatData;
  /** What input holds: float32, float64, or float16 / bfloat16 bits (widened in WebAssembly as staged). */
  inputKind: FloatKind;
  /** The input's resident handle, when it is one: its address survives memory growth. */
  inputResident: Resident<ResidentDtype> | null;
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
  /** Class indices, copied and checked (what the kernels read), or null for soft targets. */
  labels: Int32Array | null;
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
  /** Rows per sequence (options.sequenceLength or the tensors' T; all the rows when neither says). */
  sequenceLength: number;
}

/** Integer typed arrays accepted as class indices, by kind (int64 as ORT's int64 tensors hold them). */
const INDEX_VIEWS: Record<string, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number | bigint>> = {
  Int32Array, Uint8Array, Uint16Array, Uint32Array, BigInt64Array, BigUint64Array,
};

/** How rows form sequences: the causal shift, the attention mask (one byte a row) and T. */
interface Sequence {
  shift: boolean;
  mask: Uint8Array | null;
  /** T: rows per sequence (all the rows, when nothing says otherwise). */
  length: number;
}

/**
 * Reads options.shift, attentionMask and sequenceLength. T comes from sequenceLength or from the
 * tensors' dims ([B, T, V] logits, [B, T] ids); they must agree.
 */
function checkSequence(
  o: Record<string, unknown>, rows: number, spatial: number, dims: number[] | null, targetDims: number[] | null,
): Sequence {
  const shift = o.shift === undefined ? false : o.shift;
  if (typeof shift !== 'boolean') throw new TypeError(`options.shift must be a boolean, got ${describe(shift)}`);
  let T = o.sequenceLength === undefined ? undefined : checkPositiveInt('options.sequenceLength', o.sequenceLength, 1);
  const fromDims = dims && dims.length >= 3 ? dims[dims.length - 2]
    : targetDims && targetDims.length >= 2 ? targetDims[targetDims.length - 1] : undefined;
  if (T !== undefined && fromDims !== undefined && T !== fromDims) {
    throw new RangeError(`options.sequenceLength = ${T} disagrees with the tensors' sequence dimension ${fromDims}`);
  }
  T ??= fromDims;
  if (!shift && o.attentionMask === undefined) return { shift, mask: null, length: T ?? rows };
  const what = shift ? 'options.shift' : 'options.attentionMask';
  if (spatial !== 1) throw new RangeError(`${what} needs the class axis last (options.spatial 1), got spatial ${spatial}`);
  // Without shift a mask marks rows, as labels equal to ignoreIndex would: T is not needed.
  if (shift && T === undefined) {
    throw new RangeError(`${what} needs the sequence length: pass options.sequenceLength, or [B, T, V] logits as a tensor`);
  }
  if (T !== undefined && rows % T !== 0) throw new RangeError(`the input's ${rows} rows are not whole sequences of ${T} positions`);
  const mask = o.attentionMask === undefined ? null
    : readMask('options.attentionMask', o.attentionMask, rows, maskDimsOf(dims, targetDims, "the input's", "the target's"));
  return { shift, mask, length: T ?? rows };
}

/**
 * Validates a cross-entropy call; `withGrad` admits the gradOut option. With `deferElementChecks` (the
 * one-thread WebAssembly backends), the input's per-element range check for from 'probs' or 'logProbs'
 * is left to the runner as plan.inputCheck; otherwise it runs here, last.
 */
export function planCrossEntropy(
  fn: string, input: unknown, target: unknown, options: unknown, withGrad: boolean, deferElementChecks = false,
): CrossEntropyPlan {
  const reader = floatInputReader('input', input);
  const dims = reader.dims;
  if (options === undefined && dims) options = {};
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object with at least { classes }, got ${describe(options)}`);
  }
  const o = ownOptions(`${fn} options`, options, withGrad ? CE_GRAD_OPTIONS : CE_OPTIONS);
  const { data: logits, kind: inputKind, resident: inputResident } = reader.finish(checkDtype('options.dtype', o.dtype));
  const classes = classesOf('options.classes', o.classes, dims);
  const spatial = checkPositiveInt('options.spatial', o.spatial, 1);
  const rows = rowsOf('input', logits, classes * spatial, spatial > 1 ? 'classes * spatial' : 'classes') * spatial;
  const reduction = checkChoice<Reduction>('options.reduction', o.reduction, ['mean', 'sum', 'none'], 'mean');
  const { data: targetData, dims: targetDims, type: targetType } = unwrapTensor('target', target);
  refuseFloatTensor('target', targetType, true);
  // Class indices have the input's dims without the class axis, probabilities the input's own.
  if (spatial === 1) {
    checkDims('target', targetDims, "the input's", dims, typedArrayKind(targetData) === 'Float32Array' ? dims : dims?.slice(0, -1) ?? null);
  }
  const sequence = checkSequence(o, rows, spatial, dims, targetDims);
  const weight = checkWeight('options.weight', o.weight, classes, 'classes', dims && { whose: "the input's", dims, want: [classes] });
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
  const sampleWeight = checkWeight(
    'options.sampleWeight', o.sampleWeight, rows, 'the number of rows', spatial === 1 && dims ? { whose: "the input's", dims, want: dims.slice(0, -1) } : null,
  );
  const zLoss = checkNumberIn('options.zLoss', o.zLoss, 0, Number.MAX_VALUE, 0);
  if (zLoss !== 0 && from !== 'logits') {
    throw new RangeError(`options.zLoss needs logits (it penalises log-sum-exp), got from: '${from}'`);
  }
  const rowWeight = (r: number) => (sampleWeight ? sampleWeight[r] : 1);
  // The kernels divide by the cap in float32: it must be a normal float32, or 1 / cap (or cap itself) is infinite.
  const softcap = o.softcap === undefined ? 0 : checkNumberIn('options.softcap', o.softcap, MIN_NORMAL_F32, MAX_F32, 0);
  if (softcap !== 0 && from !== 'logits') {
    throw new RangeError(`options.softcap caps logits, got from: '${from}'`);
  }
  const focal = checkFocal('options.focal', o.focal);
  if (focal && from !== 'logits') throw new RangeError(`options.focal needs logits, got from: '${from}'`);
  if (focal && zLoss !== 0) throw new RangeError(`options.focal and options.zLoss = ${zLoss} cannot be combined`);

  let labels: Int32Array | null = null;
  let soft: Float32Array | null = null;
  let denominator: number;
  const kind = typedArrayKind(targetData);
  if (kind === 'Float32Array') {
    if (sequence.shift) throw new TypeError('options.shift needs token ids as the target, got a Float32Array of probabilities');
    soft = plainView('target', targetData as Float32Array, Float32Array);
    if (soft.length !== logits.length) {
      throw new RangeError(
        `target is a Float32Array, so it holds probabilities and its length must be input.length = ${logits.length}, got ${soft.length}`,
      );
    }
    if (sequence.mask) throw new TypeError('options.attentionMask needs token ids as the target, got a Float32Array of probabilities');
    denominator = 0;
    for (let r = 0; r < rows; r++) denominator += rowWeight(r);
  } else if ((kind !== undefined && kind in INDEX_VIEWS) || Array.isArray(targetData)) {
    // Read once into the copy that the kernels read: each label is checked as it is copied. With
    // shift, row r's label is the next token's id, and each sequence's last row has none.
    const source: ArrayLike<unknown> = kind ? plainView('target', targetData as ArrayBufferView, INDEX_VIEWS[kind]) : targetData as unknown[];
    const length = source.length;
    if (length !== rows) {
      throw new RangeError(`target.length must be the number of rows ${rows}, got ${length}`);
    }
    const { shift, mask, length: T } = sequence;
    labels = new Int32Array(rows);
    denominator = 0;
    for (let r = 0; r < rows; r++) {
      const at = shift ? r + 1 : r;
      if ((shift && r % T === T - 1) || (mask && !mask[at])) {
        labels[r] = ignoreIndex;
        continue;
      }
      const raw = source[at];
      // int64 ids: as a number when they fit int32 (ignoreIndex does), else NaN, refused below.
      const y = typeof raw === 'bigint' ? (raw >= -(2n ** 31n) && raw < 2n ** 31n ? Number(raw) : NaN) : raw;
      if (y === ignoreIndex) {
        labels[r] = ignoreIndex;
        continue;
      }
      if (typeof y !== 'number') throw new TypeError(`target[${at}] must be a number, got ${describe(y)}`);
      if (!Number.isInteger(y) || y < 0 || y >= classes) {
        throw new RangeError(
          `target[${at}] = ${describe(raw)} is not a class index in [0, ${classes}) nor ignoreIndex = ${ignoreIndex}`,
        );
      }
      labels[r] = y;
      denominator += (weight ? weight[y] : 1) * rowWeight(r);
    }
  } else {
    throw new TypeError(
      `target must be class indices (Int32Array, Uint8Array, Uint16Array, Uint32Array, BigInt64Array or number[]) or a Float32Array of probabilities, got ${describe(targetData)}`,
    );
  }

  let gradOut: Float32Array | undefined;
  const gradOutResident = withGrad && isResident(o.gradOut) ? o.gradOut : null;
  if (withGrad) {
    // In place only over a float32 input: a gradient has float32 elements.
    gradOut = checkOut('options.gradOut', o.gradOut, logits.length, logits, inputKind === 'f32');
    if (gradOut && soft && overlaps(gradOut, soft)) {
      throw new RangeError('options.gradOut overlaps target; the gradient cannot overwrite the targets');
    }
    if (gradOut && labels && kind && overlaps(gradOut, targetData as ArrayBufferView)) {
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
  const values = () => widenValues(logits, inputKind);
  const inputCheck = from === 'probs'
    ? checkOrDefer(clippableProbabilityCheck('input'), values, deferElementChecks)
    : from === 'logProbs'
    ? checkOrDefer(logProbabilityCheck('input', "(from: 'logProbs' needs values <= 0)"), values, deferElementChecks)
    : null;
  return {
    input: logits, inputKind, inputResident, gradOutResident, inputCheck, rows, classes, spatial, reduction, weight, ignoreIndex, smoothing, from, epsilon, unitScale,
    sampleWeight, zLoss, softcap, focal, labels, soft, denominator: zero ? Infinity : emptyMean ? NaN : denominator, gradScale, gradOut,
    sequenceLength: sequence.length,
  };
}

/** Options of perplexity: the per-token cross-entropy's, without weights, smoothing or reductions. */
export interface PerplexityOptions {
  /** V, the vocabulary size; default: the logits tensor's last dimension. */
  classes?: number;
  /** Causal language models: position t predicts token t + 1 (as crossEntropy's shift). Default false. */
  shift?: boolean;
  /** [B, T] mask: positions whose (predicted token's, with shift) mask is 0 are not counted. */
  attentionMask?: unknown;
  /** T, for flat arrays; a [B, T, V] tensor gives it. Default: the whole input is one sequence. */
  sequenceLength?: number;
  /** Token ids equal to this are not counted. Default -100. */
  ignoreIndex?: number;
  /** What the input holds: 'logits' (default), 'probs' or 'logProbs'. */
  from?: CrossEntropyInput;
  /** from 'probs' only: the clip of probabilities (default 1e-7). */
  epsilon?: number;
  /** What a Uint16Array input holds: 'float16' or 'bfloat16' bits. */
  dtype?: HalfDtype;
}

/** What perplexity returns: the corpus figures (token-weighted), and one per sequence. */
export interface PerplexityResult {
  /** exp(lossNats): the corpus perplexity, over every counted token. */
  perplexity: number;
  /** The mean negative log-likelihood of the counted tokens, in nats. */
  lossNats: number;
  /** The same in bits. */
  lossBits: number;
  /** Counted tokens. */
  tokens: number;
  /** Per sequence: its mean NLL, perplexity (NaN with no counted token) and counted tokens. */
  perSequence: { lossNats: Float64Array; perplexity: Float64Array; tokens: Int32Array };
}

const PERPLEXITY_OPTIONS = ['classes', 'shift', 'attentionMask', 'sequenceLength', 'ignoreIndex', 'from', 'epsilon', 'dtype'] as const;

/**
 * @internal
 * A perplexity call as the cross-entropy plan of its per-token losses (reduction 'none', in nats).
 */
export function planPerplexity(input: unknown, ids: unknown, options: unknown, deferElementChecks = false): CrossEntropyPlan {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const o = ownOptions('perplexity options', options ?? {}, PERPLEXITY_OPTIONS);
  return planCrossEntropy('perplexity', input, ids, { ...o, reduction: 'none' }, false, deferElementChecks);
}

/**
 * @internal
 * Perplexity from the per-token losses of a planPerplexity plan (0 on rows not counted): sums in
 * float64, per sequence of plan.sequenceLength rows and over the corpus.
 */
export function perplexityOf(plan: CrossEntropyPlan, losses: ArrayLike<number>): PerplexityResult {
  const T = plan.sequenceLength, labels = plan.labels!;
  const B = T > 0 ? plan.rows / T : 0;
  const perSequence = { lossNats: new Float64Array(B), perplexity: new Float64Array(B), tokens: new Int32Array(B) };
  let total = 0, tokens = 0;
  for (let b = 0; b < B; b++) {
    let sum = 0, n = 0;
    for (let r = b * T; r < (b + 1) * T; r++) {
      if (labels[r] === plan.ignoreIndex) continue;
      sum += losses[r];
      n++;
    }
    perSequence.lossNats[b] = sum / n;
    perSequence.perplexity[b] = Math.exp(sum / n);
    perSequence.tokens[b] = n;
    total += sum;
    tokens += n;
  }
  const lossNats = total / tokens;
  return { perplexity: Math.exp(lossNats), lossNats, lossBits: lossNats / Math.LN2, tokens, perSequence };
}

/** @internal Addresses of one cross-entropy call's arrays at its first row; 0 for an array it has not. */
export interface CrossEntropyAddresses {
  input: number;
  target: number;
  weight: number;
  sampleWeight: number;
  losses: number;
  grad: number;
}

/**
 * @internal
 * The kernel that serves a plan, its arguments and each pointer's stride per row: the one place that
 * knows the cross-entropy kernels' argument orders (assembly/index.ts). The one-thread runner calls it
 * block by block (callRows); the pool sends it to its workers. With `halves` (crossEntropyRoute),
 * at.input holds the input's half bits, which the kernel reads itself; else float32 rows.
 */
export function crossEntropyCall(plan: CrossEntropyPlan, at: CrossEntropyAddresses, halves = false): KernelCall {
  const { classes, focal, smoothing, ignoreIndex, gradScale } = plan;
  const { input: z, target: t, weight: w, sampleWeight: s, losses: l, grad: g } = at;
  const row = classes * 4, tRow = plan.soft ? row : 4;
  const sRow = s ? 4 : 0, lRow = l ? 4 : 0, gRow = g ? row : 0;
  const probs = plan.from === 'probs' ? 1 : 0;
  if (plan.soft) {
    if (focal) {
      return {
        kernel: 'focalSoft', count: 2,
        args: [z, t, 0, classes, w, smoothing, s, focal.gamma, focal.alpha, l, g, gradScale],
        strides: [row, tRow, 0, 0, 0, 0, sRow, 0, 0, lRow, gRow, 0],
      };
    }
    if (plan.from === 'logits') {
      return {
        kernel: 'crossEntropySoft', count: 2,
        args: [z, t, 0, classes, w, smoothing, s, plan.zLoss, l, g, gradScale],
        strides: [row, tRow, 0, 0, 0, 0, sRow, 0, lRow, gRow, 0],
      };
    }
    return {
      kernel: 'crossEntropyProbsSoft', count: 2,
      args: [z, t, 0, classes, w, smoothing, s, probs, plan.epsilon, l, g, gradScale],
      strides: [row, tRow, 0, 0, 0, 0, sRow, 0, 0, lRow, gRow, 0],
    };
  }
  if (focal) {
    return {
      kernel: 'focalSparse', count: 2,
      args: [z, t, 0, classes, w, ignoreIndex, smoothing, s, focal.gamma, focal.alpha, l, g, gradScale],
      strides: [row, tRow, 0, 0, 0, 0, 0, sRow, 0, 0, lRow, gRow, 0],
    };
  }
  if (plan.from === 'logits') {
    return {
      kernel: 'crossEntropySparse', count: 2,
      args: [z, t, 0, classes, w, ignoreIndex, smoothing, s, plan.zLoss, l, g, gradScale, halves ? WIDEN_CODE[plan.inputKind] : 0],
      strides: [halves ? classes * 2 : row, tRow, 0, 0, 0, 0, 0, sRow, 0, lRow, gRow, 0, 0],
    };
  }
  return {
    kernel: 'crossEntropyProbsSparse', count: 2,
    args: [z, t, 0, classes, w, ignoreIndex, smoothing, s, probs, plan.epsilon, l, g, gradScale],
    strides: [row, tRow, 0, 0, 0, 0, 0, sRow, 0, 0, lRow, gRow, 0],
  };
}

/**
 * @internal
 * Where a call's input is read and its gradient written, for every runner: a resident input where it
 * lies unless the soft cap must rewrite it or the layout needs a gather; a resident gradient where it
 * lies unless the layout needs a scatter; else the gradient over the staged input, when that is a
 * private copy no longer needed. `halves`: the kernel reads a float16 / bfloat16 input's bits itself,
 * where a resident one lies or as staged raw, with no float32 window.
 */
export function crossEntropyRoute(
  plan: CrossEntropyPlan, inRes: Resident<ResidentDtype> | null, gradRes: Resident | null, withGrad: boolean,
): { directIn: boolean; directGrad: boolean; gradInPlace: boolean; halves: boolean } {
  // Only the sparse loss of logits reads halves in its row sweeps (crossEntropySparse), where
  // widening float16 first was the larger part of the cost; every other kernel reads float32 windows.
  // Without label smoothing: its sweeps for halves would cost each build its bytes (the size budget).
  const halves = (plan.inputKind === 'f16' || plan.inputKind === 'bf16') && !withGrad && plan.from === 'logits'
    && plan.soft === null && plan.focal === null && !plan.softcap && plan.smoothing === 0;
  const directIn = inRes !== null && plan.inputKind === 'f32' && plan.spatial === 1 && !plan.softcap;
  const directGrad = withGrad && gradRes !== null && plan.spatial === 1;
  const gradInPlace = withGrad && !directGrad && !directIn && !plan.softcap;
  return { directIn, directGrad, gradInPlace, halves };
}

/** @internal The reduced loss from the sum of row losses (in nats), or the row losses for 'none'. */
export function reduceCrossEntropy(plan: CrossEntropyPlan, total: number, losses: Float32Array | null): number | Float32Array {
  if (losses) return losses;
  const scaled = total * plan.unitScale;
  return plan.reduction === 'sum' ? scaled : scaled / plan.denominator;
}

/**
 * @internal
 * Runs a plan on one thread: copy windows of whole blocks through the scratch space (or resident
 * arrays where they lie), one kernel call per block of chunkRows rows, whatever the window: the batch
 * sum's order, which the pool keeps too.
 */
export function runCrossEntropy(d: Driver, plan: CrossEntropyPlan, withGrad: boolean): LossAndGrad<number | Float32Array> {
  const { rows, classes, spatial, weight, labels, soft, sampleWeight } = plan;
  const per = Math.min(chunkRows(classes), rows), span = Math.min(windowRows(classes), rows);
  const none = plan.reduction === 'none';
  const losses = none ? new Float32Array(rows) : null;
  const cap = plan.softcap;
  const inRes = ownResident(d, 'input', plan.inputResident), gradRes = ownResident(d, 'options.gradOut', plan.gradOutResident);
  const { directIn, directGrad, gradInPlace, halves } = crossEntropyRoute(plan, inRes, gradRes, withGrad);
  const window = span * classes * 4, kind = plan.inputKind;
  const [zBuf, tBuf, wPtr, lPtr, sPtr, gBuf, raw] = d.reserve(
    directIn || halves ? 0 : window,
    soft ? window : span * 4,
    weight ? classes * 4 : 0,
    none ? span * 4 : 0,
    sampleWeight ? span * 4 : 0,
    withGrad && !directGrad && !gradInPlace ? window : 0,
    rawBytes(kind, inRes !== null, span * classes, spatial),
  );
  // Memory may have grown: views of resident arguments are taken again from here on.
  const input = inRes ? inRes.array : plan.input;
  const grad = !withGrad ? null : gradRes ? gradRes.array : plan.gradOut ?? new Float32Array(input.length);
  // Probabilities or log-probabilities are range-checked in WebAssembly, all first when a gradient
  // the caller can see is written window by window, else as windows come.
  const first = withGrad && (gradRes !== null || plan.gradOut !== undefined);
  const scan = startScan(d, [{
    check: plan.inputCheck, values: input, kind, resident: inRes, window: zBuf, raw, widen: (v) => widenValues(v, kind),
  }], span * classes, first);
  if (weight) d.f32(wPtr, classes).set(weight);
  const k = d.kernels;
  let total = 0;
  for (let w0 = 0; w0 < rows; w0 += span) {
    const n = Math.min(span, rows - w0);
    const a = w0 * classes, b = (w0 + n) * classes;
    const zBase = directIn ? inRes!.ptr + a * 4
      : halves ? stageRaw(d, raw, input, kind, inRes, w0, n, classes, spatial) : zBuf;
    if (!directIn && !halves) stageRows(d, zBuf, raw, input, kind, inRes, w0, n, classes, spatial);
    // Logits owe no element check, so nothing scans a window of halves, which is not float32.
    scan(a, b, [zBase]);
    if (cap) k.softcapForward(zBuf, zBuf, b - a, cap);
    const gBase = !withGrad ? 0 : directGrad ? gradRes!.ptr + a * 4 : gradInPlace ? zBuf : gBuf;
    if (sampleWeight) d.f32(sPtr, n).set(sampleWeight.subarray(w0, w0 + n));
    if (soft) gatherRows(d.f32(tBuf, b - a), soft, w0, classes, spatial);
    else stageLabels(d.i32(tBuf, n), labels!, w0);
    const call = crossEntropyCall(plan, {
      input: zBase, target: tBuf, weight: weight ? wPtr : 0, sampleWeight: sampleWeight ? sPtr : 0,
      losses: none ? lPtr : 0, grad: gBase,
    }, halves);
    for (let r = 0; r < n; r += per) total += callRows(k, call, r, Math.min(per, n - r));
    if (losses) losses.set(d.f32(lPtr, n), w0);
    if (withGrad && cap) k.softcapBackward(zBuf, gBase, b - a, cap);
    if (grad && !directGrad) scatterRows(grad, d.f32(gBase, b - a), w0, classes, spatial);
  }
  if (losses && plan.unitScale !== 1) for (let r = 0; r < rows; r++) losses[r] *= plan.unitScale;
  return { loss: reduceCrossEntropy(plan, total, losses), grad: directGrad ? gradRes!.array : grad as Float32Array };
}

/**
 * @internal
 * crossEntropyOver on one thread: each batch planned and run as crossEntropy with reduction 'sum'.
 */
export function crossEntropyOver(d: Driver, options: unknown): BatchAccumulator {
  return new BatchAccumulator(options, (batch, o) => {
    const plan = planCrossEntropy('crossEntropyOver', batch.input, batch.target, o, false, true);
    return { sum: runCrossEntropy(d, plan, false).loss as number, denominator: plan.denominator, classes: plan.classes };
  });
}

/** One batch of rows for crossEntropyOver: its logits (or probabilities) and targets. */
export interface CrossEntropyBatch {
  /** Row-major [n, classes] logits or probabilities of any element type crossEntropy takes, a tensor, or a resident buffer. */
  input: Float32Array | Float64Array | Uint16Array | Resident<ResidentDtype> | TensorLike;
  /** n class indices or n * classes probabilities, as crossEntropy's target (or a tensor of them). */
  target: IndexTarget | Float32Array | TensorLike;
  /** n per-row weights, as crossEntropy's options.sampleWeight. */
  sampleWeight?: Float32Array | TensorLike;
}

/**
 * Options of crossEntropyOver: crossEntropy's, less the per-batch and per-row ones; classes may be left
 * out when the first batch's input is a tensor (its last dimension, which then binds every batch).
 */
export type CrossEntropyOverOptions = Omit<CrossEntropyOptions, 'reduction' | 'sampleWeight' | 'gradOut' | 'classes'> & {
  classes?: number;
  /** 'mean' (default): the sum over all batches divided by their total denominator; or 'sum'. */
  reduction?: 'mean' | 'sum';
};

/** A batch's loss sum and its share of the 'mean' denominator. */
export type BatchSum = (batch: CrossEntropyBatch, options: CrossEntropyOptions) => { sum: number; denominator: number; classes: number };

/** Neumaier-compensated running sum: batches can number in the millions. */
class Sum {
  private total = 0;
  private compensation = 0;

  add(x: number): void {
    const t = this.total + x;
    // Past infinity there is nothing to compensate, and the correction would be inf - inf = NaN.
    if (Number.isFinite(t)) {
      this.compensation += Math.abs(this.total) >= Math.abs(x) ? (this.total - t) + x : (x - t) + this.total;
    }
    this.total = t;
  }

  get value(): number {
    return Number.isFinite(this.total) ? this.total + this.compensation : this.total;
  }
}

/** Accumulates batches one at a time; shared by the sync and async entry points. */
export class BatchAccumulator {
  private readonly sum = new Sum();
  private readonly denominator = new Sum();
  private readonly reduction: 'mean' | 'sum';
  private readonly onAllIgnored: 'nan' | 'zero';
  private perBatch: CrossEntropyOptions;
  private index = 0;

  constructor(options: unknown, private readonly batchSum: BatchSum) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object with classes, got ${describe(options)}`);
    }
    for (const name of ['sampleWeight', 'gradOut']) {
      if (Object.prototype.hasOwnProperty.call(options, name)) {
        throw new TypeError(`options.${name} is not an option of crossEntropyOver; pass sampleWeight with each batch`);
      }
    }
    const o = ownOptions('options', options, CE_OPTIONS.filter((name) => name !== 'sampleWeight'));
    this.reduction = checkChoice('options.reduction', o.reduction, ['mean', 'sum'], 'mean');
    this.onAllIgnored = checkChoice('options.onAllIgnored', o.onAllIgnored, ['nan', 'zero'], 'nan');
    this.perBatch = { ...o, reduction: 'sum' } as CrossEntropyOptions;
  }

  /** Adds one batch; errors name the batch. */
  add(batch: unknown): void {
    const i = this.index++;
    const b = ownProps(batch, ['input', 'target', 'sampleWeight']);
    if (batch === null || typeof batch !== 'object' || !('input' in b) || !('target' in b)) {
      throw new TypeError(`batches[${i}] must be an object { input, target, sampleWeight? }, got ${describe(batch)}`);
    }
    const options = b.sampleWeight === undefined ? this.perBatch : { ...this.perBatch, sampleWeight: b.sampleWeight as Float32Array };
    let result;
    try {
      result = this.batchSum(b as unknown as CrossEntropyBatch, options);
    } catch (error) {
      if (error instanceof TypeError) throw new TypeError(`batches[${i}]: ${error.message}`);
      if (error instanceof RangeError) throw new RangeError(`batches[${i}]: ${error.message}`);
      throw error;
    }
    this.sum.add(result.sum);
    this.denominator.add(result.denominator);
    // Batches of one dataset: classes left out comes from the first batch's tensor, and binds the rest.
    if (this.perBatch.classes === undefined) this.perBatch = { ...this.perBatch, classes: result.classes };
  }

  /** The reduced loss over every batch added. */
  result(): number {
    if (this.reduction === 'sum') return this.sum.value;
    const d = this.denominator.value;
    if (d === 0) return this.onAllIgnored === 'zero' ? 0 : NaN;
    return this.sum.value / d;
  }
}
