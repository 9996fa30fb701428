import { rowStats, rowShift, rowSum, rowExpAffine } from './row';

/**
 * dst[r, c] = exp(src[r, c] - m_r) * (1 / s_r), the softmax over each row's `cols` classes.
 * dst may equal src.
 */
export function softmax(src: usize, dst: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const p = src + <usize>r * stride;
    rowStats(p, cols, false, false, false, 0, 0, 0, 0);
    rowExpAffine(p, dst + <usize>r * stride, cols, rowShift, <f32>(1.0 / rowSum),
      false, false, false, 0, 0, 0, 0, 0);
  }
}
