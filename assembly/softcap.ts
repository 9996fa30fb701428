// Logit soft-capping (Gemma 2, Liger-Kernel's `softcap`): z = cap tanh(x / cap), and its chain rule.
//
// tanh is Cephes tanhf (S. L. Moshier, Cephes Math Library 2.2, tanhf.c): for |y| < 0.625 the odd
// degree-11 polynomial y + y^3 P(y^2); above, (1 - e) / (1 + e) with e = exp(-2|y|) from expNeg4, where
// e <= 0.29 so nothing cancels. Measured error against Math.tanh: test/cross_entropy_options.test.ts
// compares the capped loss with the float64 reference to 1e-6 relative. tanh(+-inf) = +-1, NaN stays NaN.
// tanh1 is the scalar twin of tanh4 (same operations in the same order), used by the tail loops and,
// in the scalar build (no SIMD), by every element.

import { expNeg4, expNeg } from './exp';

// @ts-ignore: decorator
@inline const T0 = reinterpret<f32>(0xBBBAF0EA); // -5.70498872745e-3
// @ts-ignore: decorator
@inline const T1 = reinterpret<f32>(0x3CA9134E); // 2.06390887954e-2
// @ts-ignore: decorator
@inline const T2 = reinterpret<f32>(0xBD5C1E2D); // -5.37397155531e-2
// @ts-ignore: decorator
@inline const T3 = reinterpret<f32>(0x3E088393); // 1.33314422036e-1
// @ts-ignore: decorator
@inline const T4 = reinterpret<f32>(0xBEAAAA99); // -3.33332819422e-1
// @ts-ignore: decorator
@inline const SMALL = reinterpret<f32>(0x3F200000); // 0.625

/** tanh for four lanes. */
// @ts-ignore: decorator
@inline function tanh4(y: v128): v128 {
  const z = f32x4.mul(y, y);
  let p = f32x4.add(f32x4.mul(f32x4.splat(T0), z), f32x4.splat(T1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T3));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T4));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), y), y);
  const ay = f32x4.abs(y);
  const e = expNeg4(f32x4.mul(ay, f32x4.splat(-2)));
  const one = f32x4.splat(1);
  let big = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  big = v128.or(big, v128.and(y, i32x4.splat(0x80000000))); // sign of y
  return v128.bitselect(small, big, f32x4.lt(ay, f32x4.splat(SMALL)));
}

/** Scalar twin of tanh4, equal to one lane of it without FMA (NaN payloads aside). */
// @ts-ignore: decorator
@inline function tanh1(y: f32): f32 {
  const z = y * y;
  let p = T0 * z + T1;
  p = p * z + T2;
  p = p * z + T3;
  p = p * z + T4;
  const ay = abs<f32>(y);
  if (ay < SMALL) return (p * z) * y + y;
  const e = expNeg(ay * <f32>-2);
  const big = (<f32>1 - e) / (<f32>1 + e);
  // big >= 0, so or-ing in y's sign bit is copysign, as in tanh4.
  return reinterpret<f32>(reinterpret<u32>(big) | (reinterpret<u32>(y) & 0x80000000));
}

/** dst[i] = cap tanh(src[i] / cap) for n values; dst may equal src. */
export function softcapForward(src: usize, dst: usize, n: i32, cap: f32): void {
  const inv = <f32>1 / cap;
  let i = 0;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const c = f32x4.splat(cap), inv4 = f32x4.splat(inv);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, f32x4.mul(c, tanh4(f32x4.mul(v128.load(src + o), inv4))));
    }
  }
  // tanh1 repeats tanh4's operations, so a tail element equals what a lane would give (without FMA).
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, cap * tanh1(load<f32>(src + o) * inv));
  }
}

/** grad[i] *= 1 - (capped[i] / cap)^2, the derivative of cap tanh(x / cap) written from its output. */
export function softcapBackward(capped: usize, grad: usize, n: i32, cap: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const inv = f32x4.splat(<f32>1 / cap), one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const t = f32x4.mul(v128.load(capped + o), inv);
      v128.store(grad + o, f32x4.mul(v128.load(grad + o), f32x4.sub(one, f32x4.mul(t, t))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const t = load<f32>(capped + o) * (<f32>1 / cap);
    store<f32>(grad + o, load<f32>(grad + o) * (<f32>1 - t * t));
  }
}
