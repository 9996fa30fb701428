// Element types other than float32, turned into float32 in WebAssembly: float16 and bfloat16 bit
// patterns (held as u16) widened exactly, float64 narrowed with round-to-nearest-even (as Math.fround).
// The runners copy the raw elements into scratch memory (or read a resident half buffer where it lies)
// and call this once per window; the kernels then read the float32 window as they read any other.
// The sparse cross-entropy loss instead reads halves itself, widening in registers (row.ts).
//
// float16 -> float32, for every one of the 65536 patterns: the exponent and mantissa bits moved up by
// 13 are the float32 whose value is the half's times 2^-112, so one multiplication by 2^112 (exact:
// a power of two, and every half is a normal float32) gives the value, subnormal halves included (the
// product renormalises them). Infinities and NaNs (exponent 31) instead take float32's all-ones
// exponent with the mantissa moved up unchanged, so a NaN keeps its payload. The sign is or-ed in last.
// bfloat16 is float32's upper half: a shift by 16, exact for every pattern.

/** What src holds: kind 1 float16 bits, 2 bfloat16 bits (u16 each), 3 float64. */
const enum WidenKind { F16 = 1, BF16 = 2, F64 = 3 }

// @ts-ignore: decorator
@inline export const TWO_112: f32 = reinterpret<f32>(0x77800000); // 2^112

/** The float32 bits of float16 bits h (the scalar twin of widen's float16 vector loop). */
// @ts-ignore: decorator
@inline export function half1(h: u32): u32 {
  const em = h & 0x7fff;
  const bits = em << 13;
  const value = em >= 0x7c00 ? bits | 0x7f800000 : reinterpret<u32>(reinterpret<f32>(bits) * TWO_112);
  return value | ((h & 0x8000) << 16);
}


/**
 * dst[i] = float32 of element i of src, for n elements; `kind` says what src holds (WidenKind). dst
 * must not overlap src (the runners give each its own scratch region).
 */
export function widen(src: usize, dst: usize, n: i32, kind: i32): void {
  let i = 0;
  if (kind == WidenKind.F64) {
    // Compiled out of the scalar build, whose tail loop then takes every element.
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= n; i += 4) {
        const a = f32x4.demote_f64x2_zero(v128.load(src + (<usize>i << 3)));
        const b = f32x4.demote_f64x2_zero(v128.load(src + (<usize>i << 3), 16));
        v128.store(dst + (<usize>i << 2), i64x2.shuffle(a, b, 0, 2));
      }
    }
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), <f32>load<f64>(src + (<usize>i << 3)));
    return;
  }
  if (kind == WidenKind.BF16) {
    if (ASC_FEATURE_SIMD) {
      for (; i + 8 <= n; i += 8) {
        const h = v128.load(src + (<usize>i << 1));
        const o = dst + (<usize>i << 2);
        // Each u16 becomes the upper half of a u32 lane: zeros interleaved below it.
        v128.store(o, i8x16.shuffle(i32x4.splat(0), h, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
        v128.store(o, i8x16.shuffle(i32x4.splat(0), h, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31), 16);
      }
    }
    for (; i < n; i++) store<u32>(dst + (<usize>i << 2), <u32>load<u16>(src + (<usize>i << 1)) << 16);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    // half1 on eight lanes. The sign and the infinity/NaN exponent fix are formed on the 16-bit lanes
    // and added in as upper halves: an infinity or NaN times 2^112 has exponent 143, and + 0x38000000
    // makes it 255 with its mantissa unchanged; the lane's sign bit is 0 before the sign is added.
    // This shape, rather than a 32-bit select per lane, is what V8 runs fast (bench/element_types.js).
    for (; i + 8 <= n; i += 8) {
      const h = v128.load(src + (<usize>i << 1));
      const o = dst + (<usize>i << 2);
      const em = v128.and(h, i16x8.splat(0x7fff));
      const up = v128.or(v128.xor(h, em), v128.and(i16x8.gt_s(em, i16x8.splat(0x7bff)), i16x8.splat(0x3800)));
      const lo = f32x4.mul(i32x4.shl(i32x4.extend_low_i16x8_u(em), 13), f32x4.splat(TWO_112));
      const hi = f32x4.mul(i32x4.shl(i32x4.extend_high_i16x8_u(em), 13), f32x4.splat(TWO_112));
      v128.store(o, i32x4.add(lo, i32x4.shl(i32x4.extend_low_i16x8_u(up), 16)));
      v128.store(o, i32x4.add(hi, i32x4.shl(i32x4.extend_high_i16x8_u(up), 16)), 16);
    }
  }
  for (; i < n; i++) store<u32>(dst + (<usize>i << 2), half1(<u32>load<u16>(src + (<usize>i << 1))));
}
