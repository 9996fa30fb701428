// The seeded generator the scripts share (the sample data, the soak test), so their inputs replay.

/**
 * Mulberry32: a small, fast 32-bit PRNG, identical in every JavaScript engine.
 * @param {number} seed any 32-bit integer
 * @returns {() => number} a generator of uniform doubles in [0, 1)
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
