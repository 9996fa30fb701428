import { describe, expect, it } from 'vitest';
import { reference } from '../src/index.js';
import type { JsDivergenceOptions, KlDivergenceGradOptions, KlDivergenceOptions } from '../src/index.js';
import {
  backends, wasmBackends, normal, probabilities, unaligned, expectClose, maxAbsError, rng,
  sparseProbabilities, relError, type Backend,
} from './helpers.js';

const f32 = (xs: number[]) => new Float32Array(xs);
const logOf = (p: Float32Array) => p.map(Math.log);
const sumOf = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

/** Random probabilities in [lo, hi] that need not sum to 1 (KL's probs form does not require it). */
function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * u());
}

/** Rows of x scaled to sum to 1. */
function normalised(x: Float32Array, C: number): Float32Array {
  const out = x.slice();
  for (let r = 0; r < x.length / C; r++) {
    const row = out.subarray(r * C, (r + 1) * C);
    const s = sumOf(row);
    for (let c = 0; c < C; c++) row[c] /= s;
  }
  return out;
}

/** The summed divergence of a call as a plain number, whatever the reduction and backend. */
function klSum(xe: Backend, p: Float32Array, q: Float32Array, C: number, o: KlDivergenceOptions): number {
  const v = xe.klDivergence(p, q, C, o) as number | Float32Array | Float64Array;
  return typeof v === 'number' ? v : sumOf(v);
}

describe.each(backends)('klDivergence on %s', (_name, xe) => {
  // KL([1/2, 1/2] || [1/4, 3/4]) = (ln 2 + ln(2/3)) / 2; KL([0.9, 0.1, 0] || [0.5, 0.25, 0.25]).
  const p = f32([0.5, 0.5, 0.9, 0.1, 0]);
  const q = f32([0.25, 0.75, 0.5, 0.25, 0.25]);
  const hand = [(Math.LN2 + Math.log(2 / 3)) / 2, 0.9 * Math.log(0.9 / 0.5) + 0.1 * Math.log(0.1 / 0.25)];

  it('matches hand-computed values in every form of q and p', () => {
    const p3 = f32([0.5, 0.5, 0, 0.9, 0.1, 0]);
    const q3 = f32([0.25, 0.75, 0, 0.5, 0.25, 0.25]);
    const want = [(Math.LN2 + Math.log(2 / 3)) / 2, hand[1]];
    const tol = { rel: 2e-6, abs: 1e-7 };
    const none = { reduction: 'none' } as const;
    expectClose(xe.klDivergence(p3, q3, 3, none), want, tol);
    expectClose(xe.klDivergence(p3, logOf(q3), 3, { ...none, from: 'logProbs' }), want, tol);
    expectClose(xe.klDivergence(logOf(p3), q3, 3, { ...none, logTarget: true }), want, tol);
    // softmax(log q) = q for a row that sums to 1; -inf logits are masked classes.
    expectClose(xe.klDivergence(p3, logOf(q3), 3, { ...none, from: 'logits' }), want, tol);
    expectClose(xe.klDivergence(logOf(p3), logOf(q3), 3, { ...none, from: 'logits', logTarget: true }), want, tol);
    expectClose(xe.klDivergence(p.subarray(0, 2), q.subarray(0, 2), 2, { unit: 'bits' }), hand[0] / Math.LN2, tol);
  });

  it('reduces as F.kl_div: batchmean = sum / N (default), mean = sum / (N C), sum, none', () => {
    const P = sparseProbabilities(4, 6, 1), Q = probabilities(4, 6, 2);
    const rows = xe.klDivergence(P, Q, 6, { reduction: 'none' });
    const sum = sumOf(rows);
    const tol = { rel: 1e-6, abs: 0 };
    expectClose(xe.klDivergence(P, Q, 6), sum / 4, tol);
    expectClose(xe.klDivergence(P, Q, 6, { reduction: 'sum' }), sum, tol);
    expectClose(xe.klDivergence(P, Q, 6, { reduction: 'mean' }), sum / 24, tol);
    expectClose(xe.klDivergence(P, Q, 6, { reduction: 'sum', unit: 'bits' }), sum / Math.LN2, tol);
    expect(xe.klDivergence(new Float32Array(0), new Float32Array(0), 6)).toBeNaN();
    expect(xe.klDivergence(new Float32Array(0), new Float32Array(0), 6, { reduction: 'sum' })).toBe(0);
  });

  it('satisfies H(p, q) = H(p) + KL(p || q) with the library\'s own soft-target cross-entropy', () => {
    for (const C of [1, 3, 8, 65]) {
      const P = sparseProbabilities(5, C, C);
      const z = normal(5 * C, 2.5, C + 1);
      const ce = xe.crossEntropy(z, P, { classes: C, reduction: 'none' });
      const h = xe.entropy(P, C);
      const kl = xe.klDivergence(P, z, C, { from: 'logits', reduction: 'none' });
      expectClose(Array.from(h, (v, r) => v + kl[r]), ce, { rel: 2e-6, abs: 1e-6 });
    }
  });

  it('is non-negative, and 0 for KL(p || p)', () => {
    for (const C of [2, 7, 64, 1000]) {
      // Gibbs' inequality needs both rows to sum to 1: P is renormalised after its zeros were set.
      const P = normalised(sparseProbabilities(6, C, 3 * C), C), q = probabilities(6, C, 3 * C + 1);
      const kl = xe.klDivergence(P, q, C, { reduction: 'none' });
      expect(Array.from(kl).every((v) => v >= 0)).toBe(true);
      // The same values on both sides: every term is exactly 0 (log p - log p).
      expect(Array.from(xe.klDivergence(P, P, C, { reduction: 'none' }))).toEqual(new Array(6).fill(0));
      expect(Array.from(xe.klDivergence(logOf(P), P, C, { reduction: 'none', logTarget: true }))
        .every((v) => Math.abs(v) <= 1e-6)).toBe(true);
      // p = softmax(z): KL(p || z as logits) vanishes to rounding.
      const z = normal(6 * C, 2, C);
      const sm = reference.softmax(z, C, new Float32Array(z.length)) as Float32Array;
      expectClose(xe.klDivergence(sm, z, C, { from: 'logits', reduction: 'none' }), new Array(6).fill(0), { rel: 0, abs: 2e-6 });
    }
  });

  it('gives p_c = 0 terms 0 (not NaN), q_c = 0 under p_c > 0 +inf, and clips at epsilon', () => {
    // p = 0 with q = 0, log q = -inf and logit -inf: all 0 (PyTorch's kl_div gives NaN for the latter two).
    const P = f32([0, 1]), Q = f32([0, 1]);
    expect(xe.klDivergence(P, Q, 2)).toBe(0);
    expect(xe.klDivergence(P, f32([-Infinity, 0]), 2, { from: 'logProbs' })).toBe(0);
    expect(xe.klDivergence(P, f32([-Infinity, 0]), 2, { from: 'logits' })).toBe(0);
    expect(xe.klDivergence(f32([-Infinity, 0]), Q, 2, { logTarget: true })).toBe(0);
    expect(xe.klDivergence(f32([0.5, 0.5]), Q, 2)).toBe(Infinity);
    const clipped = xe.klDivergence(f32([0.5, 0.5]), Q, 2, { epsilon: 1e-6 });
    expectClose(clipped, 0.5 * Math.log(0.5 / Math.fround(1e-6)) + 0.5 * Math.log(0.5), { rel: 1e-6, abs: 0 });
    const g = xe.klDivergenceWithGrad(f32([0.5, 0.5, 0]), f32([0, 0.5, 0]), 3, { epsilon: 1e-6, reduction: 'sum' }).grad;
    expect(Array.from(g)).toEqual([0, -1, 0]);
  });

  it('gives -p / q = -inf at q = 0 even where scale times p underflows float32', () => {
    // p_0 = 1.4e-45 > 0 against q_0 = 0: KL is +inf and the gradient -inf. The kernels formed
    // -scale p first, 0.25 · 1.4e-45 = -0 in float32, and -0 / 0 gave NaN.
    const { loss, grad } = xe.klDivergenceWithGrad(f32([1.4e-45, 0.5, 0.25, 0.25]), f32([0, 0.5, 0.25, 0.25]), 4, { reduction: 'mean' });
    expect(loss).toBe(Infinity);
    expect(grad[0]).toBe(-Infinity);
  });

  it('with logTarget takes p = exp(log p) as float32 does: 0 below 2^-126, so a term against q = 0 is 0', () => {
    // exp(-100) = 3.7e-44 is flushed to 0 by the kernels' exp (README: probabilities below 2^-126 are
    // 0), so KL([e^-100, 1 - e^-100] || [0, 1]) is 0 everywhere; the reference once gave +inf.
    expect(xe.klDivergence(f32([-100, 0]), f32([0, 1]), 2, { logTarget: true })).toBe(0);
    // Above the threshold p is kept, and q = 0 under it gives +inf.
    expect(xe.klDivergence(f32([-87, 0]), f32([0, 1]), 2, { logTarget: true })).toBe(Infinity);
  });

  it('gives NaN for logit rows without a finite log-sum-exp, as log_softmax does', () => {
    const P = f32([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const z = f32([0, Infinity, 0, NaN, -Infinity, -Infinity]);
    const r = xe.klDivergenceWithGrad(P, z, 2, { from: 'logits', reduction: 'none' });
    expect(Array.from(r.loss).every(Number.isNaN)).toBe(true);
    expect(Array.from(r.grad).every(Number.isNaN)).toBe(true);
  });

  it('has gradients that pass a finite-difference check for every form and reduction', () => {
    const C = 5, N = 3;
    const P = sparseProbabilities(N, C, 7);
    const forms: [KlDivergenceOptions['from'], Float32Array, number][] = [
      ['logits', normal(N * C, 1.5, 8), 1e-2],
      ['logProbs', uniform(N * C, -4, -0.1, 9), 1e-2],
      ['probs', uniform(N * C, 0.2, 0.9, 10), 1e-3],
    ];
    for (const [from, q, h] of forms) {
      for (const logTarget of [false, true]) {
        for (const reduction of ['batchmean', 'mean', 'sum', 'none'] as const) {
          for (const unit of ['nats', 'bits'] as const) {
            const o: KlDivergenceOptions = { from, logTarget, reduction, unit };
            const target = logTarget ? logOf(P) : P;
            const { grad } = xe.klDivergenceWithGrad(target, q, C, o);
            for (let j = 0; j < q.length; j++) {
              const up = q.slice(), down = q.slice();
              up[j] += h;
              down[j] -= h;
              const fd = (klSum(xe, target, up, C, o) - klSum(xe, target, down, C, o)) / (up[j] - down[j]);
              if (Math.abs(fd - grad[j]) > 2e-4 + 1e-3 * Math.abs(fd)) {
                expect.fail(`${from} logTarget=${logTarget} ${reduction} ${unit}: grad[${j}] = ${grad[j]}, finite difference ${fd}`);
              }
            }
          }
        }
      }
    }
  });

  it('computes the gradient in place when gradOut is q', () => {
    const C = 17, N = 4;
    const P = sparseProbabilities(N, C, 11);
    for (const from of ['logits', 'logProbs', 'probs'] as const) {
      const q = from === 'probs' ? probabilities(N, C, 12) : normal(N * C, 2, 12).map((v) => (from === 'logProbs' ? -Math.abs(v) : v));
      const expected = xe.klDivergenceWithGrad(P, q, C, { from, gradOut: new Float32Array(q.length) });
      const inPlace = q.slice();
      const r = xe.klDivergenceWithGrad(P, inPlace, C, { from, gradOut: inPlace });
      expect(r.grad).toBe(inPlace);
      expect(r.loss).toBe(expected.loss);
      expect(Array.from(inPlace)).toEqual(Array.from(expected.grad));
    }
  });
});

describe.each(backends)('jsDivergence on %s', (_name, xe) => {
  it('matches hand-computed values: disjoint supports give ln 2, identical rows 0', () => {
    const p = f32([1, 0, 0.5, 0.5, 0.2, 0.8]);
    const q = f32([0, 1, 0.5, 0.5, 0.6, 0.4]);
    const m = [0.4, 0.6];
    const third = 0.5 * (0.2 * Math.log(0.2 / m[0]) + 0.8 * Math.log(0.8 / m[1]))
      + 0.5 * (0.6 * Math.log(0.6 / m[0]) + 0.4 * Math.log(0.4 / m[1]));
    const js = xe.jsDivergence(p, q, 2, { reduction: 'none' });
    expectClose(js, [Math.LN2, 0, third], { rel: 1e-6, abs: 1e-8 });
    expect(js[1]).toBe(0);
    expectClose(xe.jsDivergence(p, q, 2, { reduction: 'none', unit: 'bits' }), [1, 0, third / Math.LN2], { rel: 1e-6, abs: 1e-8 });
    expectClose(xe.jsDivergence(p, q, 2), (Math.LN2 + third) / 3, { rel: 1e-6, abs: 0 });
    expectClose(xe.jsDivergence(p, q, 2, { reduction: 'mean' }), (Math.LN2 + third) / 6, { rel: 1e-6, abs: 0 });
  });

  it('is symmetric and within [0, ln 2], for probabilities and logits', () => {
    for (const C of [1, 2, 5, 16, 33, 1000]) {
      const pairs: [JsDivergenceOptions['from'], Float32Array, Float32Array][] = [
        ['probs', sparseProbabilities(8, C, C), sparseProbabilities(8, C, C + 1)],
        ['logits', normal(8 * C, 4, C), normal(8 * C, 4, C + 1)],
      ];
      for (const [from, p, q] of pairs) {
        const a = xe.jsDivergence(p, q, C, { from, reduction: 'none' });
        const b = xe.jsDivergence(q, p, C, { from, reduction: 'none' });
        expect(Array.from(a)).toEqual(Array.from(b));
        for (const v of a) {
          expect(v).toBeGreaterThanOrEqual(-1e-7);
          expect(v).toBeLessThanOrEqual(Math.LN2 + 1e-7);
        }
      }
    }
  });

  it('stays in [0, ln 2] when a softmax probability is a float64 subnormal (logits 744 apart)', () => {
    // p_1 = e^-744 = 5e-324 against q_1 = e^-800 = 0: the reference's m = (p + q) / 2 underflowed to 0
    // and p log(p / m) gave +inf. Both rows are [1, ~0], so JS is 0.
    const js = xe.jsDivergence(f32([744, 0]), f32([0, -800]), 2, { from: 'logits', reduction: 'none' });
    expectClose(js, [0], { rel: 0, abs: 1e-7 });
    // p = [1, ~0, ~0], q = [1/3, 1/3, 1/3], m = [2/3, 1/6, 1/6]: JS = (1/2) ln(3/2) + (1/6) ln 2.
    const third = xe.jsDivergence(f32([744, 0, 0]), f32([0, 0, 0]), 3, { from: 'logits', reduction: 'none' });
    expectClose(third, [0.5 * Math.log(1.5) + Math.LN2 / 6], { rel: 1e-6, abs: 0 });
  });

  it('with logits equals the divergence of their softmax', () => {
    const C = 9;
    const z1 = normal(4 * C, 2, 1), z2 = normal(4 * C, 2, 2);
    const s1 = reference.softmax(z1, C, new Float32Array(z1.length)) as Float32Array;
    const s2 = reference.softmax(z2, C, new Float32Array(z2.length)) as Float32Array;
    expectClose(xe.jsDivergence(z1, z2, C, { from: 'logits', reduction: 'none' }), xe.jsDivergence(s1, s2, C, { reduction: 'none' }), { rel: 1e-5, abs: 1e-7 });
  });
});

describe.each(wasmBackends)('divergences on %s against the float64 reference', (_name, xe) => {
  const shapes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 32000];
  const tolLoss = { rel: 1e-6, abs: 1e-7 };
  const tolGrad = { rel: 0, abs: 1e-6 };

  it.each([5, 1000, 5000])('klDivergence follows the reference on q near float32\'s limits (classes = %i)', (C) => {
    // log q = z - max leaves float32 across a span beyond FLT_MAX, and log-probabilities near
    // -FLT_MAX overflow the f32 lane sums: such rows are summed again in f64 (klExact).
    const N = 3;
    const P = probabilities(N, C, C + 40);
    for (let c = 0; c < C; c++) P[2 * C + c] *= 1e-3; // row 2: mass 1e-3, a divergence within float32
    const logits = normal(N * C, 3, C + 41);
    for (let c = 1; c < C; c += 2) logits[c] = -1e38;
    logits[0] = 2.5e38;
    for (let c = 0; c < C; c += 3) logits[C + c] = -3e38;
    const logProbs = Float32Array.from(normal(N * C, 3, C + 42), (v) => -Math.abs(v));
    for (let c = 0; c < C; c += 2) logProbs[2 * C + c] = -3e38;
    for (const [from, q] of [['logits', logits], ['logProbs', logProbs]] as const) {
      const o = { from, reduction: 'none' } as const;
      const want = reference.klDivergenceWithGrad(P, q, C, o);
      const wantLoss = want.loss as Float64Array;
      if (from === 'logits') expect(wantLoss[0] > 1e30 && wantLoss[1] > 1e30).toBe(true);
      else expect(wantLoss[2] > 1e30).toBe(true);
      expect(wantLoss.every((v) => v < 3.4e38)).toBe(true);
      expectClose(xe.klDivergence(P, q, C, o) as never, wantLoss as never, tolLoss);
      // Into a second buffer; the staged copy (the gradient written over it) as well for logits.
      const qr = xe.tensor(q), gr = xe.alloc(q.length);
      const apart = xe.klDivergenceWithGrad(P, qr, C, { ...o, gradOut: gr });
      expectClose(apart.loss as never, wantLoss as never, tolLoss);
      expectClose(apart.grad, want.grad, tolGrad);
      qr.free();
      gr.free();
      if (from === 'logits') expectClose(xe.klDivergenceWithGrad(P, q, C, o).loss as never, wantLoss as never, tolLoss);
    }
    if (C < 8) return;
    // A row of log-probabilities whose divergence is beyond float32 (p = 1 twice against -3e38, in one
    // lane): inf as a row, but its batch mean is a float64 number, which the f32 lane made inf.
    const P2 = P.slice(), q2 = logProbs.slice();
    P2[0] = P2[4] = 1;
    q2[0] = q2[4] = -3e38;
    const o = { from: 'logProbs', reduction: 'batchmean' } as const;
    const want = reference.klDivergence(P2, q2, C, o) as number;
    expect(want > 1e38 && Number.isFinite(want)).toBe(true);
    expectClose(xe.klDivergence(P2, q2, C, o) as number, want, tolLoss);
    const q2r = xe.tensor(q2), g2r = xe.alloc(q2.length);
    expectClose(xe.klDivergenceWithGrad(P2, q2r, C, { ...o, gradOut: g2r }).loss, want, tolLoss);
    q2r.free();
    g2r.free();
  });

  it('klDivergence of close probabilities keeps each row within 1e-6 relative (sum G + sum (p - q))', () => {
    // A student close to its teacher: q = softmax(z + noise). As p log(p / q) the terms have both signs
    // and cancel: a row kept ~3e-8 absolute, 6e-6 to 0.095 relative on these rows. Each term is now
    // G = p log(p / q) - (p - q) >= 0 (a series where p and q are close) plus p - q summed in f64.
    // Float32 rounding leaves the rows unnormalised by d = sum (p - q) ~ 1e-8, which G can cancel (the
    // last case has rows with KL ~ -3e-12): the bound is 1e-6 of |KL| + |d|, plus the reference's own
    // error, which cancels too: 2^-52 p (|log p| + 1) a term (1e-16 absolute, 4e-6 of a KL of 2.5e-11).
    const u = rng(505);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    for (const [C, sd, noise] of [
      [1000, 3, 0.05], [1000, 3, 0.01], [32000, 2, 0.02], [50, 1, 0.001], [4096, 4, 0.1], [7, 2, 0.3], [1000, 3, 2],
      [3, 1, 1e-4],
    ]) {
      const N = Math.max(2, Math.floor(100_000 / C));
      const z = Float32Array.from({ length: N * C }, () => sd * gauss());
      const p = Float32Array.from(reference.softmax(z, C));
      const q = Float32Array.from(reference.softmax(z.map((v) => v + noise * gauss()), C));
      for (const o of [{ reduction: 'none' }, { reduction: 'none', epsilon: 1e-9 }] as const) {
        const got = xe.klDivergence(p, q, C, o), want = reference.klDivergence(p, q, C, o) as Float64Array;
        for (let r = 0; r < N; r++) {
          let d = 0, refError = 0;
          for (let c = r * C; c < (r + 1) * C; c++) {
            d += p[c] - Math.max(q[c], o.epsilon ?? 0);
            if (p[c] > 0) refError += 2 ** -52 * p[c] * (Math.abs(Math.log(p[c])) + 1);
          }
          if (!(Math.abs(got[r] - want[r]) <= 1e-6 * (Math.abs(want[r]) + Math.abs(d)) + refError)) {
            expect.fail(`C = ${C}, noise ${noise}, row ${r}: ${got[r]} against ${want[r]} (sum (p - q) = ${d})`);
          }
        }
      }
    }
  });

  it('jsDivergence of close distributions keeps 5e-7 relative error per row (the series in d = (p - q) / (p + q))', () => {
    // As two logarithms the terms of close classes cancel: these rows kept only 4e-5 to 0.3 relative;
    // now 1.6e-7 at worst. With 7 classes and noise 0.3, where |d| > 1/4 is common: 4e-4, now 1.8e-6.
    const u = rng(606);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    for (const [C, sd, noise, bound] of [
      [1000, 3, 0.05, 5e-7], [1000, 3, 0.01, 5e-7], [32000, 2, 0.02, 5e-7], [50, 1, 0.001, 5e-7], [4096, 4, 0.1, 5e-7],
      [7, 2, 0.3, 2.5e-6],
    ]) {
      const N = Math.max(2, Math.floor(100_000 / C));
      const z = Float32Array.from({ length: N * C }, () => sd * gauss());
      const p = Float32Array.from(reference.softmax(z, C));
      const q = Float32Array.from(reference.softmax(z.map((v) => v + noise * gauss()), C));
      const got = xe.jsDivergence(p, q, C, { reduction: 'none' });
      const want = reference.jsDivergence(p, q, C, { reduction: 'none' }) as Float64Array;
      for (let r = 0; r < N; r++) {
        if (!(Math.abs(got[r] - want[r]) <= bound * want[r])) {
          expect.fail(`C = ${C}, noise ${noise}, row ${r}: ${got[r]} against ${want[r]}`);
        }
      }
    }
  });

  it('jsDivergence stays finite where 1 / (p + q) overflows: both probabilities subnormal, or one 0', () => {
    const tiny = 1e-44, sub = 2 ** -130;
    const p = f32([tiny, tiny, 0.5, 0.5 - tiny, sub, 0, 1 - sub, 0]);
    const q = f32([tiny, 0, 0.5, 0.5, 0, sub, 1 - sub, 0]);
    const got = xe.jsDivergence(p, q, 4, { reduction: 'none' });
    const want = reference.jsDivergence(p, q, 4, { reduction: 'none' }) as Float64Array;
    expect(Array.from(got).every(Number.isFinite)).toBe(true);
    expectClose(got, want, tolLoss);
  });

  it('klDivergence takes log p - log q where q is subnormal or 0 (p / q would overflow)', () => {
    // p / q overflows float32 for p = 1 against q below 2^-128: its lane falls back to the difference.
    const p = f32([1, 0.5, 0.25, 0.25, 0, 1, 1e-3, 0.999]);
    const q = f32([1e-40, 0.5, 1e-45, 0.75, 1e-42, 0, 2 ** -126, 0.001]);
    for (const o of [{ reduction: 'none' }, { reduction: 'none', epsilon: 1e-44 }] as const) {
      const got = xe.klDivergence(p, q, 4, o), want = reference.klDivergence(p, q, 4, o) as Float64Array;
      expectClose(got[0], want[0], tolLoss);
      if (o.epsilon) expectClose(got[1], want[1], tolLoss);
      else expect(got[1]).toBe(Infinity);
    }
  });

  it.each(shapes)('klDivergence agrees for classes = %i, every form and reduction, unaligned', (C) => {
    const N = C >= 1000 ? 3 : 7;
    const P = unaligned(sparseProbabilities(N, C, C));
    const logP = unaligned(logOf(P));
    const qs = {
      probs: unaligned(sparseProbabilities(N, C, C + 1)),
      logits: unaligned(normal(N * C, 3, C + 2)),
      logProbs: unaligned(logOf(probabilities(N, C, C + 3))),
    };
    for (const from of ['probs', 'logits', 'logProbs'] as const) {
      for (const logTarget of [false, true]) {
        for (const reduction of ['batchmean', 'sum', 'mean', 'none'] as const) {
          const o: KlDivergenceGradOptions = { from, logTarget, reduction, ...(from === 'probs' ? { epsilon: 1e-7 } : {}) };
          const got = xe.klDivergenceWithGrad(logTarget ? logP : P, qs[from], C, o);
          const want = reference.klDivergenceWithGrad(logTarget ? logP : P, qs[from], C, o);
          expectClose(got.loss as number, want.loss as number, tolLoss);
          expectClose(got.grad, want.grad, from === 'probs' ? { rel: 1e-6, abs: 1e-6 } : tolGrad);
        }
      }
    }
  });

  it.each(shapes)('jsDivergence agrees for classes = %i, probabilities and logits, unaligned', (C) => {
    const N = C >= 1000 ? 3 : 7;
    for (const from of ['probs', 'logits'] as const) {
      const p = unaligned(from === 'probs' ? sparseProbabilities(N, C, C) : normal(N * C, 3, C));
      const q = unaligned(from === 'probs' ? sparseProbabilities(N, C, C + 5) : normal(N * C, 3, C + 5));
      for (const reduction of ['batchmean', 'sum', 'mean', 'none'] as const) {
        for (const unit of ['nats', 'bits'] as const) {
          const o: JsDivergenceOptions = { from, reduction, unit };
          expectClose(xe.jsDivergence(p, q, C, o) as number, reference.jsDivergence(p, q, C, o) as number, tolLoss);
        }
      }
    }
  });

  it.each([
    [4096, 1000],
    [16, 32000],
  ])('reaches 1e-6 relative loss error and 1e-6 gradient error on N = %i, C = %i', (N, C) => {
    const P = sparseProbabilities(N, C, N + C);
    const qs = {
      probs: probabilities(N, C, N + C + 1),
      logits: normal(N * C, 3, N + C + 2),
      logProbs: logOf(probabilities(N, C, N + C + 3)),
    };
    for (const from of ['probs', 'logits', 'logProbs'] as const) {
      const got = xe.klDivergenceWithGrad(P, qs[from], C, { from, reduction: 'sum' });
      const want = reference.klDivergenceWithGrad(P, qs[from], C, { from, reduction: 'sum' });
      const rows = relError(xe.klDivergence(P, qs[from], C, { from, reduction: 'none' }),
        reference.klDivergence(P, qs[from], C, { from, reduction: 'none' }) as Float64Array);
      const sum = relError(got.loss, want.loss as number);
      // 'sum' has gradient scale 1: the largest gradient entries, so the strictest absolute check.
      const gradErr = from === 'probs' ? relError(got.grad, want.grad) : maxAbsError(got.grad, want.grad);
      console.log(`klDivergence ${from} N=${N} C=${C}: worst row relative error ${rows.toExponential(2)}, sum ${sum.toExponential(2)}, gradient ${from === 'probs' ? 'relative' : 'max abs'} error ${gradErr.toExponential(2)}`);
      expect(rows).toBeLessThanOrEqual(1e-6);
      expect(sum).toBeLessThanOrEqual(1e-6);
      expect(gradErr).toBeLessThanOrEqual(1e-6);
    }
    const q2 = probabilities(N, C, N + C + 4);
    const js = relError(xe.jsDivergence(P, q2, C, { reduction: 'none' }), reference.jsDivergence(P, q2, C, { reduction: 'none' }) as Float64Array);
    console.log(`jsDivergence probs N=${N} C=${C}: worst row relative error ${js.toExponential(2)}`);
    expect(js).toBeLessThanOrEqual(1e-6);
  });
});
