// Writes the bundled sample scored by `xentropy score`: data/sample-logits.npy (float32 [2000, 10]) and
// data/sample-labels.npy (int32 [2000]), the logits of a plausible but imperfect 10-class classifier;
// and data/sample-binary-logits.npy (float32 [1000]) with data/sample-binary-labels.npy (uint8 [1000]),
// a binary classifier's logits (docs/evaluation.md scores both).
//
// Deterministic: a seeded PRNG, so re-running reproduces the committed files byte for byte.
// Uses the package's own writer, so run `npm run build` first (dist/ is not committed).
//
//   node scripts/make-sample.mjs      (or: npm run sample)

import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from './mulberry32.mjs';

const ROWS = 2000;
const CLASSES = 10;
const SEED = 0x5eed2024;

let writeNpy;
try {
  ({ writeNpy } = await import('../dist/cli/npy.js'));
} catch (e) {
  console.error(`make-sample: cannot load dist/cli/npy.js (${e.message}); run 'npm run build' first`);
  process.exit(1);
}


const random = mulberry32(SEED);

/** Standard normal by Box-Muller (1 - u keeps the log argument in (0, 1]). */
function gaussian() {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

// Each class has a "confusable" neighbour (c + 1 mod C) that shares some of its evidence, as similar
// classes do in real classifiers; examples vary in difficulty through a random margin.
const logits = new Float32Array(ROWS * CLASSES);
const labels = new Int32Array(ROWS);
for (let r = 0; r < ROWS; r++) {
  const y = Math.floor(random() * CLASSES);
  labels[r] = y;
  const margin = 3.0 + 1.2 * gaussian();
  const row = r * CLASSES;
  for (let c = 0; c < CLASSES; c++) logits[row + c] = 0.9 * gaussian();
  logits[row + y] += margin;
  logits[row + ((y + 1) % CLASSES)] += 0.35 * margin + 0.5 * gaussian();
  // A shared offset per row: cross-entropy ignores it, but real logits are not centred.
  const shift = 0.5 * gaussian();
  for (let c = 0; c < CLASSES; c++) logits[row + c] += shift;
}

// The folder to write into: data/ of the repository, or the first argument (the tests write elsewhere).
const dataDir = process.argv[2] ? `${process.argv[2].replace(/\/$/, '')}/` : fileURLToPath(new URL('../data/', import.meta.url));
mkdirSync(dataDir, { recursive: true });
writeNpy(`${dataDir}sample-logits.npy`, '<f4', [ROWS, CLASSES], logits);
writeNpy(`${dataDir}sample-labels.npy`, '<i4', [ROWS], labels);
console.log(`wrote ${dataDir}sample-logits.npy (float32 [${ROWS}, ${CLASSES}]) and sample-labels.npy (int32 [${ROWS}])`);

// The binary sample, from its own seed (the multiclass files stay as they were): about 30% positives,
// a logit that separates them imperfectly and is somewhat overconfident.
const BINARY_ROWS = 1000;
const binaryRandom = mulberry32(SEED + 1);
const binaryGaussian = () => Math.sqrt(-2 * Math.log(1 - binaryRandom())) * Math.cos(2 * Math.PI * binaryRandom());
const binaryLabels = new Uint8Array(BINARY_ROWS);
const binaryLogits = new Float32Array(BINARY_ROWS);
for (let r = 0; r < BINARY_ROWS; r++) {
  binaryLabels[r] = binaryRandom() < 0.3 ? 1 : 0;
  binaryLogits[r] = 1.8 * ((binaryLabels[r] ? 1.1 : -1.1) + 1.2 * binaryGaussian()) - 0.6;
}
writeNpy(`${dataDir}sample-binary-logits.npy`, '<f4', [BINARY_ROWS], binaryLogits);
writeNpy(`${dataDir}sample-binary-labels.npy`, '|u1', [BINARY_ROWS], binaryLabels);
console.log(`wrote ${dataDir}sample-binary-logits.npy (float32 [${BINARY_ROWS}]) and sample-binary-labels.npy (uint8 [${BINARY_ROWS}])`);
