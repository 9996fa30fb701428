import { rowStatsStore, rowShift, rowSum, rowExpAffine, rowScaleAffine } from './row';

/**
 * dst[r, c] = exp(src[r, c] - m_r) * (1 / s_r), the softmax over each row's `cols` classes.
 * dst may equal src.
 */
export function softmax(src: usize, dst: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const p = src + <usize>r * stride;
    const q = dst + <usize>r * stride;
    // A finite row leaves its exponentials in dst, which then only need scaling.
    if (rowStatsStore(p, cols, false, false, false, 0, 0, 0, 0, q, 1)) {
      rowScaleAffine(q, cols, <f32>(1.0 / rowSum), false, false, false, 0, 0, 0, 0, 0);
    } else {
      rowExpAffine(p, q, cols, rowShift, <f32>(1.0 / rowSum), false, false, false, 0, 0, 0, 0, 0);
    }
  }
}
