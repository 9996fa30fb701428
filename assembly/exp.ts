// Exponential of non-positive single-precision arguments, four lanes at a time.
//
// Every caller subtracts a row maximum first, so arguments lie in (-inf, 0] or are NaN. That lets
// the kernels skip overflow handling and keep 2^k normal.
//
// Method: Cephes expf (S. L. Moshier, Cephes Math Library 2.2, expf.c). x = k ln2 + r with
// k = nearest(x log2 e) and |r| <= ln2/2, ln2 split Cody-Waite style into C1 + C2 so that k*C1 is exact
// for |k| <= 2^7; e^r = 1 + r + r^2 P(r) with Cephes' degree-5 minimax P (theoretical error of the
// polynomial on [-0.5, 0.5]: 4.2e-9 relative); the result is scaled by 2^k through the exponent bits.
//
// Error bound: under 1 ulp against the exact e^x for x in [-87.3365, 0] (measured by
// test/exp.test.ts over every 97th f32 of that interval: worst 0.954 ulp, 7.7e-8 relative, no FMA).
// Below -87.3365 (e^x < 2^-126) the result is flushed to +0, an absolute error under 1.2e-38;
// -inf gives +0 and NaN gives NaN. The vector and the scalar form perform the same IEEE operations in
// the same order, so a lane and a tail element agree bit for bit.

// @ts-ignore: decorator
@inline const LOG2E = reinterpret<f32>(0x3FB8AA3B); // 1.44269502163
// @ts-ignore: decorator
@inline const C1 = reinterpret<f32>(0x3F318000); // 0.693359375, 8 significant bits
// @ts-ignore: decorator
@inline const C2 = reinterpret<f32>(0xB95E8083); // -2.12194440e-4, ln2 - C1
// @ts-ignore: decorator
@inline const P0 = reinterpret<f32>(0x39506967); // 1.9875691500e-4
// @ts-ignore: decorator
@inline const P1 = reinterpret<f32>(0x3AB743CE); // 1.3981999507e-3
// @ts-ignore: decorator
@inline const P2 = reinterpret<f32>(0x3C088908); // 8.3334519073e-3
// @ts-ignore: decorator
@inline const P3 = reinterpret<f32>(0x3D2AA9C1); // 4.1665795894e-2
// @ts-ignore: decorator
@inline const P4 = reinterpret<f32>(0x3E2AAAAA); // 1.6666665459e-1
// @ts-ignore: decorator
@inline const P5 = reinterpret<f32>(0x3F000000); // 5.0000001201e-1 rounds to 0.5
/** Smallest argument whose result is normal: ln(2^-126) rounded down. */
// @ts-ignore: decorator
@inline export const EXP_FLUSH_BELOW = reinterpret<f32>(0xC2AEAC50); // -87.3365478516

/** e^x for four lanes of x in (-inf, 0] or NaN, within 1 ulp; see the file header. */
// @ts-ignore: decorator
@inline export function expNeg4(x: v128): v128 {
  const k = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(k, f32x4.splat(C1)));
  r = f32x4.sub(r, f32x4.mul(k, f32x4.splat(C2)));
  const r2 = f32x4.mul(r, r);
  let p = f32x4.add(f32x4.mul(f32x4.splat(P0), r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1.0));
  // 2^k built in the exponent field; k >= -126 wherever the result is kept.
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  const y = f32x4.mul(p, scale);
  // lt() is false for NaN, so NaN survives the flush and poisons the row as it should.
  return v128.andnot(y, f32x4.lt(x, f32x4.splat(EXP_FLUSH_BELOW)));
}

/** Scalar twin of expNeg4, bit-identical to one lane of it. */
// @ts-ignore: decorator
@inline export function expNeg(x: f32): f32 {
  const k = nearest<f32>(x * LOG2E);
  let r = x - k * C1;
  r = r - k * C2;
  const r2 = r * r;
  let p = P0 * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  p = (p * r2 + r) + <f32>1.0;
  // i32 truncation of NaN would trap; NaN only reaches here as x itself, so route it around.
  if (!(x >= EXP_FLUSH_BELOW)) return x != x ? x : 0;
  return p * reinterpret<f32>((<i32>k + 127) << 23);
}

/** dst[i] = e^src[i] for n values, src[i] <= 0; exported so the test suite can measure the bound. */
export function expNegArray(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, expNeg4(v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, expNeg(load<f32>(src + o)));
  }
}
