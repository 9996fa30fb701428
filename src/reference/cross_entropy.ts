import { planCrossEntropy, type CrossEntropyOptions, type CrossEntropyPlan, type IndexTarget } from '../validate.js';
import { logSumExpRow } from './log_sum_exp.js';

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
      a[c] = w(c) * ((1 - smoothing) * t[r * classes + c] + smoothing / classes);
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
    const row = input.slice(r * classes, (r + 1) * classes);
    if (a === null) {
      if (grad) grad.fill(0, r * classes, (r + 1) * classes);
      continue;
    }
    // log q_c from what the input holds: logits, probabilities (clipped as Keras does), log-probabilities.
    const lse = plan.from === 'logits' ? logSumExpRow(row) : 0;
    const clip = (q: number) => Math.min(Math.max(q, plan.epsilon), 1 - plan.epsilon);
    const logProb = (c: number) =>
      plan.from === 'logits' ? row[c] - lse : plan.from === 'probs' ? Math.log(clip(row[c])) : row[c];
    let loss = 0;
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
    losses[r] = loss * plan.unitScale;
    total += loss;
    if (grad) {
      const mass = a.reduce((s, v) => s + v, 0);
      for (let c = 0; c < classes; c++) {
        const q = row[c];
        // d/dz of -sum a log softmax(z) is mass softmax(z) - a; d/dlp of -sum a lp is -a; d/dq of
        // -sum a log clip(q) is -a / q inside the clip and 0 where clipping held it constant.
        const dLoss = plan.from === 'logits' ? mass * Math.exp(logProb(c)) - a[c]
          : plan.from === 'logProbs' ? -a[c]
          : clip(q) === q ? -a[c] / q : 0;
        grad[r * classes + c] = plan.gradScale * dLoss;
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
export function crossEntropy(
  input: Float32Array, target: IndexTarget | Float32Array, options: CrossEntropyOptions,
): number | Float64Array {
  const plan = planCrossEntropy('crossEntropy', input, target, options, false);
  const { losses, total } = run(plan, null);
  return reduce(plan, losses, total);
}

/**
 * Reference cross-entropy and its gradient with respect to the input logits, in float64:
 * grad = scale (sum_c a_c softmax(z) - a), scale = 1 / denominator for 'mean', else 1.
 * The gradient is a Float64Array unless options.gradOut is given.
 */
export function crossEntropyWithGrad(
  input: Float32Array, target: IndexTarget | Float32Array, options: CrossEntropyOptions,
): { loss: number | Float64Array; grad: Float32Array | Float64Array } {
  const plan = planCrossEntropy('crossEntropyWithGrad', input, target, options, true);
  const grad = plan.gradOut ?? new Float64Array(plan.input.length);
  const { losses, total } = run(plan, grad);
  return { loss: reduce(plan, losses, total), grad };
}
