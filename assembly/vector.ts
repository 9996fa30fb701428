// Vector helpers shared by the kernels.

/**
 * a * b + c on four f32 lanes. The relaxed-SIMD build fuses it (one rounding where the hardware has
 * FMA, two where it does not, so that build's results may differ in the last bit between machines);
 * the SIMD build always rounds twice, which keeps its results identical on every machine.
 */
// @ts-ignore: decorator
@inline export function madd4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** The four lanes of an f32x4 sum, added in f64 in lane order. */
// @ts-ignore: decorator
@inline export function lanesF64(a: v128): f64 {
  return <f64>f32x4.extract_lane(a, 0) + <f64>f32x4.extract_lane(a, 1)
       + <f64>f32x4.extract_lane(a, 2) + <f64>f32x4.extract_lane(a, 3);
}
