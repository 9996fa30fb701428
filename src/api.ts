// The Xentropy facade: each method is one plan and one run of its operation (ops/), on this instance's
// driver. Nothing here stages rows or chooses kernels.

import { featuresOf, type Features } from './engine/builds.js';
import type { Driver, Resident, ResidentDtype } from './engine/driver.js';
import {
  allocResident, describe, residentFrom, type FloatValues, type ResidentOptions, type IndexTarget, type LossAndGrad, type ReducedLoss, type Reduction,
  type TensorLike, type TensorOptions,
} from './ops/common.js';
import {
  planBinaryCrossEntropy, runBinaryCrossEntropy,
  type BinaryCrossEntropyGradOptions, type BinaryCrossEntropyOptions, type BinaryTargetInput,
} from './ops/binary_cross_entropy.js';
import {
  crossEntropyOver, perplexityOf, planCrossEntropy, planPerplexity, runCrossEntropy,
  type CrossEntropyBatch, type CrossEntropyGradOptions, type CrossEntropyOptions, type CrossEntropyOverOptions,
  type PerplexityOptions, type PerplexityResult,
} from './ops/cross_entropy.js';
import { planEntropy, runEntropy, type EntropyOptions, type EntropyReduction } from './ops/entropy.js';
import {
  planJsDivergence, planKlDivergence, runJsDivergence, runKlDivergence,
  type DivergenceReduction, type JsDivergenceOptions, type KlDivergenceGradOptions, type KlDivergenceOptions,
} from './ops/kl_divergence.js';
import { planRows, runLogSumExp, runRows, type RowOptions } from './ops/row_ops.js';
import type { Scorer, ScorerOptions, ScorerState } from './ops/scorer.js';
import type {
  BinaryScorer, MultilabelScorer, BinaryScorerOptions, BinaryScorerState, MultilabelScorerOptions, MultilabelScorerState,
} from './ops/binary_scorer.js';

export type { LossAndGrad };

// Each method with a reduction has one generic overload: R, the reduction's type, is inferred from the
// options (a literal, a union, or the default when absent), and the result is ReducedLoss<R, Float32Array>:
// a Float32Array for 'none', a number otherwise, their union for a union. The implementation signature
// below it is not visible to callers. Loss-only methods take options without gradOut.

/**
 * @internal The scorer classes an instance creates: each entry point hands them to its instances,
 * loaded with the rest of the library, or on first use where a runtime can load code synchronously
 * later (src/node.ts).
 */
export interface ScorerClasses {
  readonly Scorer: typeof Scorer;
  readonly BinaryScorer: typeof BinaryScorer;
  readonly MultilabelScorer: typeof MultilabelScorer;
}

/** An initialised xentropy instance: every function computes in WebAssembly. */
export class Xentropy {
  /** @internal */
  readonly driver: Driver;

  readonly #scorers: () => ScorerClasses;

  /** The build these kernels were compiled as, and the instruction sets it uses. */
  readonly features: Readonly<Features>;

  /** @internal Use `init` or `initSync`. */
  constructor(driver: Driver, scorers: () => ScorerClasses) {
    this.driver = driver;
    this.#scorers = scorers;
    this.features = Object.freeze(featuresOf(driver.kernels.buildFeatures()));
  }

  /**
   * log-softmax over the last axis: out[r, c] = z[r, c] - log sum_k exp(z[r, k]).
   * @param logits row-major [N, classes] Float32Array (or any float input, a tensor, a resident buffer)
   * @param classes C, a positive integer dividing logits.length; a tensor's last dimension when left out
   * @param out optional Float32Array of logits.length (may be logits itself, for in place, when float32)
   * @param options dtype: what a Uint16Array of logits holds ('float16' or 'bfloat16' bits)
   * @returns out, or a new Float32Array
   * @throws TypeError for an input that is not a float array; RangeError for a bad classes, length or out
   */
  logSoftmax(logits: FloatValues, classes: number, out?: Float32Array | Resident, options?: RowOptions): Float32Array;
  logSoftmax(logits: TensorLike, classes?: number, out?: Float32Array | Resident, options?: RowOptions): Float32Array;
  logSoftmax(logits: FloatValues | TensorLike, classes?: number, out?: Float32Array | Resident, options?: RowOptions): Float32Array {
    return runRows(this.driver, 'logSoftmax', planRows(logits, classes, out, false, false, options, 'logSoftmax'));
  }

  /**
   * softmax over the last axis: out[r, c] = exp(z[r, c]) / sum_k exp(z[r, k]), max-shifted.
   * Shapes, `out` and errors as logSoftmax.
   */
  softmax(logits: FloatValues, classes: number, out?: Float32Array | Resident, options?: RowOptions): Float32Array;
  softmax(logits: TensorLike, classes?: number, out?: Float32Array | Resident, options?: RowOptions): Float32Array;
  softmax(logits: FloatValues | TensorLike, classes?: number, out?: Float32Array | Resident, options?: RowOptions): Float32Array {
    return runRows(this.driver, 'softmax', planRows(logits, classes, out, false, false, options, 'softmax'));
  }

  /**
   * log-sum-exp of each row: out[r] = log sum_c exp(z[r, c]), computed as m + log sum exp(z - m).
   * @param out optional Float32Array of N = logits.length / classes
   * @returns out, or a new Float32Array of N values
   */
  logSumExp(logits: FloatValues, classes: number, out?: Float32Array | Resident, options?: RowOptions): Float32Array;
  logSumExp(logits: TensorLike, classes?: number, out?: Float32Array | Resident, options?: RowOptions): Float32Array;
  logSumExp(logits: FloatValues | TensorLike, classes?: number, out?: Float32Array | Resident, options?: RowOptions): Float32Array {
    return runLogSumExp(this.driver, planRows(logits, classes, out, true, false, options, 'logSumExp'));
  }

  /**
   * A resident buffer of `length` float32 zeros in this instance's WebAssembly memory. Every
   * softmax-family and crossEntropy function reads it as input, and writes it as `out` / `gradOut`,
   * without copying. Call `free()` when done.
   * With `{ dtype: 'float16' | 'bfloat16' }`, the buffer holds half bit patterns (its `array` is a
   * Uint16Array), read as input only and widened to float32 window by window where it lies.
   * @throws RangeError for a length that is not a non-negative integer, or when memory cannot grow
   */
  alloc(length: number): Resident;
  alloc<D extends ResidentDtype>(length: number, options: ResidentOptions<D>): Resident<D>;
  alloc(length: number, options?: ResidentOptions): Resident<ResidentDtype> {
    return allocResident(this.driver, length, options);
  }

  /**
   * A resident buffer holding a copy of `values` (see alloc); with a half dtype, `values` is a
   * Uint16Array of that dtype's bit patterns, copied as they are.
   */
  tensor(values: ArrayLike<number>): Resident;
  tensor<D extends ResidentDtype>(values: ArrayLike<number>, options: ResidentOptions<D>): Resident<D>;
  tensor(values: ArrayLike<number>, options?: ResidentOptions): Resident<ResidentDtype> {
    return residentFrom(this.driver, values, options);
  }

  /**
   * Cross-entropy between logits and targets, PyTorch's F.cross_entropy with the class axis last.
   *
   * Row loss: -sum_c a_c log softmax(z)_c, where a = (1 - eps) y + eps / C scaled by class weights
   * (y one-hot for class indices, or the given probabilities). 'mean' divides by sum of w_y over
   * counted rows for indices (NaN when none are counted), by N for probabilities.
   *
   * @param input row-major [N, classes] Float32Array of logits, a resident buffer, or a tensor object
   *   ({ data, dims } as onnxruntime and transformers.js give, { data, shape }, a TensorFlow.js tensor)
   * @param target N class indices (Int32Array, Uint8Array, Uint16Array, Uint32Array, BigInt64Array,
   *   number[] or an integer tensor), or a Float32Array of N * classes probabilities
   * @param options classes (required, but for a tensor input: its last dimension), reduction, weight,
   *   ignoreIndex, labelSmoothing, from ('logits' | 'probs' | 'logProbs'), epsilon (clip for 'probs',
   *   default 1e-7), unit ('nats' | 'bits'), onAllIgnored ('nan' | 'zero'), spatial, sampleWeight, zLoss,
   *   softcap, focal; for language models shift, attentionMask and sequenceLength (see perplexity)
   * @returns a number, or a Float32Array of N row losses for reduction 'none' (ignored rows 0)
   * @throws TypeError / RangeError before any computation, naming the argument and value
   */
  crossEntropy<R extends Reduction = 'mean'>(input: FloatValues, target: IndexTarget | Float32Array | TensorLike, options: CrossEntropyOptions & { reduction?: R }): ReducedLoss<R, Float32Array>;
  crossEntropy<R extends Reduction = 'mean'>(input: TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyOptions> & { reduction?: R }): ReducedLoss<R, Float32Array>;
  crossEntropy(input: FloatValues | TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyOptions>): number | Float32Array {
    const plan = planCrossEntropy('crossEntropy', input, target, options, false, true);
    return runCrossEntropy(this.driver, plan, false).loss;
  }

  /**
   * Cross-entropy and its gradient with respect to the input in one pass. For logits,
   * grad[r] = scale (sum_c a_c softmax(z_r) - a_r); for log-probabilities -scale a_r; for probabilities
   * -scale a_r / q_r inside the clip and 0 outside. scale = 1 / denominator for 'mean', 1 for 'sum' and
   * 'none' (the gradient of the sum of row losses), divided by ln 2 for bits; ignored rows get 0.
   * options.gradOut receives the gradient when given and may be `input` itself (in place).
   * Arguments, result and errors as crossEntropy.
   */
  crossEntropyWithGrad<R extends Reduction = 'mean'>(input: FloatValues, target: IndexTarget | Float32Array | TensorLike, options: CrossEntropyGradOptions & { reduction?: R }): LossAndGrad<ReducedLoss<R, Float32Array>>;
  crossEntropyWithGrad<R extends Reduction = 'mean'>(input: TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyGradOptions> & { reduction?: R }): LossAndGrad<ReducedLoss<R, Float32Array>>;
  crossEntropyWithGrad(input: FloatValues | TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyGradOptions>): LossAndGrad<number | Float32Array> {
    const plan = planCrossEntropy('crossEntropyWithGrad', input, target, options, true, true);
    return runCrossEntropy(this.driver, plan, true);
  }

  /**
   * Perplexity of a language model's outputs: the per-token cross-entropy of `logits` ([B, T, V], a
   * tensor or a flat Float32Array with options.sequenceLength = T) against token `ids` ([B, T]),
   * averaged per sequence and over the corpus (token-weighted: exp of the mean NLL over every counted
   * token). With `shift` (causal LMs), position t predicts token t + 1; `attentionMask` and ids equal
   * to ignoreIndex are not counted. A sequence with no counted token has perplexity NaN.
   * @throws TypeError / RangeError as crossEntropy
   */
  perplexity(logits: FloatValues | TensorLike, ids: IndexTarget | TensorLike, options?: PerplexityOptions): PerplexityResult {
    const plan = planPerplexity(logits, ids, options, true);
    return perplexityOf(plan, runCrossEntropy(this.driver, plan, false).loss as Float32Array);
  }

  /**
   * Cross-entropy over a sequence of row batches, for inputs larger than one call or than wasm's
   * 4 GiB memory: each batch runs through the streaming window, so memory stays bounded whatever the
   * total, and the result equals crossEntropy over the concatenated rows (to f64 rounding of the
   * batch sums, which are added with Neumaier compensation). 'mean' divides the total by the summed
   * denominators of all batches, exactly as one call would.
   *
   * @param batches an iterable (array, generator) of { input, target, sampleWeight? }, each as
   *   crossEntropy's input, target and options.sampleWeight
   * @param options as crossEntropy, less sampleWeight and gradOut; reduction 'mean' (default) or 'sum'
   * @returns the reduced loss
   * @throws TypeError / RangeError as crossEntropy, the message prefixed with the batch index; the
   *   batches before a bad one have been consumed
   */
  crossEntropyOver(batches: Iterable<CrossEntropyBatch>, options: CrossEntropyOverOptions): number {
    const accumulator = crossEntropyOver(this.driver, options);
    if (batches === null || typeof (batches as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`batches must be an iterable of { input, target }, got ${describe(batches)}`);
    }
    for (const batch of batches) accumulator.add(batch);
    return accumulator.result();
  }

  /**
   * crossEntropyOver for batches that arrive asynchronously: an async iterable (a stream reader, an
   * async generator reading a file) or a plain iterable of batches or promises of batches.
   * Arguments, result and errors as crossEntropyOver.
   */
  async crossEntropyOverAsync(
    batches: AsyncIterable<CrossEntropyBatch> | Iterable<CrossEntropyBatch | PromiseLike<CrossEntropyBatch>>,
    options: CrossEntropyOverOptions,
  ): Promise<number> {
    const accumulator = crossEntropyOver(this.driver, options);
    const iterable = batches as Partial<AsyncIterable<unknown> & Iterable<unknown>> | null;
    if (typeof iterable?.[Symbol.asyncIterator] !== 'function' && typeof iterable?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`batches must be an iterable or async iterable of { input, target }, got ${describe(batches)}`);
    }
    for await (const batch of batches) accumulator.add(batch);
    return accumulator.result();
  }

  /**
   * Binary cross-entropy of each element, PyTorch's F.binary_cross_entropy_with_logits (from 'logits',
   * the default) or F.binary_cross_entropy / Keras's binary_crossentropy (from 'probs'). Element i of
   * the row-major [N, C] input, with c = i mod C, t = target (1 - eps) + eps / 2, w = weight[c] and
   * pw = posWeight[c] (1 when absent):
   *
   *   logits x: -w [pw t log sigma(x) + (1 - t) log(1 - sigma(x))]
   *             = w [(1 - t) x + (1 + (pw - 1) t)(log(1 + e^-|x|) + max(-x, 0))]
   *   probs p:  -w [t log p' + (1 - t) log(1 - p')],  p' = clip(p, epsilon, 1 - epsilon)
   *
   * 'mean' divides the sum by N·C (NaN when empty), as PyTorch; 'bits' divides by ln 2.
   *
   * @param input Float32Array (or resident buffer) of N·C logits, or probabilities in [0, 1] with from
   *   'probs'
   * @param target same length: a Float32Array (or resident buffer) of (soft) targets in [0, 1], or a
   *   Uint8Array of 0/1
   * @param options classes (default 1), from ('logits'), weight, posWeight (logits only),
   *   labelSmoothing (0), epsilon (1e-7, probs only), reduction ('mean'), unit ('nats'),
   *   focal ({ gamma = 2, alpha = 0.25 }: each element's loss times alpha_t (1 - p_t)^gamma, torchvision's
   *   sigmoid_focal_loss)
   * @returns a number, or a Float32Array of N·C element losses for reduction 'none'
   * @throws TypeError for a wrong type, an unknown option, or posWeight with 'probs' / epsilon with
   *   'logits'; RangeError for a wrong length, a target or probability outside [0, 1] or NaN, a negative
   *   or non-finite weight, epsilon outside (0, 0.5), focal gamma < 0 or alpha outside [0, 1], focal with
   *   posWeight, before any output is written (the element ranges are scanned in WebAssembly, the
   *   error raised by the same JavaScript check as the reference's)
   */
  binaryCrossEntropy<R extends Reduction = 'mean'>(input: FloatValues | TensorLike, target: BinaryTargetInput | Resident | TensorLike, options?: BinaryCrossEntropyOptions & { reduction?: R }): ReducedLoss<R, Float32Array>;
  binaryCrossEntropy(input: FloatValues | TensorLike, target: BinaryTargetInput | Resident | TensorLike, options?: BinaryCrossEntropyOptions): number | Float32Array {
    const plan = planBinaryCrossEntropy('binaryCrossEntropy', input, target, options, false, true);
    return runBinaryCrossEntropy(this.driver, plan, false).loss;
  }

  /**
   * binaryCrossEntropy and its gradient with respect to the input in one pass:
   *   logits: scale w [(1 + (pw - 1) t) sigma(x) - pw t]  (w (sigma(x) - t) without posWeight)
   *   probs:  scale w (p - t) / (p (1 - p)) for epsilon <= p <= 1 - epsilon, 0 where the clip is active
   * scale = 1 / (N·C) for 'mean', 1 for 'sum' and 'none' (the gradient of the sum), divided by ln 2 for
   * bits. options.gradOut (a Float32Array or resident buffer) receives the gradient when given and may
   * be `input` itself (in place). Arguments, loss and errors as binaryCrossEntropy.
   */
  binaryCrossEntropyWithGrad<R extends Reduction = 'mean'>(input: FloatValues | TensorLike, target: BinaryTargetInput | Resident | TensorLike, options?: BinaryCrossEntropyGradOptions & { reduction?: R }): LossAndGrad<ReducedLoss<R, Float32Array>>;
  binaryCrossEntropyWithGrad(input: FloatValues | TensorLike, target: BinaryTargetInput | Resident | TensorLike, options?: BinaryCrossEntropyGradOptions): LossAndGrad<number | Float32Array> {
    const plan = planBinaryCrossEntropy('binaryCrossEntropyWithGrad', input, target, options, true, true);
    return runBinaryCrossEntropy(this.driver, plan, true);
  }

  /**
   * Shannon entropy of each row of a distribution: H(p) = -sum_c p_c log p_c, with 0 log 0 = 0.
   * With from 'logits', p = softmax(z) and H = lse - sum_c p_c z_c, computed without cancellation as
   * log s + sum_c e_c (m - z_c) / s (m the row maximum, e_c = exp(z_c - m), s = sum_c e_c); a row whose
   * log-sum-exp is not finite gives NaN.
   *
   * @param p row-major [N, classes] Float32Array (or resident buffer): probabilities in [0, 1] (rows
   *   are not required to sum to 1), or logits with from 'logits'
   * @param classes C, a positive integer dividing p.length; a tensor's last dimension when left out
   * @param options from ('probs' | 'logits', default 'probs'), reduction ('none' | 'mean' | 'sum',
   *   default 'none'; 'mean' is over rows, NaN when N = 0), unit ('nats' | 'bits', default 'nats')
   * @returns a Float32Array of N entropies for 'none', else a number
   * @throws TypeError for a non-Float32Array, a wrong option type or an unknown option; RangeError for a
   *   bad classes or length, an unknown option value, or (from 'probs') p[i] outside [0, 1] or NaN
   */
  entropy<R extends EntropyReduction = 'none'>(p: FloatValues, classes: number, options?: EntropyOptions & { reduction?: R }): ReducedLoss<R, Float32Array>;
  entropy<R extends EntropyReduction = 'none'>(p: TensorLike, classes?: number, options?: EntropyOptions & { reduction?: R }): ReducedLoss<R, Float32Array>;
  entropy(p: FloatValues | TensorLike, classes?: number, options?: EntropyOptions): number | Float32Array {
    return runEntropy(this.driver, planEntropy(p, classes, options, true));
  }

  /**
   * Kullback-Leibler divergence of each row, KL(p || q) = sum_c p_c (log p_c - log q_c), the term
   * being 0 wherever p_c = 0; PyTorch's F.kl_div(log q, p) with the class axis last.
   *
   * log q comes from options.from: 'probs' (default) log max(q, epsilon), epsilon default 0 (no clip);
   * 'logProbs' q itself (F.kl_div's input); 'logits' log softmax(z) (a row whose log-sum-exp is not
   * finite gives NaN). With logTarget, p is given as log p (F.kl_div's log_target).
   * Reductions as F.kl_div: 'batchmean' (default) sum / N, 'mean' sum / (N C), 'sum', 'none'.
   *
   * @param p row-major [N, classes] Float32Array (or resident buffer) of probabilities in [0, 1], or
   *   of log-probabilities in [-inf, 0] with logTarget
   * @param q Float32Array (or resident buffer) of p.length: probabilities in [0, 1], logits or
   *   log-probabilities
   * @param classes C, a positive integer dividing p.length; a tensor's last dimension when left out
   * @param options from, logTarget (false), epsilon (0, from 'probs' only, in [0, 1]),
   *   reduction ('batchmean'), unit ('nats' | 'bits')
   * @returns a number, or a Float32Array of N divergences for reduction 'none'
   * @throws TypeError for a non-Float32Array, a wrong option type or an unknown option; RangeError for a
   *   bad classes or length, an unknown option value, epsilon outside [0, 1] or with another from, p[i]
   *   (or q[i] with from 'probs') outside [0, 1] or NaN, log p[i] above 0 or NaN with logTarget
   */
  klDivergence<R extends DivergenceReduction = 'batchmean'>(p: FloatValues, q: FloatValues, classes: number, options?: KlDivergenceOptions & { reduction?: R }): ReducedLoss<R, Float32Array>;
  klDivergence<R extends DivergenceReduction = 'batchmean'>(p: TensorLike, q: FloatValues | TensorLike, classes?: number, options?: KlDivergenceOptions & { reduction?: R }): ReducedLoss<R, Float32Array>;
  klDivergence<R extends DivergenceReduction = 'batchmean'>(p: FloatValues, q: TensorLike, classes?: number, options?: KlDivergenceOptions & { reduction?: R }): ReducedLoss<R, Float32Array>;
  klDivergence(p: FloatValues | TensorLike, q: FloatValues | TensorLike, classes?: number, options?: KlDivergenceOptions): number | Float32Array {
    return runKlDivergence(this.driver, planKlDivergence('klDivergence', p, q, classes, options, false, true), false).loss;
  }

  /**
   * klDivergence and its gradient with respect to q in its given form, in one pass:
   *   logits:   scale (P softmax(z) - p),  P = sum_c p_c
   *   logProbs: -scale p
   *   probs:    -scale p / q where q >= epsilon and p > 0, else 0 (the clip is flat there)
   * scale = 1 / N for 'batchmean', 1 / (N C) for 'mean', 1 for 'sum' and 'none' (the gradient of the
   * sum of row divergences), divided by ln 2 for bits. options.gradOut receives the gradient when
   * given and may be q itself (in place), but not overlap p. Arguments, loss and errors as klDivergence.
   */
  klDivergenceWithGrad<R extends DivergenceReduction = 'batchmean'>(p: FloatValues, q: FloatValues, classes: number, options?: KlDivergenceGradOptions & { reduction?: R }): LossAndGrad<ReducedLoss<R, Float32Array>>;
  klDivergenceWithGrad<R extends DivergenceReduction = 'batchmean'>(p: TensorLike, q: FloatValues | TensorLike, classes?: number, options?: KlDivergenceGradOptions & { reduction?: R }): LossAndGrad<ReducedLoss<R, Float32Array>>;
  klDivergenceWithGrad<R extends DivergenceReduction = 'batchmean'>(p: FloatValues, q: TensorLike, classes?: number, options?: KlDivergenceGradOptions & { reduction?: R }): LossAndGrad<ReducedLoss<R, Float32Array>>;
  klDivergenceWithGrad(p: FloatValues | TensorLike, q: FloatValues | TensorLike, classes?: number, options?: KlDivergenceGradOptions): LossAndGrad<number | Float32Array> {
    const plan = planKlDivergence('klDivergenceWithGrad', p, q, classes, options, true, true);
    return runKlDivergence(this.driver, plan, true);
  }

  /**
   * Jensen-Shannon divergence of each row: JS(p, q) = KL(p || m) / 2 + KL(q || m) / 2, m = (p + q) / 2,
   * each half 0 where its probability is 0; symmetric, and within [0, ln 2] nats for distributions.
   *
   * @param p row-major [N, classes] Float32Array (or resident buffer) of probabilities in [0, 1], or
   *   logits with from 'logits'
   * @param q Float32Array (or resident buffer) of p.length, in the same form as p
   * @param classes C, a positive integer dividing p.length; a tensor's last dimension when left out
   * @param options from ('probs' | 'logits', default 'probs', for both), reduction ('batchmean' default,
   *   'sum', 'mean', 'none' as klDivergence), unit ('nats' | 'bits')
   * @returns a number, or a Float32Array of N divergences for reduction 'none'
   * @throws TypeError / RangeError as klDivergence (p[i] or q[i] outside [0, 1] with from 'probs')
   */
  jsDivergence<R extends DivergenceReduction = 'batchmean'>(p: FloatValues, q: FloatValues, classes: number, options?: JsDivergenceOptions & { reduction?: R }): ReducedLoss<R, Float32Array>;
  jsDivergence<R extends DivergenceReduction = 'batchmean'>(p: TensorLike, q: FloatValues | TensorLike, classes?: number, options?: JsDivergenceOptions & { reduction?: R }): ReducedLoss<R, Float32Array>;
  jsDivergence<R extends DivergenceReduction = 'batchmean'>(p: FloatValues, q: TensorLike, classes?: number, options?: JsDivergenceOptions & { reduction?: R }): ReducedLoss<R, Float32Array>;
  jsDivergence(p: FloatValues | TensorLike, q: FloatValues | TensorLike, classes?: number, options?: JsDivergenceOptions): number | Float32Array {
    return runJsDivergence(this.driver, planJsDivergence(p, q, classes, options, true));
  }

  /**
   * A one-pass, mergeable evaluator of a classifier or a language model. Feed it with
   * `update(logits, labels, bytes?)` or `update(logits, labels, { bytes, attentionMask })` (tensors
   * taken) as often as needed; `result()` then gives, over the rows counted:
   * - the mean loss −log p_y in nats and bits, perplexity exp(loss), bits per token (and bits per byte
   *   when every update gave the number of bytes its rows encode);
   * - accuracy (arg-max, first on ties) and top-k accuracy for each k of topK (a hit when fewer than k
   *   classes score strictly above the label);
   * - the Brier score, the mean of sum_c (p_c − [c = y])^2;
   * - expected and maximum calibration error of the top-label confidence p_max over `bins` equal-width
   *   bins of [0, 1]: ECE = sum_b (n_b / N) |acc_b − conf_b|, MCE = max_b |acc_b − conf_b|;
   * - with perSequence, each sequence's loss, perplexity and tokens (as `perplexity` gives them).
   * Each update runs one WebAssembly pass over each row (streamed through the scratch window); the
   * state is O(bins + topK.length) float64 sums and counts, so scorers of disjoint shards combine with
   * `merge`, across workers or processes through the JSON-serialisable `state()` and
   * `scorerFromState`.
   *
   * @param options classes (required, at least 2), topK (default [1, 5] less the k >= classes:
   *   distinct positive integers below classes), bins (default 15), ignoreIndex (default -100), from
   *   ('logits' default, 'probs', 'logProbs'), epsilon (from 'probs' only: the loss clips q_y to
   *   [epsilon, 1 − epsilon], default 1e-7), unit ('nats' | 'bits', the unit of result().loss); for
   *   causal language models shift, sequenceLength and perSequence
   * @returns a new, empty Scorer bound to this instance
   * @throws TypeError for a wrong option type or an unknown option; RangeError for classes, topK or
   *   bins that are not positive integers, classes 1 (score it with binaryCrossEntropy), a k >= classes,
   *   or an unknown option value
   */
  scorer(options: ScorerOptions): Scorer {
    return this.#scorers().Scorer.create(this.driver, options);
  }

  /**
   * Rebuilds a scorer from `scorer.state()` (for instance after JSON.stringify and JSON.parse in
   * another worker), bound to this instance. Same as `Scorer.fromState(xe, state)`.
   * @throws TypeError / RangeError for a malformed state, naming the field and value
   */
  scorerFromState(state: ScorerState): Scorer {
    return this.#scorers().Scorer.restore(this.driver, state);
  }
  /**
   * A one-pass, mergeable evaluator of a binary classifier (docs/evaluation.md, "Binary and multilabel
   * models"). Feed it with `update(scores, labels, { sampleWeight }?)`; `result()` gives the log loss,
   * Brier score, accuracy, precision, recall and F1 at `threshold`, ROC AUC and average precision, the
   * ROC and precision-recall curves, and ECE, MCE and RMSCE.
   *
   * @param options from ('logits' default, 'probs'), threshold (0.5: a row is positive when p >=
   *   threshold), thresholds ('exact' default: keeps the rows; or k: a k-bin histogram, O(k) state, with
   *   error bounds on AUC and AP), bins (15), binning ('uniform', or 'quantile' with 'exact'), epsilon
   *   (from 'probs' only, 1e-7), unit ('nats' | 'bits')
   * @throws TypeError / RangeError for a wrong option type or value, naming it
   */
  binaryScorer(options?: BinaryScorerOptions): BinaryScorer {
    return this.#scorers().BinaryScorer.create(options);
  }

  /** Rebuilds a binary scorer from `state()`. @throws TypeError / RangeError for a malformed or inconsistent state */
  binaryScorerFromState(state: BinaryScorerState): BinaryScorer {
    return this.#scorers().BinaryScorer.fromState(state);
  }

  /**
   * A one-pass, mergeable evaluator of a multilabel classifier: the binary scorer's metrics for each of
   * `labels` labels, with macro, support-weighted and micro averages. Updates take row-major [N, L]
   * scores and targets and N sample weights.
   * @param options labels (required), and the binary scorer's options
   */
  multilabelScorer(options: MultilabelScorerOptions): MultilabelScorer {
    return this.#scorers().MultilabelScorer.create(options);
  }

  /** Rebuilds a multilabel scorer from `state()`. @throws as binaryScorerFromState */
  multilabelScorerFromState(state: MultilabelScorerState): MultilabelScorer {
    return this.#scorers().MultilabelScorer.fromState(state);
  }
}
