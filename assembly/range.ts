// Range scan for argument checks: the first float of a span outside [lo, hi], NaN included.
//
// Checking that millions of targets are probabilities takes a JavaScript loop about as long per
// element as binary cross-entropy itself; four lanes at a time it is bound by memory. The runners
// (one-thread in src/ops/binary_cross_entropy.ts, the pool in src/pool/pool.ts) run it before any kernel that
// writes output the caller can see, and on a hit repeat the JavaScript check, which names the first
// offending element exactly as before.

/**
 * Index of the first of n floats at p that is not in [lo, hi] (NaN is not), or -1 when all are.
 * -0 counts as 0, as `v >= 0` does in JavaScript.
 */
export function firstOutside(p: usize, n: i32, lo: f32, hi: f32): i32 {
  let i = 0;
  // Compiled out of the scalar build, whose loop below then takes every element.
  if (ASC_FEATURE_SIMD) {
    const lo4 = f32x4.splat(lo), hi4 = f32x4.splat(hi);
    // 16 floats (a cache line) per step, one test per step; a step that fails is rescanned below.
    for (; i + 16 <= n; i += 16) {
      const q = p + (<usize>i << 2);
      const a = v128.load(q), b = v128.load(q, 16), c = v128.load(q, 32), d = v128.load(q, 48);
      // ge / le are false for NaN, so a NaN lane fails the test.
      const ab = v128.and(v128.and(f32x4.ge(a, lo4), f32x4.le(a, hi4)), v128.and(f32x4.ge(b, lo4), f32x4.le(b, hi4)));
      const cd = v128.and(v128.and(f32x4.ge(c, lo4), f32x4.le(c, hi4)), v128.and(f32x4.ge(d, lo4), f32x4.le(d, hi4)));
      if (!i32x4.all_true(v128.and(ab, cd))) break;
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(p + (<usize>i << 2));
    if (!(v >= lo && v <= hi)) return i;
  }
  return -1;
}
