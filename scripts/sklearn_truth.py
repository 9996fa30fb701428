#!/usr/bin/python3
"""The truth for test/sklearn/sklearn.check.ts: what scikit-learn says the scorers must report.

Draws random cases from a seed and computes, with Debian's python3-sklearn, the metrics that
xe.binaryScorer, xe.multilabelScorer and xe.scorer (multiclass) report for the same float32 inputs:

    /usr/bin/python3 scripts/sklearn_truth.py --seed 123 --out /tmp/truth.json

Binary (from logits and from probabilities, with and without sample weights, random thresholds):
log_loss, brier_score_loss, accuracy_score, precision_recall_fscore_support (average 'binary' and
None), roc_auc_score, average_precision_score, roc_curve (drop_intermediate=False),
precision_recall_curve, calibration_curve ('uniform' and 'quantile'; unweighted, as sklearn has no
weights there). Multilabel: precision_recall_fscore_support, roc_auc_score and average_precision_score
with average None, 'macro', 'micro' and 'weighted'. Multiclass (today's scorer, which has no sample
weights): log_loss, accuracy_score, top_k_accuracy_score, the Brier score sum_c (p_c - [c = y])^2
(brier_score_loss is binary only in sklearn 1.2, so it is numpy arithmetic here), and of the arg-max
(numpy's: first on ties) precision_recall_fscore_support (average None with labels=range(C), so every
class has its entry; 'macro', 'micro' and 'weighted' with the default labels, the classes present as a
label or a prediction), balanced_accuracy_score and confusion_matrix(labels=range(C)).

Every input is drawn in float64 and rounded to float32 (what xentropy receives); the truth is computed
from those float32 values widened to float64. Output: one JSON file; a non-finite number is written as
the string "Infinity", "-Infinity" or "NaN".
"""

import argparse
import json
import math
import warnings

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score, average_precision_score, balanced_accuracy_score, brier_score_loss, confusion_matrix, log_loss,
    precision_recall_curve, precision_recall_fscore_support, roc_auc_score, roc_curve, top_k_accuracy_score,
)

warnings.simplefilter('ignore')


def num(x):
    x = float(x)
    if math.isfinite(x):
        return x
    return 'NaN' if math.isnan(x) else ('Infinity' if x > 0 else '-Infinity')


def nums(a):
    return [num(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def sigmoid(x):
    """float64 logistic of float32 logits, and its complement computed without cancellation."""
    x = x.astype(np.float64)
    return 1 / (1 + np.exp(-x)), 1 / (1 + np.exp(x))


def off_boundaries(p32, n_bins):
    """float32 probabilities nudged off the interior edges k / n_bins: sklearn 1.2's uniform bins put a
    value on an edge in the lower bin, torchmetrics and xentropy in the upper one (docs/evaluation.md)."""
    p = p32.copy()
    for i in range(p.size):
        v = float(p[i]) * n_bins
        if 0 < v < n_bins and v == math.floor(v):
            p[i] = np.nextafter(p[i], np.float32(1))
    return p


def binary_truth(y, scores, w, from_, threshold, bins, epsilon):
    """Every binary metric sklearn has, for hard labels y, float32 scores, weights w (or None)."""
    if from_ == 'logits':
        p, q = sigmoid(scores)
        two = np.stack([q, p], axis=1)
        loss = log_loss(y, two, sample_weight=w, labels=[0, 1], eps=1e-300)
    else:
        p = scores.astype(np.float64)
        two = np.stack([1 - p, p], axis=1)
        loss = log_loss(y, two, sample_weight=w, labels=[0, 1], eps=epsilon)
    pred = (p >= threshold).astype(np.int64)
    pr, rc, f1, _ = precision_recall_fscore_support(y, pred, average='binary', sample_weight=w, zero_division=0)
    fpr, tpr, rthr = roc_curve(y, scores.astype(np.float64), sample_weight=w, drop_intermediate=False)
    pc, rcc, pthr = precision_recall_curve(y, scores.astype(np.float64), sample_weight=w)
    to_p = (lambda t: sigmoid(np.asarray(t, dtype=np.float64))[0]) if from_ == 'logits' else (lambda t: t)
    truth = {
        'logLoss': num(loss),
        'brier': num(brier_score_loss(y, p, sample_weight=w)),
        'accuracy': num(accuracy_score(y, pred, sample_weight=w)),
        'precision': num(pr), 'recall': num(rc), 'f1': num(f1),
        'rocAuc': num(roc_auc_score(y, scores.astype(np.float64), sample_weight=w)),
        'averagePrecision': num(average_precision_score(y, scores.astype(np.float64), sample_weight=w)),
        # sklearn 1.2's first ROC threshold is thresholds[1] + 1 in the score's units; xentropy's is Infinity.
        'roc': {'fpr': nums(fpr), 'tpr': nums(tpr), 'thresholds': nums(to_p(rthr[1:]))},
        'pr': {'precision': nums(pc), 'recall': nums(rcc), 'thresholds': nums(to_p(pthr))},
    }
    if w is None:
        for strategy in ('uniform', 'quantile'):
            # sklearn 1.2's uniform bins put a probability on an interior edge k / n_bins in the lower bin;
            # xentropy, as torchmetrics (torch.bucketize(..., right=True)), in bin floor(p n_bins), the upper
            # one (a logit of 0 is p = 0.5 exactly). Such a value is moved just past sklearn's edge, into the
            # bin xentropy documents, for the bin assignment only (its confidence moves by an ulp).
            q = p
            if strategy == 'uniform':
                edges = np.linspace(0.0, 1.0, bins + 1)
                k = np.minimum(bins - 1, np.floor(p * bins)).astype(np.int64)
                q = np.where((k > 0) & (p <= edges[k]), np.nextafter(edges[k], 2.0), p)
                q = np.where((k + 1 < bins) & (q > edges[np.minimum(k + 1, bins)]), edges[np.minimum(k + 1, bins)], q)
            prob_true, prob_pred = calibration_curve(y, q, n_bins=bins, strategy=strategy)
            truth['calibration_' + strategy] = {'accuracy': nums(prob_true), 'confidence': nums(prob_pred)}
    return truth


def draw_binary(rng, n, from_, bins):
    """n float32 scores of a noisy classifier and 0/1 labels with both classes present."""
    while True:
        y = (rng.random(n) < rng.uniform(0.2, 0.8)).astype(np.int64)
        if 0 < y.sum() < n:
            break
    logits = (rng.normal(0, 2, n) + np.where(y == 1, 1.0, -1.0) * rng.uniform(0, 2)).astype(np.float32)
    if rng.random() < 0.3:
        logits = np.round(logits * 2).astype(np.float32) / np.float32(2)   # ties
    if from_ == 'logits':
        return y, logits
    p, _ = sigmoid(logits)
    p32 = p.astype(np.float32)
    if rng.random() < 0.2:
        p32[rng.random(n) < 0.05] = 0
        p32[rng.random(n) < 0.05] = 1
    return y, off_boundaries(p32, bins)


def draw_weights(rng, n):
    w = rng.uniform(0, 3, n).astype(np.float32)
    w[rng.random(n) < 0.1] = 0
    w[0] = 1   # never all zero
    return w


def binary_cases(rng, count):
    cases = []
    for _ in range(count):
        from_ = 'logits' if rng.random() < 0.5 else 'probs'
        n = int(rng.choice([2, 3, 5, 17, 64, 200, 1000]))
        bins = int(rng.choice([1, 2, 5, 10, 15]))
        y, scores = draw_binary(rng, n, from_, bins)
        w = draw_weights(rng, n) if rng.random() < 0.5 else None
        if w is not None:
            # Both classes keep some weight (else sklearn's AUC is undefined: the unit tests cover that).
            w[np.argmax(y == 1)] = 1
            w[np.argmax(y == 0)] = 1
        threshold = float(rng.choice([0.5, 0.5, 0.25, 0.75, float(np.float32(rng.random()))]))
        options = {'from': from_, 'threshold': threshold, 'bins': bins}
        epsilon = 1e-7
        if from_ == 'probs' and rng.random() < 0.3:
            epsilon = float(rng.choice([1e-3, 1e-12]))
            options['epsilon'] = epsilon
        cases.append({
            'kind': 'binary', 'options': options, 'scores': nums(scores), 'labels': [int(v) for v in y],
            'weights': None if w is None else nums(w),
            'truth': binary_truth(y, scores, w, from_, threshold, bins, epsilon),
        })
    return cases


def multilabel_cases(rng, count):
    cases = []
    for _ in range(count):
        L = int(rng.choice([2, 3, 5, 8]))   # one column would be a binary target to sklearn
        n = int(rng.choice([4, 20, 100, 500]))
        from_ = 'logits' if rng.random() < 0.5 else 'probs'
        cols = [draw_binary(rng, n, from_, 15) for _ in range(L)]
        Y = np.stack([c[0] for c in cols], axis=1)
        S = np.stack([c[1] for c in cols], axis=1).astype(np.float32)
        w = draw_weights(rng, n) if rng.random() < 0.5 else None
        if w is not None:
            # Each label keeps some weight on both classes (sklearn's AUC and AP are undefined otherwise).
            for l in range(L):
                w[np.argmax(Y[:, l] == 1)] = 1
                w[np.argmax(Y[:, l] == 0)] = 1
        threshold = float(rng.choice([0.5, 0.3]))
        P = sigmoid(S)[0] if from_ == 'logits' else S.astype(np.float64)
        pred = (P >= threshold).astype(np.int64)
        truth = {}
        for average in (None, 'macro', 'micro', 'weighted'):
            name = 'none' if average is None else average
            pr, rc, f1, _ = precision_recall_fscore_support(Y, pred, average=average, sample_weight=w, zero_division=0)
            truth[name] = {
                'precision': nums(pr), 'recall': nums(rc), 'f1': nums(f1),
                'rocAuc': nums(roc_auc_score(Y, S.astype(np.float64), average=average, sample_weight=w)),
                'averagePrecision': nums(average_precision_score(Y, S.astype(np.float64), average=average, sample_weight=w)),
            }
        cases.append({
            'kind': 'multilabel', 'options': {'labels': L, 'from': from_, 'threshold': threshold},
            'scores': nums(S), 'labels': [int(v) for v in Y.reshape(-1)], 'weights': None if w is None else nums(w),
            'truth': truth,
        })
    return cases


def multiclass_cases(rng, count):
    cases = []
    for _ in range(count):
        C = int(rng.choice([3, 4, 7, 10, 33]))
        n = int(rng.choice([5, 50, 300]))
        y = rng.integers(0, C, n)
        z = (rng.normal(0, 2, (n, C)) + 2.5 * np.eye(C)[y] * rng.uniform(0, 1.5)).astype(np.float32)
        ignored = rng.random(n) < (0.1 if rng.random() < 0.5 else 0)
        ignored[0] = False
        labels = np.where(ignored, -100, y)
        keep = ~ignored
        zk = z[keep].astype(np.float64)
        yk = y[keep]
        p = np.exp(zk - zk.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        top_k = sorted({1, int(rng.integers(2, C))})
        pred = zk.argmax(axis=1)
        classes = list(range(C))
        truth = {
            'logLoss': num(log_loss(yk, p, labels=classes, eps=1e-300)),
            'accuracy': num(accuracy_score(yk, pred)),
            'topK': {str(k): num(top_k_accuracy_score(yk, zk, k=k, labels=list(range(C)))) for k in top_k},
            'brier': num(np.mean(((p - np.eye(C)[yk]) ** 2).sum(axis=1))),
            'count': int(keep.sum()),
            'balancedAccuracy': num(balanced_accuracy_score(yk, pred)),
            'confusion': [int(v) for v in confusion_matrix(yk, pred, labels=classes).reshape(-1)],
        }
        for average in (None, 'macro', 'micro', 'weighted'):
            pr, rc, f1, support = precision_recall_fscore_support(
                yk, pred, average=average, labels=classes if average is None else None, zero_division=0)
            truth['none' if average is None else average] = {
                'precision': nums(pr), 'recall': nums(rc), 'f1': nums(f1),
                **({'support': nums(support)} if average is None else {}),
            }
        cases.append({
            'kind': 'multiclass', 'options': {'classes': C, 'topK': top_k},
            'scores': nums(z), 'labels': [int(v) for v in labels], 'weights': None, 'truth': truth,
        })
    return cases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--seed', type=int, required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--cases', type=float, default=1.0, help='scales the number of cases')
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    scale = args.cases
    cases = (binary_cases(rng, int(200 * scale)) + multilabel_cases(rng, int(60 * scale))
             + multiclass_cases(rng, int(60 * scale)))
    for i, c in enumerate(cases):
        c['id'] = i
    with open(args.out, 'w') as f:
        json.dump({'seed': args.seed, 'versions': {'sklearn': sklearn.__version__, 'numpy': np.__version__},
                   'cases': cases}, f, allow_nan=False)
    counts = {}
    for c in cases:
        counts[c['kind']] = counts.get(c['kind'], 0) + 1
    print(f'sklearn {sklearn.__version__}, numpy {np.__version__}: seed {args.seed}, cases {counts}')


if __name__ == '__main__':
    main()
