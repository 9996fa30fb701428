// Every public operation on one shape, through the API: G elements/s with resident and with plain
// (copied) arguments, and each result's error against the float64 reference. Where bench/run.js
// measures the issue's four workloads against the peers, this shows what the other options cost:
// focal terms, label smoothing, probabilities as input, the divergences, binary cross-entropy.
//
//   node bench/ops.js                                  the working tree (npm run build first)
//   node bench/ops.js --against=/tmp/old               A/B: also an older build, interleaved
//   node bench/ops.js --out=bench/results/OPS.md       writes the table, machine and date there
//
// --against names a package directory holding dist/ (a clone of another commit after `npm ci`); its
// column and the ratio new / old are added, each round timing both in turn, reversed every other
// round. --build=simd|relaxed-simd|scalar (default: what init() picks), --ops=name,… for a subset,
// --rounds=N (default 9). About 1 minute, 2 with --against. The shape is N = 512 rows of C = 4096
// classes (2,097,152 elements, 8 MiB of float32), logits ~ N(0, 3²), labels uniform; binary
// cross-entropy takes the same 2,097,152 elements with 0/1 targets.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { mulberry32 } from './data.js';
import { machineInfo, median } from './report.js';

const REPO = new URL('../', import.meta.url);

/** The value of a `--name=value` flag, or undefined. */
const flag = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const KNOWN = ['against', 'build', 'ops', 'rounds', 'out'];
for (const arg of process.argv.slice(2)) {
  if (!KNOWN.some((k) => arg.startsWith(`--${k}=`))) {
    console.error(`bench/ops: unknown argument ${JSON.stringify(arg)}; expected ${KNOWN.map((k) => `--${k}=…`).join(', ')}`);
    process.exit(2);
  }
}
const ROUNDS = Number(flag('rounds') ?? 9);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1)) {
  console.error(`bench/ops: --rounds must be a positive integer, got ${flag('rounds')}`);
  process.exit(2);
}
const AGAINST = flag('against');
const OUT = flag('out');
if (OUT !== undefined && !OUT.endsWith('.md')) {
  console.error(`bench/ops: --out takes a file name ending in .md, got ${JSON.stringify(OUT)}`);
  process.exit(2);
}

const N = 512, C = 4096, n = N * C;

const dirs = [REPO.href, ...(AGAINST ? [pathToFileURL(path.resolve(AGAINST) + '/').href] : [])];
const mods = await Promise.all(dirs.map((d) => import(new URL('dist/index.js', d).href)));
const { reference } = mods[0];
const build = flag('build');
const xes = await Promise.all(mods.map((m) => m.init(build ? { build } : {})));

// Inputs: logits, the probabilities and log-probabilities they give, labels, soft targets, bits.
const rand = mulberry32(4242);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const z = Float32Array.from({ length: n }, () => 3 * gauss());
const z2 = Float32Array.from({ length: n }, () => 3 * gauss());
const p = xes[0].softmax(z, C), q = xes[0].softmax(z2, C), logP = xes[0].logSoftmax(z, C);
// A distribution close to p, as a student's beside its teacher's: softmax(z + 0.05 noise).
const qNear = xes[0].softmax(z.map((v) => v + 0.05 * gauss()), C);
const y = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
const bits = Float32Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));

/**
 * [name, what it computes, the call (xe, args, gradOut) returning a loss, a loss array or { loss }].
 * args holds z, z2, p, q, qNear, logP and bits, resident or plain.
 */
const OPS = [
  ['ce', 'crossEntropy, labels', (xe, a) => xe.crossEntropy(a.z, y, { classes: C })],
  ['ceGrad', 'crossEntropyWithGrad, labels', (xe, a, g) => xe.crossEntropyWithGrad(a.z, y, { classes: C, gradOut: g })],
  ['ceSmooth', 'crossEntropy, labels, labelSmoothing 0.1', (xe, a) => xe.crossEntropy(a.z, y, { classes: C, labelSmoothing: 0.1 })],
  ['ceSoft', 'crossEntropy, soft targets', (xe, a) => xe.crossEntropy(a.z, q, { classes: C })],
  ['ceSoftGrad', 'crossEntropyWithGrad, soft targets', (xe, a, g) => xe.crossEntropyWithGrad(a.z, q, { classes: C, gradOut: g })],
  ['ceProbs', "crossEntropy from 'probs'", (xe, a) => xe.crossEntropy(a.p, y, { classes: C, from: 'probs' })],
  ['ceProbsGrad', "crossEntropyWithGrad from 'probs'", (xe, a, g) => xe.crossEntropyWithGrad(a.p, y, { classes: C, from: 'probs', gradOut: g })],
  ['ceProbsSmooth', "crossEntropy from 'probs', labelSmoothing 0.1", (xe, a) => xe.crossEntropy(a.p, y, { classes: C, from: 'probs', labelSmoothing: 0.1 })],
  ['ceLogProbs', "crossEntropy from 'logProbs'", (xe, a) => xe.crossEntropy(a.logP, y, { classes: C, from: 'logProbs' })],
  ['focal', 'crossEntropy, focal { gamma: 2 }', (xe, a) => xe.crossEntropy(a.z, y, { classes: C, focal: { gamma: 2 } })],
  ['focalGrad', 'crossEntropyWithGrad, focal', (xe, a, g) => xe.crossEntropyWithGrad(a.z, y, { classes: C, focal: { gamma: 2 }, gradOut: g })],
  ['focalSmooth', 'crossEntropy, focal, labelSmoothing 0.1', (xe, a) => xe.crossEntropy(a.z, y, { classes: C, focal: { gamma: 2 }, labelSmoothing: 0.1 })],
  ['softcap', 'crossEntropy, softcap 30', (xe, a) => xe.crossEntropy(a.z, y, { classes: C, softcap: 30 })],
  ['softmax', 'softmax', (xe, a, g) => xe.softmax(a.z, C, g)],
  ['logSoftmax', 'logSoftmax', (xe, a, g) => xe.logSoftmax(a.z, C, g)],
  ['logSumExp', 'logSumExp', (xe, a) => xe.logSumExp(a.z, C)],
  ['entropy', 'entropy of probabilities', (xe, a) => xe.entropy(a.p, C)],
  ['entropyLogits', 'entropy from logits', (xe, a) => xe.entropy(a.z, C, { from: 'logits' })],
  ['kl', 'klDivergence of probabilities', (xe, a) => xe.klDivergence(a.p, a.q, C)],
  ['klGrad', 'klDivergenceWithGrad of probabilities', (xe, a, g) => xe.klDivergenceWithGrad(a.p, a.q, C, { gradOut: g })],
  ['klClose', 'klDivergence of close probabilities (q = softmax(z + 0.05 noise))', (xe, a) => xe.klDivergence(a.p, a.qNear, C)],
  ['klLogits', 'klDivergence, q from logits', (xe, a) => xe.klDivergence(a.p, a.z2, C, { from: 'logits' })],
  ['js', 'jsDivergence of probabilities', (xe, a) => xe.jsDivergence(a.p, a.q, C)],
  ['bce', 'binaryCrossEntropy, logits', (xe, a) => xe.binaryCrossEntropy(a.z, a.bits)],
  ['bceGrad', 'binaryCrossEntropyWithGrad, logits', (xe, a, g) => xe.binaryCrossEntropyWithGrad(a.z, a.bits, { gradOut: g })],
  ['bceProbs', "binaryCrossEntropy from 'probs'", (xe, a) => xe.binaryCrossEntropy(a.p, a.bits, { from: 'probs' })],
  ['bceFocal', 'binaryCrossEntropy, focal', (xe, a) => xe.binaryCrossEntropy(a.z, a.bits, { focal: {} })],
];
const only = flag('ops')?.split(',');
if (only) {
  const unknown = only.filter((o) => !OPS.some(([name]) => name === o));
  if (unknown.length) {
    console.error(`bench/ops: --ops: unknown ${unknown.join(', ')}; known: ${OPS.map(([name]) => name).join(', ')}`);
    process.exit(2);
  }
}
const ops = only ? OPS.filter(([name]) => only.includes(name)) : OPS;

/** A number or the sum of an array of losses, for the error column. */
const lossOf = (r) => {
  const v = r && typeof r === 'object' && 'loss' in r ? r.loss : r;
  return typeof v === 'number' ? v : v.reduce((s, x) => s + x, 0);
};

const plainArgs = { z, z2, p, q, qNear, logP, bits };
const rows = [];
for (const resident of [true, false]) {
  // Each build's own resident copies and gradient buffer (freed at the end of the mode).
  const args = xes.map((xe) => (resident
    ? { ...Object.fromEntries(Object.entries(plainArgs).map(([k, v]) => [k, xe.tensor(v)])), g: xe.alloc(n) }
    : { ...plainArgs, g: new Float32Array(n) }));
  for (const [name, what, call] of ops) {
    const runs = xes.map((xe, i) => () => call(xe, args[i], args[i].g));
    const want = lossOf(call(reference, plainArgs, new Float32Array(n)));
    const got = lossOf(runs[0]());
    const relErr = Math.abs(got - want) / Math.abs(want);
    // Warm-up: V8 compiles the kernels' optimised code in the background after the first calls.
    for (let k = 0; k < 3; k++) for (const run of runs) run();
    const ms = xes.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      const order = xes.map((_, i) => i);
      if (r % 2) order.reverse();
      for (const i of order) {
        const t = performance.now();
        runs[i]();
        runs[i]();
        ms[i].push((performance.now() - t) / 2);
      }
    }
    const med = ms.map(median);
    rows.push({ name, what, resident, gel: med.map((m) => n / m / 1e6), ratio: med.length > 1 ? med[1] / med[0] : undefined, relErr });
    console.log(`${resident ? 'resident' : 'plain   '} ${name.padEnd(14)} ${med.map((m) => `${(n / m / 1e6).toFixed(3)} G el/s`).join('  ')}`
      + `${med.length > 1 ? `  new/old ${(med[1] / med[0]).toFixed(2)}×` : ''}  rel. err ${relErr.toExponential(1)}`);
  }
  if (resident) for (const a of args) for (const v of Object.values(a)) v.free();
}

if (OUT !== undefined) {
  const m = machineInfo(REPO);
  const features = xes[0].features;
  const head = ['operation', 'resident', 'plain', ...(AGAINST ? ['resident, --against', 'plain, --against', 'new / old (resident, plain)'] : []), 'loss rel. error'];
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const byName = (name, resident) => rows.find((r) => r.name === name && r.resident === resident);
  const body = ops.map(([name, what]) => {
    const a = byName(name, true), b = byName(name, false);
    return line([
      `\`${name}\`: ${what}`, a.gel[0].toFixed(3), b.gel[0].toFixed(3),
      ...(AGAINST ? [a.gel[1].toFixed(3), b.gel[1].toFixed(3), `${a.ratio.toFixed(2)}×, ${b.ratio.toFixed(2)}×`] : []),
      Math.max(a.relErr, b.relErr).toExponential(1),
    ]);
  });
  const text = [
    '# Every operation, N = 512, C = 4096',
    '',
    `Written by \`${['node bench/ops.js', ...process.argv.slice(2)].join(' ')}\`.`,
    `${m.date}, commit ${m.commit}, ${m.cpu} (${m.cores} cores, ${m.memory}), ${m.os}, Node ${m.node} (V8 ${m.v8}),`
      + ` build ${features.build}. Median G elements/s of ${ROUNDS} rounds of two calls (2,097,152 elements a call);`
      + ' resident: arguments in wasm memory (`xe.tensor`), plain: Float32Arrays copied in windows. The error is the'
      + ' loss\'s relative error against the float64 reference (plain arguments).',
    '',
    line(head),
    line(head.map(() => '---')),
    ...body,
    '',
  ].join('\n');
  mkdirSync(path.dirname(path.resolve(OUT)), { recursive: true });
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT}`);
}
