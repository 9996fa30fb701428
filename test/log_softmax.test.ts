import { describe, expect, it } from 'vitest';
import { backends, normal, expectClose } from './helpers.js';
import { rowOpTolerance } from './ops.js';

describe.each(backends)('logSoftmax on %s', (_name, xe) => {
  it('recovers log-probabilities from their logs', () => {
    const p = [0.1, 0.5, 0.1, 0.1, 0.2];
    expectClose(xe.logSoftmax(new Float32Array(p.map(Math.log)), 5), p.map(Math.log), rowOpTolerance.logSoftmax);
  });

  it('is never positive and is 0 for a single class', () => {
    const lp = xe.logSoftmax(normal(40 * 7, 5, 2), 7);
    for (const v of lp) expect(v).toBeLessThanOrEqual(0);
    expect(Array.from(xe.logSoftmax(new Float32Array([3, -2]), 1))).toEqual([0, 0]);
  });

  it('follows PyTorch on non-finite rows', () => {
    const lp = xe.logSoftmax(new Float32Array([Infinity, 0, -Infinity, -Infinity, 0, -Infinity]), 3);
    expect(lp[0]).toBeNaN(); // inf - inf
    expect(lp[1]).toBe(-Infinity);
    expect(lp[2]).toBe(-Infinity);
    expect(lp[3]).toBe(-Infinity); // masked class beside a finite one
    expect(lp[4]).toBe(0);
  });
});
