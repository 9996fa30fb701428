import {
  binEdges, checkScorerUpdate, perSequenceOf, slotsOf, readScorerOptions, type CalibrationBin, type ScoreResult, type ScorerOptions,
  type ScorerUpdateOptions,
} from '../ops/scorer.js';
import { widenValues, type FloatValues, type IndexTarget, type TensorLike } from '../ops/common.js';
import { logSoftmaxRow } from './log_sum_exp.js';

/**
 * Reference evaluation in float64 of all the rows at once: what `xe.scorer(options)` reports after
 * `update(logits, labels, { bytes, attentionMask })`. Each row's probabilities are p_c = exp(z_c − lse)
 * (logits), q_c (probs, clipped to [0, 1]) or exp(lp_c) (logProbs); the loss is −log p_y
 * (−log clip(q_y, ε, 1 − ε) for probs). shift and attentionMask decide which rows count (and against
 * which token) exactly as in the scorer; per-sequence sums run in row order.
 */
export function score(
  logits: FloatValues | TensorLike, labels: IndexTarget | TensorLike, options: ScorerOptions & ScorerUpdateOptions,
): ScoreResult {
  // Own properties only, each read once; the labels are read once into the checked copy used below.
  const { config, extras } = readScorerOptions(options, ['bytes', 'attentionMask', 'dtype']);
  const update = checkScorerUpdate(config, logits, labels, { bytes: extras.bytes, attentionMask: extras.attentionMask, dtype: extras.dtype });
  const { rows, labels: y32, bytes, sequenceLength: T } = update;
  const input = widenValues(update.input, update.inputKind);
  const seqLoss: number[] = [], seqTokens: number[] = [];
  if (config.perSequence) for (let b = 0; b < rows / T; b++) { seqLoss.push(0); seqTokens.push(0); }
  const C = config.classes;
  // Equal-width slots: the bins themselves, or (quantile binning) the fine histogram they are cut from.
  const slots = slotsOf(config);
  const binCount = new Array<number>(slots).fill(0);
  const binCorrect = new Array<number>(slots).fill(0);
  const binConf = new Array<number>(slots).fill(0);
  const hits = config.topK.map(() => 0);
  // (label, arg-max) pairs of the counted rows, for the per-class figures and the confusion.
  const pairs: [number, number][] = [];
  let count = 0, correct = 0, lossSum = 0, brierSum = 0;

  for (let r = 0; r < rows; r++) {
    const y = y32[r];
    if (y === config.ignoreIndex) continue;
    const z = Array.from(input.subarray(r * C, (r + 1) * C));
    let p: number[];
    let loss: number;
    if (config.from === 'logits') {
      const lp = logSoftmaxRow(z);
      p = Array.from(lp, Math.exp);
      loss = -lp[y];
    } else if (config.from === 'probs') {
      // Values the check let through a few ulps outside [0, 1] stand for their clipped value.
      for (let c = 0; c < C; c++) z[c] = Math.min(Math.max(z[c], 0), 1);
      p = z;
      loss = -Math.log(Math.min(Math.max(z[y], config.epsilon), 1 - config.epsilon));
    } else {
      p = z.map(Math.exp);
      loss = -z[y];
    }
    // numpy's arg-max: the first maximum, or the first NaN.
    let pred = 0;
    for (let c = 1; c < C; c++) {
      if (z[pred] !== z[pred]) break;
      if (z[c] !== z[c] || z[c] > z[pred]) pred = c;
    }
    const rank = z.filter((v) => v > z[y]).length;
    const conf = p[pred];
    let brier = 0;
    for (let c = 0; c < C; c++) brier += (p[c] - (c === y ? 1 : 0)) ** 2;

    count++;
    if (pred === y) correct++;
    config.topK.forEach((k, j) => { if (rank < k) hits[j]++; });
    lossSum += loss;
    brierSum += brier;
    if (config.perSequence) {
      seqLoss[Math.floor(r / T)] += loss;
      seqTokens[Math.floor(r / T)]++;
    }
    const b = conf > 0 ? Math.min(slots - 1, Math.floor(conf * slots)) : 0;
    binCount[b]++;
    binConf[b] += conf;
    if (pred === y) binCorrect[b]++;
    pairs.push([y, pred]);
  }

  const edges = binEdges(binCount, config.bins, config.binning);
  const bins: CalibrationBin[] = [];
  for (let k = 0; k < config.bins; k++) {
    const sum = (a: number[]) => a.slice(edges[k], edges[k + 1]).reduce((x, y) => x + y, 0);
    const n = sum(binCount);
    bins.push({
      lower: edges[k] / slots, upper: edges[k + 1] / slots, count: n, confidence: sum(binConf) / n, accuracy: sum(binCorrect) / n,
    });
  }
  let ece = count > 0 ? 0 : NaN;
  let mce = NaN;
  let msce = count > 0 ? 0 : NaN;
  for (const bin of bins) {
    if (bin.count === 0) continue;
    const gap = Math.abs(bin.accuracy - bin.confidence);
    ece += (bin.count / count) * gap;
    msce += (bin.count / count) * gap ** 2;
    if (!(mce >= gap)) mce = gap;
  }
  const lossNats = lossSum / count;
  const lossBits = lossNats / Math.LN2;
  const topK: Record<string, number> = {};
  config.topK.forEach((k, j) => { topK[String(k)] = hits[j] / count; });
  const result: ScoreResult = {
    count, loss: config.unit === 'bits' ? lossBits : lossNats, unit: config.unit, lossNats, lossBits,
    perplexity: Math.exp(lossNats), bitsPerToken: lossBits, accuracy: correct / count, topK,
    brier: brierSum / count, ece, mce, rmsce: Math.sqrt(msce),
    ...classFigures(pairs, C), bins,
    bitsPerByte: bytes !== undefined && bytes > 0 ? lossSum / Math.LN2 / bytes : null,
  };
  if (config.confusion) {
    result.confusion = new Float64Array(C * C);
    for (const [y, pred] of pairs) result.confusion[y * C + pred]++;
  }
  if (config.perSequence) result.perSequence = perSequenceOf(seqLoss, seqTokens);
  return result;
}

/**
 * Per-class precision, recall, F1 (from precision and recall, as scikit-learn) and support of
 * (label, arg-max) pairs, 0 for 0 / 0; macro over the classes seen as a label or an arg-max, weighted
 * by support, micro from the summed counts; balanced accuracy: mean recall over the labels' classes.
 */
function classFigures(pairs: readonly [number, number][], C: number): Pick<ScoreResult, 'perClass' | 'macro' | 'micro' | 'weighted' | 'balancedAccuracy'> {
  const tp = new Float64Array(C), support = new Float64Array(C), predicted = new Float64Array(C);
  for (const [y, pred] of pairs) {
    support[y]++;
    predicted[pred]++;
    if (y === pred) tp[y]++;
  }
  const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const precision = tp.map((t, c) => div(t, predicted[c]));
  const recall = tp.map((t, c) => div(t, support[c]));
  const f1 = precision.map((p, c) => div(2 * p * recall[c], p + recall[c]));
  const seen = [...Array(C).keys()].filter((c) => support[c] > 0 || predicted[c] > 0);
  const labelled = seen.filter((c) => support[c] > 0);
  const mean = (v: Float64Array, over: number[]) => over.reduce((a, c) => a + v[c], 0) / over.length;
  const weightedMean = (v: Float64Array) => labelled.reduce((a, c) => a + v[c] * support[c], 0) / pairs.length;
  const micro = tp.reduce((a, b) => a + b, 0) / pairs.length;
  return {
    perClass: { precision, recall, f1, support },
    macro: { precision: mean(precision, seen), recall: mean(recall, seen), f1: mean(f1, seen) },
    micro: { precision: micro, recall: micro, f1: micro },
    weighted: { precision: weightedMean(precision), recall: weightedMean(recall), f1: weightedMean(f1) },
    balancedAccuracy: mean(recall, labelled),
  };
}
