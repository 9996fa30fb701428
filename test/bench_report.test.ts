// bench/report.js's statistics, which decide whether bench/cold-start.js calls a target met.

import { describe, expect, it } from 'vitest';

type MedianInterval = (values: number[], confidence?: number) => [number, number];
// A plain JavaScript module of bench/ (no declarations): imported by a specifier TypeScript does not resolve.
const REPORT: string = '../bench/report.js';
const { medianInterval } = (await import(REPORT)) as { medianInterval: MedianInterval };

/** mulberry32: a small seeded generator, so that the coverage below is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('medianInterval (bench/report.js)', () => {
  it('takes the order statistics the binomial gives: ranks 14 and 27 of 40, whatever the input order', () => {
    const values = Array.from({ length: 40 }, (_, i) => (i * 17) % 40 + 1);
    expect(medianInterval(values)).toEqual([14, 27]);
    expect(medianInterval(values, 0.99)).toEqual([12, 29]);
  });

  it('is unbounded where no ranks reach the confidence (fewer than 6 values at 95 %), and the range at 6', () => {
    expect(medianInterval([3, 1, 2, 5, 4])).toEqual([-Infinity, Infinity]);
    expect(medianInterval([3, 1, 2, 6, 5, 4])).toEqual([1, 6]);
  });

  it('covers the true median at least as often as it says, on a skewed distribution', () => {
    // Exponential samples (median ln 2), 30 at a time as bench/cold-start.js's default rounds; the
    // interval's exact coverage there is 1 - 2 P(X <= 9), X ~ Binomial(30, 1/2): 0.957.
    const next = random(27);
    let covered = 0;
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const sample = Array.from({ length: 30 }, () => -Math.log(1 - next()));
      const [lo, hi] = medianInterval(sample);
      if (lo <= Math.LN2 && Math.LN2 <= hi) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.94);
    expect(covered / trials).toBeLessThan(0.975);
  });
});
