// The WebAssembly backend: validated calls, streamed through the driver's scratch window in row chunks.

import { featuresOf, type Features } from './builds.js';
import { BatchAccumulator, type CrossEntropyBatch, type CrossEntropyOverOptions } from './batches.js';
import { ownResident, Resident, type Driver } from './driver.js';
import { startScan } from './element_checks.js';
import { planEntropy, runEntropy, type EntropyOptions } from './entropy.js';
import {
  planJsDivergence, planKlDivergence, runJsDivergence, runKlDivergence,
  type JsDivergenceOptions, type KlDivergenceGradOptions, type KlDivergenceOptions,
} from './kl_divergence.js';
import {
  planBinaryCrossEntropy, runBinaryCrossEntropy, type BinaryCrossEntropyOptions, type BinaryTarget,
} from './binary_cross_entropy.js';
import { Scorer, type ScorerOptions, type ScorerState } from './scorer.js';
import {
  describe, planCrossEntropy, planRows,
  type CrossEntropyOptions, type CrossEntropyPlan, type IndexTarget,
} from './validate.js';

/**
 * @internal
 * Bytes of input staged per kernel call. Large enough that call overhead vanishes, small enough that a
 * chunk stays in L2 between the copy and the kernel; a row larger than this is staged alone.
 */
export const WINDOW_BYTES = 256 * 1024;

/**
 * @internal
 * Rows per staged chunk for rows of `classes` floats. The chunks also fix the order of every batch
 * sum, whatever the path (copied or resident input): each kernel call sums its chunk's rows in f64,
 * and the chunk sums are added in row order. The pool (src/pool.ts) computes the same chunk sums on
 * its workers and adds them in the same order, which makes its results bit-identical to one thread.
 */
export function chunkRows(classes: number): number {
  return Math.max(1, Math.floor(WINDOW_BYTES / (classes * 4)));
}

/**
 * @internal
 * Bytes a copy window reaches: glibc's memmove on AMD stops using `rep movsb` at the L2 size (1 MiB
 * as this VM reports it; glibc sysdeps/x86/dl-cacheinfo.h, rep_movsb_stop_threshold), and its vector
 * loop copies a window out to a cold typed array ~2x faster here (bench/copy-windows.js).
 */
export const STREAM_BYTES = 1024 * 1024;

/**
 * @internal
 * Rows per copy window: the fewest whole blocks of chunkRows(classes) rows that reach STREAM_BYTES.
 * A window is staged and copied out in one piece, and its blocks are still summed one kernel call
 * each, so the sums and their order do not depend on the window.
 */
export function windowRows(classes: number): number {
  const per = chunkRows(classes);
  return per * Math.ceil(STREAM_BYTES / (per * classes * 4));
}

/** Result of crossEntropyWithGrad. */
export interface LossAndGrad<L> {
  /** The reduced loss (a number), or one loss per row for reduction 'none'. */
  loss: L;
  /** dLoss/dInput, same length as the input; options.gradOut when given. */
  grad: Float32Array;
}

/** An initialised xentropy instance: every function computes in WebAssembly. */
export class Xentropy {
  /** @internal */
  readonly driver: Driver;

  /** The build these kernels were compiled as, and the instruction sets it uses. */
  readonly features: Readonly<Features>;

  /** @internal Use `init` or `initSync`. */
  constructor(driver: Driver) {
    this.driver = driver;
    this.features = Object.freeze(featuresOf(driver.kernels.buildFeatures()));
  }

  /**
   * log-softmax over the last axis: out[r, c] = z[r, c] - log sum_k exp(z[r, k]).
   * @param logits row-major [N, classes] Float32Array
   * @param classes C, a positive integer dividing logits.length
   * @param out optional Float32Array of logits.length (may be logits itself, for in place)
   * @returns out, or a new Float32Array
   * @throws TypeError for a non-Float32Array; RangeError for a bad classes, length or out
   */
  logSoftmax(logits: Float32Array | Resident, classes: number, out?: Float32Array | Resident): Float32Array {
    return this.rowwise(this.driver.kernels.logSoftmax, planRows(logits, classes, out, false));
  }

  /**
   * softmax over the last axis: out[r, c] = exp(z[r, c]) / sum_k exp(z[r, k]), max-shifted.
   * Shapes, `out` and errors as logSoftmax.
   */
  softmax(logits: Float32Array | Resident, classes: number, out?: Float32Array | Resident): Float32Array {
    return this.rowwise(this.driver.kernels.softmax, planRows(logits, classes, out, false));
  }

  /**
   * log-sum-exp of each row: out[r] = log sum_c exp(z[r, c]), computed as m + log sum exp(z - m).
   * @param out optional Float32Array of N = logits.length / classes
   * @returns out, or a new Float32Array of N values
   */
  logSumExp(logits: Float32Array | Resident, classes: number, out?: Float32Array | Resident): Float32Array {
    const plan = planRows(logits, classes, out, true);
    const { input, rows, classes: c } = plan;
    const inRes = this.own('logits', plan.inputResident), outRes = this.own('out', plan.outResident);
    const result = outRes ? null : plan.out ?? new Float32Array(rows);
    const d = this.driver;
    const per = Math.min(chunkRows(c), rows);
    const [src, dst] = d.reserve(inRes ? 0 : per * c * 4, outRes ? 0 : per * 4);
    for (let r0 = 0; r0 < rows; r0 += per) {
      const n = Math.min(per, rows - r0);
      if (!inRes) d.f32(src, n * c).set(input.subarray(r0 * c, (r0 + n) * c));
      const to = outRes ? outRes.ptr + r0 * 4 : dst;
      d.kernels.logSumExp(inRes ? inRes.ptr + r0 * c * 4 : src, to, n, c);
      if (result) result.set(d.f32(dst, n), r0);
    }
    return outRes ? outRes.array : result!;
  }

  /**
   * A resident buffer of `length` float32 zeros in this instance's WebAssembly memory. Every
   * softmax-family and crossEntropy function reads it as input, and writes it as `out` / `gradOut`,
   * without copying. Call `free()` when done.
   * @throws RangeError for a length that is not a non-negative integer, or when memory cannot grow
   */
  alloc(length: number): Resident {
    if (typeof length !== 'number') throw new TypeError(`length must be a number, got ${describe(length)}`);
    if (!Number.isInteger(length) || length < 0 || length > 2 ** 30) {
      throw new RangeError(`length must be an integer in [0, 2^30], got ${describe(length)}`);
    }
    const resident = new Resident(this.driver, length);
    resident.array.fill(0);
    return resident;
  }

  /** A resident buffer holding a copy of `values` (see alloc). */
  tensor(values: ArrayLike<number>): Resident {
    if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<number>).length !== 'number') {
      throw new TypeError(`values must be an array or typed array, got ${describe(values)}`);
    }
    return this.alloc(values.length).set(values);
  }

  /** Checks a resident argument belongs to this instance (it is an address in this memory only). */
  private own(name: string, resident: Resident | null): Resident | null {
    return ownResident(this.driver, name, resident);
  }

  /**
   * Cross-entropy between logits and targets, PyTorch's F.cross_entropy with the class axis last.
   *
   * Row loss: -sum_c a_c log softmax(z)_c, where a = (1 - eps) y + eps / C scaled by class weights
   * (y one-hot for class indices, or the given probabilities). 'mean' divides by sum of w_y over
   * counted rows for indices (NaN when none are counted), by N for probabilities.
   *
   * @param input row-major [N, classes] Float32Array of logits
   * @param target N class indices (Int32Array, Uint8Array, Uint16Array, Uint32Array, number[]),
   *   or a Float32Array of N * classes probabilities
   * @param options classes (required), reduction, weight, ignoreIndex, labelSmoothing, from
   *   ('logits' | 'probs' | 'logProbs'), epsilon (clip for 'probs', default 1e-7), unit ('nats' | 'bits'),
   *   onAllIgnored ('nan' | 'zero')
   * @returns a number, or a Float32Array of N row losses for reduction 'none' (ignored rows 0)
   * @throws TypeError / RangeError before any computation, naming the argument and value
   */
  crossEntropy(input: Float32Array | Resident, target: IndexTarget | Float32Array, options: CrossEntropyOptions & { reduction: 'none' }): Float32Array;
  crossEntropy(input: Float32Array | Resident, target: IndexTarget | Float32Array, options: CrossEntropyOptions): number;
  crossEntropy(input: Float32Array | Resident, target: IndexTarget | Float32Array, options: CrossEntropyOptions): number | Float32Array {
    const plan = planCrossEntropy('crossEntropy', input, target, options, false, true);
    return this.runCrossEntropy(plan, false).loss;
  }

  /**
   * Cross-entropy and its gradient with respect to the input in one pass. For logits,
   * grad[r] = scale (sum_c a_c softmax(z_r) - a_r); for log-probabilities -scale a_r; for probabilities
   * -scale a_r / q_r inside the clip and 0 outside. scale = 1 / denominator for 'mean', 1 for 'sum' and
   * 'none' (the gradient of the sum of row losses), divided by ln 2 for bits; ignored rows get 0.
   * options.gradOut receives the gradient when given and may be `input` itself (in place).
   * Arguments, result and errors as crossEntropy.
   */
  crossEntropyWithGrad(input: Float32Array | Resident, target: IndexTarget | Float32Array, options: CrossEntropyOptions & { reduction: 'none' }): LossAndGrad<Float32Array>;
  crossEntropyWithGrad(input: Float32Array | Resident, target: IndexTarget | Float32Array, options: CrossEntropyOptions): LossAndGrad<number>;
  crossEntropyWithGrad(input: Float32Array | Resident, target: IndexTarget | Float32Array, options: CrossEntropyOptions): LossAndGrad<number | Float32Array> {
    const plan = planCrossEntropy('crossEntropyWithGrad', input, target, options, true, true);
    return this.runCrossEntropy(plan, true);
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
    const accumulator = new BatchAccumulator(options, (batch, o) => this.batchSum(batch, o));
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
    const accumulator = new BatchAccumulator(options, (batch, o) => this.batchSum(batch, o));
    const iterable = batches as Partial<AsyncIterable<unknown> & Iterable<unknown>> | null;
    if (typeof iterable?.[Symbol.asyncIterator] !== 'function' && typeof iterable?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`batches must be an iterable or async iterable of { input, target }, got ${describe(batches)}`);
    }
    for await (const batch of batches) accumulator.add(batch);
    return accumulator.result();
  }

  /** One batch of crossEntropyOver: its loss sum and 'mean' denominator. */
  private batchSum(batch: CrossEntropyBatch, options: CrossEntropyOptions): { sum: number; denominator: number } {
    const plan = planCrossEntropy('crossEntropyOver', batch.input, batch.target, options, false, true);
    return { sum: this.runCrossEntropy(plan, false).loss as number, denominator: plan.denominator };
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
  binaryCrossEntropy(input: Float32Array | Resident, target: BinaryTarget | Resident, options: BinaryCrossEntropyOptions & { reduction: 'none' }): Float32Array;
  binaryCrossEntropy(input: Float32Array | Resident, target: BinaryTarget | Resident, options?: BinaryCrossEntropyOptions): number;
  binaryCrossEntropy(input: Float32Array | Resident, target: BinaryTarget | Resident, options?: BinaryCrossEntropyOptions): number | Float32Array {
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
  binaryCrossEntropyWithGrad(input: Float32Array | Resident, target: BinaryTarget | Resident, options: BinaryCrossEntropyOptions & { reduction: 'none' }): LossAndGrad<Float32Array>;
  binaryCrossEntropyWithGrad(input: Float32Array | Resident, target: BinaryTarget | Resident, options?: BinaryCrossEntropyOptions): LossAndGrad<number>;
  binaryCrossEntropyWithGrad(input: Float32Array | Resident, target: BinaryTarget | Resident, options?: BinaryCrossEntropyOptions): LossAndGrad<number | Float32Array> {
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
   * @param classes C, a positive integer dividing p.length
   * @param options from ('probs' | 'logits', default 'probs'), reduction ('none' | 'mean' | 'sum',
   *   default 'none'; 'mean' is over rows, NaN when N = 0), unit ('nats' | 'bits', default 'nats')
   * @returns a Float32Array of N entropies for 'none', else a number
   * @throws TypeError for a non-Float32Array, a wrong option type or an unknown option; RangeError for a
   *   bad classes or length, an unknown option value, or (from 'probs') p[i] outside [0, 1] or NaN
   */
  entropy(p: Float32Array | Resident, classes: number, options?: EntropyOptions & { reduction?: 'none' }): Float32Array;
  entropy(p: Float32Array | Resident, classes: number, options: EntropyOptions & { reduction: 'mean' | 'sum' }): number;
  entropy(p: Float32Array | Resident, classes: number, options?: EntropyOptions): number | Float32Array;
  entropy(p: Float32Array | Resident, classes: number, options?: EntropyOptions): number | Float32Array {
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
   * @param classes C, a positive integer dividing p.length
   * @param options from, logTarget (false), epsilon (0, from 'probs' only, in [0, 1]),
   *   reduction ('batchmean'), unit ('nats' | 'bits')
   * @returns a number, or a Float32Array of N divergences for reduction 'none'
   * @throws TypeError for a non-Float32Array, a wrong option type or an unknown option; RangeError for a
   *   bad classes or length, an unknown option value, epsilon outside [0, 1] or with another from, p[i]
   *   (or q[i] with from 'probs') outside [0, 1] or NaN, log p[i] above 0 or NaN with logTarget
   */
  klDivergence(p: Float32Array | Resident, q: Float32Array | Resident, classes: number, options: KlDivergenceOptions & { reduction: 'none' }): Float32Array;
  klDivergence(p: Float32Array | Resident, q: Float32Array | Resident, classes: number, options?: KlDivergenceOptions): number;
  klDivergence(p: Float32Array | Resident, q: Float32Array | Resident, classes: number, options?: KlDivergenceOptions): number | Float32Array {
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
  klDivergenceWithGrad(p: Float32Array | Resident, q: Float32Array | Resident, classes: number, options: KlDivergenceGradOptions & { reduction: 'none' }): LossAndGrad<Float32Array>;
  klDivergenceWithGrad(p: Float32Array | Resident, q: Float32Array | Resident, classes: number, options?: KlDivergenceGradOptions): LossAndGrad<number>;
  klDivergenceWithGrad(p: Float32Array | Resident, q: Float32Array | Resident, classes: number, options?: KlDivergenceGradOptions): LossAndGrad<number | Float32Array> {
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
   * @param classes C, a positive integer dividing p.length
   * @param options from ('probs' | 'logits', default 'probs', for both), reduction ('batchmean' default,
   *   'sum', 'mean', 'none' as klDivergence), unit ('nats' | 'bits')
   * @returns a number, or a Float32Array of N divergences for reduction 'none'
   * @throws TypeError / RangeError as klDivergence (p[i] or q[i] outside [0, 1] with from 'probs')
   */
  jsDivergence(p: Float32Array | Resident, q: Float32Array | Resident, classes: number, options: JsDivergenceOptions & { reduction: 'none' }): Float32Array;
  jsDivergence(p: Float32Array | Resident, q: Float32Array | Resident, classes: number, options?: JsDivergenceOptions): number;
  jsDivergence(p: Float32Array | Resident, q: Float32Array | Resident, classes: number, options?: JsDivergenceOptions): number | Float32Array {
    return runJsDivergence(this.driver, planJsDivergence(p, q, classes, options, true));
  }

  /**
   * A one-pass, mergeable evaluator of a classifier. Feed it with `update(logits, labels, bytes?)` as
   * often as needed; `result()` then gives, over the rows whose label is not ignoreIndex:
   * - the mean loss −log p_y in nats and bits, perplexity exp(loss), bits per token (and bits per byte
   *   when every update gave the number of bytes its rows encode);
   * - accuracy (arg-max, first on ties) and top-k accuracy for each k of topK (a hit when fewer than k
   *   classes score strictly above the label);
   * - the Brier score, the mean of sum_c (p_c − [c = y])^2;
   * - expected and maximum calibration error of the top-label confidence p_max over `bins` equal-width
   *   bins of [0, 1]: ECE = sum_b (n_b / N) |acc_b − conf_b|, MCE = max_b |acc_b − conf_b|.
   * Each update runs one WebAssembly pass over each row (streamed through the scratch window); the
   * state is O(bins + topK.length) float64 sums and counts, so scorers of disjoint shards combine with
   * `merge`, across workers or processes through the JSON-serialisable `state()` and
   * `scorerFromState`.
   *
   * @param options classes (required), topK (default [1, 5]: distinct positive integers), bins (default
   *   15), ignoreIndex (default -100), from ('logits' default, 'probs', 'logProbs'), epsilon (from 'probs'
   *   only: the loss clips q_y to [epsilon, 1 − epsilon], default 1e-7), unit ('nats' | 'bits', the unit
   *   of result().loss)
   * @returns a new, empty Scorer bound to this instance
   * @throws TypeError for a wrong option type or an unknown option; RangeError for classes, topK or
   *   bins that are not positive integers, or an unknown option value
   */
  scorer(options: ScorerOptions): Scorer {
    return Scorer.create(this.driver, options);
  }

  /**
   * Rebuilds a scorer from `scorer.state()` (for instance after JSON.stringify and JSON.parse in
   * another worker), bound to this instance. Same as `Scorer.fromState(xe, state)`.
   * @throws TypeError / RangeError for a malformed state, naming the field and value
   */
  scorerFromState(state: ScorerState): Scorer {
    return Scorer.fromState(this, state);
  }

  /**
   * Streams a same-shape row kernel over the input through the scratch window (in place there), or
   * runs it directly on resident input and output.
   */
  private rowwise(
    kernel: (src: number, dst: number, rows: number, cols: number) => void,
    plan: ReturnType<typeof planRows>,
  ): Float32Array {
    const { input, rows, classes } = plan;
    const inRes = this.own('logits', plan.inputResident), outRes = this.own('out', plan.outResident);
    const result = outRes ? null : plan.out ?? new Float32Array(input.length);
    const d = this.driver;
    const per = Math.min(windowRows(classes), rows);
    const [buf] = d.reserve(inRes && outRes ? 0 : per * classes * 4);
    for (let r0 = 0; r0 < rows; r0 += per) {
      const n = Math.min(per, rows - r0);
      const a = r0 * classes, b = (r0 + n) * classes;
      if (!inRes) d.f32(buf, b - a).set(input.subarray(a, b));
      kernel(inRes ? inRes.ptr + a * 4 : buf, outRes ? outRes.ptr + a * 4 : buf, n, classes);
      if (result) result.set(d.f32(buf, b - a), a);
    }
    return outRes ? outRes.array : result!;
  }

  private runCrossEntropy(plan: CrossEntropyPlan, withGrad: boolean): LossAndGrad<number | Float32Array> {
    const { rows, classes, spatial, weight, labels, soft, sampleWeight } = plan;
    const d = this.driver;
    const per = Math.min(chunkRows(classes), rows), span = Math.min(windowRows(classes), rows);
    const none = plan.reduction === 'none';
    const losses = none ? new Float32Array(rows) : null;
    const cap = plan.softcap, focal = plan.focal;
    const inRes = this.own('input', plan.inputResident), gradRes = this.own('options.gradOut', plan.gradOutResident);
    // Resident input is read where it lies unless the soft cap must rewrite it or the layout needs a
    // gather; a resident gradient is written where it lies unless the layout needs a scatter.
    const directIn = inRes !== null && spatial === 1 && !cap;
    const directGrad = withGrad && gradRes !== null && spatial === 1;
    // The gradient overwrites the staged logits when they are a private copy no longer needed.
    const gradInPlace = withGrad && !directGrad && !directIn && !cap;
    const window = span * classes * 4;
    const [zBuf, tBuf, wPtr, lPtr, sPtr, gBuf] = d.reserve(
      directIn ? 0 : window,
      soft ? window : span * 4,
      weight ? classes * 4 : 0,
      none ? span * 4 : 0,
      sampleWeight ? span * 4 : 0,
      withGrad && !directGrad && !gradInPlace ? window : 0,
    );
    // Memory may have grown: views of resident arguments are taken again from here on.
    const input = inRes ? inRes.array : plan.input;
    const grad = !withGrad ? null : gradRes ? gradRes.array : plan.gradOut ?? new Float32Array(input.length);
    // Probabilities or log-probabilities are range-checked in WebAssembly (src/element_checks.ts), all
    // first when a gradient the caller can see is written window by window, else as windows come.
    const first = withGrad && (gradRes !== null || plan.gradOut !== undefined);
    const scan = startScan(d, [{ check: plan.inputCheck, values: input, resident: inRes, window: zBuf }], span * classes, first);
    if (weight) d.f32(wPtr, classes).set(weight);
    const k = d.kernels;
    const w = weight ? wPtr : 0, probs = plan.from === 'probs' ? 1 : 0;
    let total = 0;
    for (let w0 = 0; w0 < rows; w0 += span) {
      const n = Math.min(span, rows - w0);
      const a = w0 * classes, b = (w0 + n) * classes;
      const zBase = directIn ? inRes.ptr + a * 4 : zBuf;
      if (!directIn) gatherRows(d.f32(zBuf, b - a), input, w0, classes, spatial);
      scan(a, b, [zBase]);
      if (cap) k.softcapForward(zBuf, zBuf, b - a, cap);
      const gBase = !withGrad ? 0 : directGrad ? gradRes.ptr + a * 4 : gradInPlace ? zBuf : gBuf;
      if (sampleWeight) d.f32(sPtr, n).set(sampleWeight.subarray(w0, w0 + n));
      if (soft) gatherRows(d.f32(tBuf, b - a), soft, w0, classes, spatial);
      else stageLabels(d.i32(tBuf, n), labels!, w0);
      // One kernel call per block of chunkRows rows, whatever the window: the batch sum's order.
      for (let r = 0; r < n; r += per) {
        const m = Math.min(per, n - r), at = r * classes * 4;
        const zPtr = zBase + at, tPtr = tBuf + (soft ? at : r * 4), gPtr = gBase && gBase + at;
        const lossOut = none ? lPtr + r * 4 : 0, sw = sampleWeight ? sPtr + r * 4 : 0;
        total += soft
          ? focal
            ? k.focalSoft(zPtr, tPtr, m, classes, w, plan.smoothing, sw, focal.gamma, focal.alpha, lossOut, gPtr, plan.gradScale)
            : plan.from === 'logits'
            ? k.crossEntropySoft(zPtr, tPtr, m, classes, w, plan.smoothing, sw, plan.zLoss, lossOut, gPtr, plan.gradScale)
            : k.crossEntropyProbsSoft(
              zPtr, tPtr, m, classes, w, plan.smoothing, sw, probs, plan.epsilon, lossOut, gPtr, plan.gradScale,
            )
          : focal
          ? k.focalSparse(
            zPtr, tPtr, m, classes, w, plan.ignoreIndex, plan.smoothing, sw, focal.gamma, focal.alpha, lossOut, gPtr, plan.gradScale,
          )
          : plan.from === 'logits'
          ? k.crossEntropySparse(
            zPtr, tPtr, m, classes, w, plan.ignoreIndex, plan.smoothing, sw, plan.zLoss, lossOut, gPtr, plan.gradScale,
          )
          : k.crossEntropyProbsSparse(
            zPtr, tPtr, m, classes, w, plan.ignoreIndex, plan.smoothing, sw, probs, plan.epsilon, lossOut, gPtr, plan.gradScale,
          );
      }
      if (losses) losses.set(d.f32(lPtr, n), w0);
      if (withGrad && cap) k.softcapBackward(zBuf, gBase, b - a, cap);
      if (grad && !directGrad) scatterRows(grad, d.f32(gBase, b - a), w0, classes, spatial);
    }
    total *= plan.unitScale;
    if (losses && plan.unitScale !== 1) for (let r = 0; r < rows; r++) losses[r] *= plan.unitScale;
    const loss = losses ?? (plan.reduction === 'sum' ? total : total / plan.denominator);
    return { loss, grad: directGrad ? gradRes.array : grad as Float32Array };
  }
}

/**
 * @internal
 * Copies rows r0 .. r0 + dst.length / classes of src into dst as [rows, classes]. With spatial > 1, src
 * is PyTorch's [N, C, spatial] layout and row r is sample floor(r / spatial) at position r % spatial,
 * whose classes lie `spatial` apart.
 */
export function gatherRows(dst: Float32Array, src: Float32Array, r0: number, classes: number, spatial: number): void {
  if (spatial === 1) {
    dst.set(src.subarray(r0 * classes, r0 * classes + dst.length));
    return;
  }
  const n = dst.length / classes;
  for (let i = 0; i < n; i++) {
    const r = r0 + i;
    const base = Math.floor(r / spatial) * classes * spatial + (r % spatial);
    for (let c = 0; c < classes; c++) dst[i * classes + c] = src[base + c * spatial];
  }
}

/** @internal The inverse of gatherRows: writes staged [rows, classes] back into dst's layout. */
export function scatterRows(dst: Float32Array, src: Float32Array, r0: number, classes: number, spatial: number): void {
  if (spatial === 1) {
    dst.set(src, r0 * classes);
    return;
  }
  const n = src.length / classes;
  for (let i = 0; i < n; i++) {
    const r = r0 + i;
    const base = Math.floor(r / spatial) * classes * spatial + (r % spatial);
    for (let c = 0; c < classes; c++) dst[base + c * spatial] = src[i * classes + c];
  }
}

/** @internal Copies labels[r0 .. r0 + dst.length) into the staged Int32Array (converting integer types). */
export function stageLabels(dst: Int32Array, labels: IndexTarget, r0: number): void {
  if (Array.isArray(labels)) {
    for (let i = 0; i < dst.length; i++) dst[i] = labels[r0 + i];
  } else {
    dst.set((labels as Int32Array).subarray(r0, r0 + dst.length));
  }
}
