import {
  rowStats, rowStatsStore, rowShift, rowSum, rowDot, rowCoefSum, rowExpAffine, rowScaleAffine, maxWeight,
  loadElem, F32, F16, BF16,
} from './row';

/**
 * Cross-entropy of `rows` rows of `cols` logits against integer labels, PyTorch's F.cross_entropy with
 * class indices. For a row with label y that is not ignoreIndex, with eps = smoothing and w_c the class
 * weights (1 when weight is 0):
 *
 *   loss = s_r [(1 - eps) w_y (lse - z_y) + (eps / cols) sum_c w_c (lse - z_c) + zLoss lse^2]
 *
 * with s_r the row's sample weight (1 when sampleWeight is 0) and zLoss the PaLM z-loss scale.
 * computed as alpha ((m - z_y) + log s) + beta (D + U log s) from the row statistics, never forming
 * log-probabilities. Ignored rows give loss 0 and gradient 0.
 *
 * When lossOut != 0 it receives each row's loss (f32). When gradOut != 0 it receives
 * gradScale * dloss/dz = gradScale s_r ((S + 2 zLoss lse) softmax(z) - a), with
 * a_c = (1 - eps) w_y [c = y] + (eps/cols) w_c and S = sum_c a_c; gradOut may equal logits. Returns the sum of the rows' losses in f64.
 *
 * `kind` says what logits holds (widen.ts's codes): 0 float32; 1 float16 or 2 bfloat16 bits, read
 * without a widening pass (row.ts), for the loss without label smoothing only: gradOut and smoothing
 * must then be 0 (else the result is NaN). The results are those of the widened float32 logits, bit
 * for bit.
 */
export function crossEntropySparse(
  logits: usize, labels: usize, rows: i32, cols: i32,
  weight: usize, ignoreIndex: i32, smoothing: f32, sampleWeight: usize, zLoss: f64,
  lossOut: usize, gradOut: usize, gradScale: f64, kind: i32
): f64 {
  // Each kind in a function of its own: the half loops inlined here made V8 compile the float32
  // loops slower.
  if (kind != F32 && (gradOut != 0 || smoothing != 0)) return NaN;
  if (kind == F16) return sparseF16(logits, labels, rows, cols, weight, ignoreIndex, smoothing, sampleWeight, zLoss, lossOut);
  if (kind == BF16) return sparseBF16(logits, labels, rows, cols, weight, ignoreIndex, smoothing, sampleWeight, zLoss, lossOut);
  return sparseRows(logits, labels, rows, cols, weight, ignoreIndex, smoothing, sampleWeight, zLoss, lossOut, gradOut, gradScale, F32);
}

/** The loss of float16 logits (no gradient). */
function sparseF16(
  logits: usize, labels: usize, rows: i32, cols: i32,
  weight: usize, ignoreIndex: i32, smoothing: f32, sampleWeight: usize, zLoss: f64, lossOut: usize
): f64 {
  return sparseRows(logits, labels, rows, cols, weight, ignoreIndex, smoothing, sampleWeight, zLoss, lossOut, 0, 0, F16);
}

/** The loss of bfloat16 logits (no gradient). */
function sparseBF16(
  logits: usize, labels: usize, rows: i32, cols: i32,
  weight: usize, ignoreIndex: i32, smoothing: f32, sampleWeight: usize, zLoss: f64, lossOut: usize
): f64 {
  return sparseRows(logits, labels, rows, cols, weight, ignoreIndex, smoothing, sampleWeight, zLoss, lossOut, 0, 0, BF16);
}

/** crossEntropySparse over logits of one kind, a constant: each kind compiles to its own loops. */
// @ts-ignore: decorator
@inline function sparseRows(
  logits: usize, labels: usize, rows: i32, cols: i32,
  weight: usize, ignoreIndex: i32, smoothing: f32, sampleWeight: usize, zLoss: f64,
  lossOut: usize, gradOut: usize, gradScale: f64, kind: i32
): f64 {
  const stride = <usize>cols << 2;
  const inStride = kind == F32 ? stride : <usize>cols << 1;
  const hasW = weight != 0;
  const wMax = hasW && kind == F32 ? maxWeight(weight, cols) : 1;
  const smooth = smoothing != 0;
  const beta = <f64>smoothing / <f64>cols;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const p = logits + <usize>r * inStride;
    const y = load<i32>(labels + (<usize>r << 2));
    if (y == ignoreIndex) {
      if (lossOut) store<f32>(lossOut + (<usize>r << 2), 0);
      if (kind == F32 && gradOut) memory.fill(gradOut + <usize>r * stride, 0, stride);
      continue;
    }
    const zy = <f64>loadElem(p, y, kind);
    const wy: f64 = hasW ? <f64>load<f32>(weight + (<usize>y << 2)) : 1;
    const alpha = (1 - <f64>smoothing) * wy;
    const q = gradOut + <usize>r * stride;
    // With a gradient to write, the row's exponentials are kept in it (see rowStatsStore).
    let stored = false;
    // Halves come without smoothing (crossEntropyRoute): one sweep of theirs per kind, for code size.
    if (kind != F32) rowStats(p, cols, false, false, false, 0, 0, 0, 0, kind);
    else if (!gradOut) {
      if (!smooth) rowStats(p, cols, false, false, false, 0, 0, 0, 0, kind);
      else if (hasW) rowStats(p, cols, true, true, false, weight, 0, 0, 0, kind);
      else rowStats(p, cols, true, false, false, 0, 0, 0, 0, kind);
    } else if (!smooth) stored = rowStatsStore(p, cols, false, false, false, 0, 0, 0, 0, q, wMax);
    else if (hasW) stored = rowStatsStore(p, cols, true, true, false, weight, 0, 0, 0, q, wMax);
    else stored = rowStatsStore(p, cols, true, false, false, 0, 0, 0, 0, q, wMax);
    const m = rowShift, s = rowSum, l = Math.log(s);
    const lse = <f64>m + l;
    const sr: f64 = sampleWeight ? <f64>load<f32>(sampleWeight + (<usize>r << 2)) : 1;
    let loss = alpha * ((<f64>m - zy) + l);
    if (smooth) loss += beta * (rowDot + rowCoefSum * l);
    if (zLoss != 0) loss += zLoss * lse * lse;
    loss *= sr;
    total += loss;
    if (lossOut) store<f32>(lossOut + (<usize>r << 2), <f32>loss);
    if (kind == F32 && gradOut) {
      const scale = gradScale * sr;
      // d(zLoss lse^2)/dz = 2 zLoss lse softmax(z): it adds to the softmax coefficient.
      const total_a = alpha + (smooth ? beta * rowCoefSum : 0) + (zLoss != 0 ? 2 * zLoss * lse : 0);
      const k = <f32>(scale * total_a / s);
      const g = <f32>(scale * beta);
      if (stored) {
        if (!smooth) rowScaleAffine(q, cols, k, false, false, false, 0, 0, 0, 0, 0);
        else if (hasW) rowScaleAffine(q, cols, k, true, true, false, weight, 0, 0, 0, g);
        else rowScaleAffine(q, cols, k, true, false, false, 0, 0, 0, 0, g);
      } else if (!smooth) rowExpAffine(p, q, cols, m, k, false, false, false, 0, 0, 0, 0, 0);
      else if (hasW) rowExpAffine(p, q, cols, m, k, true, true, false, weight, 0, 0, 0, g);
      else rowExpAffine(p, q, cols, m, k, true, false, false, 0, 0, 0, 0, g);
      const qy = q + (<usize>y << 2);
      store<f32>(qy, load<f32>(qy) - <f32>(scale * alpha));
    }
  }
  return total;
}

