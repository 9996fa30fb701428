// The pool's scorer (issue 26): pool.scorer fed the same updates as a one-thread xe.scorer (SIMD
// build) ends with the same state() bit for bit (float sums and their compensations, counts,
// confusion, per-sequence losses), whatever the number of workers, for every input form the scorer
// takes; bad updates and failing workers change nothing.
//
// Workers load dist/pool/worker.js, so this suite runs against dist/ (`npm run build:ts`).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { createPool, init, PoolBinaryScorer, PoolMultilabelScorer, PoolScorer, type ScorerOptions, type ScorerState, type XentropyPool, type Xentropy } from '../dist/index.js';
import { failNext } from '../dist/pool/pool.js';
import { labels, normal, probabilities, rng } from './helpers.js';

const ROOT = new URL('..', import.meta.url);

let xe: Xentropy;
/** Every update of the first three goes to the workers; the last has the default inlineBelow (2^18). */
let pools: [string, XentropyPool][];

beforeAll(async () => {
  for (const name of ['pool/pool', 'pool/pool_scorer', 'pool/worker', 'engine/score_groups', 'ops/scorer']) {
    const src = statSync(new URL(`src/${name}.ts`, ROOT)).mtimeMs, dist = statSync(new URL(`dist/${name}.js`, ROOT)).mtimeMs;
    expect(dist >= src, `dist/${name}.js is older than src/${name}.ts: run \`npm run build:ts\``).toBe(true);
  }
  xe = await init({ build: 'simd' });
  const made = await Promise.all([
    createPool({ threads: 1, inlineBelow: 0 }), createPool({ threads: 2, inlineBelow: 0 }), createPool({ threads: 3, inlineBelow: 0 }),
    createPool({ threads: 2 }),
  ]);
  pools = [['1 worker', made[0]], ['2 workers', made[1]], ['3 workers', made[2]], ['2 workers, default inlineBelow', made[3]]];
}, 30_000);

afterAll(async () => {
  await Promise.all((pools ?? []).map(([, pool]) => pool.close()));
});

/** bfloat16 bits of float32 values (truncated). */
function bfloat16(values: Float32Array): Uint16Array {
  return Uint16Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length), (x) => x >>> 16);
}

/** n float16 bit patterns of finite values of magnitude in [2^-6, 8), either sign. */
function float16(n: number, seed: number): Uint16Array {
  const u = rng(seed);
  return Uint16Array.from({ length: n }, () => ((u() < 0.5 ? 1 : 0) << 15) | ((9 + Math.floor(u() * 9)) << 10) | Math.floor(u() * 1024));
}

/** Labels with every `every`-th row set to ignoreIndex. */
function withIgnored(y: Int32Array, ignoreIndex: number, every: number): Int32Array {
  const out = y.slice();
  for (let r = 0; r < out.length; r += every) out[r] = ignoreIndex;
  return out;
}

/**
 * One update as (owner) => [logits, labels, third argument]; `owner` is the instance or pool the
 * scorer belongs to (for resident inputs), `pooled` tells which.
 */
type Update = (owner: Xentropy | XentropyPool, pooled: boolean) => [unknown, unknown, unknown?];

interface Case {
  name: string;
  options: ScorerOptions;
  updates: Update[];
}

const plain = (z: unknown, y: unknown, third?: unknown): Update => () => [z, y, third];

/** The cases: shapes, options and input forms; each has several updates, most of them crossing fold groups. */
function cases(): Case[] {
  const out: Case[] = [];
  {
    const C = 2, N = 600_000;
    const z = normal(N * C, 2, 1), y = withIgnored(labels(N, C, 2), -100, 7);
    out.push({ name: 'C = 2, ignored rows, bytes', options: { classes: C, topK: [1] }, updates: [plain(z, y, 1234), plain(z.subarray(0, 2000), y.subarray(0, 1000), 10)] });
  }
  {
    const C = 3, N = 400_000;
    const z = normal(N * C, 3, 3), y = labels(N, C, 4);
    out.push({
      name: 'C = 3, quantile bins, confusion, Uint8Array labels',
      options: { classes: C, topK: [1, 2], binning: 'quantile', bins: 10, confusion: true },
      updates: [plain(z, Uint8Array.from(y)), plain(z.subarray(0, 30_000), y.subarray(0, 10_000))],
    });
  }
  {
    const C = 1000, N = 2600;
    const z = normal(N * C, 3, 5), y = withIgnored(labels(N, C, 6), 7, 11);
    // A row of NaN and a row of +inf: the non-finite path of the kernel, and NaN / infinite sums.
    z[100 * C + 3] = NaN;
    z[200 * C + 9] = Infinity;
    out.push({
      name: 'C = 1000, topK, confusion, ignoreIndex 7, non-finite rows, resident input',
      options: { classes: C, topK: [1, 5, 10], ignoreIndex: 7, confusion: true },
      updates: [
        plain(z, y),
        (owner) => [owner.tensor(z.subarray(0, 1500 * C)), Array.from(y.subarray(0, 1500))],
        plain(z.subarray(0, 100 * C), BigInt64Array.from(y.subarray(0, 100), (v) => BigInt(v))),
      ],
    });
  }
  {
    const C = 1000, N = 1200;
    const z = normal(N * C, 3, 7), y = labels(N, C, 8);
    out.push({
      name: 'C = 1000, quantile bins, unit bits, Uint16Array labels',
      options: { classes: C, binning: 'quantile', unit: 'bits' },
      updates: [plain(z, Uint16Array.from(y)), plain(z, y)],
    });
  }
  {
    const C = 50257, N = 60;
    const z = normal(N * C, 4, 9), y = labels(N, C, 10);
    out.push({ name: 'C = 50257, few rows', options: { classes: C }, updates: [plain(z, y), plain(z.subarray(0, 25 * C), y.subarray(0, 25))] });
  }
  {
    const C = 100, B = 220, T = 128, N = B * T;
    const z = normal(N * C, 3, 11), y = labels(N, C, 12);
    const mask = Uint8Array.from({ length: N }, (_, i) => (i % T < T - 5 - (i / T) % 7 ? 1 : 0));
    out.push({
      name: 'perSequence, shift and attentionMask, sequenceLength and tensors',
      options: { classes: C, perSequence: true, shift: true, sequenceLength: T },
      updates: [
        plain(z, y, { attentionMask: mask }),
        plain({ data: z.subarray(0, 30 * T * C), dims: [30, T, C] }, { data: y.subarray(0, 30 * T), dims: [30, T] }),
      ],
    });
    out.push({
      name: 'perSequence without shift, ignored rows',
      options: { classes: C, perSequence: true, sequenceLength: T },
      updates: [plain(z, withIgnored(y, -100, 13), 5000)],
    });
  }
  {
    const C = 500, N = 4400;
    const f16 = float16(N * C, 13), bf16 = bfloat16(normal(N * C, 3, 14)), f64 = Float64Array.from(normal(N * C, 3, 15));
    const y = labels(N, C, 16);
    out.push({
      name: 'float16, bfloat16 and float64 inputs, plain and resident',
      options: { classes: C, topK: [1, 3] },
      updates: [
        plain(f16, y, { dtype: 'float16' }),
        plain({ data: bf16, dims: [N, C], type: 'bfloat16' }, y),
        plain(f64, y),
        (owner) => [owner.tensor(f16, { dtype: 'float16' }), y],
        (owner) => [owner.tensor(bf16.subarray(0, 3000 * C), { dtype: 'bfloat16' }), y.subarray(0, 3000)],
      ],
    });
  }
  {
    const C = 40, N = 60_000;
    const q = probabilities(N, C, 17), y = labels(N, C, 18);
    out.push({ name: "from 'probs'", options: { classes: C, from: 'probs', epsilon: 1e-6 }, updates: [plain(q, y), (owner) => [owner.tensor(q), y]] });
    const lq = q.map(Math.log);
    out.push({ name: "from 'logProbs'", options: { classes: C, from: 'logProbs', bins: 7 }, updates: [plain(lq, y)] });
  }
  return out;
}

/** The scorers' states as JSON: equal strings are the same bits (finite floats round-trip exactly). */
function json(state: ScorerState): string {
  return JSON.stringify(state);
}

describe('pool.scorer: the one-thread state, bit for bit', () => {
  for (const c of cases()) {
    it(c.name, async () => {
      const one = xe.scorer(c.options);
      const states: string[] = [];
      for (const update of c.updates) {
        const [z, y, third] = update(xe, false);
        one.update(z as never, y as never, third as never);
        states.push(json(one.state()));
      }
      for (const [name, pool] of pools) {
        const scorer = pool.scorer(c.options);
        for (let i = 0; i < c.updates.length; i++) {
          const [z, y, third] = c.updates[i](pool, true);
          const returned = await scorer.update(z as never, y as never, third as never);
          expect(returned).toBe(scorer);
          expect(json(scorer.state()), `${name}, after update ${i}`).toBe(states[i]);
        }
        expect(scorer.count).toBe(one.count);
        expect(JSON.stringify(scorer.result()), name).toBe(JSON.stringify(one.result()));
      }
    }, 60_000);
  }

  it('is not the state of a plain row-by-row fold: the groups are what both paths share', async () => {
    // Guards the test above against comparing a path with itself: scoring the same rows as one update
    // or as two of different sizes changes the last bits of the loss sum (other fold groups).
    const C = 1000, N = 2600, z = normal(N * C, 3, 30), y = labels(N, C, 31);
    const whole = xe.scorer({ classes: C }).update(z, y).state();
    const split = xe.scorer({ classes: C }).update(z.subarray(0, 1300 * C), y.subarray(0, 1300)).update(z.subarray(1300 * C), y.subarray(1300)).state();
    expect(split.count).toBe(whole.count);
    expect(json(split)).not.toBe(json(whole));
    const pooled = await pools[1][1].scorer({ classes: C }).update(z, y);
    expect(json(pooled.state())).toBe(json(whole));
  });
});

describe('pool.scorer: state, merge, reset, fromState', () => {
  it('restores, merges and resets as the one-thread scorer', async () => {
    const pool = pools[2][1];
    const C = 300, N = 8000, z = normal(N * C, 3, 40), y = labels(N, C, 41);
    const options: ScorerOptions = { classes: C, confusion: true, binning: 'quantile' };
    const a = xe.scorer(options).update(z, y);
    const b = await pool.scorer(options).update(z, y);
    const restored = pool.scorerFromState(JSON.parse(JSON.stringify(a.state())));
    expect(restored).toBeInstanceOf(PoolScorer);
    expect(PoolScorer.fromState(pool, a.state())).toBeInstanceOf(PoolScorer);
    await restored.update(z.subarray(0, 2000 * C), y.subarray(0, 2000));
    a.update(z.subarray(0, 2000 * C), y.subarray(0, 2000));
    expect(json(restored.state())).toBe(json(a.state()));
    // merge: a PoolScorer, a Scorer and a state, as Scorer.merge does.
    const expected = xe.scorer(options).update(z, y).merge(a).merge(a.state()).merge(xe.scorer(options).update(z, y));
    b.merge(restored).merge(a.state()).merge(xe.scorer(options).update(z, y));
    expect(json(b.state())).toBe(json(expected.state()));
    expect(() => b.merge(xe.scorer({ classes: C + 1 }))).toThrow(RangeError);
    expect(b.reset()).toBe(b);
    expect(b.count).toBe(0);
    expect(json(b.state())).toBe(json(xe.scorer(options).state()));
    await b.update(z, y);
    expect(json(b.state())).toBe(json(xe.scorer(options).update(z, y).state()));
  });
});

describe('pool.scorer: errors change nothing', () => {
  const C = 1000, N = 2000;
  const z = normal(N * C, 3, 50), y = labels(N, C, 51);

  it('refuses bad updates before any worker runs, with the one-thread errors', async () => {
    const pool = await createPool({ threads: 2, inlineBelow: 0 });
    try {
      const scorer = await pool.scorer({ classes: C }).update(z, y);
      const before = json(scorer.state());
      // Armed failures would be spent by the first job that reaches a worker.
      await pool[failNext](0, 'throw');
      await pool[failNext](1, 'throw');
      const bad = y.slice();
      bad[7] = C;
      const message = 'labels[7] = 1000 is not a class index in [0, 1000) nor ignoreIndex = -100';
      expect(() => xe.scorer({ classes: C }).update(z, bad)).toThrow(new RangeError(message));
      await expect(scorer.update(z, bad)).rejects.toThrow(new RangeError(message));
      await expect(scorer.update(z.subarray(1), y)).rejects.toThrow(RangeError);
      await expect(scorer.update(z, y, { bogus: 1 } as never)).rejects.toThrow(TypeError);
      await expect(scorer.update(xe.tensor(z), y)).rejects.toThrow(/logits is a resident buffer of another xentropy instance; use pool.alloc or pool.tensor/);
      await expect(scorer.update(z, y, Infinity)).rejects.toThrow(RangeError);
      const freed = pool.tensor(z);
      freed.free();
      await expect(scorer.update(freed, y)).rejects.toThrow(/freed/);
      expect(() => pool.scorer({ classes: 1 })).toThrow(RangeError);
      expect(() => pool.scorerFromState({ ...scorer.state(), count: -1 })).toThrow(RangeError);
      expect(json(scorer.state())).toBe(before);
      // The armed failures are still there: a good update reaches the workers and fails, changing nothing.
      await expect(scorer.update(z, y)).rejects.toThrow(/^xentropy pool worker [01] failed: injected failure \(test\)$/);
      expect(json(scorer.state())).toBe(before);
      // A resident input: every worker gets the job and takes groups from a shared counter.
      const resident = pool.tensor(z);
      await pool[failNext](0, 'trap');
      await expect(scorer.update(resident, y)).rejects.toThrow(/^xentropy pool worker 0 failed: /);
      expect(json(scorer.state())).toBe(before);
      // Then updates work again, and the state is the one of the two successful updates.
      await scorer.update(resident, y);
      expect(json(scorer.state())).toBe(json(xe.scorer({ classes: C }).update(z, y).update(z, y).state()));
      // A worker that crashes (and is replaced) rejects the update and changes nothing either.
      const after = json(scorer.state());
      await pool[failNext](1, 'crash');
      await expect(scorer.update(z, y)).rejects.toThrow(/^xentropy pool worker 1 failed/);
      expect(json(scorer.state())).toBe(after);
      await scorer.update(z, y);
      expect(scorer.count).toBe(3 * N);
    } finally {
      await pool.close();
    }
  }, 30_000);

  it('runs one update of a scorer at a time: another update, merge and reset are refused meanwhile', async () => {
    const pool = pools[1][1];
    const scorer = pool.scorer({ classes: C });
    const other = pool.scorer({ classes: C });
    const first = scorer.update(z, y);
    await expect(scorer.update(z, y)).rejects.toThrow(/still running an update: await it before calling update/);
    expect(() => scorer.merge(other)).toThrow(/still running an update: await it before calling merge/);
    expect(() => scorer.reset()).toThrow(/still running an update: await it before calling reset/);
    // Reading is allowed: the rows of the update in flight are not there yet.
    expect(scorer.count).toBe(0);
    // Another scorer of the same pool may run meanwhile.
    await Promise.all([first, other.update(z, y)]);
    const expected = json(xe.scorer({ classes: C }).update(z, y).state());
    expect(json(scorer.state())).toBe(expected);
    expect(json(other.state())).toBe(expected);
  });

  it('rejects updates once the pool is closed, and keeps its state readable', async () => {
    const pool = await createPool({ threads: 1, inlineBelow: 0 });
    const scorer = await pool.scorer({ classes: C }).update(z, y);
    await pool.close();
    await expect(scorer.update(z, y)).rejects.toThrow(/closed/);
    expect(scorer.count).toBe(N);
    expect(() => pool.scorer({ classes: C })).toThrow(/closed/);
  });

  it('runs updates below inlineBelow on the calling thread, with the same bits', async () => {
    const pool = await createPool({ threads: 2 });
    try {
      // Armed workers fail the first job they receive: no update below must send one.
      await pool[failNext](0, 'throw');
      await pool[failNext](1, 'throw');
      const rows = Math.floor((pool.inlineBelow - 1) / C);
      const scorer = pool.scorer({ classes: C, topK: [1, 2], binning: 'quantile' });
      const one = xe.scorer({ classes: C, topK: [1, 2], binning: 'quantile' });
      for (let r0 = 0; r0 + rows <= N; r0 += rows) {
        await scorer.update(z.subarray(r0 * C, (r0 + rows) * C), y.subarray(r0, r0 + rows));
        one.update(z.subarray(r0 * C, (r0 + rows) * C), y.subarray(r0, r0 + rows));
      }
      expect(json(scorer.state())).toBe(json(one.state()));
      // From inlineBelow elements on, the update goes to the workers, which fail as armed.
      await expect(scorer.update(z, y)).rejects.toThrow(/^xentropy pool worker [01] failed: injected failure \(test\)$/);
      expect(json(scorer.state())).toBe(json(one.state()));
    } finally {
      await pool.close();
    }
  });
});

describe('pool.binaryScorer and pool.multilabelScorer: the one-thread state, bit for bit', () => {
  const u = rng(60);
  const N = 200_000;
  const logits = Float32Array.from({ length: N }, () => 6 * (u() - 0.5));
  const probs = Float32Array.from({ length: N }, () => u());
  const hard = Float32Array.from({ length: N }, () => (u() < 0.3 ? 1 : 0));
  const soft = Float32Array.from({ length: N }, () => u());
  const weights = Float32Array.from({ length: N }, () => 2 * u());
  const binaryCases: [string, Record<string, unknown>, Float32Array, Float32Array, Float32Array | undefined][] = [
    ['exact thresholds, hard targets', {}, logits, hard, undefined],
    ['exact thresholds, quantile bins, weights', { binning: 'quantile', bins: 12 }, logits, hard, weights],
    ['1000 thresholds, soft targets, weights', { thresholds: 1000, threshold: 0.3 }, logits, soft, weights],
    ["from 'probs', 64 thresholds", { from: 'probs', thresholds: 64, bins: 20 }, probs, hard, undefined],
  ];
  for (const [name, options, scores, targets, sampleWeight] of binaryCases) {
    it(`binary: ${name}`, async () => {
      const third = sampleWeight && { sampleWeight };
      const one = xe.binaryScorer(options).update(scores, targets, third).update(scores.subarray(0, 5000), targets.subarray(0, 5000));
      for (const [pool, p] of pools) {
        const scorer = await p.binaryScorer(options).update(scores, targets, third);
        await scorer.update(scores.subarray(0, 5000), targets.subarray(0, 5000));
        expect(JSON.stringify(scorer.state()), pool).toBe(JSON.stringify(one.state()));
        expect(scorer.count).toBe(N + 5000);
      }
    });
  }

  it('multilabel: 7 labels, weights, binned and exact', async () => {
    const L = 7, rows = 25_000;
    for (const options of [{ labels: L }, { labels: L, thresholds: 200 }]) {
      const s = logits.subarray(0, rows * L), t = hard.subarray(0, rows * L), sampleWeight = weights.subarray(0, rows);
      const one = xe.multilabelScorer(options).update(s, t, { sampleWeight }).update(s.subarray(0, 70), t.subarray(0, 70));
      for (const [pool, p] of pools) {
        const scorer = await p.multilabelScorer(options).update(s, t, { sampleWeight });
        await scorer.update(s.subarray(0, 70), t.subarray(0, 70));
        expect(JSON.stringify(scorer.state()), pool).toBe(JSON.stringify(one.state()));
        expect(scorer.labels).toBe(L);
        expect(scorer.count).toBe(rows + 10);
        expect(JSON.stringify(scorer.result())).toBe(JSON.stringify(one.result()));
      }
    }
  });

  it('refuses bad updates before anything changes, and a failing worker changes nothing', async () => {
    const pool = await createPool({ threads: 2, inlineBelow: 0 });
    try {
      const scorer = await pool.binaryScorer({ thresholds: 100 }).update(logits, hard);
      const multi = await pool.multilabelScorer({ labels: 4 }).update(logits, hard);
      const before = JSON.stringify(scorer.state()), multiBefore = JSON.stringify(multi.state());
      await pool[failNext](0, 'throw');
      await pool[failNext](1, 'throw');
      const bad = hard.slice();
      bad[9] = 2;
      expect(() => xe.binaryScorer().update(logits, bad)).toThrow(new RangeError('labels[9] = 2 is not a target in [0, 1]'));
      await expect(scorer.update(logits, bad)).rejects.toThrow(new RangeError('labels[9] = 2 is not a target in [0, 1]'));
      await expect(scorer.update(logits, hard, { sampleWeight: weights.subarray(1) })).rejects.toThrow(RangeError);
      await expect(multi.update(logits.subarray(1), hard.subarray(1))).rejects.toThrow(RangeError);
      expect(JSON.stringify(scorer.state())).toBe(before);
      // The armed failures are still there: the next good updates reach the workers, fail, and change nothing.
      await expect(scorer.update(logits, hard)).rejects.toThrow(/^xentropy pool worker [01] failed: injected failure \(test\)$/);
      await pool[failNext](1, 'trap');
      await expect(multi.update(logits, hard)).rejects.toThrow(/^xentropy pool worker 1 failed: /);
      expect(JSON.stringify(scorer.state())).toBe(before);
      expect(JSON.stringify(multi.state())).toBe(multiBefore);
      await scorer.update(logits, hard);
      expect(JSON.stringify(scorer.state())).toBe(JSON.stringify(xe.binaryScorer({ thresholds: 100 }).update(logits, hard).update(logits, hard).state()));
      // One update at a time; merge, reset and fromState as the one-thread scorers.
      const first = scorer.update(logits, hard);
      await expect(scorer.update(logits, hard)).rejects.toThrow(/still running an update: await it before calling update/);
      expect(() => scorer.reset()).toThrow(/still running an update/);
      await first;
      const restored = PoolBinaryScorer.fromState(pool, JSON.parse(JSON.stringify(scorer.state())));
      expect(JSON.stringify(restored.merge(scorer).state()))
        .toBe(JSON.stringify(xe.binaryScorerFromState(scorer.state()).merge(scorer.state()).state()));
      expect(scorer.reset().count).toBe(0);
      const m2 = PoolMultilabelScorer.fromState(pool, multi.state()).merge(multi);
      expect(m2.count).toBe(2 * multi.count);
    } finally {
      await pool.close();
    }
  });
});
