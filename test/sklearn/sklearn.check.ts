// Checked by scikit-learn (issue 26, "Agreement"): the binary, multilabel and multiclass scorers against
// what scikit-learn 1.2 (Debian bookworm's python3-sklearn) computes for the same float32 inputs.
//
// scripts/sklearn_truth.py draws ~320 random cases from a seed and writes sklearn's values. Each case is
// scored here three ways: one scorer fed every row; the rows split into 1 to 6 shards at random cut
// points, one scorer per shard, their states sent through JSON and merged in a random order; and the
// float64 reference. All three must agree with sklearn within the tolerances below, and the merged
// scorer with the single one (the exact-threshold ranking bit for bit). Binned thresholds (k = 16, 256)
// must land within their own stated error bound of sklearn's exact AUC and AP. The multiclass scorer,
// which runs WebAssembly kernels, is checked on every build (test/helpers.ts).
//
// Not part of `npm test`; run it with
//   npm run test:sklearn                                     # a fresh random seed, printed first
//   XENTROPY_SKLEARN_SEED=<seed> npm run test:sklearn        # replay a seed
//   XENTROPY_SKLEARN_SEED=<seed> XENTROPY_SKLEARN_CASE=<id> npm run test:sklearn   # one case of it
// Needs Debian's /usr/bin/python3 with python3-sklearn (XENTROPY_SKLEARN_PYTHON overrides it);
// XENTROPY_SKLEARN_SCALE=<factor> scales the number of cases.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  reference, type BinaryScorer, type BinaryScoreResult, type BinaryScorerOptions, type MultilabelScorer,
  type MultilabelScorerOptions, type Xentropy,
} from '../../src/index.js';
import { close, rng, wasm, wasmBackends, type Tolerance } from '../helpers.js';

const SEED_ENV = process.env.XENTROPY_SKLEARN_SEED;
const SEED = SEED_ENV !== undefined && SEED_ENV !== '' ? Number(SEED_ENV) : Math.floor(Math.random() * 2 ** 31);
if (!Number.isSafeInteger(SEED) || SEED < 0) throw new Error(`XENTROPY_SKLEARN_SEED must be a non-negative integer, got ${SEED_ENV}`);
const ONLY_CASE = process.env.XENTROPY_SKLEARN_CASE ? Number(process.env.XENTROPY_SKLEARN_CASE) : undefined;
const PYTHON = process.env.XENTROPY_SKLEARN_PYTHON || '/usr/bin/python3';
const REPLAY = `XENTROPY_SKLEARN_SEED=${SEED} npm run test:sklearn`;
console.log(`sklearn agreement suite: seed ${SEED} (replay: ${REPLAY})`);

type Num = number | 'Infinity' | '-Infinity' | 'NaN';
type Json = Record<string, unknown>;
interface Case {
  id: number;
  kind: 'binary' | 'multilabel' | 'multiclass';
  options: Json;
  scores: Num[];
  labels: number[];
  weights: Num[] | null;
  truth: Json;
}

function generate(): { seed: number; versions: Json; cases: Case[] } {
  const script = fileURLToPath(new URL('../../scripts/sklearn_truth.py', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'xentropy-sklearn-'));
  try {
    const out = join(dir, 'truth.json');
    const scale = process.env.XENTROPY_SKLEARN_SCALE ? ['--cases', process.env.XENTROPY_SKLEARN_SCALE] : [];
    const run = spawnSync(PYTHON, [script, '--seed', String(SEED), '--out', out, ...scale], { encoding: 'utf8' });
    if (run.error) throw new Error(`cannot run ${PYTHON} ${script}: ${run.error.message}`);
    if (run.status !== 0) throw new Error(`${PYTHON} ${script} --seed ${SEED} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    process.stdout.write(run.stdout);
    return JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TRUTH = generate();
const CASES = TRUTH.cases.filter((c) => ONLY_CASE === undefined || c.id === ONLY_CASE);

const num = (x: unknown): number => (x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x === 'NaN' ? NaN : (x as number));
const nums = (a: unknown): number[] => (a as unknown[]).map(num);

// ---------------------------------------------------------------------------------------------------
// Tolerances: |got - want| <= abs + rel |want| (helpers.close: NaN equals only NaN).
// - F64: metrics the binary and multilabel scorers compute in float64 from the same float32 inputs as
//   sklearn (fractions, means, curve points; dimensionless, or nats for the log loss). Both sum at most
//   a few thousand float64 terms in different orders (compensated here, pairwise or plain in numpy), and
//   AUC is a Mann-Whitney sum here, a trapezoid there: rel 1e-13 (~450 units of 2^-53) + abs 1e-15; the
//   worst seen over several seeds is 6e-15 relative (the run prints its own). Thresholds are sigmoids of
//   the same logits (Math.exp and numpy's exp may differ by an ulp).
// - F32: the multiclass scorer's WebAssembly kernels (float32 log-softmax and Brier terms, float64
//   sums): the float32 bounds of docs/accuracy.md, loss rel 1e-5 + 1e-6 nats, Brier rel 1e-5 + 1e-6.
//   Accuracy and top-k are ratios of counts: exact, as are the per-class counts and the confusion;
//   per-class precision, recall, F1 and their averages are float64 arithmetic on the same counts: F64.
const F64: Tolerance = { rel: 1e-13, abs: 1e-15 };
const F32: Tolerance = { rel: 1e-5, abs: 1e-6 };
const EXACT: Tolerance = { rel: 0, abs: 0 };

/**
 * The largest share of its tolerance any finite comparison used, |got - want| / (abs + rel |want|), by
 * tolerance, and where: printed at the end, so that each tolerance's margin is measured on every run.
 */
const worst = new Map<Tolerance, { used: number; where: string }>();
function use(tol: Tolerance, got: number, want: number, where: string): void {
  if (!Number.isFinite(got) || !Number.isFinite(want) || tol.abs + tol.rel === 0) return;
  const used = Math.abs(got - want) / (tol.abs + tol.rel * Math.abs(want));
  if (used > (worst.get(tol)?.used ?? -1)) worst.set(tol, { used, where });
}

class Failures {
  readonly list: string[] = [];
  constructor(readonly c: Case, readonly how: string) {}
  add(what: string): void {
    this.list.push(`case ${this.c.id} (${this.c.kind} ${JSON.stringify(this.c.options)}, ${this.c.labels.length} labels, ${this.c.weights ? 'weighted' : 'unweighted'}) ${this.how}: ${what}`);
  }
  number(what: string, got: unknown, want: unknown, tol: Tolerance): void {
    const w = num(want);
    if (typeof got === 'number') use(tol, got, w, `case ${this.c.id} ${this.how} ${what}`);
    if (typeof got !== 'number' || !close(got, w, tol)) this.add(`${what}: got ${String(got)}, want ${w} (rel ${tol.rel} + abs ${tol.abs})`);
  }
  array(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance): void {
    if (got.length !== want.length) {
      this.add(`${what}: length ${got.length}, want ${want.length}`);
      return;
    }
    for (let i = 0; i < want.length; i++) {
      use(tol, got[i], want[i], `case ${this.c.id} ${this.how} ${what}[${i}]`);
      if (!close(got[i], want[i], tol)) {
        this.add(`${what}[${i}]: got ${got[i]}, want ${want[i]} (rel ${tol.rel} + abs ${tol.abs})`);
        return;
      }
    }
  }
}

/** Cut points splitting n rows into 1 to 6 shards (some may be empty), from the case's own generator. */
function shards(n: number, u: () => number): number[] {
  const k = 1 + Math.floor(u() * 6);
  const cuts = Array.from({ length: k - 1 }, () => Math.floor(u() * (n + 1))).sort((a, b) => a - b);
  return [0, ...cuts, n];
}

/** A random permutation of 0..n-1. */
function permutation(n: number, u: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

interface Data {
  scores: Float32Array;
  labels: Uint8Array;
  weights: Float32Array | undefined;
}
const dataOf = (c: Case): Data => ({
  scores: Float32Array.from(nums(c.scores)), labels: Uint8Array.from(c.labels),
  weights: c.weights ? Float32Array.from(nums(c.weights)) : undefined,
});

/**
 * One scorer over every row, and the same rows over random shards whose states go through JSON and are
 * merged in a random order. `make` builds a scorer, `width` is the scores per row.
 */
function singleAndMerged<S extends BinaryScorer | MultilabelScorer>(
  c: Case, d: Data, width: number, make: () => S, restore: (state: unknown) => S,
): { single: S; merged: S } {
  const single = make();
  single.update(d.scores, d.labels, d.weights ? { sampleWeight: d.weights } : undefined);
  const u = rng(SEED ^ (c.id * 0x9e3779b1));
  const n = d.scores.length / width;
  const cut = shards(n, u);
  const states = cut.slice(1).map((end, i) => {
    const s = make();
    const a = cut[i];
    s.update(d.scores.slice(a * width, end * width), d.labels.slice(a * width, end * width), d.weights ? { sampleWeight: d.weights.slice(a, end) } : undefined);
    return JSON.stringify(s.state());
  });
  const order = permutation(states.length, u);
  const merged = restore(JSON.parse(states[order[0]]));
  for (const i of order.slice(1)) merged.merge(JSON.parse(states[i]));
  return { single, merged };
}

/** Every metric sklearn gives for a binary case. */
function compareBinary(f: Failures, r: BinaryScoreResult, t: Json, unweighted: boolean): void {
  for (const key of ['logLoss', 'brier', 'accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'averagePrecision'] as const) {
    f.number(key, r[key], t[key], F64);
  }
  const roc = t.roc as Json, pr = t.pr as Json;
  f.array('roc.fpr', r.roc.fpr, nums(roc.fpr), F64);
  f.array('roc.tpr', r.roc.tpr, nums(roc.tpr), F64);
  f.array('roc.thresholds (after the first)', r.roc.thresholds.subarray(1), nums(roc.thresholds), F64);
  f.array('pr.precision', r.pr.precision, nums(pr.precision), F64);
  f.array('pr.recall', r.pr.recall, nums(pr.recall), F64);
  f.array('pr.thresholds', r.pr.thresholds, nums(pr.thresholds), F64);
  if (unweighted && r.bins.length > 0) {
    const cal = t[`calibration_${r.bins[0].lower === 0 && r.bins.every((b, i) => b.lower === i / r.bins.length) ? 'uniform' : 'quantile'}`] as Json;
    const full = r.bins.filter((b) => b.count > 0);
    f.array('calibration accuracy (non-empty bins)', full.map((b) => b.accuracy), nums(cal.accuracy), F64);
    f.array('calibration confidence (non-empty bins)', full.map((b) => b.confidence), nums(cal.confidence), F64);
  }
}

/** The merged scorer against the single one: the ranking bit for bit, sums to F64. */
function compareMerged(f: Failures, m: BinaryScoreResult, s: BinaryScoreResult): void {
  for (const key of ['rocAuc', 'averagePrecision'] as const) f.number(`merged ${key} (bit for bit)`, m[key], s[key], EXACT);
  for (const curve of ['fpr', 'tpr', 'thresholds'] as const) f.array(`merged roc.${curve} (bit for bit)`, m.roc[curve], s.roc[curve], EXACT);
  for (const key of ['logLoss', 'brier', 'accuracy', 'precision', 'recall', 'f1', 'ece', 'mce', 'rmsce'] as const) {
    f.number(`merged ${key}`, m[key], s[key], F64);
  }
}

function checkBinary(c: Case): string[] {
  const d = dataOf(c);
  const failures: string[] = [];
  const options = c.options as BinaryScorerOptions;
  const sampleWeight = d.weights ? { sampleWeight: d.weights } : {};
  for (const binning of ['uniform', 'quantile'] as const) {
    const f = new Failures(c, `binning ${binning}`);
    const { single, merged } = singleAndMerged(c, d, 1, () => wasm.binaryScorer({ ...options, binning }), (s) => wasm.binaryScorerFromState(s as never));
    const s = single.result(), m = merged.result();
    compareBinary(f, s, c.truth, !d.weights);
    compareMerged(f, m, s);
    const ref = reference.binaryScore(d.scores, d.labels, { ...options, binning, ...sampleWeight });
    const fr = new Failures(c, `reference, binning ${binning}`);
    compareBinary(fr, ref, c.truth, !d.weights);
    failures.push(...f.list, ...fr.list);
  }
  for (const k of [16, 256]) {
    const f = new Failures(c, `thresholds ${k}`);
    const { single, merged } = singleAndMerged(c, d, 1, () => wasm.binaryScorer({ ...options, thresholds: k }), (s) => wasm.binaryScorerFromState(s as never));
    for (const r of [single.result(), merged.result()]) {
      for (const [key, bound] of [['rocAuc', 'rocAucErrorBound'], ['averagePrecision', 'averagePrecisionErrorBound']] as const) {
        const want = num(c.truth[key]);
        if (!(Math.abs(r[key] - want) <= r[bound] + 1e-12)) f.add(`${key} ${r[key]} is ${Math.abs(r[key] - want)} from sklearn's ${want}, beyond its bound ${r[bound]}`);
      }
    }
    const ref = reference.binaryScore(d.scores, d.labels, { ...options, thresholds: k, ...sampleWeight });
    const s = single.result();
    for (const key of ['rocAuc', 'averagePrecision', 'rocAucErrorBound', 'averagePrecisionErrorBound'] as const) f.number(`reference ${key}`, ref[key], s[key], F64);
    failures.push(...f.list);
  }
  return failures;
}

function checkMultilabel(c: Case): string[] {
  const d = dataOf(c);
  const f = new Failures(c, 'multilabel');
  const L = c.options.labels as number;
  const sampleWeight = d.weights ? { sampleWeight: d.weights } : {};
  const { single, merged } = singleAndMerged(c, d, L, () => wasm.multilabelScorer(c.options as never), (s) => wasm.multilabelScorerFromState(s as never));
  const results = [['one scorer', single.result()], ['merged shards', merged.result()],
    ['reference', reference.multilabelScore(d.scores, d.labels, { ...(c.options as unknown as MultilabelScorerOptions), ...sampleWeight })]] as const;
  for (const [how, r] of results) {
    for (const key of ['precision', 'recall', 'f1', 'rocAuc', 'averagePrecision'] as const) {
      const t = (average: string) => nums(((c.truth[average] as Json)[key]));
      f.array(`${how} perLabel ${key}`, r.perLabel.map((x) => x[key]), t('none'), F64);
      f.number(`${how} macro ${key}`, r.macro[key], t('macro')[0], F64);
      f.number(`${how} weighted ${key}`, r.weighted[key], t('weighted')[0], F64);
      f.number(`${how} micro ${key}`, r.micro[key], t('micro')[0], F64);
    }
  }
  return f.list;
}

function checkMulticlass(c: Case, xe: Xentropy): string[] {
  const f = new Failures(c, 'multiclass');
  const z = Float32Array.from(nums(c.scores));
  const y = Int32Array.from(c.labels);
  const C = c.options.classes as number;
  const options = { classes: C, topK: c.options.topK as number[], confusion: true };
  const u = rng(SEED ^ (c.id * 0x85ebca6b));
  const n = y.length;
  const cut = shards(n, u);
  const states = cut.slice(1).map((end, i) => JSON.stringify(xe.scorer(options).update(z.slice(cut[i] * C, end * C), y.slice(cut[i], end)).state()));
  const merged = xe.scorer(options);
  for (const i of permutation(states.length, u)) merged.merge(JSON.parse(states[i]));
  const t = c.truth;
  for (const [how, r] of [['one scorer', xe.scorer(options).update(z, y).result()], ['merged shards', merged.result()], ['reference', reference.score(z, y, options)]] as const) {
    f.number(`${how} count`, r.count, t.count, EXACT);
    f.number(`${how} lossNats`, r.lossNats, t.logLoss, F32);
    f.number(`${how} brier`, r.brier, t.brier, F32);
    f.number(`${how} accuracy`, r.accuracy, t.accuracy, EXACT);
    for (const [k, v] of Object.entries(t.topK as Json)) f.number(`${how} topK[${k}]`, r.topK[k], v, EXACT);
    // Of the arg-max: counts exactly, ratios of the same counts in float64.
    const none = t.none as Json;
    if (!r.perClass || !r.macro || !r.micro || !r.weighted || !r.confusion) {
      f.add(`${how}: no per-class figures or confusion`);
      continue;
    }
    f.array(`${how} perClass.support`, r.perClass.support, nums(none.support), EXACT);
    f.array(`${how} confusion`, r.confusion, nums(t.confusion), EXACT);
    for (const key of ['precision', 'recall', 'f1'] as const) {
      f.array(`${how} perClass.${key}`, r.perClass[key], nums(none[key]), F64);
      for (const avg of ['macro', 'micro', 'weighted'] as const) f.number(`${how} ${avg} ${key}`, r[avg]![key], nums((t[avg] as Json)[key])[0], F64);
    }
    f.number(`${how} balancedAccuracy`, r.balancedAccuracy, t.balancedAccuracy, F64);
  }
  return f.list;
}

const SHOW = 12;
function report(kind: string, failures: string[], total: number): void {
  if (failures.length > 0) {
    expect.fail(`${failures.length} failures in ${total} ${kind} cases (seed ${SEED}; one case: XENTROPY_SKLEARN_CASE=<id> ${REPLAY}):\n`
      + failures.slice(0, SHOW).join('\n') + (failures.length > SHOW ? `\n… and ${failures.length - SHOW} more` : ''));
  }
}

describe(`scikit-learn ${TRUTH.versions.sklearn} (seed ${SEED})`, () => {
  afterAll(() => {
    for (const [name, tol] of [['F64', F64], ['F32', F32]] as const) {
      const w = worst.get(tol);
      if (w) console.log(`sklearn agreement suite: ${name} (rel ${tol.rel} + abs ${tol.abs}): at most ${w.used.toExponential(2)} of the tolerance used (${w.where})`);
    }
  });

  it('the truth has every kind of case, with and without sample weights', () => {
    if (ONLY_CASE !== undefined) return;
    for (const kind of ['binary', 'multilabel'] as const) {
      expect(TRUTH.cases.filter((c) => c.kind === kind && c.weights).length, `${kind} weighted`).toBeGreaterThan(0);
      expect(TRUTH.cases.filter((c) => c.kind === kind && !c.weights).length, `${kind} unweighted`).toBeGreaterThan(0);
    }
    expect(TRUTH.cases.filter((c) => c.kind === 'multiclass').length).toBeGreaterThan(0);
  });

  const binary = CASES.filter((c) => c.kind === 'binary');
  it(`binary scorer: ${binary.length} cases, one scorer, merged shards and the reference, exact and binned`, () => {
    report('binary', binary.flatMap(checkBinary), binary.length);
  });

  const multilabel = CASES.filter((c) => c.kind === 'multilabel');
  it(`multilabel scorer: ${multilabel.length} cases, per label and macro, weighted, micro averages`, () => {
    report('multilabel', multilabel.flatMap(checkMultilabel), multilabel.length);
  });

  const multiclass = CASES.filter((c) => c.kind === 'multiclass');
  describe.each(wasmBackends)('multiclass scorer on %s', (_, xe) => {
    it(`${multiclass.length} cases: log loss, accuracy, top-k, Brier, per-class, averages, balanced accuracy, confusion; merged shards and the reference`, () => {
      report('multiclass', multiclass.flatMap((c) => checkMulticlass(c, xe)), multiclass.length);
    });
  });
});
