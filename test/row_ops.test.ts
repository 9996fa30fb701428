// logSoftmax, softmax and logSumExp share shapes, outputs and error handling; this suite covers what
// they have in common. Each also has its own file for its particular values.

import { describe, expect, it } from 'vitest';
import { reference } from '../src/index.js';
import { backends, wasmBackends, normal, unaligned, expectClose } from './helpers.js';
import { rowOpTolerance, type RowOp } from './ops.js';

const ops: RowOp[] = ['logSoftmax', 'softmax', 'logSumExp'];
const shapes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 32000, 128256];

describe.each(wasmBackends)('row operations on %s against the float64 reference', (_name, xe) => {
  for (const op of ops) {
    it.each(shapes)(`${op} agrees for classes = %i on unaligned input`, (C) => {
      const N = C >= 32000 ? 2 : C >= 1000 ? 5 : 9;
      const z = unaligned(normal(N * C, 3, 100 + C));
      expectClose(xe[op](z, C), reference[op](z, C), rowOpTolerance[op]);
    });
  }

  it.each(ops)('%s agrees on non-finite rows (masked -inf, +inf, NaN, all -inf)', (op) => {
    const z = new Float32Array([
      0, -Infinity, 1, -Infinity, 2,
      Infinity, 0, 1, 2, 3,
      Infinity, Infinity, 0, 0, 0,
      0, NaN, 1, 2, 3,
      -Infinity, -Infinity, -Infinity, -Infinity, -Infinity,
      -1.5e38, 1.5e38, 0, 1, -1, // z - max = -3e38 still fits float32
    ]);
    expectClose(xe[op](z, 5), reference[op](z, 5), rowOpTolerance[op]);
  });

  it.each(ops)('%s writes into out, and in place where the shapes allow', (op) => {
    const C = 11, N = 6;
    const z = normal(N * C, 2, 5);
    const expected = xe[op](z, C);
    const out = new Float32Array(expected.length);
    expect(xe[op](z, C, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(expected));
    if (op !== 'logSumExp') {
      const inPlace = z.slice();
      expect(xe[op](inPlace, C, inPlace)).toBe(inPlace);
      expect(Array.from(inPlace)).toEqual(Array.from(expected));
    }
  });

  it.each(ops)('%s handles rows spanning several streamed chunks and blocks', (op) => {
    // 3000 classes: copy windows of 105 rows (test/windows.test.ts), rows of 2 SIMD blocks (2048 + 952).
    const C = 3000, N = 250;
    const z = normal(N * C, 4, 77, 10);
    expectClose(xe[op](z, C), reference[op](z, C), rowOpTolerance[op]);
  });
});

describe.each(backends)('row operations on %s', (_name, xe) => {
  it.each(ops)('%s returns an empty result for no rows', (op) => {
    expect(xe[op](new Float32Array(0), 4).length).toBe(0);
  });

  it('satisfies softmax = exp(logSoftmax) and logSoftmax = z - logSumExp', () => {
    const C = 13, N = 4;
    const z = normal(N * C, 2, 9);
    const p = xe.softmax(z, C), lp = xe.logSoftmax(z, C), lse = xe.logSumExp(z, C);
    for (let i = 0; i < z.length; i++) {
      expectClose(p[i], Math.exp(lp[i]), { rel: 4e-6, abs: 0 });
      expectClose(lp[i], z[i] - lse[Math.floor(i / C)], { rel: 0, abs: 4e-6 });
    }
  });
});
