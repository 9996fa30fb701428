import { describe, expect, it } from 'vitest';
import { backends, normal, expectClose } from './helpers.js';
import { rowOpTolerance } from './ops.js';

describe.each(backends)('logSumExp on %s', (_name, xe) => {
  it('is log C for equal logits and the logit itself for one class', () => {
    expectClose(xe.logSumExp(new Float32Array(8).fill(2.5), 8), [2.5 + Math.log(8)], rowOpTolerance.logSumExp);
    expectClose(xe.logSumExp(new Float32Array([-7, 3, 1e30]), 1), [-7, 3, Math.fround(1e30)], { rel: 0, abs: 0 });
  });

  it('does not overflow on large logits and follows torch.logsumexp on infinities', () => {
    const lse = xe.logSumExp(new Float32Array([1e38, 1e38, 3e38, -3e38, Infinity, 0, -Infinity, -Infinity]), 2);
    expect(lse[0]).toBeCloseTo(1e38 + Math.LN2, -32);
    expect(lse[1]).toBe(Math.fround(3e38));
    expect(lse[2]).toBe(Infinity);
    expect(lse[3]).toBe(-Infinity);
  });

  it('is unchanged, up to the shift, when a row is shifted by a constant', () => {
    const C = 40;
    const z = normal(C, 1, 3);
    const shifted = z.map((v) => v + 64);
    expectClose(xe.logSumExp(shifted, C)[0] - 64, xe.logSumExp(z, C)[0], { rel: 0, abs: 1e-5 });
  });
});
