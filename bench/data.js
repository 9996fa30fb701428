// Deterministic benchmark inputs: the same seed gives the same logits and labels on every machine,
// so timings and errors from different runs describe the same numbers.

/**
 * The benchmark workloads. 'softmax': N rows of C classes with int32 class indices, roughly a
 * classifier, a mid vocabulary and a large vocabulary. 'binary': n independent logits with 0/1
 * targets (binary cross-entropy with logits, e.g. multi-label heads).
 */
export const WORKLOADS = [
  { name: 'W1', kind: 'softmax', rows: 4096, classes: 1000, seed: 1 },
  { name: 'W2', kind: 'softmax', rows: 512, classes: 32000, seed: 2 },
  { name: 'W3', kind: 'softmax', rows: 64, classes: 128256, seed: 3 },
  { name: 'W4', kind: 'binary', rows: 4_000_000, classes: 1, seed: 4 },
];

/** How a workload is named in the tables. */
export function workloadLabel({ name, kind, rows, classes }) {
  return kind === 'binary' ? `${name} BCE n=${rows}` : `${name} ${rows}×${classes}`;
}

/** Standard deviation of the logits: wide enough that softmax is far from uniform. */
export const LOGIT_STD = 3;

/**
 * mulberry32: a small, fast 32-bit PRNG; ample for test data and identical in every JS engine.
 * @param {number} seed any 32-bit integer
 * @returns {() => number} a generator of uniform doubles in the open interval (0, 1)
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    // +0.5 keeps the value off 0, which Box-Muller's log cannot take.
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

/**
 * Builds one workload's inputs: logits ~ N(0, LOGIT_STD^2) by Box-Muller; for 'softmax', labels
 * uniform in [0, C); for 'binary', targets 0 or 1 with probability 1/2 each, as float32 (the form
 * every contender takes).
 * @param {{ kind: 'softmax' | 'binary', rows: number, classes: number, seed: number }} workload
 * @returns {{ logits: Float32Array, labels?: Int32Array, targets?: Float32Array }} row-major
 *   [rows, classes] logits, and rows labels or rows·classes targets
 */
export function makeInputs({ kind, rows, classes, seed }) {
  const random = mulberry32(seed);
  const logits = new Float32Array(rows * classes);
  for (let i = 0; i < logits.length; i += 2) {
    const radius = LOGIT_STD * Math.sqrt(-2 * Math.log(random()));
    const angle = 2 * Math.PI * random();
    logits[i] = radius * Math.cos(angle);
    // Both Box-Muller outputs are used; the length may be odd, so the second is guarded.
    if (i + 1 < logits.length) logits[i + 1] = radius * Math.sin(angle);
  }
  if (kind === 'binary') {
    const targets = new Float32Array(logits.length);
    for (let i = 0; i < targets.length; i++) targets[i] = random() < 0.5 ? 1 : 0;
    return { logits, targets };
  }
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) labels[r] = Math.floor(random() * classes);
  return { logits, labels };
}
