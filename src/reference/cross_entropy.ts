import { widenValues, type FloatArrayInput, type IndexTarget, type ReducedLoss, type Reduction, type TensorLike, type TensorOptions } from '../ops/common.js';
import {
  perplexityOf, planCrossEntropy, planPerplexity, type CrossEntropyGradOptions, type CrossEntropyOptions,
  type CrossEntropyPlan, type PerplexityOptions, type PerplexityResult,
} from '../ops/cross_entropy.js';
import { logSumExpRow, logSoftmaxRow } from './log_sum_exp.js';

/**
 * The target distribution a_c of one row, weights and smoothing included, such that
 * loss = -sum_c a_c log softmax(z)_c. Null for an ignored row.
 */
function rowCoefficients(plan: CrossEntropyPlan, r: number): Float64Array | null {
  const { classes, weight, smoothing } = plan;
  const a = new Float64Array(classes);
  const w = (c: number) => (weight ? weight[c] : 1);
  if (plan.labels) {
    const y = plan.labels[r];
    if (y === plan.ignoreIndex) return null;
    for (let c = 0; c < classes; c++) a[c] = (smoothing / classes) * w(c);
    a[y] += (1 - smoothing) * w(y);
  } else {
    const t = plan.soft!;
    for (let c = 0; c < classes; c++) {
      const v = w(c) * ((1 - smoothing) * t[r * classes + c] + smoothing / classes);
      // The kernels form this product in float32, where below 2^-150 it is 0: its term is then
      // 0 * log q (NaN against log q = -inf, as in PyTorch's float32), not an infinity.
      a[c] = Math.fround(v) === 0 ? 0 : v;
    }
  }
  return a;
}

/** Runs the reference over all rows: per-row losses and, when asked, the scaled gradient. */
function run(plan: CrossEntropyPlan, grad: Float32Array | Float64Array | null) {
  const { input, rows, classes, weight, smoothing } = plan;
  const losses = new Float64Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const a = rowCoefficients(plan, r);
    // A copy, so that a gradOut aliasing the input cannot change the row while it is being read.
    const raw = input.slice(r * classes, (r + 1) * classes);
    const cap = plan.softcap;
    const row: ArrayLike<number> = cap ? Array.from(raw, (x) => cap * Math.tanh(x / cap)) : raw;
    if (a === null) {
      if (grad) grad.fill(0, r * classes, (r + 1) * classes);
      continue;
    }
    // log q_c from what the input holds: logits, probabilities (clipped as Keras does), log-probabilities.
    const lse = plan.from === 'logits' ? logSumExpRow(row) : 0;
    const lsm = plan.from === 'logits' ? logSoftmaxRow(row) : null;
    // The clip bounds as float32, as the kernels compare: 1 - 1e-7 is 1 - 1.19e-7 there (and in Keras).
    const lo = Math.fround(plan.epsilon), hi = Math.fround(1 - lo);
    const clip = (q: number) => Math.min(Math.max(q, lo), hi);
    const logProb = (c: number) =>
      plan.from === 'logits' ? lsm![c] : plan.from === 'probs' ? Math.log(clip(row[c])) : row[c];
    let loss = 0;
    if (plan.focal) {
      // Focal: each class term of -sum a_c log p_c is scaled by alpha (1 - p_c)^gamma.
      const { gamma, alpha } = plan.focal;
      const g = new Float64Array(classes);
      let gSum = 0;
      for (let c = 0; c < classes; c++) {
        if (a[c] === 0) continue;
        const lp = logProb(c), p = Math.exp(lp), pw = (1 - p) ** gamma;
        loss -= alpha * a[c] * pw * lp;
        // a p f'(p) with f(p) = (1 - p)^gamma log p; the second term's limit at p = 1 is 0.
        g[c] = alpha * a[c] * (pw - (p === 1 ? 0 : gamma * (1 - p) ** (gamma - 1) * p * lp));
        gSum += g[c];
      }
      const rowWeight = plan.sampleWeight ? plan.sampleWeight[r] : 1;
      losses[r] = loss * rowWeight * plan.unitScale;
      total += loss * rowWeight;
      if (grad) {
        for (let c = 0; c < classes; c++) {
          const capSlope = cap ? 1 - Math.tanh(raw[c] / cap) ** 2 : 1;
          grad[r * classes + c] = plan.gradScale * rowWeight * (Math.exp(logProb(c)) * gSum - g[c]) * capSlope;
        }
      }
      continue;
    }
    if (plan.labels) {
      // As PyTorch: the NLL term sees only the true class; the smoothing term exists only when eps > 0
      // (so a -inf logit on another class gives a finite loss without smoothing, +inf with it).
      const y = plan.labels[r];
      loss = -(1 - smoothing) * (weight ? weight[y] : 1) * logProb(y);
      if (smoothing > 0) {
        for (let c = 0; c < classes; c++) loss -= (smoothing / classes) * (weight ? weight[c] : 1) * logProb(c);
      }
    } else {
      for (let c = 0; c < classes; c++) loss -= a[c] * logProb(c);
    }
    // The PaLM z-loss penalises log Z = lse, which drifts because softmax ignores it.
    const zLoss = plan.zLoss !== 0;
    if (zLoss) loss += plan.zLoss * lse * lse;
    const rowWeight = plan.sampleWeight ? plan.sampleWeight[r] : 1;
    loss *= rowWeight;
    losses[r] = loss * plan.unitScale;
    total += loss;
    if (grad) {
      const mass = a.reduce((s, v) => s + v, 0) + (zLoss ? 2 * plan.zLoss * lse : 0);
      for (let c = 0; c < classes; c++) {
        const q = row[c];
        // d/dz of -sum a log softmax(z) is mass softmax(z) - a; d/dlp of -sum a lp is -a; d/dq of
        // -sum a log clip(q) is -a / q inside the clip and 0 where clipping held it constant.
        const dLoss = plan.from === 'logits' ? mass * Math.exp(logProb(c)) - a[c]
          : plan.from === 'logProbs' ? -a[c]
          : clip(q) === q ? -a[c] / q : 0;
        // d(cap tanh(x / cap))/dx = 1 - tanh^2(x / cap)
        const capSlope = cap ? 1 - Math.tanh(raw[c] / cap) ** 2 : 1;
        // An input the loss does not depend on (a clipped probability; without smoothing, a class
        // other than the label) has gradient exactly 0, also when the scale is NaN (a 'mean' over a
        // zero denominator), as PyTorch's nll_loss leaves them 0.
        const independent = plan.from !== 'logits'
          && ((plan.from === 'probs' && clip(q) !== q) || (plan.labels !== null && smoothing === 0 && c !== plan.labels[r]));
        grad[r * classes + c] = independent ? 0 : plan.gradScale * rowWeight * dLoss * capSlope;
      }
    }
  }
  return { losses, total };
}

function reduce(plan: CrossEntropyPlan, losses: Float64Array, total: number): number | Float64Array {
  if (plan.reduction === 'none') return losses;
  const sum = total * plan.unitScale;
  return plan.reduction === 'sum' ? sum : sum / plan.denominator;
}

/**
 * Reference cross-entropy in float64: loss_r = -sum_c a_c log q_c with a_c the weighted, smoothed
 * target of row r and log q_c = z_c - logsumexp(z) for logits, log clip(q_c) for probabilities or the
 * input itself for log-probabilities; reduced as PyTorch's F.cross_entropy, in nats or bits.
 * 'none' returns a Float64Array.
 */
export function crossEntropy<R extends Reduction = 'mean'>(
  input: FloatArrayInput, target: IndexTarget | Float32Array | TensorLike, options: CrossEntropyOptions & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function crossEntropy<R extends Reduction = 'mean'>(
  input: TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyOptions> & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function crossEntropy(
  input: FloatArrayInput | TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyOptions>,
): number | Float64Array {
  const plan = classLast(planCrossEntropy('crossEntropy', input, target, options, false));
  const { losses, total } = run(plan, null);
  return reduce(plan, losses, total);
}

/**
 * Reference perplexity: each counted token's float64 -log softmax, summed per sequence and over the
 * corpus (see Xentropy.perplexity).
 */
export function perplexity(logits: FloatArrayInput | TensorLike, ids: IndexTarget | TensorLike, options?: PerplexityOptions): PerplexityResult {
  const plan = classLast(planPerplexity(logits, ids, options));
  return perplexityOf(plan, run(plan, null).losses);
}

/** [N, C, S] as [N * S, C]: row r is sample floor(r / S) at position r % S. */
function toClassLast(x: Float32Array, classes: number, spatial: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const n = Math.floor(i / (classes * spatial)), c = Math.floor(i / spatial) % classes, s = i % spatial;
    out[(n * spatial + s) * classes + c] = x[i];
  }
  return out;
}

/** The plan of the same call with PyTorch's [N, C, d1..dK] inputs rearranged class-last. */
function classLast(plan: CrossEntropyPlan): CrossEntropyPlan {
  // Other element types are widened in JavaScript, exactly as the kernels' widen does.
  const input = widenValues(plan.input, plan.inputKind);
  if (plan.spatial === 1) return input === plan.input ? plan : { ...plan, input, inputKind: 'f32' };
  return {
    ...plan,
    spatial: 1,
    input: toClassLast(input, plan.classes, plan.spatial),
    inputKind: 'f32',
    soft: plan.soft && toClassLast(plan.soft, plan.classes, plan.spatial),
  };
}

/**
 * Reference cross-entropy and its gradient with respect to the input, in float64: for logits
 * grad = scale s_r ((sum_c a_c + 2 zLoss lse) softmax(z) - a), for log-probabilities -scale s_r a, for
 * probabilities -scale s_r a / q inside the clip; scale = 1 / denominator for 'mean', else 1, over
 * ln 2 for bits. The gradient is a Float64Array unless options.gradOut is given.
 */
export function crossEntropyWithGrad<R extends Reduction = 'mean'>(
  input: FloatArrayInput, target: IndexTarget | Float32Array | TensorLike, options: CrossEntropyGradOptions & { reduction?: R },
): { loss: ReducedLoss<R, Float64Array>; grad: Float32Array | Float64Array };
export function crossEntropyWithGrad<R extends Reduction = 'mean'>(
  input: TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyGradOptions> & { reduction?: R },
): { loss: ReducedLoss<R, Float64Array>; grad: Float32Array | Float64Array };
export function crossEntropyWithGrad(
  input: FloatArrayInput | TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyGradOptions>,
): { loss: number | Float64Array; grad: Float32Array | Float64Array } {
  const given = planCrossEntropy('crossEntropyWithGrad', input, target, options, true);
  const plan = classLast(given);
  const grad = plan.gradOut ?? new Float64Array(plan.input.length);
  // A class-last gradient goes back into the caller's layout (a copy, so gradOut may alias input).
  const flat = given.spatial === 1 ? grad : new Float64Array(grad.length);
  const { losses, total } = run(plan, flat);
  if (flat !== grad) {
    const { classes, spatial } = given;
    for (let i = 0; i < grad.length; i++) {
      const n = Math.floor(i / (classes * spatial)), c = Math.floor(i / spatial) % classes, s = i % spatial;
      grad[i] = flat[(n * spatial + s) * classes + c];
    }
  }
  return { loss: reduce(plan, losses, total), grad };
}
