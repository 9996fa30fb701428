// The worker pool in Chromium, loaded unbundled by ../browser.mjs on a cross-origin isolated page
// (COOP + COEP, so shared memory exists): createPool's module Web Workers must give the bits of one
// thread of the SIMD build, for the softmax and the binary loss, loss and gradient. The harness awaits
// the promise left on globalThis.

import { createPool, init } from 'xentropy';

/** Deterministic values in (-3, 3) (a sine of the index), so both paths see the same input. */
const values = (n, seed) => Float32Array.from({ length: n }, (_, i) => 3 * Math.sin(seed + i * 0.7071));

/** Index of the first differing bit pattern of two Float32Arrays, or -1. */
function firstDifference(a, b) {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

globalThis.xentropyPool = (async () => {
  if (!globalThis.crossOriginIsolated) return { ok: false, problem: 'the page is not cross-origin isolated' };
  // inlineBelow 0: every call goes to the workers, however small.
  const pool = await createPool({ threads: 2, inlineBelow: 0 });
  const xe = await init({ build: 'simd' });
  const problems = [];
  const same = (what, a, b) => {
    if (typeof b === 'number') {
      if (!Object.is(a, b)) problems.push(`${what}: ${a} vs ${b}`);
    } else {
      const at = firstDifference(a, b);
      if (at >= 0) problems.push(`${what}: first difference at [${at}]`);
    }
  };
  try {
    const N = 260, C = 1000; // 4 blocks of 65 rows: both workers take part
    const z = values(N * C, 1), y = Int32Array.from({ length: N }, (_, r) => (r * 7919) % C);
    same('crossEntropy', await pool.crossEntropy(z, y, { classes: C }), xe.crossEntropy(z, y, { classes: C }));
    const one = xe.crossEntropyWithGrad(z, y, { classes: C, labelSmoothing: 0.1 });
    const resident = pool.tensor(z);
    const got = await pool.crossEntropyWithGrad(resident, y, { classes: C, labelSmoothing: 0.1, gradOut: resident });
    same('crossEntropyWithGrad loss', got.loss, one.loss);
    same('crossEntropyWithGrad gradient, in place', resident.array, one.grad);
    resident.free();
    const n = 4 * 65536 + 3, x = values(n, 2), t = Float32Array.from({ length: n }, (_, i) => (i % 3) / 2);
    same('binaryCrossEntropy', await pool.binaryCrossEntropy(x, t), xe.binaryCrossEntropy(x, t));
    const bOne = xe.binaryCrossEntropyWithGrad(x, t), bGot = await pool.binaryCrossEntropyWithGrad(x, t);
    same('binaryCrossEntropyWithGrad loss', bGot.loss, bOne.loss);
    same('binaryCrossEntropyWithGrad gradient', bGot.grad, bOne.grad);
    return { ok: problems.length === 0, problem: problems.join('; '), threads: pool.threads, features: pool.features };
  } finally {
    await pool.close();
  }
})().catch((error) => ({ ok: false, problem: `${error?.name}: ${error?.message}` }));
