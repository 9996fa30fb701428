// `npm run bench`: times xentropy (WebAssembly), the float64 reference, a plain JavaScript loop and the
// peers (tfjs with its wasm backend, onnxruntime-web) on the same inputs in one process, checks every
// result against the float64 reference, then prints the tables and writes bench/results/RESULTS.md. It
// measures the working tree's build: dist/ and dist/xentropy.wasm. Partial runs leave RESULTS.md alone:
// `--quick` takes a couple of samples per cell (a smoke run of the harness); `--workloads=W1,W4` and
// `--only=tfjs,onnx` (substrings of contender names; the plain loop, the ratios' base, always runs)
// time a subset. `--out=bench/results/RESULTS-node24.md` writes a full run's results there instead, for
// a run on another Node (`npx -y node@24 bench/run.js --out=…`), so that RESULTS.md stays the machine's
// Node.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import Benchmark from 'benchmark';
import { WORKLOADS, LOGIT_STD, makeInputs, workloadLabel } from './data.js';
import {
  plainCrossEntropy, plainCrossEntropyWithGrad, plainBinaryCrossEntropy, plainBinaryCrossEntropyWithGrad,
} from './plain.js';
import { timeInit } from './init-time.js';
import { INSTALL_HINT, tfjsContenders, onnxruntimeContenders } from './peers.js';
import { resultsTable, initTable, targetsTable, machineInfo } from './report.js';

const REPO = new URL('../', import.meta.url);
const INDEX = new URL('dist/index.js', REPO);
const WASM = new URL('dist/xentropy.wasm', REPO);
const DEFAULT_RESULTS = new URL('bench/results/RESULTS.md', REPO);

const QUICK = process.argv.includes('--quick');
/** The values of a `--name=a,b` flag, or null when it is absent. */
const listFlag = (name) => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? arg.slice(name.length + 3).split(',').filter(Boolean) : null;
};
const ONLY_WORKLOADS = listFlag('workloads');
const ONLY_CONTENDERS = listFlag('only');
const OUT = listFlag('out');
for (const arg of process.argv.slice(2)) {
  if (!(arg === '--quick' || arg.startsWith('--workloads=') || arg.startsWith('--only=') || arg.startsWith('--out='))) {
    console.error(`bench: unknown argument ${JSON.stringify(arg)}; expected --quick, --workloads=W1,…, --only=name,… or --out=file.md`);
    process.exit(2);
  }
}
if (OUT !== null && (OUT.length !== 1 || !OUT[0].endsWith('.md'))) {
  console.error(`bench: --out takes one file name ending in .md, got ${JSON.stringify(OUT.join(','))}`);
  process.exit(2);
}
/** Where a full run writes its results: bench/results/RESULTS.md unless --out names another file (relative to the working directory). */
const RESULTS = OUT === null ? DEFAULT_RESULTS : pathToFileURL(path.resolve(OUT[0]));
const PARTIAL = QUICK || ONLY_WORKLOADS !== null || ONLY_CONTENDERS !== null;
/** Fresh processes spawned to time init(). */
const INIT_RUNS = QUICK ? 2 : 5;
/** benchmark.js options for xentropy: enough samples for a stable median. */
const FAST = QUICK ? { minSamples: 2, maxTime: 0.1 } : { minSamples: 20, maxTime: 4 };
/** The plain loop takes 50–250 ms a call (up to 0.6 s on a busy machine); ten samples suffice. */
const PLAIN_OPTIONS = QUICK ? { minSamples: 1, maxTime: 0.1 } : { minSamples: 10, maxTime: 3 };
/** The float64 reference takes up to ~1 s a call (W2 (b)); a few samples keep the run short. */
const SLOW = QUICK ? { minSamples: 1, maxTime: 0.1 } : { minSamples: 3, maxTime: 1.5 };
/** The peers take 10–800 ms a call; eight samples give a stable median within the 10-minute budget. */
const PEER = QUICK ? { minSamples: 1, maxTime: 0.1 } : { minSamples: 8, maxTime: 3 };
/**
 * Each cell's time budget is spent in ROUNDS rounds, and each round times every contender of the
 * workload and operation in turn (maxTime / ROUNDS, minSamples / ROUNDS each), so that a slow phase
 * of a shared machine falls on all of them alike and the ratios between them stay put.
 */
const ROUNDS = QUICK ? 1 : 4;
/** A contender's benchmark.js options for one round. */
const roundOptions = (o) => ({ minSamples: Math.ceil(o.minSamples / ROUNDS), maxTime: o.maxTime / ROUNDS });
/** Worker threads of the pool contender: the machine the targets are set for has 2 cores. */
const POOL_THREADS = 2;

const NAMES = {
  resident: 'xentropy resident',
  relaxed: 'xentropy relaxed SIMD',
  copying: 'xentropy copying',
  pool: `xentropy pool (${POOL_THREADS} threads)`,
  plain: 'plain JS loop',
  reference: 'reference (float64)',
  ort: 'onnxruntime-web',
  tfjs: ['tfjs-wasm softmaxCrossEntropy', 'tfjs-wasm logSoftmax+gather'],
};

for (const [url, what] of [[INDEX, 'dist/index.js'], [WASM, 'dist/xentropy.wasm']]) {
  if (!existsSync(url)) {
    console.error(`bench: ${what} is missing. Run \`npm run build\` first, then \`npm run bench\`.`);
    process.exit(1);
  }
}
// Imported only after the check, so a missing build gets the message above rather than a stack trace.
const xentropy = await import(INDEX.href);
const { init, reference } = xentropy;

const runStarted = performance.now();
// Recorded so a reader can tell whether other work was competing for the CPU when the run began.
const loadAtStart = os.loadavg()[0];
console.error(`bench: timing init() in ${INIT_RUNS} fresh processes…`);
const initTimes = timeInit(INDEX, INIT_RUNS);
// The SIMD build for every xentropy row but one: the default wherever relaxed SIMD is not available
// (Node 20 without a flag), and the build whose results are identical on every machine.
const xe = await init({ build: 'simd' });
// `npm run bench` starts Node 20 with --experimental-wasm-relaxed-simd so that the FMA build is timed too.
const xeRelaxed = await init({ build: 'relaxed-simd' }).catch(() => null);

/**
 * The contenders. Each has, per workload kind ('softmax' and 'binary'), a loss function and a
 * loss-plus-gradient function of one workload's inputs, or a string saying why that cell is not
 * applicable. The gradient variants write into the preallocated `grad` (or a resident buffer, which
 * `after` copies out for the check); `labels` renames a contender's rows of one kind. `async`
 * contenders return promises and are timed as deferred benchmarks. `setup` returns a reason to skip
 * the contender, printed in every row it would have had; `teardown` runs once after the last workload.
 */
const CONTENDERS = [
  {
    // Logits and gradient already in wasm memory (xe.tensor / xe.alloc): they are not copied.
    name: NAMES.resident,
    options: FAST,
    softmax: {
      loss: (w) => xe.crossEntropy(resident(w).logits, w.labels, { classes: w.classes }),
      grad: (w) => {
        const r = resident(w);
        return xe.crossEntropyWithGrad(r.logits, w.labels, { classes: w.classes, gradOut: r.grad }).loss;
      },
    },
    binary: {
      loss: (w) => residentBinary(() => {
        const r = resident(w);
        return xe.binaryCrossEntropy(r.logits, r.targets, { from: 'logits' });
      }),
      grad: (w) => residentBinary(() => {
        const r = resident(w);
        return xe.binaryCrossEntropyWithGrad(r.logits, r.targets, { from: 'logits', gradOut: r.grad }).loss;
      }),
    },
    // For the checked call: the gradient to compare is the resident one.
    after: (w, grad) => grad.set(resident(w).grad.array),
  },
  {
    name: NAMES.copying,
    options: FAST,
    softmax: {
      loss: (w) => xe.crossEntropy(w.logits, w.labels, { classes: w.classes }),
      grad: (w, grad) => xe.crossEntropyWithGrad(w.logits, w.labels, { classes: w.classes, gradOut: grad }).loss,
    },
    binary: {
      loss: (w) => xe.binaryCrossEntropy(w.logits, w.targets, { from: 'logits' }),
      grad: (w, grad) => xe.binaryCrossEntropyWithGrad(w.logits, w.targets, { from: 'logits', gradOut: grad }).loss,
    },
  },
  {
    // The relaxed-SIMD (FMA) build, where this Node validates it, on resident buffers as *xentropy
    // resident*.
    name: NAMES.relaxed,
    options: FAST,
    setup: async () => (xeRelaxed ? undefined
      : 'skipped: this Node does not validate relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd, which npm run bench passes)'),
    softmax: {
      loss: (w) => xeRelaxed.crossEntropy(resident(w, xeRelaxed, 'relaxedResident').logits, w.labels, { classes: w.classes }),
      grad: (w) => {
        const r = resident(w, xeRelaxed, 'relaxedResident');
        return xeRelaxed.crossEntropyWithGrad(r.logits, w.labels, { classes: w.classes, gradOut: r.grad }).loss;
      },
    },
    binary: {
      loss: (w) => {
        const r = resident(w, xeRelaxed, 'relaxedResident');
        return xeRelaxed.binaryCrossEntropy(r.logits, r.targets, { from: 'logits' });
      },
      grad: (w) => {
        const r = resident(w, xeRelaxed, 'relaxedResident');
        return xeRelaxed.binaryCrossEntropyWithGrad(r.logits, r.targets, { from: 'logits', gradOut: r.grad }).loss;
      },
    },
    after: (w, grad) => {
      if (w.relaxedResident) grad.set(w.relaxedResident.grad.array);
    },
  },
  poolContender(),
  {
    name: NAMES.plain,
    options: PLAIN_OPTIONS,
    softmax: {
      loss: (w) => plainCrossEntropy(w.logits, w.labels, w.rows, w.classes),
      grad: (w, grad) => plainCrossEntropyWithGrad(w.logits, w.labels, w.rows, w.classes, grad),
    },
    binary: {
      loss: (w) => plainBinaryCrossEntropy(w.logits, w.targets),
      grad: (w, grad) => plainBinaryCrossEntropyWithGrad(w.logits, w.targets, grad),
    },
  },
  {
    name: NAMES.reference,
    options: SLOW,
    softmax: {
      loss: (w) => reference.crossEntropy(w.logits, w.labels, { classes: w.classes }),
      grad: (w, grad) => reference.crossEntropyWithGrad(w.logits, w.labels, { classes: w.classes, gradOut: grad }).loss,
    },
    binary: {
      loss: (w) => reference.binaryCrossEntropy(w.logits, w.targets, { from: 'logits' }),
      grad: (w, grad) => reference.binaryCrossEntropyWithGrad(w.logits, w.targets, { from: 'logits', gradOut: grad }).loss,
    },
  },
];

/**
 * The worker pool of issue #4: `createPool({ threads })` from dist/index.js, whose methods return
 * promises. Every cell uses the pool's own resident buffers (pool.tensor / pool.alloc), like
 * *xentropy resident*, so the ratio of the two is the speed-up of threads alone. A build without
 * createPool skips it, in every row.
 */
function poolContender() {
  let pool = null;
  return {
    name: NAMES.pool,
    options: FAST,
    async: true,
    setup: async () => {
      if (typeof xentropy.createPool !== 'function') {
        return 'skipped: this build exports no createPool (the worker pool of issue #4 is not in dist/)';
      }
      pool = await xentropy.createPool({ threads: POOL_THREADS });
      return undefined;
    },
    softmax: {
      loss: (w) => pool.crossEntropy(resident(w, pool, 'poolResident').logits, w.labels, { classes: w.classes }),
      grad: async (w) => {
        const r = resident(w, pool, 'poolResident');
        return (await pool.crossEntropyWithGrad(r.logits, w.labels, { classes: w.classes, gradOut: r.grad })).loss;
      },
    },
    binary: {
      loss: (w) => {
        const r = resident(w, pool, 'poolResident');
        return pool.binaryCrossEntropy(r.logits, r.targets, { from: 'logits' });
      },
      grad: async (w) => {
        const r = resident(w, pool, 'poolResident');
        return (await pool.binaryCrossEntropyWithGrad(r.logits, r.targets, { from: 'logits', gradOut: r.grad })).loss;
      },
    },
    after: (w, grad) => {
      if (w.poolResident) grad.set(w.poolResident.grad.array);
    },
    teardown: () => pool?.close(),
  };
}

/**
 * The workload's logits (and W4's targets) and a gradient buffer as resident buffers of `owner` (the
 * instance or the pool), made once per workload and kept under w[key] until the workload ends.
 */
function resident(w, owner = xe, key = 'resident') {
  w[key] ??= {
    logits: owner.tensor(w.logits), targets: w.targets ? owner.tensor(w.targets) : null, grad: owner.alloc(w.logits.length),
  };
  return w[key];
}

/** Runs a binary call on resident buffers, naming the cause when the build refuses them. */
function residentBinary(call) {
  try {
    return call();
  } catch (error) {
    if (error instanceof TypeError) {
      throw new TypeError(`binaryCrossEntropy does not take resident buffers in this build (${error.message})`);
    }
    throw error;
  }
}

/**
 * The plain loop's W1 (a) speed on the quiet 2026-11-23 run whose figures the issue's absolute
 * targets (G el/s) were checked against: this VM's speed varies from day to day (its vector units
 * are shared), while ratios within one run do not move with it.
 */
const PLAIN_W1_REFERENCE_RUN = 0.101;

/** A paragraph saying how fast this run's machine was, by the plain loop, against the reference run. */
function machineSpeed(results) {
  const cell = results.find((r) => r.workload === 'W1' && r.op === 'loss' && r.contender === NAMES.plain && r.status === 'ok');
  if (!cell) return 'Machine speed: not measured (the plain loop did not run on W1).';
  const sorted = [...cell.sampleMs].sort((a, b) => a - b);
  const rate = cell.elements / (sorted[sorted.length >> 1] * 1e6);
  return `Machine speed: the plain JS loop ran W1 (a) at ${rate.toFixed(3)} G el/s in this run, against ${PLAIN_W1_REFERENCE_RUN} `
    + `on the quiet run of 2026-11-23 that the absolute targets were read from: this machine ran at `
    + `${(rate / PLAIN_W1_REFERENCE_RUN).toFixed(2)}× that speed. The ratios (× the plain loop, × the peers) do not depend on it.`;
}

/** Largest |a[i] - b[i]|; NaN anywhere makes it NaN, so a broken result cannot look accurate. */
function maxAbsDiff(a, b) {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > max) max = d;
  }
  return max;
}

// Keeps results observable so no engine could drop a call as dead code.
let sink = 0;

/** Runs fn under benchmark.js and returns the per-sample mean times in milliseconds. */
function measure(name, fn, options) {
  const bench = new Benchmark(name, () => { sink += fn(); }, options);
  bench.run();
  if (bench.error) throw bench.error;
  return bench.stats.sample.map((seconds) => seconds * 1e3);
}

/**
 * measure() for a function returning a promise: a deferred benchmark, resolved when the promise settles.
 * benchmark.js waits `delay` (5 ms by default) after each deferred sample, where synchronous samples
 * follow each other at once; idle workers' vCPUs then slow down before the next sample (bench/results/notes.md,
 * the pool), so the delay is 0 here: samples one timer tick apart, as near as a deferred benchmark gets.
 */
function measureAsync(name, fn, options) {
  return new Promise((resolve, reject) => {
    let failure = null;
    const bench = new Benchmark(name, {
      ...options,
      delay: 0,
      defer: true,
      fn: (deferred) => {
        fn().then((value) => { sink += value; }, (error) => { failure ??= error; }).finally(() => deferred.resolve());
      },
      onComplete: () => {
        const error = failure ?? bench.error;
        if (error) reject(error);
        else resolve(bench.stats.sample.map((seconds) => seconds * 1e3));
      },
    });
    bench.run({ async: true });
  });
}

// The peers, loaded from bench/node_modules; a missing or broken peer is reported, not fatal.
const peerNotes = [];
for (const load of [tfjsContenders, onnxruntimeContenders]) {
  const peers = await load();
  if (peers.failure) {
    console.error(`bench: ${peers.failure}; its contenders are left out of this run`);
    peerNotes.push(`- *left out*: ${peers.failure}`);
  } else {
    peerNotes.push(`- ${peers.describe}`);
    for (const c of peers.contenders) CONTENDERS.push({ options: PEER, ...c });
  }
}

if (ONLY_CONTENDERS) {
  const keep = (c) => c.name === NAMES.plain || ONLY_CONTENDERS.some((part) => c.name.includes(part));
  CONTENDERS.splice(0, CONTENDERS.length, ...CONTENDERS.filter(keep));
}
for (const contender of CONTENDERS) {
  contender.skip = await contender.setup?.();
  if (contender.skip) console.error(`bench: ${contender.name}: ${contender.skip}`);
}

const results = [];

/** A contender that throws is reported in its row, not dropped: the table must show it. */
function failed(cell, contender, error) {
  cell.status = 'error';
  cell.note = `error: ${error?.message ?? error}`;
  delete cell.sampleMs;
  console.error(`bench: ${cell.workload} ${cell.op} ${contender.name}: ${cell.note}`);
}

for (const workload of WORKLOADS.filter((w) => !ONLY_WORKLOADS || ONLY_WORKLOADS.includes(w.name))) {
  const started = performance.now();
  const w = { ...workload, ...makeInputs(workload) };
  const base = { workload: w.name, label: workloadLabel(w), elements: w.logits.length };
  // The truth: the float64 reference's loss and its float64 gradient (no gradOut, so not rounded to float32).
  const truth = w.kind === 'binary'
    ? reference.binaryCrossEntropyWithGrad(w.logits, w.targets, { from: 'logits' })
    : reference.crossEntropyWithGrad(w.logits, w.labels, { classes: w.classes });
  const grad = new Float32Array(w.logits.length);
  for (const op of ['loss', 'grad']) {
    const timed = [];
    for (const contender of CONTENDERS) {
      const forKind = contender[w.kind];
      // A variant defined for one kind only has no row in the other's workloads.
      if (forKind === undefined && !contender.skip) continue;
      const cell = { ...base, op, contender: contender.labels?.[w.kind] ?? contender.name };
      results.push(cell);
      const fn = typeof forKind === 'string' ? forKind : forKind?.[op];
      if (contender.skip || typeof fn !== 'function') {
        cell.status = 'not run';
        cell.note = contender.skip ?? fn ?? `n/a: no ${w.kind} ${op} function`;
        continue;
      }
      const call = () => fn(w, grad);
      try {
        // A checked call before timing; also the warm-up. NaN-filling grad catches a gradient never written.
        grad.fill(NaN);
        const loss = await call();
        contender.after?.(w, grad);
        cell.lossRelErr = Math.abs(loss - truth.loss) / Math.abs(truth.loss);
        cell.gradMaxAbsErr = op === 'grad' ? maxAbsDiff(grad, truth.grad) : undefined;
        cell.sampleMs = [];
        timed.push({ cell, contender, call });
      } catch (error) {
        failed(cell, contender, error);
      }
    }
    // The rounds: every contender that passed its check, in turn, ROUNDS times.
    for (let round = 0; round < ROUNDS; round++) {
      for (const { cell, contender, call } of timed) {
        if (cell.status === 'error') continue;
        try {
          const name = `${w.name} ${op} ${contender.name} round ${round + 1}`;
          const options = roundOptions(contender.options);
          cell.sampleMs.push(...(contender.async ? await measureAsync(name, call, options) : measure(name, call, options)));
          cell.status = 'ok';
        } catch (error) {
          failed(cell, contender, error);
        }
      }
    }
  }
  for (const buffers of [w.resident, w.relaxedResident, w.poolResident]) {
    buffers?.logits.free();
    buffers?.targets?.free();
    buffers?.grad.free();
  }
  console.error(`bench: ${base.label} done in ${((performance.now() - started) / 1e3).toFixed(1)} s`);
}
for (const contender of CONTENDERS) await contender.teardown?.();
if (Number.isNaN(sink)) console.error('bench: a timed call returned NaN');
const runSeconds = (performance.now() - runStarted) / 1e3;
const loadAtEnd = os.loadavg()[0];

const machine = machineInfo(REPO);
const tables = [
  '## Targets of issue #4',
  '',
  machineSpeed(results),
  '',
  targetsTable(results, initTimes, NAMES),
  '',
  '## Start-up: `init()` in a fresh process',
  '',
  initTable(initTimes),
  '',
  '## (a) Mean loss',
  '',
  resultsTable(results, 'loss', NAMES.plain),
  '',
  '## (b) Mean loss + gradient w.r.t. the logits',
  '',
  resultsTable(results, 'grad', NAMES.plain),
].join('\n');

const settings = (o) => `minSamples ${o.minSamples}, maxTime ${o.maxTime} s`;
const softmaxWorkloads = WORKLOADS.filter((w) => w.kind === 'softmax');
const header = `# xentropy benchmark results

Generated by \`${OUT === null ? 'npm run bench' : `node bench/run.js --out=${OUT[0]}`}\` (bench/run.js) on ${machine.date}; re-run to refresh, do not edit by hand.

- CPU: ${machine.cpu}, ${machine.cores} logical cores; ${machine.memory} RAM; ${machine.os}; 1-min load average ${loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at the end (the bench itself keeps one core busy)
- Node ${machine.node} (V8 ${machine.v8}), where a plain \`init()\` (no Node flags) loads the ${initTimes.build} build; xentropy working tree at commit ${machine.commit} (uncommitted changes included), dist/ and dist/xentropy.wasm as built
- This run took ${(runSeconds / 60).toFixed(1)} minutes.${process.env.BENCH_NOTE ? `\n- Note from whoever ran it (BENCH_NOTE): ${process.env.BENCH_NOTE}` : ''}
- Peers (from bench/node_modules, \`${INSTALL_HINT}\`):
${peerNotes.join('\n')}

**Inputs.** Float32 logits ~ N(0, ${LOGIT_STD}²) by Box-Muller from a seeded mulberry32 PRNG (seeds
${WORKLOADS.map((w) => `${w.name} = ${w.seed}`).join(', ')}), so every run sees the same numbers.
Softmax cross-entropy: ${softmaxWorkloads.map((w) => `${w.name} N = ${w.rows}, C = ${w.classes}`).join('; ')}, with
uniform int32 class indices; options \`{ classes }\` only (mean over rows, no weights, no smoothing).
Binary cross-entropy with logits: W4, n = ${WORKLOADS.find((w) => w.kind === 'binary').rows} logits with float32 targets
0 or 1 (probability ½ each); mean over all elements.

**What each cell times** (contenders run in the same process on the same arrays, interleaved: each
workload and operation is timed in ${ROUNDS} rounds, each round giving every contender in turn
1/${ROUNDS} of its time budget, so a slow phase of a shared machine slows all of them alike;
every call starts from the arrays a user holds and ends with the loss as a JS number and, in (b), the
gradient as float32 in a buffer the caller allocated before timing):
- *${NAMES.resident}*: \`xe.crossEntropy\` / \`crossEntropyWithGrad\` (W4: \`binaryCrossEntropy\` /
  \`binaryCrossEntropyWithGrad\`, \`from: 'logits'\`) on resident buffers made once per workload
  (\`xe.tensor\` logits, and W4's targets; \`xe.alloc\` gradient): argument checks (W4: the scan of
  the targets) and the copy of the labels are timed, the logits are read and the gradient written in
  place.
- *${NAMES.copying}*: the same functions on plain Float32Arrays: argument checks, the copy of the
  logits into wasm memory, window by window (whole 256 KiB blocks, at least 1 MiB), and of the
  gradient out into the caller's array.
- *${NAMES.pool}*: the worker pool of issue #4 (\`createPool({ threads: ${POOL_THREADS} })\`), rows split across
  workers over one shared memory, on the pool's resident buffers (\`pool.tensor\` / \`pool.alloc\`) as
  *${NAMES.resident}*; each call awaits the pool's promise.
- *${NAMES.plain}* (bench/plain.js): a hand-written loop over the Float32Array with float64 (JS number)
  accumulators. Softmax: two passes per row (max, then sum of exp; loss = lse − z_y), in (b) also
  writing (softmax − onehot) / N. W4: the stable softplus form max(x, 0) − x·t + log1p(exp(−|x|)), in
  (b) also (σ(x) − t) / n.
- *${NAMES.reference}*: the package's \`reference\` export (float64 arithmetic, argument checks).
- *${NAMES.tfjs[0]}*: \`tf.tensor2d(logits)\` (a copy into the backend's wasm heap),
  \`tf.oneHot(tf.tensor1d(labels), C)\` (an N×C float32 one-hot, as the API requires),
  \`tf.losses.softmaxCrossEntropy\` (mean over rows) and \`dataSync()\` of the scalar, all inside
  \`tf.tidy\`; (b) is \`tf.valueAndGrad\` of that loss w.r.t. the logits tensor, the gradient read back with
  \`dataSync()\` into the caller's array. On W4 the row is *tfjs-wasm sigmoidCrossEntropy*:
  \`tf.losses.sigmoidCrossEntropy(tensor1d(targets), tensor1d(logits))\`, (b) through \`tf.valueAndGrad\` likewise.
- *${NAMES.tfjs[1]}*: \`tf.tensor2d(logits)\`, flat indices r·C + y built in JS, then
  −mean(gather(reshape(logSoftmax(z), [N·C]), indices)). Flat indices because \`tf.gather(…, axis 1,
  batchDims 1)\` on tfjs-backend-wasm 4.22 returned wrong values at 3×4 and a memory access out of
  bounds at 4096×1000 (the cpu backend gives the right values). (b) is not applicable: gather's
  gradient needs the UnsortedSegmentSum kernel, which tfjs-backend-wasm does not register (the call
  throws), and \`gatherND\` has no gradient.
- *${NAMES.ort}*: \`session.run\` of a model built by bench/onnx-model.js (session created once,
  untimed): LogSoftmax(axis 1) → GatherElements(int32 labels as [N, 1], axis 1) → ReduceMean → Neg;
  W4: Softplus(x) − Mul(x, t) → ReduceMean. The inputs are wrapped with \`new ort.Tensor\` (no copy);
  \`run\` copies them into ORT's wasm heap, which is timed. ONNX Runtime computes no gradients: (b) is
  not applicable.

Both peers run on one thread (tfjs: \`WASM_HAS_MULTITHREAD_SUPPORT\` false, the SIMD build;
onnxruntime-web: \`ort.env.wasm.numThreads = 1\`), like xentropy's own calls.

**Columns.** Times come from benchmark.js (${settings(FAST)} for xentropy; ${settings(PLAIN_OPTIONS)}
for the plain loop; ${settings(PEER)} for the peers; ${settings(SLOW)} for the reference; in all, over the
${ROUNDS} rounds, whose samples are pooled). Promise-returning calls
(onnxruntime-web, the pool) are timed as deferred benchmarks. A sample is the mean time per call over a
batch of back-to-back calls lasting at least 50 ms (a single call for slow cells); *median* and
*min–max* are over samples. *G elem/s* = elements (N·C, or n) / median time. *Speed-up vs plain* = the
plain loop's median / the contender's median, same workload and operation. *loss rel. err* =
|loss − loss₆₄| / |loss₆₄| and *grad max abs err* = max |grad − grad₆₄| (gradient entries are at most
1/N, or 1/n for W4, in size), where loss₆₄ and grad₆₄ come from the reference without gradOut, i.e.
unrounded float64. The plain loop's arithmetic is float64 too (JS numbers), so its loss error is
~0; its gradient error, like the reference's own in (b), is mostly the final rounding to float32.
The peers compute and reduce in float32: a running float32 sum of n terms can drift by up to about
n·2⁻²⁴ relative, which shows in their W4 loss (n = 4,000,000 terms of the mean).
Start-up is timed in ${INIT_RUNS} fresh \`node\` processes (the module cache hides it in this one).

**Re-running.** \`npm run build\` (the bench refuses to run without dist/ and dist/xentropy.wasm;
rebuild after changing src/ or assembly/, since it measures the built files), then \`npm run bench\`,
which first installs the peers into bench/node_modules when they are missing (\`${INSTALL_HINT}\`;
without them the other contenders still run and the tables say what was left out). It prints the
tables to stdout, progress to stderr, and rewrites this file. Close other CPU-heavy work first: the
timings are wall-clock and single-threaded. \`BENCH_NOTE="…" npm run bench\` adds a line to the
header (e.g. that the machine was shared).
`;

if (PARTIAL) {
  console.error(`bench: partial run (--quick, --workloads or --only); ${fileURLToPath(RESULTS)} left unchanged`);
} else {
  mkdirSync(new URL('.', RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${header}\n${tables}\n`);
}
console.log(tables);
console.error(`bench: ${PARTIAL ? 'finished' : `wrote ${fileURLToPath(RESULTS)}`} in ${runSeconds.toFixed(0)} s`);
// A pool's workers or a peer's handles must not keep the process alive once the results are out.
process.exit(0);
