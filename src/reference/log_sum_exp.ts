import { widenValues, type FloatArrayInput, type TensorLike } from '../ops/common.js';
import { planRows, type RowOptions } from '../ops/row_ops.js';

/**
 * log sum_c exp(row_c) in float64, following torch.logsumexp for non-finite rows: NaN anywhere gives
 * NaN, else a +inf gives +inf, else a row of only -inf gives -inf.
 */
export function logSumExpRow(row: ArrayLike<number>): number {
  let max = -Infinity;
  for (let c = 0; c < row.length; c++) {
    if (Number.isNaN(row[c])) return NaN;
    if (row[c] > max) max = row[c];
  }
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let c = 0; c < row.length; c++) sum += Math.exp(row[c] - max);
  return max + Math.log(sum);
}

/**
 * log softmax of a row in float64 as (z_c - max) - log sum exp(z - max): never z - lse, which loses
 * everything when lse rounds back to a huge max (z = [1e30, 1e30] would give log-probabilities 0).
 * Rows whose maximum is not finite give z_c - logSumExpRow(row), as PyTorch's log_softmax does.
 */
export function logSoftmaxRow(row: ArrayLike<number>): Float64Array {
  const out = new Float64Array(row.length);
  const lse = logSumExpRow(row);
  let max = -Infinity;
  for (let c = 0; c < row.length; c++) if (row[c] > max) max = row[c];
  if (!Number.isFinite(lse) || !Number.isFinite(max)) {
    for (let c = 0; c < row.length; c++) out[c] = row[c] - lse;
    return out;
  }
  let sum = 0;
  for (let c = 0; c < row.length; c++) sum += Math.exp(row[c] - max);
  const logSum = Math.log(sum);
  for (let c = 0; c < row.length; c++) out[c] = (row[c] - max) - logSum;
  return out;
}

/** Reference logSumExp: one float64 value per row of the row-major [N, classes] logits. */
export function logSumExp(logits: FloatArrayInput, classes: number, out?: Float32Array | Float64Array, options?: RowOptions): Float32Array | Float64Array;
export function logSumExp(logits: TensorLike, classes?: number, out?: Float32Array | Float64Array, options?: RowOptions): Float32Array | Float64Array;
export function logSumExp(
  logits: FloatArrayInput | TensorLike, classes?: number, out?: Float32Array | Float64Array, options?: RowOptions,
): Float32Array | Float64Array {
  const plan = planRows(logits, classes, out, true, true, options, 'logSumExp');
  // Other element types widened in JavaScript, exactly as the kernels' widen does.
  // The plan's classes: a tensor's last dimension when the argument is left out.
  const input = widenValues(plan.input, plan.inputKind), rows = plan.rows, cols = plan.classes;
  const result = out ?? new Float64Array(rows);
  for (let r = 0; r < rows; r++) result[r] = logSumExpRow(input.subarray(r * cols, (r + 1) * cols));
  return result;
}
