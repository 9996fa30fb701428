// The Beam example: the pipeline over sharded .npy files, on Beam's direct runner in this process,
// against one scorer fed every row in one pass; and the CombineFn driven as a distributed runner
// drives a lifted combine (partial accumulators, encoded with Beam's coder, merged in any order).
//
//   npm run build && npm --prefix examples/beam ci --ignore-scripts && npm --prefix examples/beam test
//
// Why the direct runner's state is the single pass's bit for bit: Beam 2.49.0's direct runner runs
// the combine unlifted and folds every input into one accumulator, in the order the shards were
// listed (it makes three, but the index meant to deal inputs round-robin never advances), then
// merges it with empty accumulators, which copies its sums exactly (0 + s = s, and the compensation
// is unchanged). Rebuilding a scorer from a state and taking its state again is exact too. The
// distributed test below is what exercises mergeAccumulators on partial states.
//
// Why a distributed combine is not bit for bit: the scorer keeps each float sum as a Neumaier pair
// (sum, compensation), and floating addition is not associative, so grouping the rows differently
// changes the pair's last bits. The counts are exact whatever the grouping. Each step's rounding error
// is exact in the compensation (Fast2Sum), so for any grouping sum + compensation is the exact sum S
// to within O(n u^2) sum|x| (u = 2^-53), and every term here is non-negative (losses, Brier terms,
// confidences): two groupings' fl(sum + compensation) differ by about an ulp at most (2u |S|). The
// test allows 8u (2^-50) relative, and 16u for the means (one more rounding each).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { initSync } from 'xentropy';
import { scoreShards } from '../pipeline.mjs';

const require = createRequire(import.meta.url);
const { scorerCombineFn, readNpy, readShard } = require('../scorer_combine.cjs');
const { GeneralObjectCoder } = require('apache-beam/coders/js_coders');
const { serializeFn, deserializeFn } = require('apache-beam/internal/serialize');
const { Context } = require('apache-beam/coders/coders');
const { Writer, Reader } = require('protobufjs');

const xe = initSync();
const dir = mkdtempSync(join(tmpdir(), 'xentropy-beam-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Mulberry32: seeded, so a failure replays. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A C-order .npy (format 1.0) of a Float32Array or Int32Array, the header padded to 64 bytes. */
function writeNpy(path, array, shape) {
  const descr = array instanceof Float32Array ? '<f4' : '<i4';
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(array.buffer, array.byteOffset, array.byteLength)]));
}

/** Writes rows [cuts[i], cuts[i + 1]) of logits [N, C] and labels as shard i; returns the shard list. */
function writeShards(name, logits, labels, classes, cuts) {
  const shards = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i], cuts[i + 1]];
    const shard = { logits: join(dir, `${name}-${i}-logits.npy`), labels: join(dir, `${name}-${i}-labels.npy`) };
    writeNpy(shard.logits, logits.slice(a * classes, b * classes), [b - a, classes]);
    writeNpy(shard.labels, labels.slice(a, b), [b - a]);
    shards.push(shard);
  }
  return shards;
}

/** Seeded rows: logits with the label's raised (a plausible classifier), some labels ignored. */
function makeRows(seed, rows, classes, ignoreIndex = -100) {
  const random = rng(seed);
  const labels = Int32Array.from({ length: rows }, () => (random() < 0.05 ? ignoreIndex : Math.floor(random() * classes)));
  const logits = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < classes; c++) logits[r * classes + c] = (random() - 0.5) * 6 + (c === labels[r] ? 2 : 0);
  }
  return { logits, labels };
}

/** Uneven cut points over [0, rows], with an empty shard among them. */
function cutsOf(seed, rows, shards) {
  const random = rng(seed);
  const inner = Array.from({ length: shards - 2 }, () => Math.floor(random() * rows)).sort((a, b) => a - b);
  return [0, inner[0], ...inner, rows];
}

const FLOAT_PAIRS = ['loss', 'brier'];
const INTEGERS = ['count', 'correct', 'bytes', 'rowsWithoutBytes'];

/** A state's float as a number (a state writes non-finite sums as strings). */
const num = (x) => (typeof x === 'string' ? Number(x) : x);

// ---------------------------------------------------------------------------------------------------

const CASES = [
  { name: 'logits, C = 10', rows: 3000, shards: 7, options: { classes: 10 } },
  { name: 'logits, C = 100, topK [1, 3, 10], 20 bins', rows: 1500, shards: 5, options: { classes: 100, topK: [1, 3, 10], bins: 20 } },
  { name: 'logits, C = 2, ignoreIndex 7', rows: 4000, shards: 9, options: { classes: 2, ignoreIndex: 7 }, ignoreIndex: 7 },
];

for (const [i, c] of CASES.entries()) {
  test(`direct runner, ${c.name}, ${c.shards} shards: the single pass's state and result, bit for bit`, async () => {
    const { logits, labels } = makeRows(100 + i, c.rows, c.options.classes, c.ignoreIndex);
    const cuts = cutsOf(200 + i, c.rows, c.shards);
    assert.ok(cuts.some((x, j) => j > 0 && x === cuts[j - 1]), 'one shard is empty');
    const shards = writeShards(`case${i}`, logits, labels, c.options.classes, cuts);

    const single = xe.scorer(c.options).update(logits, labels);
    const state = await scoreShards(shards, c.options, { output: 'state' });
    assert.deepStrictEqual(state, single.state()); // strict: numbers compared with Object.is
    assert.deepStrictEqual(await scoreShards(shards, c.options), single.result());
    assert.ok(single.count > 0 && single.count < c.rows, 'some rows counted, some ignored');
  });
}

test('direct runner: a row of infinite loss stays infinite through the pipeline', async () => {
  const C = 4, rows = 600;
  const random = rng(7);
  const labels = Int32Array.from({ length: rows }, () => Math.floor(random() * C));
  const logProbs = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    // log-softmax of random scores, then row 321's true class gets probability 0
    const z = Array.from({ length: C }, () => random() * 4);
    const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    for (let k = 0; k < C; k++) logProbs[r * C + k] = Math.min(0, z[k] - lse);
  }
  logProbs[321 * C + labels[321]] = -Infinity;
  const options = { classes: C, from: 'logProbs', topK: [1, 2] };
  const shards = writeShards('inf', logProbs, labels, C, [0, 200, 400, rows]);
  const single = xe.scorer(options).update(logProbs, labels);
  const state = await scoreShards(shards, options, { output: 'state' });
  assert.equal(state.loss[0], 'Infinity');
  assert.deepStrictEqual(state, single.state());
  const result = await scoreShards(shards, options);
  assert.equal(result.lossNats, Infinity);
  assert.deepStrictEqual(result, single.result());
});

test('direct runner: the sample `npm start` scores (data/), in 4 shards', async () => {
  const logits = readNpy(new URL('../../../data/sample-logits.npy', import.meta.url));
  const labels = readNpy(new URL('../../../data/sample-labels.npy', import.meta.url));
  const [rows, C] = logits.shape;
  const shards = writeShards('sample', logits.array, labels.array, C, [0, 500, 1100, 1600, rows]);
  const options = { classes: C, topK: [1, 5], bins: 15 };
  const single = xe.scorer(options).update(logits.array, labels.array);
  assert.deepStrictEqual(await scoreShards(shards, options, { output: 'state' }), single.state());
  const result = await scoreShards(shards, options);
  assert.deepStrictEqual(result, single.result());
  assert.equal(result.count, rows);
});

// ---------------------------------------------------------------------------------------------------
// A distributed runner lifts the combine: each worker folds its bundle into an accumulator
// (addInput), the accumulators are encoded with the accumulator coder (for a CombineFn without one,
// Beam's GeneralObjectCoder) and shuffled, and mergeAccumulators takes them in whatever grouping and
// order they arrive. This drives the CombineFn that way, from seeded bundles and merge trees.

/** The CombineFn as a worker gets it: serialised as Beam sends it with the pipeline, then rebuilt. */
function shipped(combineFn) {
  return deserializeFn(serializeFn({ combineFn })).combineFn;
}

const coder = new GeneralObjectCoder();
function throughCoder(value) {
  const writer = new Writer();
  coder.encode(value, writer, Context.wholeStream);
  return coder.decode(new Reader(writer.finish()), Context.wholeStream);
}

test('distributed combine: any bundles and merge order give the counts exactly and the sums to 2^-50', (t) => {
  const trials = 60;
  let sameState = 0, sameResult = 0;
  for (let trial = 0; trial < trials; trial++) {
    const random = rng(1000 + trial);
    const C = 3 + Math.floor(random() * 40); // topK [1, 2] needs k below C
    const rows = 200 + Math.floor(random() * 2000);
    const options = { classes: C, topK: [1, 2], bins: 5 + Math.floor(random() * 20) };
    const { logits, labels } = makeRows(2000 + trial, rows, C);
    const cuts = cutsOf(3000 + trial, rows, 3 + Math.floor(random() * 12));
    const batches = cuts.slice(1).map((b, i) => ({
      logits: logits.subarray(cuts[i] * C, b * C), labels: labels.subarray(cuts[i], b),
    }));

    const fn = shipped(scorerCombineFn(options, { output: 'state' }));
    // Bundles: the batches dealt at random to workers, each folding its own in its own order.
    const workers = 1 + Math.floor(random() * batches.length);
    const accumulators = Array.from({ length: workers }, () => fn.createAccumulator());
    for (const batch of [...batches].sort(() => random() - 0.5)) {
      const w = Math.floor(random() * workers);
      accumulators[w] = fn.addInput(accumulators[w], batch);
    }
    // The shuffle, then merges of random groups until one is left.
    let pending = accumulators.map(throughCoder);
    while (pending.length > 1) {
      pending.sort(() => random() - 0.5);
      const k = 2 + Math.floor(random() * (pending.length - 1));
      pending = [throughCoder(fn.mergeAccumulators(pending.slice(0, k))), ...pending.slice(k)];
    }
    const state = fn.extractOutput(pending[0]);

    const single = xe.scorer(options).update(logits, labels);
    const want = single.state();
    for (const key of INTEGERS) assert.equal(state[key], want[key], key);
    for (const key of ['topKHits', 'binCount', 'binCorrect']) assert.deepStrictEqual(state[key], want[key], key);
    const close = (got, expected, what) => {
      assert.ok(Math.abs(got - expected) <= 2 ** -50 * Math.abs(expected), `${what}: ${got} vs ${expected} (trial ${trial})`);
    };
    for (const key of FLOAT_PAIRS) close(num(state[key][0]) + num(state[key][1]), num(want[key][0]) + num(want[key][1]), key);
    for (let b = 0; b < want.binConf.length; b++) {
      close(num(state.binConf[b]) + num(state.binConfComp[b]), num(want.binConf[b]) + num(want.binConfComp[b]), `binConf[${b}]`);
    }
    const got = fn.mergeAccumulators([state]);
    const result = shipped(scorerCombineFn(options)).extractOutput(got);
    const expected = single.result();
    for (const key of ['lossNats', 'lossBits', 'brier']) {
      assert.ok(Math.abs(result[key] - expected[key]) <= 2 ** -49 * Math.abs(expected[key]), `${key} (trial ${trial})`);
    }
    if (JSON.stringify(state) === JSON.stringify(want)) sameState++;
    if (JSON.stringify(result) === JSON.stringify(expected)) sameResult++;
  }
  // What the grouping changes: the sum/compensation pairs' last bits, seldom what they stand for.
  t.diagnostic(`${trials} groupings: state bit for bit in ${sameState}, result bit for bit in ${sameResult}`);
});

test('the CombineFn ships as its source and the registered helpers it names, not an instance', () => {
  const payload = new TextDecoder().decode(serializeFn({ combineFn: scorerCombineFn({ classes: 5, bins: 4 }) }));
  for (const helper of ['emptyState', 'addBatch', 'mergeStates', 'resultOf']) {
    assert.ok(payload.includes(`"name":"beam:xentropy-beam-example/scorer-combine.${helper}.self"`), helper);
  }
  assert.ok(payload.length < 10_000, `${payload.length} characters`);
  const fn = deserializeFn(new TextEncoder().encode(payload)).combineFn;
  const batch = makeRows(9, 40, 5);
  const state = fn.addInput(fn.createAccumulator(), batch);
  assert.deepStrictEqual(fn.extractOutput(fn.mergeAccumulators([state])), xe.scorer({ classes: 5, bins: 4 }).update(batch.logits, batch.labels).result());

  // In a process of its own, as a worker: require the registered modules (what Beam's worker_main
  // does with the pipeline's list), rebuild the CombineFn from the payload and merge two states.
  const { getRegisteredModules } = require('apache-beam/serialization');
  const modules = getRegisteredModules().filter((m) => m.startsWith('xentropy-beam-example/'));
  assert.deepStrictEqual(modules.sort(), ['xentropy-beam-example/local-sink', 'xentropy-beam-example/scorer-combine']);
  const other = fn.addInput(fn.createAccumulator(), makeRows(10, 25, 5));
  const worker = `
    const modules = ${JSON.stringify(modules)};
    for (const m of modules) require(m);
    const { deserializeFn } = require('apache-beam/internal/serialize');
    const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const fn = deserializeFn(new TextEncoder().encode(input.payload)).combineFn;
    process.stdout.write(JSON.stringify(fn.mergeAccumulators(input.states)));`;
  const out = execFileSync(process.execPath, ['-e', worker], {
    cwd: fileURLToPath(new URL('..', import.meta.url)), input: JSON.stringify({ payload, states: [state, other] }),
  });
  assert.deepStrictEqual(JSON.parse(out), fn.mergeAccumulators([state, other]));
});

test("accumulators survive Beam's coder and JSON bit for bit, infinite sums included", () => {
  const options = { classes: 3, from: 'logProbs', bins: 4 };
  const logProbs = new Float32Array([-0.1, -2.5, -3.2, -Infinity, -0.01, -5, -1.2, -0.7, -1.5]);
  const state = scorerCombineFn(options, { output: 'state' }).addInput(
    scorerCombineFn(options).createAccumulator(), { logits: logProbs, labels: [0, 0, 1] },
  );
  assert.equal(state.loss[0], 'Infinity');
  assert.deepStrictEqual(throughCoder(state), state);
  assert.deepStrictEqual(JSON.parse(JSON.stringify(state)), state);
  const finite = makeRows(5, 50, 7);
  const fn = scorerCombineFn({ classes: 7 });
  const s = fn.addInput(fn.createAccumulator(), finite);
  assert.notEqual(s.loss[1], 0, 'a compensation that is not zero');
  assert.deepStrictEqual(throughCoder(s), s);
  assert.deepStrictEqual(fn.extractOutput(throughCoder(s)), xe.scorer({ classes: 7 }).update(finite.logits, finite.labels).result());
});

test('bad options are refused where the pipeline is built; bad shards name the file', () => {
  assert.throws(() => scorerCombineFn({ classes: 0 }), RangeError);
  assert.throws(() => scorerCombineFn({ clases: 3 }), TypeError);
  assert.throws(() => scorerCombineFn({ classes: 3 }, { output: 'json' }), /output must be 'result' or 'state', got "json"/);
  const bad = join(dir, 'not.npy');
  writeFileSync(bad, 'hello, world');
  assert.throws(() => readShard({ logits: bad, labels: bad }), (e) => e instanceof RangeError && e.message === `${bad}: not a .npy file`);
  const f64 = join(dir, 'f64.npy');
  writeNpy(f64, new Float32Array(4), [4]);
  const bytes = readFileSync(f64);
  bytes.write("'<f8'", bytes.indexOf("'<f4'"), 'latin1');
  writeFileSync(f64, bytes);
  assert.throws(() => readNpy(f64), /dtype "<f8" is not supported/);
});
