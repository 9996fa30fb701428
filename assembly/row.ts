// Row statistics shared by every softmax-family kernel: a blocked, one-pass log-sum-exp.
//
// A row is read in blocks of BLOCK floats. Each block is swept twice while it sits in L1 (its maximum,
// then its exponential sum relative to that maximum), and blocks are merged into a running maximum and
// sum in f64, as in the online softmax of Milakov & Gimelshein (2018), "Online normalizer calculation
// for softmax". Rows of up to BLOCK classes are the classic two-sweep log-sum-exp.
//
// Within a block, each sum runs in one f32x4 accumulator that takes the sum of a pair of vectors per
// step (so any term sees at most BLOCK/8 + 1 = 257 roundings, a relative error below 257 * 2^-24 =
// 1.5e-5 in the worst case, ~1e-7 typically), then the lanes are added in f64; across blocks and rows
// everything is f64.
//
// Optionally the same sweep accumulates D = sum_c u_c (m - z_c) and U = sum_c u_c for coefficients
// u_c = (w_c or 1) * (lambda t_c + mu or 1): the pieces of sum_c u_c (lse - z_c) = D + U log s, which
// is every cross-entropy form here without materialising log-probabilities. (m - z_c) >= 0, so the
// terms never cancel. They are f32 like the sums, and overflow only for logits beyond ~1e30: such a
// row's D is summed again in f64 (exactDot); a gradient in place, which overwrites the logits, checks
// the row's span first (inPlaceMax).
//
// Non-finite rows (maximum +inf, or no finite value at all) are resolved by a scalar scan that follows
// torch.logsumexp: NaN anywhere gives NaN, else +inf anywhere gives +inf, else all -inf gives -inf.
// Callers then see rowShift = lse and rowSum = 1, which makes exp(z - shift) / sum reproduce
// PyTorch's softmax of such rows (NaN where inf - inf occurs).
//
// The sparse cross-entropy loss also reads float16 and bfloat16 logits here, without a widening pass:
// a block's maximum comes from the raw bits (halfBlockMax), and the sum sweep widens each vector in
// registers to the float32 that widen.ts would have written, in the same lanes, so every sum and
// every loss is the float32 path's, bit for bit. float16 blocks without infinities and NaNs (nearly
// all) take a cheaper widening than widen.ts's (finite4); the others, and any block whose maximum the
// bits cannot tell, take the exact one.

import { expK, expNeg4, expNeg4k, expNeg4Sumk, expNegInline } from './exp';
import { madd4 } from './vector';
import { half1, TWO_112 } from './widen';

/** Floats per block: 8 KiB, so the second sweep over a block hits L1. A multiple of 16. */
// @ts-ignore: decorator
@inline export const BLOCK: i32 = 2048;

// What a sweep reads: float32, or float16 / bfloat16 bit patterns (u16, widen.ts's codes) widened in
// registers to the float32 that widen.ts would have written, so that every sum is the float32 path's.
// The kind is a constant at each call site, as the flags are: each kind compiles to its own loop.
// @ts-ignore: decorator
@inline export const F32: i32 = 0;
// @ts-ignore: decorator
@inline export const F16: i32 = 1;
// @ts-ignore: decorator
@inline export const BF16: i32 = 2;
/** float16 in a block that holds no infinity or NaN (halfBlockMax said so): a cheaper widening. */
// @ts-ignore: decorator
@inline const F16_FINITE: i32 = 3;

/** F16_FINITE's constants, loaded before a loop (see exp.ts on constants in loops): a mask, 2^112. */
// @ts-ignore: decorator
@lazy const HALF_K = memory.data<u32>([0x8FFF8FFF, 0x77800000], 4);

/** log2 of the bytes of one element of `kind`. */
// @ts-ignore: decorator
@inline function elemShift(kind: i32): usize {
  return kind == F32 ? 2 : 1;
}

/** Element i of p as float32 (a half widened exactly, as widen.ts does). */
// @ts-ignore: decorator
@inline export function loadElem(p: usize, i: i32, kind: i32): f32 {
  if (kind == F32) return load<f32>(p + (<usize>i << 2));
  const h = <u32>load<u16>(p + (<usize>i << 1));
  return reinterpret<f32>(kind == BF16 ? h << 16 : half1(h));
}

/**
 * float16 lanes 0-3 (4-7 when hi) of h, which holds no infinity or NaN, as float32: the bits
 * sign | em << 13 times 2^112, half1 without its infinity/NaN case. The upper and lower 16 bits of
 * each 32-bit lane are formed on eight 16-bit lanes at once (the half shifted right by 3 with the
 * sign's copies masked off, and its low three bits shifted up by 13) and interleaved. mask and scale
 * are HALF_K's.
 */
// @ts-ignore: decorator
@inline function finite4(h: v128, hi: bool, mask: v128, scale: v128): v128 {
  return f32x4.mul(finiteBits4(h, hi, mask), scale);
}

/** finite4 before its multiplication by 2^112: the float32 bits sign | em << 13. */
// @ts-ignore: decorator
@inline function finiteBits4(h: v128, hi: bool, mask: v128): v128 {
  const up = v128.and(i16x8.shr_s(h, 3), mask);
  const dn = i16x8.shl(h, 13);
  return hi
    ? i8x16.shuffle(dn, up, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31)
    : i8x16.shuffle(dn, up, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
}

/**
 * z - shift for four F16_FINITE lanes in a relaxed build, z = finiteBits4 * 2^112, negShift = -shift.
 * The product is exact (a power of two times a float32, in range), so a fused and an unfused
 * multiply-add both round only the difference: relaxed_madd gives sub(finite4, shift)'s bits on
 * every engine, one instruction less (madd4 is that in a relaxed build; only relaxed builds call this).
 */
// @ts-ignore: decorator
@inline function finiteMinus4(h: v128, hi: bool, mask: v128, scale: v128, negShift: v128): v128 {
  return madd4(finiteBits4(h, hi, mask), scale, negShift);
}

/**
 * Four elements of p from element i (from i + 4 when hi) as float32 lanes, for a kind other than
 * float32; mask and scale are HALF_K's, loaded before the loop (F16_FINITE only).
 */
// @ts-ignore: decorator
@inline function halves4(p: usize, i: i32, hi: bool, kind: i32, mask: v128, scale: v128): v128 {
  const q = p + (<usize>i << 1);
  if (kind == BF16) return i32x4.shl(hi ? v128.load16x4_u(q, 8) : v128.load16x4_u(q), 16);
  if (kind == F16_FINITE) return finite4(hi ? v128.load64_zero(q, 8) : v128.load64_zero(q), false, mask, scale);
  // widen.ts's float16 vector form on four lanes: every pattern, infinities and NaNs included.
  const h = hi ? v128.load64_zero(q, 8) : v128.load64_zero(q);
  const em = v128.and(h, i16x8.splat(0x7fff));
  const up = v128.or(v128.xor(h, em), v128.and(i16x8.gt_s(em, i16x8.splat(0x7bff)), i16x8.splat(0x3800)));
  const lo = f32x4.mul(i32x4.shl(i32x4.extend_low_i16x8_u(em), 13), f32x4.splat(TWO_112));
  return i32x4.add(lo, i32x4.shl(i32x4.extend_low_i16x8_u(up), 16));
}

/** Shift m of the last row: its maximum, or its log-sum-exp for a non-finite row. */
export let rowShift: f32 = 0;
/** s = sum_c exp(z_c - m) of the last row. */
export let rowSum: f64 = 0;
/** D = sum_c u_c (m - z_c) of the last row, when coefficients were requested. */
export let rowDot: f64 = 0;
/** U = sum_c u_c of the last row, when coefficients were requested. */
export let rowCoefSum: f64 = 0;

// Partial results of blockSweep (AS functions return one value).
let blockDot: f64 = 0;
let blockCoefSum: f64 = 0;

/** Largest finite-or-infinite value of n floats at p; NaN is skipped (pmax keeps its first operand). */
// @ts-ignore: decorator
@inline function blockMax(p: usize, n: i32): f32 {
  return blockMaxOf(p, n, F32);
}

/**
 * blockMax of n elements of `kind` at p: float32, or halves (F16, BF16) each widened exactly into the
 * lane and the accumulator its float32 would fill, so that even the sign of a zero maximum is the
 * float32 sweep's. The kind is a constant at each call site: each compiles to its own loop.
 */
// @ts-ignore: decorator
@inline function blockMaxOf(p: usize, n: i32, kind: i32): f32 {
  let m: f32 = -Infinity;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
    const none = f32x4.splat(0);
    for (; i + 16 <= n; i += 16) {
      const q = p + (<usize>i << 2);
      m0 = f32x4.pmax(m0, kind == F32 ? v128.load(q) : halves4(p, i, false, kind, none, none));
      m1 = f32x4.pmax(m1, kind == F32 ? v128.load(q, 16) : halves4(p, i, true, kind, none, none));
      m2 = f32x4.pmax(m2, kind == F32 ? v128.load(q, 32) : halves4(p, i + 8, false, kind, none, none));
      m3 = f32x4.pmax(m3, kind == F32 ? v128.load(q, 48) : halves4(p, i + 8, true, kind, none, none));
    }
    for (; i + 4 <= n; i += 4) {
      m0 = f32x4.pmax(m0, kind == F32 ? v128.load(p + (<usize>i << 2)) : halves4(p, i, false, kind, none, none));
    }
    m0 = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
    m = f32x4.extract_lane(m0, 0);
    const a = f32x4.extract_lane(m0, 1), b = f32x4.extract_lane(m0, 2), c = f32x4.extract_lane(m0, 3);
    if (a > m) m = a;
    if (b > m) m = b;
    if (c > m) m = c;
  }
  for (; i < n; i++) {
    const v = loadElem(p, i, kind);
    if (v > m) m = v;
  }
  return m;
}

/** Of eight i16 lanes, as i32: the largest signed (mode 0), the largest unsigned (1), the least signed (2). */
// @ts-ignore: decorator
@inline function lanes16(v: v128, mode: i32): i32 {
  // Halved three times: each lane against the one 8, 4, then 2 bytes on.
  v = reduce16(v, i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7), mode);
  v = reduce16(v, i8x16.shuffle(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3), mode);
  v = reduce16(v, i8x16.shuffle(v, v, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1), mode);
  return mode == 1 ? i16x8.extract_lane_u(v, 0) : i16x8.extract_lane_s(v, 0);
}

// @ts-ignore: decorator
@inline function reduce16(a: v128, b: v128, mode: i32): v128 {
  return mode == 0 ? i16x8.max_s(a, b) : mode == 1 ? i16x8.max_u(a, b) : i16x8.min_s(a, b);
}

/**
 * blockMax of n halves at p read from their bits, without widening them: the largest bit pattern as
 * a signed i16 is the largest value when any is non-negative, else the smallest is. Returns NaN,
 * which blockMax never does, when the bits cannot tell: a positive NaN (which blockMax skips), a
 * largest value of +0 (a -0 before it would be blockMax's pick), a bfloat16 block of negative NaNs
 * only, or for float16 an infinity or NaN anywhere (F16_FINITE cannot widen it); the caller then
 * widens the block exactly (blockMaxOf). One i16 max covers eight elements where a pmax covers four.
 */
// @ts-ignore: decorator
@inline function halfBlockMax(p: usize, n: i32, kind: i32): f32 {
  // +infinity: every pattern above it is a NaN, and with the sign set, every one above -infinity.
  const top: i32 = kind == F16 ? 0x7c00 : 0x7f80;
  let hiS: i32 = -32768, hiU: i32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let s0 = i16x8.splat(-32768), s1 = s0, u0 = i16x8.splat(0), u1 = u0;
    for (; i + 16 <= n; i += 16) {
      const q = p + (<usize>i << 1);
      const a = v128.load(q), b = v128.load(q, 16);
      s0 = i16x8.max_s(s0, a);
      s1 = i16x8.max_s(s1, b);
      if (kind == F16) {
        u0 = i16x8.max_u(u0, a);
        u1 = i16x8.max_u(u1, b);
      }
    }
    for (; i + 8 <= n; i += 8) {
      const a = v128.load(p + (<usize>i << 1));
      s0 = i16x8.max_s(s0, a);
      if (kind == F16) u0 = i16x8.max_u(u0, a);
    }
    hiS = lanes16(i16x8.max_s(s0, s1), 0);
    if (kind == F16) hiU = lanes16(i16x8.max_u(u0, u1), 1);
  }
  for (; i < n; i++) {
    const h = <i32>load<u16>(p + (<usize>i << 1));
    hiS = max(hiS, <i32><i16>h);
    if (kind == F16) hiU = max(hiU, h);
  }
  if (kind == F16 ? hiS >= top || hiU >= (top | 0x8000) : hiS > top) return NaN;
  if (hiS > 0) return kind == F16 ? reinterpret<f32>(half1(hiS)) : reinterpret<f32>(hiS << 16);
  if (hiS == 0) return NaN;
  // Every element is negative: the largest has the least magnitude, the least bits.
  let loS: i32 = 32767;
  i = 0;
  if (ASC_FEATURE_SIMD) {
    let s0 = i16x8.splat(32767);
    for (; i + 8 <= n; i += 8) s0 = i16x8.min_s(s0, v128.load(p + (<usize>i << 1)));
    loS = lanes16(s0, 2);
  }
  for (; i < n; i++) loS = min(loS, <i32><i16>load<u16>(p + (<usize>i << 1)));
  // A NaN for bfloat16 when every element is one.
  const h = <u32>loS & 0xffff;
  return kind == F16 ? reinterpret<f32>(half1(h)) : reinterpret<f32>(h << 16);
}

/**
 * Bound on |u_c (m - z_c)| below which blockSweep's f32 D cannot overflow: its accumulator holds at
 * most 2 BLOCK / 8 + 1 = 513 terms a lane before the lanes go to f64, and 2^118 * 513 times the
 * roundings' (1 + 2^-24)^513 is below 2^127.01 < FLT_MAX.
 */
// @ts-ignore: decorator
@inline const KEEP_DOT_BOUND: f64 = 3.32306998946228968225951765070086144e35; // 2^118

/**
 * For an in-place sweep with coefficients u_c = w_c (lambda t_c + mu), |w_c| <= coefBound: the maximum
 * of the n floats at p, or NaN when max - z_c or |u_c (max - z_c)| could exceed KEEP_DOT_BOUND. NaN is
 * skipped, as in blockMax; lambda = 0, mu = 1 without targets. A call, not inlined: only
 * in-place gradients with coefficients need it (rowStatsStore).
 */
function inPlaceMax(p: usize, n: i32, hasT: bool, t: usize, lambda: f32, mu: f32, coefBound: f64): f32 {
  let hi: f32 = -Infinity, lo: f32 = Infinity, ta: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let h0 = f32x4.splat(-Infinity), h1 = h0, l0 = f32x4.splat(Infinity), l1 = l0;
    let a0 = f32x4.splat(0), a1 = a0;
    // Two of each accumulator, as blockMax's four: the compares' latency bounds a single chain.
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const z0 = v128.load(p + o), z1 = v128.load(p + o, 16);
      h0 = f32x4.pmax(h0, z0);
      h1 = f32x4.pmax(h1, z1);
      l0 = f32x4.pmin(l0, z0);
      l1 = f32x4.pmin(l1, z1);
      if (hasT) {
        a0 = f32x4.pmax(a0, f32x4.abs(v128.load(t + o)));
        a1 = f32x4.pmax(a1, f32x4.abs(v128.load(t + o, 16)));
      }
    }
    h0 = f32x4.pmax(h0, h1);
    l0 = f32x4.pmin(l0, l1);
    a0 = f32x4.pmax(a0, a1);
    for (let k = 0; k < 4; k++) {
      const hk = f32x4.extract_lane(h0, 0), lk = f32x4.extract_lane(l0, 0), ak = f32x4.extract_lane(a0, 0);
      if (hk > hi) hi = hk;
      if (lk < lo) lo = lk;
      if (ak > ta) ta = ak;
      h0 = i32x4.shuffle(h0, h0, 1, 2, 3, 0);
      l0 = i32x4.shuffle(l0, l0, 1, 2, 3, 0);
      a0 = i32x4.shuffle(a0, a0, 1, 2, 3, 0);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(p + o);
    if (v > hi) hi = v;
    if (v < lo) lo = v;
    if (hasT) ta = max(ta, abs(load<f32>(t + o)));
  }
  // The span bounds |x| = |z - max| too, which must stay finite even where the coefficients are tiny.
  const span = <f64>hi - <f64>lo;
  const term = span * coefBound * (<f64>abs(lambda) * <f64>ta + <f64>abs(mu));
  return span <= KEEP_DOT_BOUND && term <= KEEP_DOT_BOUND ? hi : NaN;
}

/**
 * Largest of n non-negative floats at w (class weights, which are checked finite and non-negative):
 * the kernels' coefBound for rowStatsStore.
 */
export function maxWeight(w: usize, n: i32): f64 {
  let m: f32 = 0;
  for (let i = 0; i < n; i++) m = max(m, load<f32>(w + (<usize>i << 2)));
  return m;
}

/**
 * D = sum_c u_c (shift - z_c) over n elements of `kind` in plain f64: for a non-finite row, where
 * blocks cannot be rescaled, and for a row whose f32 terms or lanes overflowed (blockSweep;
 * cross_entropy_probs.ts too, with shift 0).
 */
// @ts-ignore: decorator
@inline function exactDotOf(
  p: usize, n: i32, shift: f32, hasW: bool, hasT: bool, w: usize, t: usize, lambda: f32, mu: f32, kind: i32
): f64 {
  let d: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    let c: f32 = 1;
    if (hasT) c = load<f32>(t + o) * lambda + mu;
    if (hasW) c *= load<f32>(w + o);
    d += <f64>c * (<f64>shift - <f64>loadElem(p, i, kind));
  }
  return d;
}

/** exactDotOf over float32. */
export function exactDot(
  p: usize, n: i32, shift: f32, hasW: bool, hasT: bool, w: usize, t: usize, lambda: f32, mu: f32
): f64 {
  return exactDotOf(p, n, shift, hasW, hasT, w, t, lambda, mu, F32);
}

/** exactDotOf over halves (kind F16 or BF16, not constant here: a row that needs it is rare). */
function exactDotHalf(p: usize, n: i32, shift: f32, hasW: bool, w: usize, kind: i32): f64 {
  return kind == F16
    ? exactDotOf(p, n, shift, hasW, false, w, 0, 0, 1, F16)
    : exactDotOf(p, n, shift, hasW, false, w, 0, 0, 1, BF16);
}

/**
 * sum exp(z - shift) over n elements of `kind` at p, and when withCoef, blockDot = sum u (shift - z) and
 * blockCoefSum = sum u with u = (w or 1) * (lambda t + mu or 1). w and t point at the block's
 * coefficients. When keep, exp(z - shift) is also written to dst (which may equal p). The flags are
 * constant at every call site, so each use compiles to its own loop.
 */
// @ts-ignore: decorator
@inline function blockSweep(
  p: usize, n: i32, shift: f32,
  withCoef: bool, hasW: bool, hasT: bool, w: usize, t: usize, lambda: f32, mu: f32,
  keep: bool, dst: usize, kind: i32
): f64 {
  let sum: f64 = 0, dot: f64 = 0, coefSum: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const sh = f32x4.splat(shift);
    const lam = f32x4.splat(lambda), mu4 = f32x4.splat(mu);
    const zero = f32x4.splat(0);
    const hm = kind == F16_FINITE ? v128.load32_splat(HALF_K) : zero;
    const hs = kind == F16_FINITE ? v128.load32_splat(HALF_K + 4) : zero;
    const nsh = kind == F16_FINITE && ASC_FEATURE_RELAXED_SIMD ? f32x4.neg(sh) : zero;
    // The exponential's constants as locals (see exp.ts).
    const k0 = expK(0), k1 = expK(1), k2 = expK(2), k3 = expK(3), k4 = expK(4);
    const k5 = expK(5), k6 = expK(6), k7 = expK(7), k8 = expK(8), k9 = expK(9);
    const unit = !hasT && !hasW;
    // One accumulator per sum, fed a pair sum per 8 elements: two per sum left V8 spilling
    // registers in this loop. With unit coefficients (smoothing alone) D needs no products and U is
    // the element count.
    let s0 = zero, d0 = zero, u0 = zero;
    // Elements equal to the shift (x = 0, e^x = 1 exactly) are counted, not summed: a lane that holds
    // 1.0 would round every small term added after it to 2^-24, which is the whole loss of a confident
    // row. The count is added in f64 below.
    let n0 = i32x4.splat(0);
    // Without `keep` the exponentials only feed the sum: expNeg4Sumk, and the shift found by comparing
    // z itself (x == 0 exactly when z == shift), which frees a register. With `keep` the stored e^x
    // must be 0 for -inf (expNeg4k), and x is compared: comparing z measured slower there.
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      // Halves are read eight at once: bfloat16 interleaved with zeros (as widen.ts), and finite4
      // shares its work on 16-bit lanes.
      const h = kind == F16_FINITE || kind == BF16 ? v128.load(p + (<usize>i << 1)) : zero;
      // Relaxed builds never form a float16 z (finiteMinus4), so they compare x, which is exact: x == 0 iff z == shift.
      const fused = kind == F16_FINITE && ASC_FEATURE_RELAXED_SIMD;
      const z0 = kind == F32 ? v128.load(p + o)
        : fused ? zero
        : kind == F16_FINITE ? finite4(h, false, hm, hs)
        : kind == BF16 ? i8x16.shuffle(zero, h, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23)
        : halves4(p, i, false, kind, hm, hs);
      const z1 = kind == F32 ? v128.load(p + o, 16)
        : fused ? zero
        : kind == F16_FINITE ? finite4(h, true, hm, hs)
        : kind == BF16 ? i8x16.shuffle(zero, h, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31)
        : halves4(p, i, true, kind, hm, hs);
      const x0 = fused ? finiteMinus4(h, false, hm, hs, nsh) : f32x4.sub(z0, sh);
      const x1 = fused ? finiteMinus4(h, true, hm, hs, nsh) : f32x4.sub(z1, sh);
      const at0 = keep || fused ? f32x4.eq(x0, zero) : f32x4.eq(z0, sh);
      const at1 = keep || fused ? f32x4.eq(x1, zero) : f32x4.eq(z1, sh);
      const e0 = keep
        ? expNeg4k(x0, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9)
        : expNeg4Sumk(x0, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9);
      const e1 = keep
        ? expNeg4k(x1, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9)
        : expNeg4Sumk(x1, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9);
      if (keep) {
        v128.store(dst + o, e0);
        v128.store(dst + o, e1, 16);
      }
      s0 = f32x4.add(s0, f32x4.add(v128.andnot(e0, at0), v128.andnot(e1, at1)));
      n0 = i32x4.sub(n0, i32x4.add(at0, at1));
      if (withCoef) {
        let c0 = f32x4.splat(1), c1 = c0;
        if (hasT) {
          c0 = f32x4.add(f32x4.mul(v128.load(t + o), lam), mu4);
          c1 = f32x4.add(f32x4.mul(v128.load(t + o, 16), lam), mu4);
        }
        if (hasW) {
          c0 = f32x4.mul(c0, v128.load(w + o));
          c1 = f32x4.mul(c1, v128.load(w + o, 16));
        }
        // shift - z = -x
        if (unit) d0 = f32x4.sub(d0, f32x4.add(x0, x1));
        else {
          d0 = f32x4.sub(d0, f32x4.add(f32x4.mul(c0, x0), f32x4.mul(c1, x1)));
          u0 = f32x4.add(u0, f32x4.add(c0, c1));
        }
      }
    }
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const z0 = kind == F32 ? v128.load(p + o) : halves4(p, i, false, kind, hm, hs);
      const x0 = f32x4.sub(z0, sh);
      const at0 = keep ? f32x4.eq(x0, zero) : f32x4.eq(z0, sh);
      const e0 = keep
        ? expNeg4k(x0, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9)
        : expNeg4Sumk(x0, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9);
      if (keep) v128.store(dst + o, e0);
      s0 = f32x4.add(s0, v128.andnot(e0, at0));
      n0 = i32x4.sub(n0, at0);
      if (withCoef) {
        let c0 = f32x4.splat(1);
        if (hasT) c0 = f32x4.add(f32x4.mul(v128.load(t + o), lam), mu4);
        if (hasW) c0 = f32x4.mul(c0, v128.load(w + o));
        if (unit) d0 = f32x4.sub(d0, x0);
        else {
          d0 = f32x4.sub(d0, f32x4.mul(c0, x0));
          u0 = f32x4.add(u0, c0);
        }
      }
    }
    sum = <f64>f32x4.extract_lane(s0, 0) + <f64>f32x4.extract_lane(s0, 1)
        + <f64>f32x4.extract_lane(s0, 2) + <f64>f32x4.extract_lane(s0, 3);
    sum += <f64>(i32x4.extract_lane(n0, 0) + i32x4.extract_lane(n0, 1)
               + i32x4.extract_lane(n0, 2) + i32x4.extract_lane(n0, 3));
    if (withCoef) {
      dot = <f64>f32x4.extract_lane(d0, 0) + <f64>f32x4.extract_lane(d0, 1)
          + <f64>f32x4.extract_lane(d0, 2) + <f64>f32x4.extract_lane(d0, 3);
      coefSum = unit ? <f64>i : <f64>f32x4.extract_lane(u0, 0) + <f64>f32x4.extract_lane(u0, 1)
              + <f64>f32x4.extract_lane(u0, 2) + <f64>f32x4.extract_lane(u0, 3);
    }
  }
  // The scalar build sums in f64 directly, so it needs no count.
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const x = loadElem(p, i, kind) - shift;
    const e = expNegInline(x);
    if (keep) store<f32>(dst + o, e);
    sum += x == 0 ? 1 : <f64>e;
    if (withCoef) {
      let c: f32 = 1;
      if (hasT) c = load<f32>(t + o) * lambda + mu;
      if (hasW) c *= load<f32>(w + o);
      dot -= <f64>(c * x);
      coefSum += <f64>c;
    }
  }
  blockDot = dot;
  blockCoefSum = coefSum;
  return sum;
}

/** The maximum of the block f16ExactBlock swept. */
let exactMax: f32 = 0;

/**
 * blockMax and blockSweep (without targets) of a float16 block whose maximum halfBlockMax could not
 * tell, widened exactly: its sum, its maximum in exactMax. A call with the flags as arguments, not an
 * inlined loop per flag: such blocks are rare, and distinct loops keep Binaryen from folding this
 * path and the F16_FINITE one into one loop that tests the kind per element.
 */
function f16ExactBlock(p: usize, n: i32, withCoef: bool, hasW: bool, w: usize): f64 {
  const bm = blockMaxOf(p, n, F16);
  exactMax = bm;
  return blockSweep(p, n, bm == -Infinity ? 0 : bm, withCoef, hasW, false, w, 0, 0, 1, false, 0, F16);
}

/** blockMax of a bfloat16 block whose maximum halfBlockMax could not tell (rare: a call). */
function bf16ExactMax(p: usize, n: i32): f32 {
  return blockMaxOf(p, n, BF16);
}

/** torch.logsumexp of a row of n elements whose maximum is not finite: NaN, +inf or -inf. */
// @ts-ignore: decorator
@inline function nonFiniteLseOf(p: usize, n: i32, kind: i32): f32 {
  let posInf = false;
  for (let i = 0; i < n; i++) {
    const v = loadElem(p, i, kind);
    if (v != v) return NaN;
    if (v == Infinity) posInf = true;
  }
  return posInf ? Infinity : -Infinity;
}

/** nonFiniteLseOf over float32. */
function nonFiniteLse(p: usize, n: i32): f32 {
  return nonFiniteLseOf(p, n, F32);
}

/** nonFiniteLseOf over halves (kind F16 or BF16). */
function nonFiniteLseHalf(p: usize, n: i32, kind: i32): f32 {
  return kind == F16 ? nonFiniteLseOf(p, n, F16) : nonFiniteLseOf(p, n, BF16);
}

/**
 * Statistics of the row of n elements of `kind` at p into rowShift / rowSum (and rowDot / rowCoefSum
 * when withCoef; w and t then point at the row's coefficient vectors, see blockSweep). Halves come
 * without targets (hasT false): only the sparse cross-entropy loss reads them.
 */
// @ts-ignore: decorator
@inline export function rowStats(
  p: usize, n: i32,
  withCoef: bool, hasW: bool, hasT: bool, w: usize, t: usize, lambda: f32, mu: f32, kind: i32
): void {
  let m: f32 = -Infinity;
  let s: f64 = 0, d: f64 = 0, u: f64 = 0;
  for (let off = 0; off < n; off += BLOCK) {
    const len = min(BLOCK, n - off);
    const o = <usize>off << 2;
    const q = p + (<usize>off << elemShift(kind));
    let bm = kind == F32 ? blockMax(q, len) : halfBlockMax(q, len, kind);
    let bs: f64;
    if (kind == F16 && bm != bm) {
      bs = f16ExactBlock(q, len, withCoef, hasW, w + o);
      bm = exactMax;
    } else {
      if (kind == BF16 && bm != bm) bm = bf16ExactMax(q, len);
      // A block of only -inf and NaN is swept with shift 0: it adds NaN, or terms of about 2^-126
      // (expNeg4Sumk's clamp) that any finite block's count of 1 absorbs, or that nonFiniteLse replaces.
      const shift: f32 = bm == -Infinity ? 0 : bm;
      bs = blockSweep(q, len, shift, withCoef, hasW, hasT, w + o, t + o, lambda, mu, false, 0, kind == F16 ? F16_FINITE : kind);
    }
    let bd = blockDot, bu = blockCoefSum;
    if (bm > m) {
      if (m != -Infinity) {
        s *= Math.exp(<f64>m - <f64>bm);
        d += u * (<f64>bm - <f64>m);
      }
      m = bm;
    } else if (bm != -Infinity) {
      bs *= Math.exp(<f64>bm - <f64>m);
      bd += bu * (<f64>m - <f64>bm);
    }
    s += bs;
    d += bd;
    u += bu;
  }
  const finite = m != Infinity && m != -Infinity;
  if (!finite) {
    m = kind == F32 ? nonFiniteLse(p, n) : nonFiniteLseHalf(p, n, kind);
    s = 1;
  }
  // blockSweep's D terms and lanes are f32 (shift - z, u (shift - z) and their sums): they overflow
  // with logits far beyond 1e30 where an f64 sum need not. Inf or NaN is rare enough to redo the row
  // in f64; the true NaN (0 * inf) and inf cases stay as they are.
  if (withCoef && (!finite || !isFinite(d))) {
    d = kind == F32 ? exactDot(p, n, m, hasW, hasT, w, t, lambda, mu) : exactDotHalf(p, n, m, hasW, w, kind);
  }
  rowShift = m;
  rowSum = s;
  rowDot = d;
  rowCoefSum = u;
}

/**
 * rowStats without coefficients (rowShift and rowSum only), as one function that the kernels other
 * than the cross-entropy loss share, for code size: an inlined copy of the sweep at each caller adds
 * up, and the call is once per row, not per element. The sparse cross-entropy loss, the bench's
 * operation (a), keeps its own inlined copy all the same.
 */
export function rowStatsPlain(p: usize, n: i32): void {
  rowStats(p, n, false, false, false, 0, 0, 0, 0, F32);
}

/**
 * rowStats for a row whose gradient follows: when the row's maximum m is finite, the row is swept
 * once with shift m and e_j = exp(z_j - m) is stored in dst (which may equal p), so that rowScaleAffine
 * can finish the gradient without a second exp. Returns false, having stored nothing, for a non-finite
 * row (then rowStats has run and rowExpAffine must be used). Costs one extra read of the row for its
 * maximum, against one exp per element saved. coefBound bounds |w_c| (1 without weights).
 *
 * In place with coefficients, D cannot be redone in f64 from the logits after the sweep (see
 * rowStats), so a row whose span m - min z times the coefficients' bound could overflow its f32 terms
 * (inPlaceMax: logits far beyond 1e30, say) is also left to rowStats.
 */
// @ts-ignore: decorator
@inline export function rowStatsStore(
  p: usize, n: i32,
  withCoef: bool, hasW: bool, hasT: bool, w: usize, t: usize, lambda: f32, mu: f32, dst: usize, coefBound: f64
): bool {
  const m = withCoef && dst == p
    ? inPlaceMax(p, n, hasT, t, hasT ? lambda : 0, hasT ? mu : 1, coefBound)
    : blockMax(p, n);
  if (!(m > -Infinity && m < Infinity)) {
    rowStats(p, n, withCoef, hasW, hasT, w, t, lambda, mu, F32);
    return false;
  }
  let s: f64 = 0, d: f64 = 0, u: f64 = 0;
  // Blocks keep the f32 lane sums short (see blockSweep); they all share the row's shift.
  for (let off = 0; off < n; off += BLOCK) {
    const o = <usize>off << 2;
    s += blockSweep(p + o, min(BLOCK, n - off), m, withCoef, hasW, hasT, w + o, t + o, lambda, mu, true, dst + o, F32);
    d += blockDot;
    u += blockCoefSum;
  }
  // As in rowStats; in place the logits are gone by now, but the bound above kept D finite.
  if (withCoef && dst != p && !isFinite(d)) d = exactDot(p, n, m, hasW, hasT, w, t, lambda, mu);
  rowShift = m;
  rowSum = s;
  rowDot = d;
  rowCoefSum = u;
  return true;
}

/**
 * dst[j] = k * e_j - g * (w_j or 1) * (lambda t_j + mu or 1) over one row of n floats, with
 * e_j = exp(z_j - shift) read from p, or, when stored, e_j already in dst (left there by
 * rowStatsStore). The flags are constant at every call site, so each use compiles to its own loop.
 */
// @ts-ignore: decorator
@inline function rowAffine(
  p: usize, dst: usize, n: i32, shift: f32, k: f32, stored: bool,
  withCoef: bool, hasW: bool, hasT: bool, w: usize, t: usize, lambda: f32, mu: f32, g: f32
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const sh = f32x4.splat(shift), k4 = f32x4.splat(k), g4 = f32x4.splat(g);
    const lam = f32x4.splat(lambda), mu4 = f32x4.splat(mu);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const e = stored ? v128.load(dst + o) : expNeg4(f32x4.sub(v128.load(p + o), sh));
      let y = f32x4.mul(k4, e);
      if (withCoef) {
        let c = g4;
        if (hasT) c = f32x4.mul(c, f32x4.add(f32x4.mul(v128.load(t + o), lam), mu4));
        if (hasW) c = f32x4.mul(c, v128.load(w + o));
        y = f32x4.sub(y, c);
      }
      v128.store(dst + o, y);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let y = k * (stored ? load<f32>(dst + o) : expNegInline(load<f32>(p + o) - shift));
    if (withCoef) {
      let c = g;
      if (hasT) c *= load<f32>(t + o) * lambda + mu;
      if (hasW) c *= load<f32>(w + o);
      y -= c;
    }
    store<f32>(dst + o, y);
  }
}

/**
 * dst[j] = k * exp(z_j - shift) - g * (w_j or 1) * (lambda t_j + mu or 1) over one row of n floats:
 * softmax (k = 1/s, no coefficient term) and every cross-entropy gradient. dst may equal p.
 */
// @ts-ignore: decorator
@inline export function rowExpAffine(
  p: usize, dst: usize, n: i32, shift: f32, k: f32,
  withCoef: bool, hasW: bool, hasT: bool, w: usize, t: usize, lambda: f32, mu: f32, g: f32
): void {
  rowAffine(p, dst, n, shift, k, false, withCoef, hasW, hasT, w, t, lambda, mu, g);
}

/**
 * rowExpAffine over a row that rowStatsStore has left as e_j = exp(z_j - shift) in dst:
 * dst[j] = k * e_j - g * (w_j or 1) * (lambda t_j + mu or 1), bit-identical to rowExpAffine.
 */
// @ts-ignore: decorator
@inline export function rowScaleAffine(
  dst: usize, n: i32, k: f32,
  withCoef: bool, hasW: bool, hasT: bool, w: usize, t: usize, lambda: f32, mu: f32, g: f32
): void {
  rowAffine(dst, dst, n, 0, k, true, withCoef, hasW, hasT, w, t, lambda, mu, g);
}
