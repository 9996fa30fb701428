// The range scan behind the element checks of binary cross-entropy (assembly/range.ts): the first
// float outside [lo, hi], NaN included, on every build, at every position around the 16-float steps.

import { describe, expect, it } from 'vitest';
import { wasmBackends } from './helpers.js';

describe.each(wasmBackends)('firstOutside on %s', (_name, xe) => {
  const d = xe.driver;

  /** firstOutside over `values` staged at a float offset `shift` (0 to 3) from a 16-byte boundary. */
  function scan(values: number[] | Float32Array, lo = 0, hi = 1, shift = 0): number {
    const [ptr] = d.reserve((values.length + 4) * 4);
    d.f32(ptr + shift * 4, values.length).set(values);
    return d.kernels.firstOutside(ptr + shift * 4, values.length, lo, hi);
  }

  it('returns -1 for an empty span and for spans inside the range, ends and -0 included', () => {
    expect(scan([])).toBe(-1);
    for (const n of [1, 3, 4, 15, 16, 17, 33, 100]) {
      const values = Float32Array.from({ length: n }, (_, i) => [0, 1, -0, 0.5, 1e-45][i % 5]);
      for (let shift = 0; shift < 4; shift++) expect(scan(values, 0, 1, shift)).toBe(-1);
    }
  });

  it('finds the first offending float at every position, whatever its neighbours', () => {
    const bad = [NaN, -1e-9, 1.0000001, Infinity, -Infinity, -1];
    for (const n of [1, 5, 16, 17, 40, 67]) {
      for (let at = 0; at < n; at++) {
        const v = bad[(n + at) % bad.length];
        const values = new Float32Array(n).fill(0.25);
        values[at] = v;
        // A second offender later on must not be reported first.
        if (at + 3 < n) values[at + 3] = 2;
        for (let shift = 0; shift < 4; shift++) {
          expect(scan(values, 0, 1, shift), `n = ${n}, value ${v} at ${at}, shift ${shift}`).toBe(at);
        }
      }
    }
  });

  it('takes any bounds: the clip range of probabilities, a single point', () => {
    expect(scan([0.5, 1e-8, 0.5], 1e-7, 1 - 1e-7)).toBe(1);
    expect(scan([3, 3, 3, 3, 3], 3, 3)).toBe(-1);
    expect(scan([3, 3, 3, 3, 3.0000002], 3, 3)).toBe(4);
  });

  it('scans a million floats with one NaN near the end', () => {
    const values = new Float32Array(1 << 20).fill(1);
    values[(1 << 20) - 5] = NaN;
    expect(scan(values)).toBe((1 << 20) - 5);
  });
});
