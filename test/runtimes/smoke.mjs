// The runtime smoke suite (docs/runtimes.md, "The runtime matrix"): one fixed set of inputs through every public function,
// hashed (SHA-256 of the exact result bytes) so that every runtime can be compared with one line.
//
// It runs unchanged in Node, Deno, Bun, workerd, the Vercel Edge VM and a browser page: plain ESM, no
// node: imports, nothing but the package namespace passed in and Web APIs (crypto.subtle, TextEncoder).
//
// Determinism: the inputs come from integer arithmetic (mulberry32) and exact float32 values (24-bit
// fractions scaled by powers of two), probabilities from IEEE divisions; nothing on the input side uses
// Math.exp/log, whose last bit ECMAScript leaves to each engine. The hashed results are computed on
// the plain SIMD build (`init({ build: 'simd' })`), which is deterministic: every engine must give the
// same bytes. The one engine-approximated output, the scorer's perplexity (Math.exp of the mean loss),
// is checked against exp(lossNats) instead of hashed. NaN payloads are canonicalised before hashing
// (engines may rewrite them; a NaN is a NaN), while -0 and +0 stay apart.
//
// The build `init()` picks ('auto') runs the same suite; its results must match the SIMD ones within
// AUTO_TOLERANCE (relaxed SIMD fuses multiply-adds, which changes last bits), and exactly when auto
// picks 'simd' itself.

/**
 * The lines a runner prints on stdout (test/runtimes/run.mjs reads them): exactly one
 * `HASH <runtime> <version> <hex>`, then `AUTO <runtime> <build>` (the build `init()` picks there).
 * Neither runtime nor version may contain spaces.
 */
export function reportLines(runtime, version, result) {
  for (const [name, value] of [['runtime', runtime], ['version', version]]) {
    if (!/^\S+$/.test(value)) throw new RangeError(`${name} ${JSON.stringify(value)} must be one word`);
  }
  return [`HASH ${runtime} ${version} ${result.hash}`, `AUTO ${runtime} ${result.autoBuild}`];
}

/** How far the 'auto' build's results may be from the SIMD build's: |a - s| <= absolute + relative·|s|. */
export const AUTO_TOLERANCE = Object.freeze({ relative: 1e-5, absolute: 1e-6 });

/** How far xentropy may be from its float64 reference in the sanity checks (same form). */
export const REFERENCE_TOLERANCE = Object.freeze({ relative: 1e-5, absolute: 2e-6 });

/**
 * Runs the suite.
 * @param xentropy the package namespace (`import * as xentropy from 'xentropy'`)
 * @returns hash: SHA-256 hex of the SIMD build's results; build: the build that produced them ('simd');
 *   autoBuild: what `init()` picks here; parts: a short hash per case (to find which case differs);
 *   autoMaxDiff: the largest |auto - simd| / (absolute + relative·|simd|) seen (≤ 1 passes); values: how
 *   many numbers were hashed
 * @throws Error when a check fails (auto beyond tolerance, a result far from the reference, a wrong build)
 */
export async function smoke(xentropy) {
  const simdXe = await xentropy.init({ build: 'simd' });
  if (simdXe.features.build !== 'simd') {
    throw new Error(`init({ build: 'simd' }) loaded the ${simdXe.features.build} build`);
  }
  const autoXe = await xentropy.init({ build: 'auto' });
  const simd = runCases(simdXe);
  const auto = runCases(autoXe);

  checkReference(xentropy.reference, simd.records);
  const autoMaxDiff = compareRecords(simd.records, auto.records, AUTO_TOLERANCE, 'the auto build');

  const hash = await sha256Hex(concatBytes(simd.records.map((r) => r.bytes)));
  const parts = {};
  for (const r of simd.records) parts[r.name] = (await sha256Hex(r.bytes)).slice(0, 12);
  if (autoXe.features.build === 'simd') {
    const autoHash = await sha256Hex(concatBytes(auto.records.map((r) => r.bytes)));
    if (autoHash !== hash) throw new Error(`'auto' picked the simd build but its results hash to ${autoHash}, not ${hash}`);
  }
  const values = simd.records.reduce((n, r) => n + r.values.length, 0);
  return { hash, build: simdXe.features.build, autoBuild: autoXe.features.build, parts, autoMaxDiff, values };
}

// ---------------------------------------------------------------------------------------------------
// Inputs

/** mulberry32: a 32-bit generator in integer arithmetic only, so every engine yields the same stream. */
function generator(seed) {
  let s = seed >>> 0;
  const u32 = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    /** In [0, 1), a multiple of 2^-24: exact in float32. */
    unit: () => (u32() >>> 8) / 16777216,
    /** An integer in [0, n). */
    int: (n) => u32() % n,
  };
}

/** n logits in (-scale, scale), exact float32 values (scale a power of two). */
function logits(g, n, scale) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (g.unit() * 2 - 1) * scale;
  return a;
}

/** rows × classes probabilities: each row a normalised set of weights, about one in zeroEvery exactly 0. */
function probs(g, rows, classes, zeroEvery = 0) {
  const a = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const w = new Float64Array(classes);
    for (let c = 0; c < classes; c++) {
      w[c] = zeroEvery > 0 && g.int(zeroEvery) === 0 ? 0 : g.unit() + 1 / 64;
      sum += w[c];
    }
    for (let c = 0; c < classes; c++) a[r * classes + c] = w[c] / sum;
  }
  return a;
}

/** rows labels in [0, classes), about one in ignoreEvery replaced by ignoreIndex -100. */
function labels(g, rows, classes, ignoreEvery = 0) {
  const a = new Int32Array(rows);
  for (let r = 0; r < rows; r++) a[r] = ignoreEvery > 0 && g.int(ignoreEvery) === 0 ? -100 : g.int(classes);
  return a;
}

/** n binary targets: soft values in [0, 1] that are exact float32, or 0/1 bytes. */
function binaryTargets(g, n, hard) {
  if (hard) {
    const t = new Uint8Array(n);
    for (let i = 0; i < n; i++) t[i] = g.int(2);
    return t;
  }
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = g.int(4) === 0 ? g.int(2) : g.unit();
  return t;
}

/** n positive weights, multiples of 1/4 in [1/4, 2]. */
function weights(g, n) {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = (1 + g.int(8)) / 4;
  return w;
}

// ---------------------------------------------------------------------------------------------------
// Cases

/** Runs every case on one instance; records each result (and the inputs the reference checks need). */
function runCases(xe) {
  const records = [];
  const record = (name, value, check) => records.push({ name, ...flatten(value), check });
  const g = generator(0x5eed);

  // Softmax family: shapes that find SIMD tail bugs, one larger than the copy window (chunked),
  // an unaligned subarray, masked (-inf) and extreme logits, and in-place output.
  for (const [rows, classes] of [[3, 1], [5, 3], [4, 4], [7, 5], [6, 16], [5, 17], [3, 65], [70, 1000]]) {
    const z = logits(g, rows * classes, 16);
    const tag = `${rows}x${classes}`;
    record(`logSoftmax ${tag}`, xe.logSoftmax(z, classes), { fn: 'logSoftmax', args: [z, classes] });
    record(`softmax ${tag}`, xe.softmax(z, classes), { fn: 'softmax', args: [z, classes] });
    record(`logSumExp ${tag}`, xe.logSumExp(z, classes), { fn: 'logSumExp', args: [z, classes] });
  }
  {
    const z = new Float32Array([0, -Infinity, 3, -Infinity, 80, -80, 79.5, 1e-3, -Infinity, -Infinity, -Infinity, -Infinity]);
    record('logSoftmax special', xe.logSoftmax(z, 4));
    record('softmax special', xe.softmax(z, 4));
    record('logSumExp special', xe.logSumExp(z, 4));
    const base = logits(g, 1 + 9 * 7, 8);
    const unaligned = base.subarray(1);
    record('softmax unaligned', xe.softmax(unaligned, 7), { fn: 'softmax', args: [unaligned, 7] });
    const inPlace = unaligned.slice();
    xe.logSoftmax(inPlace, 7, inPlace);
    record('logSoftmax in place', inPlace);
  }

  // Cross-entropy: every option on one batch of 37 rows × 17 classes with some ignored rows.
  {
    const N = 37, C = 17;
    const z = logits(g, N * C, 8);
    const y = labels(g, N, C, 9);
    const w = weights(g, C);
    const sw = weights(g, N);
    const soft = probs(g, N, C, 5);
    const p = xe.softmax(z, C);
    const lp = xe.logSoftmax(z, C);
    const variants = {
      mean: { classes: C },
      sum: { classes: C, reduction: 'sum' },
      none: { classes: C, reduction: 'none' },
      weighted: { classes: C, weight: w, labelSmoothing: 0.125 },
      sampleWeight: { classes: C, sampleWeight: sw, zLoss: 1e-3 },
      softcap: { classes: C, softcap: 4 },
      focal: { classes: C, focal: { gamma: 2, alpha: 0.25 }, weight: w },
      bits: { classes: C, unit: 'bits', reduction: 'sum' },
    };
    const cases = Object.entries(variants).map(([name, options]) => [name, y, options]);
    cases.push(['ignoreIndex 3', labels(g, N, C), { classes: C, ignoreIndex: 3 }]);
    for (const [name, target, options] of cases) {
      record(`crossEntropy ${name}`, xe.crossEntropy(z, target, options), { fn: 'crossEntropy', args: [z, target, options] });
      record(`crossEntropyWithGrad ${name}`, xe.crossEntropyWithGrad(z, target, options),
        { fn: 'crossEntropyWithGrad', args: [z, target, options] });
    }
    const softOptions = { classes: C, labelSmoothing: 0.0625, weight: w };
    record('crossEntropy soft', xe.crossEntropy(z, soft, softOptions), { fn: 'crossEntropy', args: [z, soft, softOptions] });
    record('crossEntropyWithGrad soft', xe.crossEntropyWithGrad(z, soft, softOptions),
      { fn: 'crossEntropyWithGrad', args: [z, soft, softOptions] });
    const probsOptions = { classes: C, from: 'probs', epsilon: 1e-6 };
    record('crossEntropyWithGrad probs', xe.crossEntropyWithGrad(p, y, probsOptions),
      { fn: 'crossEntropyWithGrad', args: [p, y, probsOptions] });
    const logProbsOptions = { classes: C, from: 'logProbs', reduction: 'none' };
    record('crossEntropyWithGrad logProbs', xe.crossEntropyWithGrad(lp, y, logProbsOptions),
      { fn: 'crossEntropyWithGrad', args: [lp, y, logProbsOptions] });
    const allIgnored = new Int32Array(4).fill(-100);
    record('crossEntropyWithGrad all ignored', xe.crossEntropyWithGrad(z.subarray(0, 4 * C), allIgnored,
      { classes: C, onAllIgnored: 'zero' }));
    // PyTorch's [N, C, d] layout: N = 4, C = 5, spatial d = 3.
    const zs = logits(g, 4 * 5 * 3, 4), ys = labels(g, 12, 5);
    record('crossEntropyWithGrad spatial', xe.crossEntropyWithGrad(zs, ys, { classes: 5, spatial: 3, reduction: 'none' }));
    // Resident buffers: input in wasm memory, gradient written in place over it.
    const resident = xe.tensor(z);
    const loss = xe.crossEntropyWithGrad(resident, y, { classes: C, gradOut: resident }).loss;
    record('crossEntropyWithGrad resident', [loss, resident.array]);
    resident.free();
  }

  // Binary cross-entropy: logits with weight, posWeight and smoothing; probabilities with clipping;
  // focal; 0/1 byte targets; every reduction.
  {
    const N = 29, C = 3;
    const x = logits(g, N * C, 16);
    const t = binaryTargets(g, N * C, false);
    const hard = binaryTargets(g, N * C, true);
    const p = new Float32Array(N * C);
    for (let i = 0; i < p.length; i++) p[i] = g.int(16) === 0 ? g.int(2) : g.unit();
    const variants = [
      ['logits', x, t, { classes: C, weight: weights(g, C), posWeight: weights(g, C), labelSmoothing: 0.125 }],
      ['logits none', x, hard, { classes: C, reduction: 'none' }],
      ['logits focal', x, t, { classes: C, focal: { gamma: 1.5, alpha: 0.75 }, unit: 'bits' }],
      ['probs', p, t, { classes: C, from: 'probs', epsilon: 1e-5, reduction: 'sum' }],
      ['probs focal', p, hard, { classes: C, from: 'probs', focal: {} }],
    ];
    for (const [name, input, target, options] of variants) {
      record(`binaryCrossEntropy ${name}`, xe.binaryCrossEntropy(input, target, options),
        { fn: 'binaryCrossEntropy', args: [input, target, options] });
      record(`binaryCrossEntropyWithGrad ${name}`, xe.binaryCrossEntropyWithGrad(input, target, options),
        { fn: 'binaryCrossEntropyWithGrad', args: [input, target, options] });
    }
  }

  // Entropy and divergences over probabilities (with exact zeros), logits and log-probabilities.
  {
    const N = 23, C = 9;
    const p = probs(g, N, C, 4), q = probs(g, N, C, 6);
    const zp = logits(g, N * C, 8), zq = logits(g, N * C, 8);
    const lp = xe.logSoftmax(zp, C), lq = xe.logSoftmax(zq, C);
    const calls = [
      ['entropy', 'probs', [p, C]],
      ['entropy', 'logits mean', [zp, C, { from: 'logits', reduction: 'mean' }]],
      ['entropy', 'bits sum', [p, C, { reduction: 'sum', unit: 'bits' }]],
      ['klDivergence', 'probs', [p, q, C]],
      ['klDivergence', 'probs epsilon none', [p, q, C, { epsilon: 1e-3, reduction: 'none' }]],
      ['klDivergence', 'logits', [p, zq, C, { from: 'logits', reduction: 'sum' }]],
      ['klDivergence', 'logProbs logTarget', [lp, lq, C, { from: 'logProbs', logTarget: true, reduction: 'mean' }]],
      ['klDivergenceWithGrad', 'probs', [p, q, C, { epsilon: 1e-4 }]],
      ['klDivergenceWithGrad', 'logits none', [p, zq, C, { from: 'logits', reduction: 'none' }]],
      ['klDivergenceWithGrad', 'logProbs bits', [p, lq, C, { from: 'logProbs', unit: 'bits' }]],
      ['jsDivergence', 'probs', [p, q, C]],
      ['jsDivergence', 'logits none', [zp, zq, C, { from: 'logits', reduction: 'none' }]],
    ];
    for (const [fn, name, args] of calls) record(`${fn} ${name}`, xe[fn](...args), { fn, args });
  }

  // Scorer: two updates (one with ignored rows), byte counts, a merge from a JSON state, and one over
  // probabilities.
  {
    const C = 10;
    const z1 = logits(g, 40 * C, 8), y1 = labels(g, 40, C, 7);
    const z2 = logits(g, 25 * C, 4), y2 = labels(g, 25, C);
    const scorer = xe.scorer({ classes: C, topK: [1, 3], bins: 10 });
    scorer.update(z1, y1, 120).update(z2, y2, 75);
    record('scorer', scorerResult(scorer.result()));
    const left = xe.scorer({ classes: C, topK: [1, 3], bins: 10 }).update(z1, y1, 120);
    const right = xe.scorer({ classes: C, topK: [1, 3], bins: 10 }).update(z2, y2, 75);
    const merged = xe.scorerFromState(JSON.parse(JSON.stringify(left.state()))).merge(right.state());
    record('scorer merged', scorerResult(merged.result()));
    const probsScorer = xe.scorer({ classes: C, from: 'probs', unit: 'bits', topK: [2] });
    probsScorer.update(xe.softmax(z1, C), y1);
    record('scorer probs', scorerResult(probsScorer.result()));
  }
  return { records };
}

/** The scorer's result as numbers in a fixed order; perplexity is checked, not hashed (see the top). */
function scorerResult(r) {
  const expected = Math.exp(r.lossNats);
  if (!(Math.abs(r.perplexity - expected) <= 4 * Number.EPSILON * expected) && !(Number.isNaN(expected) && Number.isNaN(r.perplexity))) {
    throw new Error(`scorer perplexity ${r.perplexity} is not exp(lossNats) = ${expected}`);
  }
  const topK = Object.keys(r.topK).sort((a, b) => Number(a) - Number(b)).flatMap((k) => [Number(k), r.topK[k]]);
  const bins = r.bins.flatMap((b) => Object.keys(b).sort().map((k) => b[k]));
  return [r.count, r.loss, r.lossNats, r.lossBits, r.bitsPerToken, r.accuracy, r.brier, r.ece, r.mce,
    r.bitsPerByte ?? -1, r.unit === 'bits' ? 1 : 0, ...topK, ...bins];
}

// ---------------------------------------------------------------------------------------------------
// Results: bytes to hash, float64 values to compare

const CANONICAL_NAN32 = new Uint8Array(new Float32Array([NaN]).buffer);
const CANONICAL_NAN64 = new Uint8Array(new Float64Array([NaN]).buffer);

/**
 * A result as bytes (float32 arrays as float32, numbers as float64, a kind byte before each piece so
 * that a number and a one-element array differ) and as float64 values.
 */
function flatten(value) {
  const pieces = [];
  const values = [];
  const visit = (v) => {
    if (typeof v === 'number') {
      pieces.push(new Uint8Array([1]), float64Bytes(v));
      values.push(v);
    } else if (v instanceof Float32Array) {
      pieces.push(new Uint8Array([2]), float32Bytes(v));
      for (const x of v) values.push(x);
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v && typeof v === 'object' && 'loss' in v && 'grad' in v) {
      visit(v.loss);
      visit(v.grad);
    } else {
      throw new TypeError(`cannot hash a result of type ${Object.prototype.toString.call(v)}`);
    }
  };
  visit(value);
  return { bytes: concatBytes(pieces), values };
}

function float32Bytes(a) {
  const copy = new Float32Array(a);
  const bytes = new Uint8Array(copy.buffer);
  for (let i = 0; i < copy.length; i++) if (Number.isNaN(copy[i])) bytes.set(CANONICAL_NAN32, i * 4);
  return bytes;
}

function float64Bytes(x) {
  return Number.isNaN(x) ? CANONICAL_NAN64.slice() : new Uint8Array(new Float64Array([x]).buffer);
}

/** Little-endian bytes of every piece, concatenated. Typed arrays are little-endian on every target. */
function concatBytes(pieces) {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------------------------------
// Checks

/** |a - b| <= absolute + relative·|b| as a ratio (≤ 1 passes); NaN matches only NaN, infinities only themselves. */
function diffRatio(a, b, tolerance) {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  return Math.abs(a - b) / (tolerance.absolute + tolerance.relative * Math.abs(b));
}

/** The largest diffRatio between two runs; throws naming the first case beyond tolerance. */
function compareRecords(expected, actual, tolerance, what) {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (a.values.length !== e.values.length) {
      throw new Error(`${e.name}: ${a.values.length} values from ${what}, ${e.values.length} expected`);
    }
    for (let j = 0; j < e.values.length; j++) {
      const ratio = diffRatio(a.values[j], e.values[j], tolerance);
      if (ratio > 1) {
        throw new Error(`${e.name}[${j}]: ${what} gives ${a.values[j]}, expected ${e.values[j]}, beyond ` +
          `${tolerance.absolute} absolute + ${tolerance.relative} relative`);
      }
      worst = Math.max(worst, ratio);
    }
  }
  return worst;
}

/**
 * Recomputes the recorded calls with the float64 reference and compares: results must be right, not
 * only equal everywhere. (The reference uses Math.exp/log, so it is compared within tolerance, never hashed.)
 */
function checkReference(reference, records) {
  let checked = 0;
  for (const r of records) {
    if (!r.check) continue;
    const { fn, args } = r.check;
    // The reference takes the same arguments; gradOut and other resident options are not used here.
    const expected = flatten(toFloat32(reference[fn](...args)));
    compareRecords([{ ...r, values: expected.values }], [r], REFERENCE_TOLERANCE, 'the simd build (against the reference)');
    checked++;
  }
  if (checked < 50) throw new Error(`only ${checked} results were checked against the reference`);
}

/** The reference returns Float64Arrays; compare them as the float32 values xentropy returns. */
function toFloat32(v) {
  if (v instanceof Float64Array) return new Float32Array(v);
  if (v && typeof v === 'object' && 'loss' in v) return { loss: toFloat32(v.loss), grad: toFloat32(v.grad) };
  return v;
}
