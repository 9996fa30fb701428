// `npm run bench`: times xentropy (WebAssembly), the float64 reference and a plain JavaScript loop on
// the same inputs in one process, checks every result against the float64 reference, then prints the
// tables and writes bench/RESULTS.md. It measures the working tree's build: dist/ and build/xentropy.wasm.

import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import Benchmark from 'benchmark';
import { WORKLOADS, LOGIT_STD, makeInputs } from './data.js';
import { plainCrossEntropy, plainCrossEntropyWithGrad } from './plain.js';
import { timeInit } from './init-time.js';
import { resultsTable, initTable, machineInfo } from './report.js';

const REPO = new URL('../', import.meta.url);
const INDEX = new URL('dist/index.js', REPO);
const WASM = new URL('build/xentropy.wasm', REPO);
const RESULTS = new URL('bench/RESULTS.md', REPO);

/** Fresh processes spawned to time init(). */
const INIT_RUNS = 5;
/** benchmark.js options for the fast contenders: enough samples for a stable median. */
const FAST = { minSamples: 20, maxTime: 4 };
/** The float64 reference takes up to ~0.5 s a call on W2; a few samples keep the run short. */
const SLOW = { minSamples: 5, maxTime: 2 };
const PLAIN = 'plain JS loop';

for (const [url, what] of [[INDEX, 'dist/index.js'], [WASM, 'build/xentropy.wasm']]) {
  if (!existsSync(url)) {
    console.error(`bench: ${what} is missing. Run \`npm run build\` first, then \`npm run bench\`.`);
    process.exit(1);
  }
}
// Imported only after the check, so a missing build gets the message above rather than a stack trace.
const { init, reference } = await import(INDEX.href);

/**
 * The contenders, each with a loss function and a loss-plus-gradient function of one workload's
 * inputs. The gradient variants write into the preallocated `grad`, so no call allocates it.
 */
const CONTENDERS = [
  {
    // Logits and gradient already in wasm memory (xe.tensor / xe.alloc): nothing is copied.
    name: 'xentropy resident',
    options: FAST,
    loss: (xe, w) => xe.crossEntropy(resident(xe, w).logits, w.labels, { classes: w.classes }),
    grad: (xe, w) => {
      const r = resident(xe, w);
      return xe.crossEntropyWithGrad(r.logits, w.labels, { classes: w.classes, gradOut: r.grad }).loss;
    },
    // For the checked call: the gradient to compare is the resident one.
    after: (xe, w, grad) => grad.set(resident(xe, w).grad.array),
  },
  {
    name: 'xentropy copying',
    options: FAST,
    loss: (xe, w) => xe.crossEntropy(w.logits, w.labels, { classes: w.classes }),
    grad: (xe, w, grad) => xe.crossEntropyWithGrad(w.logits, w.labels, { classes: w.classes, gradOut: grad }).loss,
  },
  {
    name: PLAIN,
    options: FAST,
    loss: (_, w) => plainCrossEntropy(w.logits, w.labels, w.rows, w.classes),
    grad: (_, w, grad) => plainCrossEntropyWithGrad(w.logits, w.labels, w.rows, w.classes, grad),
  },
  {
    name: 'reference (float64)',
    options: SLOW,
    loss: (_, w) => reference.crossEntropy(w.logits, w.labels, { classes: w.classes }),
    grad: (_, w, grad) => reference.crossEntropyWithGrad(w.logits, w.labels, { classes: w.classes, gradOut: grad }).loss,
  },
];

/** The workload's logits and a gradient buffer as resident buffers, made once per workload. */
function resident(xe, w) {
  w.resident ??= { logits: xe.tensor(w.logits), grad: xe.alloc(w.logits.length) };
  return w.resident;
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

/** Runs fn under benchmark.js and returns the per-sample mean times in milliseconds. */
function measure(name, fn, options) {
  const bench = new Benchmark(name, fn, options);
  bench.run();
  if (bench.error) throw bench.error;
  return bench.stats.sample.map((seconds) => seconds * 1e3);
}

// Keeps results observable so no engine could drop a call as dead code.
let sink = 0;

// Recorded so a reader can tell whether other work was competing for the CPU when the run began.
const loadAtStart = os.loadavg()[0];
console.error(`bench: timing init() in ${INIT_RUNS} fresh processes…`);
const initTimes = timeInit(INDEX, INIT_RUNS);
const xe = await init();

const results = [];
for (const workload of WORKLOADS) {
  const started = performance.now();
  const w = { ...workload, ...makeInputs(workload) };
  // The truth: the float64 reference's loss and its float64 gradient (no gradOut, so not rounded to float32).
  const truth = reference.crossEntropyWithGrad(w.logits, w.labels, { classes: w.classes });
  const grad = new Float32Array(w.logits.length);
  for (const op of ['loss', 'grad']) {
    for (const contender of CONTENDERS) {
      const fn = contender[op];
      // A checked call before timing; also the warm-up. NaN-filling grad catches a gradient never written.
      grad.fill(NaN);
      const loss = fn(xe, w, grad);
      contender.after?.(xe, w, grad);
      const cell = {
        workload: w.name, rows: w.rows, classes: w.classes, op, contender: contender.name,
        lossRelErr: Math.abs(loss - truth.loss) / Math.abs(truth.loss),
        gradMaxAbsErr: op === 'grad' ? maxAbsDiff(grad, truth.grad) : undefined,
      };
      cell.sampleMs = measure(`${w.name} ${op} ${contender.name}`, () => { sink += fn(xe, w, grad); }, contender.options);
      results.push(cell);
    }
  }
  if (w.resident) {
    w.resident.logits.free();
    w.resident.grad.free();
  }
  console.error(`bench: ${w.name} ${w.rows}×${w.classes} done in ${((performance.now() - started) / 1e3).toFixed(1)} s`);
}
if (Number.isNaN(sink)) console.error('bench: a timed call returned NaN');

const machine = machineInfo(REPO);
const tables = [
  '## Start-up: `init()` in a fresh process',
  '',
  initTable(initTimes),
  '',
  '## (a) Mean cross-entropy loss',
  '',
  resultsTable(results, 'loss', PLAIN),
  '',
  '## (b) Mean cross-entropy loss + gradient (preallocated gradOut)',
  '',
  resultsTable(results, 'grad', PLAIN),
].join('\n');

const settings = (o) => `minSamples ${o.minSamples}, maxTime ${o.maxTime} s`;
const header = `# xentropy benchmark results

Generated by \`npm run bench\` (bench/run.js) on ${machine.date}; re-run to refresh, do not edit by hand.

- CPU: ${machine.cpu}, ${machine.cores} logical cores; ${machine.memory} RAM; ${machine.os}; 1-min load average ${loadAtStart.toFixed(2)} at start
- Node ${machine.node} (V8 ${machine.v8}); xentropy working tree at commit ${machine.commit} (uncommitted changes included), dist/ and build/xentropy.wasm as built

**Inputs.** Float32 logits ~ N(0, ${LOGIT_STD}²) by Box-Muller and uniform int32 labels, from a seeded
mulberry32 PRNG (seeds ${WORKLOADS.map((w) => `${w.name} = ${w.seed}`).join(', ')}), so every run sees the same numbers:
${WORKLOADS.map((w) => `${w.name} N = ${w.rows}, C = ${w.classes}`).join('; ')}. Options are \`{ classes }\` only:
mean reduction, no weights, no smoothing.

**Contenders**, timed one after another in the same process on the same arrays:
*xentropy copying* is \`Xentropy.crossEntropy\` / \`crossEntropyWithGrad\` from \`init()\` on plain Float32Arrays,
argument checking and copies into WebAssembly memory included; *xentropy resident* is the same on
resident buffers (\`xe.tensor\` logits, \`xe.alloc\` gradient), which the kernels read and write in place; *plain JS loop* (bench/plain.js) is a hand-written two-pass loop
over the Float32Array (max, then sum of exp; loss = lse − z_y), which for (b) also writes
(softmax − onehot) / N into a Float32Array; *reference (float64)* is the package's \`reference\` export.
In (b) every contender writes into the same preallocated Float32Array, so allocation is not timed.

**Columns.** Times come from benchmark.js (${settings(FAST)} for wasm and plain; ${settings(SLOW)} for the
reference). A sample is the mean time per call over a batch of back-to-back calls lasting at least 50 ms
(a single call for slow cells); *median* and *min–max* are over samples. *G elem/s* = N·C / median time.
*Speed-up vs plain* = the plain loop's median / the contender's median, same workload and operation.
*loss rel. err* = |loss − loss₆₄| / |loss₆₄| and *grad max abs err* = max |grad − grad₆₄| (gradient entries
are at most 1/N in size), where loss₆₄ and grad₆₄ come from \`reference.crossEntropyWithGrad\` without
gradOut, i.e. unrounded float64. The plain loop's loss arithmetic is float64 too (JS numbers) and
follows the reference's order, so its loss error is 0; its gradient error, like the reference's own in
(b), is only the final rounding to float32.
Start-up is timed in ${INIT_RUNS} fresh \`node\` processes (the module cache hides it in this one).

**Re-running.** \`npm run build\` (the bench refuses to run without dist/ and build/xentropy.wasm; rebuild
after changing src/ or assembly/, since it measures the built files), then \`npm run bench\`. A full run
takes about two minutes on a 2-core machine; it prints the tables to stdout, progress to stderr,
and rewrites this file. Close other CPU-heavy work first: the timings are wall-clock and single-threaded.
`;

writeFileSync(RESULTS, `${header}\n${tables}\n`);
console.log(tables);
console.error(`bench: wrote ${fileURLToPath(RESULTS)}`);
