import { rowStatsPlain, rowShift, rowSum } from './row';

/**
 * dst[r] = log sum_c exp(src[r, c]) for `rows` rows of `cols` floats (row-major), rounded once to
 * f32 from f64. Non-finite rows follow torch.logsumexp (see row.ts).
 */
export function logSumExp(src: usize, dst: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    rowStatsPlain(src + <usize>r * stride, cols);
    store<f32>(dst + (<usize>r << 2), <f32>(<f64>rowShift + Math.log(rowSum)));
  }
}
