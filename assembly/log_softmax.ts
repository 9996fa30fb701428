import { rowStatsPlain, rowShift, rowSum } from './row';

/**
 * dst[r, c] = (src[r, c] - m_r) - log s_r, the log-softmax over each row's `cols` classes, where
 * m_r is the row maximum and s_r = sum_c exp(src[r, c] - m_r). dst may equal src.
 */
export function logSoftmax(src: usize, dst: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const p = src + <usize>r * stride, q = dst + <usize>r * stride;
    rowStatsPlain(p, cols);
    const l = <f32>Math.log(rowSum);
    let i = 0;
    // Compiled out of the scalar build, whose tail loop then takes every element.
    if (ASC_FEATURE_SIMD) {
      const sh = f32x4.splat(rowShift), l4 = f32x4.splat(l);
      for (; i + 4 <= cols; i += 4) {
        const o = <usize>i << 2;
        v128.store(q + o, f32x4.sub(f32x4.sub(v128.load(p + o), sh), l4));
      }
    }
    for (; i < cols; i++) {
      const o = <usize>i << 2;
      store<f32>(q + o, (load<f32>(p + o) - rowShift) - l);
    }
  }
}
