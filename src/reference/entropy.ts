import { reduceRows, widenValues, type FloatArrayInput, type ReducedLoss, type TensorLike } from '../ops/common.js';
import { planEntropy, type EntropyOptions, type EntropyReduction } from '../ops/entropy.js';
import { logSoftmaxRow, logSumExpRow } from './log_sum_exp.js';

/**
 * Reference entropy in float64: H = -sum_c p_c log p_c per row (0 log 0 = 0), or for logits
 * H = sum_c p_c (lse - z_c) with p = softmax(z) (NaN when lse is not finite); reduced over rows.
 * 'none' (the default) returns a Float64Array.
 */
export function entropy<R extends EntropyReduction = 'none'>(
  p: FloatArrayInput, classes: number, options?: EntropyOptions & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function entropy<R extends EntropyReduction = 'none'>(
  p: TensorLike, classes?: number, options?: EntropyOptions & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function entropy(p: FloatArrayInput | TensorLike, classes?: number, options?: EntropyOptions): number | Float64Array {
  const plan = planEntropy(p, classes, options);
  const rows = plan.rows;
  // Other element types widened in JavaScript, exactly as the kernels' widen does.
  const input = widenValues(plan.input, plan.inputKind);
  const perRow = new Float64Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const row = input.subarray(r * plan.classes, (r + 1) * plan.classes);
    let h = 0;
    if (plan.fromLogits) {
      const lse = logSumExpRow(row);
      if (!Number.isFinite(lse)) h = NaN;
      else {
        // (z - max) - log sum, not z - lse: lse can round back to a huge maximum.
        for (const lp of logSoftmaxRow(row)) {
          const pc = Math.exp(lp);
          if (pc > 0) h -= pc * lp;
        }
      }
    } else {
      for (const pc of row) if (pc > 0) h -= pc * Math.log(pc);
    }
    perRow[r] = h * plan.unitScale;
    total += h;
  }
  return reduceRows(plan.reduction, perRow, total, plan.unitScale, rows);
}
