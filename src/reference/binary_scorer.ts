import {
  quantileEdge, readBinaryOptions, readBinaryUpdate, readMultilabelOptions, labelAverages, type BinaryLabels, type BinaryScoreResult,
  type BinaryScorerConfig, type BinaryScorerOptions, type BinaryCalibrationBin, type MultilabelScoreResult,
  type MultilabelScorerOptions,
} from '../ops/binary_scorer.js';
import type { TensorLike } from '../ops/common.js';

/**
 * Reference evaluation of a binary classifier in float64, all rows at once: what
 * `xe.binaryScorer(options)` reports after `update(scores, labels, { sampleWeight })`. Written from
 * the definitions (docs/evaluation.md) the way scikit-learn computes them: the ROC curve from a
 * stable sort and cumulative sums, its area by the trapezoid rule, AP as sum (R_k - R_{k-1}) P_k.
 */
export function binaryScore(
  scores: Float32Array | TensorLike, labels: BinaryLabels, options?: BinaryScorerOptions & { sampleWeight?: Float32Array },
): BinaryScoreResult {
  const { config, extras } = readBinaryOptions(options, ['sampleWeight']);
  const u = readBinaryUpdate(config, 1, scores, labels, extras.sampleWeight === undefined ? undefined : { sampleWeight: extras.sampleWeight });
  return scoreColumn(config, Array.from(u.scores), Array.from(u.targets), u.weights ? Array.from(u.weights) : u.scores.length === 0 ? [] : Array.from(u.scores, () => 1));
}

/**
 * Reference multilabel evaluation: `binaryScore` of each label's column, their macro and
 * support-weighted means, and (micro) `binaryScore` of every (row, label) pair together.
 */
export function multilabelScore(
  scores: Float32Array | TensorLike, labels: BinaryLabels, options: MultilabelScorerOptions & { sampleWeight?: Float32Array },
): MultilabelScoreResult {
  const { config, labels: L, extras } = readMultilabelOptions(options, ['sampleWeight']);
  const u = readBinaryUpdate(config, L, scores, labels, extras.sampleWeight === undefined ? undefined : { sampleWeight: extras.sampleWeight });
  const weightOf = (r: number): number => (u.weights ? u.weights[r] : 1);
  const perLabel: BinaryScoreResult[] = [];
  for (let l = 0; l < L; l++) {
    const x: number[] = [], t: number[] = [], w: number[] = [];
    for (let r = 0; r < u.rows; r++) {
      x.push(u.scores[r * L + l]);
      t.push(u.targets[r * L + l]);
      w.push(weightOf(r));
    }
    perLabel.push(scoreColumn(config, x, t, w));
  }
  const all = Array.from(u.scores), allT = Array.from(u.targets), allW = all.map((_, i) => weightOf(Math.floor(i / L)));
  return {
    labels: L, count: u.rows, perLabel, macro: labelAverages(perLabel, false), weighted: labelAverages(perLabel, true),
    micro: scoreColumn(config, all, allT, allW),
  };
}

function probability(c: BinaryScorerConfig, x: number): number {
  if (c.from === 'probs') return x;
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Binary cross-entropy in nats: −t log σ(x) − (1 − t) log(1 − σ(x)) = t log(1 + e^−x) + (1 − t) log(1 + e^x)
 * for logits; −t log clip(p) − (1 − t) log clip(1 − p) for probabilities, clip to [ε, 1 − ε].
 */
function loss(c: BinaryScorerConfig, x: number, t: number): number {
  const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
  if (c.from === 'logits') return (t > 0 ? t * softplus(-x) : 0) + (t < 1 ? (1 - t) * softplus(x) : 0);
  const clip = (q: number) => Math.min(Math.max(q, c.epsilon), 1 - c.epsilon);
  return (t > 0 ? -t * Math.log(clip(x)) : 0) + (t < 1 ? -(1 - t) * Math.log(clip(1 - x)) : 0);
}

function scoreColumn(c: BinaryScorerConfig, x: number[], t: number[], w: number[]): BinaryScoreResult {
  const n = x.length;
  const p = x.map((v) => probability(c, v));
  let W = 0, P = 0, tp = 0, fp = 0, lossSum = 0, brierSum = 0;
  for (let i = 0; i < n; i++) {
    W += w[i];
    P += w[i] * t[i];
    if (p[i] >= c.threshold) {
      tp += w[i] * t[i];
      fp += w[i] * (1 - t[i]);
    }
    if (w[i] > 0) {
      lossSum += w[i] * loss(c, x[i], t[i]);
      brierSum += w[i] * (p[i] - t[i]) ** 2;
    }
  }
  const fn = P - tp, tn = W - P - fp;
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0, recall = P > 0 ? tp / P : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;

  // Calibration bins.
  const B = c.bins;
  let edges: number[];
  let binOf: (q: number) => number;
  if (c.binning === 'quantile') {
    const sorted = p.slice().sort((a, b) => a - b);
    edges = Array.from({ length: B + 1 }, (_, b) => (n === 0 ? b / B : quantileEdge(sorted, b, B)));
    binOf = (q) => {
      let b = 0;
      while (b < B - 1 && edges[b + 1] < q) b++;
      return b;
    };
  } else {
    edges = Array.from({ length: B + 1 }, (_, b) => b / B);
    binOf = (q) => (q > 0 ? Math.min(B - 1, Math.floor(q * B)) : 0);
  }
  const count = new Array<number>(B).fill(0), bw = new Array<number>(B).fill(0), bc = new Array<number>(B).fill(0), bp = new Array<number>(B).fill(0);
  for (let i = 0; i < n; i++) {
    const b = binOf(p[i]);
    count[b]++;
    bw[b] += w[i];
    bc[b] += w[i] * p[i];
    bp[b] += w[i] * t[i];
  }
  const bins: BinaryCalibrationBin[] = [];
  let ece = W > 0 ? 0 : NaN, mce = NaN, ms = 0;
  for (let b = 0; b < B; b++) {
    bins.push({ lower: edges[b], upper: edges[b + 1], count: count[b], weight: bw[b], confidence: bc[b] / bw[b], accuracy: bp[b] / bw[b] });
    if (bw[b] > 0) {
      const gap = Math.abs(bp[b] / bw[b] - bc[b] / bw[b]);
      ece += (bw[b] / W) * gap;
      ms += (bw[b] / W) * gap * gap;
      mce = Number.isNaN(mce) ? gap : Math.max(mce, gap);
    }
  }

  // The ranking: rows of weight 0 dropped (as sklearn), then a stable sort by decreasing key, where the
  // key is the raw score ('exact') or the histogram bin of p (thresholds k, each bin's threshold its lower edge).
  const k = c.thresholds === 'exact' ? 0 : c.thresholds;
  const key = (i: number): number => (k ? (p[i] > 0 ? Math.min(k - 1, Math.floor(p[i] * k)) : 0) : x[i]);
  const idx = Array.from({ length: n }, (_, i) => i).filter((i) => w[i] > 0).sort((a, b) => {
    const ka = key(a), kb = key(b);
    return ka === kb ? 0 : kb > ka ? 1 : -1;
  });
  const tps: number[] = [], fps: number[] = [], thr: number[] = [], posIn: number[] = [], negIn: number[] = [];
  let ctp = 0, cfp = 0;
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j];
    ctp += w[i] * t[i];
    cfp += w[i] * (1 - t[i]);
    if (j === idx.length - 1 || key(idx[j + 1]) !== key(i)) {
      posIn.push(ctp - (tps.length ? tps[tps.length - 1] : 0));
      negIn.push(cfp - (fps.length ? fps[fps.length - 1] : 0));
      tps.push(ctp);
      fps.push(cfp);
      thr.push(k ? key(i) / k : p[i]);
    }
  }
  const G = tps.length, Pt = G ? tps[G - 1] : 0, Nt = G ? fps[G - 1] : 0;
  const fpr = [0, ...fps.map((v) => (Nt > 0 ? v / Nt : NaN))], tpr = [0, ...tps.map((v) => (Pt > 0 ? v / Pt : NaN))];
  let auc = 0;
  for (let g = 1; g <= G; g++) auc += ((fpr[g] - fpr[g - 1]) * (tpr[g] + tpr[g - 1])) / 2;
  const prec = tps.map((v, g) => (v + fps[g] > 0 ? v / (v + fps[g]) : 0));
  const rec = tps.map((v) => (Pt > 0 ? v / Pt : 1));
  let ap = 0;
  for (let g = 0; g < G; g++) ap += (rec[g] - (g ? rec[g - 1] : 0)) * prec[g];
  let aucBound = 0, apBound = 0;
  if (k) {
    for (let g = 0; g < G; g++) {
      const before = g ? tps[g - 1] : 0, fBefore = g ? fps[g - 1] : 0;
      aucBound += (posIn[g] * negIn[g]) / (2 * Pt * Nt);
      if (posIn[g] > 0) {
        const upper = tps[g] / (tps[g] + fBefore);
        const lower = before + fps[g] > 0 ? before / (before + fps[g]) : 0;
        apBound += (posIn[g] / Pt) * (upper - lower);
      }
    }
  }
  const both = Pt > 0 && Nt > 0;
  return {
    count: n, weight: W, positives: P, logLoss: (lossSum / W) * (c.unit === 'bits' ? 1 / Math.LN2 : 1), unit: c.unit,
    brier: brierSum / W, accuracy: (tp + tn) / W, precision, recall, f1, confusion: { tp, fp, fn, tn },
    rocAuc: both ? auc : NaN, averagePrecision: Pt > 0 ? ap : NaN,
    rocAucErrorBound: k ? (both ? aucBound : NaN) : 0, averagePrecisionErrorBound: k ? (Pt > 0 ? apBound : NaN) : 0,
    ece, mce: W > 0 ? mce : NaN, rmsce: W > 0 ? Math.sqrt(ms) : NaN, bins,
    roc: { fpr: Float64Array.from(fpr), tpr: Float64Array.from(tpr), thresholds: Float64Array.from([Infinity, ...thr]) },
    pr: {
      precision: Float64Array.from([...prec.reverse(), 1]), recall: Float64Array.from([...rec.reverse(), 0]),
      thresholds: Float64Array.from(thr.reverse()),
    },
  };
}
