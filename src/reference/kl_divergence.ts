import {
  planJsDivergence, planKlDivergence, type DivergenceReduction,
  type JsDivergenceOptions, type KlDivergenceGradOptions, type KlDivergenceOptions, type KlPlan,
} from '../ops/kl_divergence.js';
import { reduceRows, widenValues, type FloatArrayInput, type FloatData, type FloatKind, type ReducedLoss, type TensorLike } from '../ops/common.js';

import { logSoftmaxRow, logSumExpRow } from './log_sum_exp.js';

/** A plan with p and q widened in JavaScript, exactly as the kernels' widen does. */
function widened<P extends { p: FloatData; q: FloatData; pKind: FloatKind; qKind: FloatKind }>(plan: P): P & { p: Float32Array; q: Float32Array } {
  return { ...plan, p: widenValues(plan.p, plan.pKind), q: widenValues(plan.q, plan.qKind), pKind: 'f32', qKind: 'f32' };
}

/** log(2^-126) rounded down to float32 (assembly/exp.ts): exp of anything below it is flushed to 0. */
const EXP_FLUSH_BELOW = -87.3365478515625;

/** Per-row divergences (in the unit), their sum in nats and, when asked, the scaled gradient w.r.t. q. */
function runKl(plan: KlPlan, grad: Float32Array | Float64Array | null) {
  const { rows, classes, epsilon } = plan;
  const perRow = new Float64Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const a = r * classes;
    // Copies, so that a gradOut aliasing q cannot change the row while it is read.
    const t = Array.from(plan.p.subarray(a, a + classes));
    const q = Array.from(plan.q.subarray(a, a + classes));
    // Array.from, not Float32Array.map, so that nothing is rounded back to float32. With logTarget,
    // p = exp(log p) is 0 below 2^-126 as the kernels' float32 exp makes it (log p < EXP_FLUSH_BELOW).
    const p = Array.from(t, (v) => (!plan.logTarget ? v : v < EXP_FLUSH_BELOW ? 0 : Math.exp(v)));
    const logP = Array.from(t, (v) => (plan.logTarget ? v : Math.log(v)));
    const lse = plan.from === 'logits' ? logSumExpRow(q) : 0;
    const lsm = plan.from === 'logits' ? logSoftmaxRow(q) : null;
    const logQ = Array.from(q, (v, c) => (lsm ? lsm[c] : plan.from === 'logProbs' ? v : Math.log(Math.max(v, epsilon))));
    // A logits row without a finite log-sum-exp has a NaN log-softmax (PyTorch), hence NaN everywhere.
    const nanRow = plan.from === 'logits' && !Number.isFinite(lse);
    let kl = 0;
    for (let c = 0; c < classes; c++) if (p[c] !== 0) kl += p[c] * (logP[c] - logQ[c]);
    if (nanRow) kl = NaN;
    perRow[r] = kl * plan.unitScale;
    total += kl;
    if (grad) {
      const mass = p.reduce((s, v) => s + v, 0);
      for (let c = 0; c < classes; c++) {
        let d: number;
        if (plan.from === 'logits') d = nanRow ? NaN : mass * Math.exp(logQ[c]) - p[c];
        else if (plan.from === 'logProbs') d = -p[c];
        // The clip max(q, eps) is flat below eps; a class with p = 0 contributes nothing whatever q is.
        else d = p[c] === 0 || q[c] < epsilon ? 0 : -p[c] / q[c];
        grad[a + c] = plan.gradScale * d;
      }
    }
  }
  return { perRow, total };
}

/**
 * Reference KL(p || q) = sum_c p_c (log p_c - log q_c) per row in float64 (0 where p_c = 0), with log q
 * from probabilities (log max(q, epsilon)), log-probabilities or logits (log softmax); p as
 * probabilities or, with logTarget, log p. Reduced as F.kl_div ('batchmean' default); 'none' returns a
 * Float64Array.
 */
export function klDivergence<R extends DivergenceReduction = 'batchmean'>(
  p: FloatArrayInput, q: FloatArrayInput, classes: number, options?: KlDivergenceOptions & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function klDivergence<R extends DivergenceReduction = 'batchmean'>(
  p: TensorLike, q: FloatArrayInput | TensorLike, classes?: number, options?: KlDivergenceOptions & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function klDivergence<R extends DivergenceReduction = 'batchmean'>(
  p: FloatArrayInput, q: TensorLike, classes?: number, options?: KlDivergenceOptions & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function klDivergence(p: FloatArrayInput | TensorLike, q: FloatArrayInput | TensorLike, classes?: number, options?: KlDivergenceOptions): number | Float64Array {
  const plan = widened(planKlDivergence('klDivergence', p, q, classes, options, false));
  const { perRow, total } = runKl(plan, null);
  return reduceRows(plan.reduction, perRow, total, plan.unitScale, plan.denominator);
}

/**
 * Reference KL(p || q) and its gradient with respect to q in its given form, float64:
 * logits scale (sum p) softmax(z) - scale p; logProbs -scale p; probs -scale p / q (0 where clipped or
 * p = 0). scale = unit / denominator. The gradient is a Float64Array unless options.gradOut is given.
 */
export function klDivergenceWithGrad<R extends DivergenceReduction = 'batchmean'>(
  p: FloatArrayInput, q: FloatArrayInput, classes: number, options?: KlDivergenceGradOptions & { reduction?: R },
): { loss: ReducedLoss<R, Float64Array>; grad: Float32Array | Float64Array };
export function klDivergenceWithGrad<R extends DivergenceReduction = 'batchmean'>(
  p: TensorLike, q: FloatArrayInput | TensorLike, classes?: number, options?: KlDivergenceGradOptions & { reduction?: R },
): { loss: ReducedLoss<R, Float64Array>; grad: Float32Array | Float64Array };
export function klDivergenceWithGrad<R extends DivergenceReduction = 'batchmean'>(
  p: FloatArrayInput, q: TensorLike, classes?: number, options?: KlDivergenceGradOptions & { reduction?: R },
): { loss: ReducedLoss<R, Float64Array>; grad: Float32Array | Float64Array };
export function klDivergenceWithGrad(
  p: FloatArrayInput | TensorLike, q: FloatArrayInput | TensorLike, classes?: number, options?: KlDivergenceGradOptions,
): { loss: number | Float64Array; grad: Float32Array | Float64Array } {
  const plan = widened(planKlDivergence('klDivergenceWithGrad', p, q, classes, options, true));
  const grad = plan.gradOut ?? new Float64Array(plan.q.length);
  const { perRow, total } = runKl(plan, grad);
  return { loss: reduceRows(plan.reduction, perRow, total, plan.unitScale, plan.denominator), grad };
}

/**
 * v log(v / m) with m = (v + w) / 2, 0 for v = 0. Softmax probabilities can be float64 subnormals
 * (e^-744): m = (5e-324 + 0) / 2 underflows to 0 (v / m = inf), so the ratio is taken as 2v / (v + w);
 * where that underflows, log v - log m is still finite.
 */
function half(v: number, w: number): number {
  if (v === 0) return 0;
  const ratio = (2 * v) / (v + w);
  return v * (ratio >= 2 ** -1022 ? Math.log(ratio) : Math.log(v) - Math.log((v + w) / 2));
}

/** softmax of a row in float64; NaN everywhere when its log-sum-exp is not finite. */
function softmaxRow(row: ArrayLike<number>): number[] {
  const lse = logSumExpRow(row);
  return Array.from(logSoftmaxRow(row), (lp) => (Number.isFinite(lse) ? Math.exp(lp) : NaN));
}

/**
 * Reference Jensen-Shannon divergence in float64: JS = KL(p || m) / 2 + KL(q || m) / 2 per row,
 * m = (p + q) / 2, each term 0 where its probability is 0. Reduced as klDivergence.
 */
export function jsDivergence<R extends DivergenceReduction = 'batchmean'>(
  p: FloatArrayInput, q: FloatArrayInput, classes: number, options?: JsDivergenceOptions & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function jsDivergence<R extends DivergenceReduction = 'batchmean'>(
  p: TensorLike, q: FloatArrayInput | TensorLike, classes?: number, options?: JsDivergenceOptions & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function jsDivergence<R extends DivergenceReduction = 'batchmean'>(
  p: FloatArrayInput, q: TensorLike, classes?: number, options?: JsDivergenceOptions & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function jsDivergence(p: FloatArrayInput | TensorLike, q: FloatArrayInput | TensorLike, classes?: number, options?: JsDivergenceOptions): number | Float64Array {
  const plan = widened(planJsDivergence(p, q, classes, options));
  const cols = plan.classes;
  const perRow = new Float64Array(plan.rows);
  let total = 0;
  for (let r = 0; r < plan.rows; r++) {
    const a = r * cols;
    let x: ArrayLike<number> = plan.p.subarray(a, a + cols);
    let y: ArrayLike<number> = plan.q.subarray(a, a + cols);
    if (plan.fromLogits) {
      x = softmaxRow(x);
      y = softmaxRow(y);
    }
    let js = 0;
    for (let c = 0; c < cols; c++) {
      // The two halves are added first, so that swapping p and q gives the same value bit for bit.
      js += half(x[c], y[c]) + half(y[c], x[c]);
    }
    js /= 2;
    perRow[r] = js * plan.unitScale;
    total += js;
  }
  return reduceRows(plan.reduction, perRow, total, plan.unitScale, plan.denominator);
}
