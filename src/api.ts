// The WebAssembly backend: validated calls, streamed through the driver's scratch window in row chunks.

import type { Driver } from './driver.js';
import {
  planCrossEntropy, planRows,
  type CrossEntropyOptions, type CrossEntropyPlan, type IndexTarget,
} from './validate.js';

/**
 * Bytes of input staged per kernel call. Large enough that call overhead vanishes, small enough that a
 * chunk stays in L2 between the copy and the kernel; a row larger than this is staged alone.
 */
export const WINDOW_BYTES = 256 * 1024;

/** Rows per staged chunk for rows of `classes` floats. */
export function chunkRows(classes: number): number {
  return Math.max(1, Math.floor(WINDOW_BYTES / (classes * 4)));
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

  /** @internal Use `init` or `initSync`. */
  constructor(driver: Driver) {
    this.driver = driver;
  }

  /**
   * log-softmax over the last axis: out[r, c] = z[r, c] - log sum_k exp(z[r, k]).
   * @param logits row-major [N, classes] Float32Array
   * @param classes C, a positive integer dividing logits.length
   * @param out optional Float32Array of logits.length (may be logits itself, for in place)
   * @returns out, or a new Float32Array
   * @throws TypeError for a non-Float32Array; RangeError for a bad classes, length or out
   */
  logSoftmax(logits: Float32Array, classes: number, out?: Float32Array): Float32Array {
    const plan = planRows(logits, classes, out, false);
    return this.rowwise(this.driver.kernels.logSoftmax, plan.input, plan.rows, plan.classes, plan.out);
  }

  /**
   * softmax over the last axis: out[r, c] = exp(z[r, c]) / sum_k exp(z[r, k]), max-shifted.
   * Shapes, `out` and errors as logSoftmax.
   */
  softmax(logits: Float32Array, classes: number, out?: Float32Array): Float32Array {
    const plan = planRows(logits, classes, out, false);
    return this.rowwise(this.driver.kernels.softmax, plan.input, plan.rows, plan.classes, plan.out);
  }

  /**
   * log-sum-exp of each row: out[r] = log sum_c exp(z[r, c]), computed as m + log sum exp(z - m).
   * @param out optional Float32Array of N = logits.length / classes
   * @returns out, or a new Float32Array of N values
   */
  logSumExp(logits: Float32Array, classes: number, out?: Float32Array): Float32Array {
    const { input, rows, classes: c, out: given } = planRows(logits, classes, out, true);
    const result = given ?? new Float32Array(rows);
    const d = this.driver;
    const per = Math.min(chunkRows(c), rows);
    const [src, dst] = d.reserve(per * c * 4, per * 4);
    for (let r0 = 0; r0 < rows; r0 += per) {
      const n = Math.min(per, rows - r0);
      d.f32(src, n * c).set(input.subarray(r0 * c, (r0 + n) * c));
      d.kernels.logSumExp(src, dst, n, c);
      result.set(d.f32(dst, n), r0);
    }
    return result;
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
  crossEntropy(input: Float32Array, target: IndexTarget | Float32Array, options: CrossEntropyOptions & { reduction: 'none' }): Float32Array;
  crossEntropy(input: Float32Array, target: IndexTarget | Float32Array, options: CrossEntropyOptions): number;
  crossEntropy(input: Float32Array, target: IndexTarget | Float32Array, options: CrossEntropyOptions): number | Float32Array {
    const plan = planCrossEntropy('crossEntropy', input, target, options, false);
    return this.runCrossEntropy(plan, null).loss;
  }

  /**
   * Cross-entropy and its gradient with respect to the input in one pass. For logits,
   * grad[r] = scale (sum_c a_c softmax(z_r) - a_r); for log-probabilities -scale a_r; for probabilities
   * -scale a_r / q_r inside the clip and 0 outside. scale = 1 / denominator for 'mean', 1 for 'sum' and
   * 'none' (the gradient of the sum of row losses), divided by ln 2 for bits; ignored rows get 0.
   * options.gradOut receives the gradient when given and may be `input` itself (in place).
   * Arguments, result and errors as crossEntropy.
   */
  crossEntropyWithGrad(input: Float32Array, target: IndexTarget | Float32Array, options: CrossEntropyOptions & { reduction: 'none' }): LossAndGrad<Float32Array>;
  crossEntropyWithGrad(input: Float32Array, target: IndexTarget | Float32Array, options: CrossEntropyOptions): LossAndGrad<number>;
  crossEntropyWithGrad(input: Float32Array, target: IndexTarget | Float32Array, options: CrossEntropyOptions): LossAndGrad<number | Float32Array> {
    const plan = planCrossEntropy('crossEntropyWithGrad', input, target, options, true);
    const grad = plan.gradOut ?? new Float32Array(plan.input.length);
    return this.runCrossEntropy(plan, grad);
  }

  /** Streams a same-shape row kernel over the input, computing in place in the scratch window. */
  private rowwise(
    kernel: (src: number, dst: number, rows: number, cols: number) => void,
    input: Float32Array, rows: number, classes: number, out: Float32Array | undefined,
  ): Float32Array {
    const result = out ?? new Float32Array(input.length);
    const d = this.driver;
    const per = Math.min(chunkRows(classes), rows);
    const [buf] = d.reserve(per * classes * 4);
    for (let r0 = 0; r0 < rows; r0 += per) {
      const n = Math.min(per, rows - r0);
      const a = r0 * classes, b = (r0 + n) * classes;
      d.f32(buf, b - a).set(input.subarray(a, b));
      kernel(buf, buf, n, classes);
      result.set(d.f32(buf, b - a), a);
    }
    return result;
  }

  private runCrossEntropy(plan: CrossEntropyPlan, grad: Float32Array | null): LossAndGrad<number | Float32Array> {
    const { input, rows, classes, weight, labels, soft } = plan;
    const d = this.driver;
    const per = Math.min(chunkRows(classes), rows);
    const none = plan.reduction === 'none';
    const losses = none ? new Float32Array(rows) : null;
    const [zPtr, tPtr, wPtr, lPtr] = d.reserve(
      per * classes * 4,
      soft ? per * classes * 4 : per * 4,
      weight ? classes * 4 : 0,
      none ? per * 4 : 0,
    );
    if (weight) d.f32(wPtr, classes).set(weight);
    const k = d.kernels;
    let total = 0;
    for (let r0 = 0; r0 < rows; r0 += per) {
      const n = Math.min(per, rows - r0);
      const a = r0 * classes, b = (r0 + n) * classes;
      d.f32(zPtr, b - a).set(input.subarray(a, b));
      // The gradient is computed in place over the staged logits.
      const gPtr = grad ? zPtr : 0;
      const w = weight ? wPtr : 0, lossOut = none ? lPtr : 0;
      const probs = plan.from === 'probs' ? 1 : 0;
      if (soft) {
        d.f32(tPtr, b - a).set(soft.subarray(a, b));
        total += plan.from === 'logits'
          ? k.crossEntropySoft(zPtr, tPtr, n, classes, w, plan.smoothing, lossOut, gPtr, plan.gradScale)
          : k.crossEntropyProbsSoft(zPtr, tPtr, n, classes, w, plan.smoothing, probs, plan.epsilon, lossOut, gPtr, plan.gradScale);
      } else {
        stageLabels(d.i32(tPtr, n), labels!, r0);
        total += plan.from === 'logits'
          ? k.crossEntropySparse(zPtr, tPtr, n, classes, w, plan.ignoreIndex, plan.smoothing, lossOut, gPtr, plan.gradScale)
          : k.crossEntropyProbsSparse(
            zPtr, tPtr, n, classes, w, plan.ignoreIndex, plan.smoothing, probs, plan.epsilon, lossOut, gPtr, plan.gradScale,
          );
      }
      if (losses) losses.set(d.f32(lPtr, n), r0);
      if (grad) grad.set(d.f32(zPtr, b - a), a);
    }
    total *= plan.unitScale;
    if (losses && plan.unitScale !== 1) for (let r = 0; r < rows; r++) losses[r] *= plan.unitScale;
    const loss = losses ?? (plan.reduction === 'sum' ? total : total / plan.denominator);
    return { loss, grad: grad as Float32Array };
  }
}

/** Copies labels[r0 .. r0 + dst.length) into the staged Int32Array (converting integer types). */
function stageLabels(dst: Int32Array, labels: IndexTarget, r0: number): void {
  if (Array.isArray(labels)) {
    for (let i = 0; i < dst.length; i++) dst[i] = labels[r0 + i];
  } else {
    dst.set((labels as Int32Array).subarray(r0, r0 + dst.length));
  }
}
