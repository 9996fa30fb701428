import {
  rowStats, rowStatsStore, rowShift, rowSum, rowDot, rowCoefSum, rowExpAffine, rowScaleAffine, maxWeight, F32,
} from './row';

/**
 * Cross-entropy of `rows` rows of `cols` logits against soft (probability) targets t of the same
 * shape, PyTorch's F.cross_entropy with class probabilities. With eps = smoothing and w_c the class
 * weights (1 when weight is 0), a_c = w_c ((1 - eps) t_c + eps / cols) and
 *
 *   loss = s_r [sum_c a_c (lse - z_c) + zLoss lse^2],  sum_c a_c (lse - z_c) = D + U log s,
 *   D = sum_c a_c (m - z_c),  U = sum_c a_c,
 *
 * with s_r the row's sample weight (1 when sampleWeight is 0) and zLoss the PaLM z-loss scale.
 * When lossOut != 0 it receives each row's loss (f32). When gradOut != 0 it receives
 * gradScale s_r ((U + 2 zLoss lse) softmax(z) - a); gradOut may equal logits. Returns the sum of
 * the rows' losses in f64.
 */
export function crossEntropySoft(
  logits: usize, target: usize, rows: i32, cols: i32,
  weight: usize, smoothing: f32, sampleWeight: usize, zLoss: f64,
  lossOut: usize, gradOut: usize, gradScale: f64
): f64 {
  const stride = <usize>cols << 2;
  const hasW = weight != 0;
  const wMax = hasW ? maxWeight(weight, cols) : 1;
  const lambda = <f32>1 - smoothing, mu = <f32>(<f64>smoothing / <f64>cols);
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const p = logits + <usize>r * stride;
    const t = target + <usize>r * stride;
    const q = gradOut + <usize>r * stride;
    // With a gradient to write, the row's exponentials are kept in it (see rowStatsStore).
    let stored = false;
    if (!gradOut) {
      if (hasW) rowStats(p, cols, true, true, true, weight, t, lambda, mu, F32);
      else rowStats(p, cols, true, false, true, 0, t, lambda, mu, F32);
    } else if (hasW) stored = rowStatsStore(p, cols, true, true, true, weight, t, lambda, mu, q, wMax);
    else stored = rowStatsStore(p, cols, true, false, true, 0, t, lambda, mu, q, wMax);
    const m = rowShift, s = rowSum, u = rowCoefSum, l = Math.log(s);
    const lse = <f64>m + l;
    const sr: f64 = sampleWeight ? <f64>load<f32>(sampleWeight + (<usize>r << 2)) : 1;
    let loss = rowDot + u * l;
    if (zLoss != 0) loss += zLoss * lse * lse;
    loss *= sr;
    total += loss;
    if (lossOut) store<f32>(lossOut + (<usize>r << 2), <f32>loss);
    if (gradOut) {
      const scale = gradScale * sr;
      const k = <f32>(scale * (u + (zLoss != 0 ? 2 * zLoss * lse : 0)) / s), g = <f32>scale;
      if (stored) {
        if (hasW) rowScaleAffine(q, cols, k, true, true, true, weight, t, lambda, mu, g);
        else rowScaleAffine(q, cols, k, true, false, true, 0, t, lambda, mu, g);
      } else if (hasW) rowExpAffine(p, q, cols, m, k, true, true, true, weight, t, lambda, mu, g);
      else rowExpAffine(p, q, cols, m, k, true, false, true, 0, t, lambda, mu, g);
    }
  }
  return total;
}
