// The ceiling of two threads on this machine, against the pool, in the same rounds. On W1 (N = 4096,
// C = 1000), resident buffers, SIMD build, each round times CALLS calls of:
// - one thread: the whole of W1 on the main thread;
// - bare pair: two workers, each with its own instance and its own resident half of W1 (2048 rows),
//   started by Atomics.notify on a shared doorbell while the main thread blocks in Atomics.wait for
//   both to finish. No messages, no staging, no promises: the least synchronisation two threads
//   need, so its time less its slower half is what waking them costs that minute. Its halves are
//   fixed, where the pool's shared block counter can move work to the faster thread;
// - main + worker: the main thread computes one half itself while one such worker computes the other
//   (what a pool whose calling thread joins in would cost at best);
// - the pool: createPool({ threads: 2 }) on its own resident buffers, as in `npm run bench`.
// Each worker also times its own half, so the table shows whether one thread's half runs slower while
// the other thread runs (shared core, memory, or a host that stacks the two vCPUs).
// A worker's wake-up that has not come after a second is rung again and counted; on 2026-12-03 that
// happened twice in about 5,000 wake-ups in one run of five (Node 20).
// `node bench/pool-ceiling.js` after `npm run build` (under 1 minute); prints the table and writes it
// to bench/results/pool-ceiling.md.

import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createPool, init } from '../dist/index.js';
import { WORKLOADS, makeInputs } from './data.js';
import { median, perCall } from './report.js';

/** Rounds, and calls of each contender per round. */
const ROUNDS = 50, CALLS = 8;

const w1 = WORKLOADS.find((w) => w.name === 'W1');
const { logits, labels } = makeInputs(w1);
const C = w1.classes, N = w1.rows, HALF = N / 2;
const xe = await init({ build: 'simd' });

/**
 * The two operations, on an instance's resident logits (and gradient), with 'sum' reduction: each
 * returns the loss (a Promise of it from the pool).
 */
const lossOf = (result) => (typeof result === 'number' ? result : result.loss);
const OPS = {
  '(a) loss': (o, z, y) => () => o.crossEntropy(z, y, { classes: C, reduction: 'sum' }),
  '(b) loss + gradient': (o, z, y, g) => () => {
    const result = o.crossEntropyWithGrad(z, y, { classes: C, reduction: 'sum', gradOut: g });
    return result instanceof Promise ? result.then(lossOf) : lossOf(result);
  },
};

// Doorbell layout (Int32 words): [h] worker h's call sequence number (main writes; -1 ends it),
// [2 + h] the last sequence it finished, [4 + h] its operation; f64 at byte 32 + 8h: its sum, at
// 48 + 8h: its ms.
if (!isMainThread) {
  const { half, bell } = workerData;
  const words = new Int32Array(bell), sums = new Float64Array(bell, 32, 2), ms = new Float64Array(bell, 48, 2);
  const z = xe.tensor(logits.subarray(half * HALF * C, (half + 1) * HALF * C)), g = xe.alloc(HALF * C);
  const y = labels.subarray(half * HALF, (half + 1) * HALF);
  const calls = Object.values(OPS).map((op) => op(xe, z, y, g));
  for (const call of calls) for (let i = 0; i < 10; i++) call();
  parentPort.postMessage('ready');
  for (let seen = 0; ;) {
    Atomics.wait(words, half, seen);
    seen = Atomics.load(words, half);
    if (seen < 0) break;
    const t = performance.now();
    sums[half] = calls[words[4 + half]]();
    ms[half] = performance.now() - t;
    Atomics.store(words, 2 + half, seen);
    Atomics.notify(words, 2 + half);
  }
  process.exit(0);
}

const bell = new SharedArrayBuffer(64);
const words = new Int32Array(bell), sums = new Float64Array(bell, 32, 2), ms = new Float64Array(bell, 48, 2);
const workers = [0, 1].map((half) => new Worker(new URL(import.meta.url), { workerData: { half, bell } }));
workers.forEach((w, h) => w.on('error', (error) => console.error(`bare worker ${h} failed:`, error)));
await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
const pool = await createPool({ threads: 2 });

const seq = [0, 0];
let stalls = 0;
/** Starts worker h on operation `opIndex`; returns a function that blocks until it is done, then its sum. */
function ring(h, opIndex) {
  const s = ++seq[h];
  words[4 + h] = opIndex;
  Atomics.store(words, h, s);
  Atomics.notify(words, h);
  return () => {
    for (let tries = 0; Atomics.load(words, 2 + h) !== s;) {
      if (Atomics.wait(words, 2 + h, Atomics.load(words, 2 + h), 1000) !== 'timed-out') continue;
      // A failed worker never answers (its error is printed once this thread returns to its loop).
      if (++tries === 5) throw new Error(`bare worker ${h} did not finish call ${s} within 5 s`);
      stalls++;
      Atomics.notify(words, h);
    }
    return sums[h];
  };
}

const lines = [];
const say = (line) => { console.log(line); lines.push(line); };
say(`# two-thread ceiling, ${new Date().toISOString()}, ${cpus()[0]?.model.trim()} (${availableParallelism()} logical cores), Node ${process.version}`);
say(`Generated by \`node bench/pool-ceiling.js\`. W1 (N = ${N}, C = ${C}, bench/data.js), resident buffers, SIMD build, 'sum' reduction. Each of ${ROUNDS} rounds times ${CALLS} calls of each contender in turn: one thread on the whole; the bare pair (two workers, each with its own instance and resident half, started by Atomics.notify and awaited by Atomics.wait: no messages, staging or promises); main + worker (the main thread computes one half while one such worker computes the other); the pool (createPool({ threads: 2 })). Medians over rounds; speed-up = the median of the rounds' one-thread ms / contender ms. "Half alone" is one thread's ms / 2; "half in pair" the workers' own median ms for a half while both ran; "slower half" the median over calls of the slower one: the bare pair's ms less that is what starting and finishing cost.\n`);
say('| operation | one thread ms | half alone ms | half in pair ms | slower half ms | bare pair ms | main + worker ms | pool ms | bare pair speed-up | main + worker speed-up | pool speed-up |');
say('|---|---|---|---|---|---|---|---|---|---|---|');
let worst = 0;
for (const [opIndex, [name, op]] of Object.entries(OPS).entries()) {
  const z = xe.tensor(logits), g = xe.alloc(logits.length), pz = pool.tensor(logits), pg = pool.alloc(logits.length);
  const z0 = xe.tensor(logits.subarray(0, HALF * C)), g0 = xe.alloc(HALF * C);
  const one = op(xe, z, labels, g), pooled = op(pool, pz, labels, pg), mine = op(xe, z0, labels.subarray(0, HALF), g0);
  const halves = [], slower = [];
  const pair = () => {
    const done = [ring(0, opIndex), ring(1, opIndex)];
    const loss = done[0]() + done[1]();
    halves.push(ms[0], ms[1]);
    slower.push(Math.max(ms[0], ms[1]));
    return loss;
  };
  const joint = () => {
    const done = ring(1, opIndex);
    const loss = mine();
    return loss + done();
  };
  const contenders = [one, pair, joint, pooled];
  // All must agree on the loss: halves add up to the whole within float64 rounding of the sums.
  const whole = one();
  for (const call of contenders) worst = Math.max(worst, Math.abs((await call()) - whole) / Math.abs(whole));
  for (let i = 0; i < 10; i++) for (const call of contenders) await call();
  halves.length = slower.length = 0;
  const times = contenders.map(() => []), ups = contenders.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    const t = [];
    for (const call of contenders) t.push(await perCall(call, CALLS));
    t.forEach((v, i) => { times[i].push(v); ups[i].push(t[0] / v); });
  }
  const [t1, tb, tj, tp] = times.map(median), [, ub, uj, up] = ups.map(median);
  say(`| ${name} | ${t1.toFixed(2)} | ${(t1 / 2).toFixed(2)} | ${median(halves).toFixed(2)} | ${median(slower).toFixed(2)} | ${tb.toFixed(2)} | ${tj.toFixed(2)} | ${tp.toFixed(2)} | ${ub.toFixed(2)}× | ${uj.toFixed(2)}× | ${up.toFixed(2)}× |`);
  for (const buffer of [z, g, z0, g0, pz, pg]) buffer.free();
}
say(`\nChecks: every contender's loss is within ${worst.toExponential(1)} (relative) of one thread's; ${stalls} wake-up(s) of a bare worker had to be rung again after 1 s.`);
for (const h of [0, 1]) { Atomics.store(words, h, -1); Atomics.notify(words, h); }
await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
await pool.close();
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(new URL('results/pool-ceiling.md', import.meta.url), `${lines.join('\n')}\n`);
