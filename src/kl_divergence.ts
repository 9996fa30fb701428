// Kullback-Leibler and Jensen-Shannon divergences: validation shared with the float64 reference, and
// the WebAssembly runners.

import type { Driver } from './driver.js';
import { chunkRows, type LossAndGrad } from './api.js';
import { checkOptions, reduceRows, type DistributionForm } from './entropy.js';
import {
  checkChoice, checkClasses, checkFloat32, checkNumberIn, checkOut, checkProbabilities, checkUnit, describe,
  overlaps, rowsOf,
  type Unit,
} from './validate.js';

/** What klDivergence's second argument q holds. */
export type KlInput = 'probs' | 'logits' | 'logProbs';

/**
 * Reductions of a divergence, PyTorch's F.kl_div: 'batchmean' = sum / N, 'mean' = sum / (N C),
 * 'sum', 'none' (one value per row).
 */
export type DivergenceReduction = 'batchmean' | 'sum' | 'mean' | 'none';

/** Options of klDivergence. */
export interface KlDivergenceOptions {
  /** What q holds: 'probs' (default), 'logits' (q = softmax(z)) or 'logProbs' (log q, F.kl_div's input). */
  from?: KlInput;
  /** p is given as log p (PyTorch's log_target). Default false. */
  logTarget?: boolean;
  /** from 'probs' only: q is clipped below, log q = log max(q, epsilon). Default 0 (no clipping). */
  epsilon?: number;
  /** 'batchmean' (default), 'sum', 'mean' or 'none'. */
  reduction?: DivergenceReduction;
  /** 'nats' (default) or 'bits'. */
  unit?: Unit;
}

/** Options of klDivergenceWithGrad. */
export interface KlDivergenceGradOptions extends KlDivergenceOptions {
  /** Float32Array of q.length to write the gradient into; may be q itself (in place). */
  gradOut?: Float32Array;
}

/** Options of jsDivergence. */
export interface JsDivergenceOptions {
  /** What both p and q hold: 'probs' (default) or 'logits'. */
  from?: DistributionForm;
  /** 'batchmean' (default), 'sum', 'mean' or 'none'. */
  reduction?: DivergenceReduction;
  /** 'nats' (default) or 'bits'. */
  unit?: Unit;
}

const KL_OPTIONS = ['from', 'logTarget', 'epsilon', 'reduction', 'unit'] as const;
const KL_GRAD_OPTIONS = [...KL_OPTIONS, 'gradOut'] as const;
const JS_OPTIONS = ['from', 'reduction', 'unit'] as const;
const REDUCTIONS = ['batchmean', 'sum', 'mean', 'none'] as const;

/** A validated klDivergence call, the same for every backend. */
export interface KlPlan {
  p: Float32Array;
  q: Float32Array;
  rows: number;
  classes: number;
  from: KlInput;
  logTarget: boolean;
  /** Clipping bound of from 'probs', rounded to float32 as the kernel compares in float32. */
  epsilon: number;
  reduction: DivergenceReduction;
  unitScale: number;
  /** Divisor of the reduction: N for 'batchmean', N C for 'mean', 1 otherwise. */
  denominator: number;
  /** Factor on each row's gradient: unitScale / denominator. */
  gradScale: number;
  gradOut: Float32Array | undefined;
}

/** A validated jsDivergence call. */
export interface JsPlan {
  p: Float32Array;
  q: Float32Array;
  rows: number;
  classes: number;
  fromLogits: boolean;
  reduction: DivergenceReduction;
  unitScale: number;
  denominator: number;
}

/** p and q of the same [N, classes] shape. */
function checkPair(p: unknown, q: unknown, classes: unknown) {
  const a = checkFloat32('p', p);
  const b = checkFloat32('q', q);
  const c = checkClasses(classes);
  const rows = rowsOf('p', a, c);
  if (b.length !== a.length) throw new RangeError(`q.length must equal p.length = ${a.length}, got ${b.length}`);
  return { p: a, q: b, classes: c, rows };
}

function denominatorOf(reduction: DivergenceReduction, rows: number, classes: number): number {
  return reduction === 'batchmean' ? rows : reduction === 'mean' ? rows * classes : 1;
}

/** Validates a klDivergence call; `withGrad` admits the gradOut option. */
export function planKlDivergence(fn: string, p: unknown, q: unknown, classes: unknown, options: unknown, withGrad: boolean): KlPlan {
  const pair = checkPair(p, q, classes);
  const o = checkOptions(fn, options, withGrad ? KL_GRAD_OPTIONS : KL_OPTIONS);
  const from = checkChoice<KlInput>('options.from', o.from, ['probs', 'logits', 'logProbs'], 'probs');
  if (o.logTarget !== undefined && typeof o.logTarget !== 'boolean') {
    throw new TypeError(`options.logTarget must be a boolean, got ${describe(o.logTarget)}`);
  }
  const logTarget = o.logTarget === true;
  const epsilon = checkNumberIn('options.epsilon', o.epsilon, 0, 1, 0);
  if (o.epsilon !== undefined && from !== 'probs') {
    throw new RangeError(`options.epsilon applies only to from: 'probs', got from: '${from}'`);
  }
  const reduction = checkChoice<DivergenceReduction>('options.reduction', o.reduction, REDUCTIONS, 'batchmean');
  const unitScale = checkUnit('options.unit', o.unit);
  if (logTarget) {
    // exp(log p) must be a probability; the kernel's exp also assumes a non-positive argument.
    for (let i = 0; i < pair.p.length; i++) {
      const v = pair.p[i];
      if (!(v <= 0)) throw new RangeError(`p[${i}] = ${describe(v)} is not a log-probability in [-Infinity, 0]`);
    }
  } else {
    checkProbabilities('p', pair.p);
  }
  if (from === 'probs') checkProbabilities('q', pair.q);
  let gradOut: Float32Array | undefined;
  if (withGrad) {
    gradOut = checkOut('options.gradOut', o.gradOut, pair.q.length, pair.q, true);
    if (gradOut && overlaps(gradOut, pair.p)) {
      throw new RangeError('options.gradOut overlaps p; the gradient cannot overwrite the target');
    }
  }
  const denominator = denominatorOf(reduction, pair.rows, pair.classes);
  return {
    ...pair, from, logTarget, epsilon: Math.fround(epsilon), reduction, unitScale, denominator,
    gradScale: unitScale / denominator, gradOut,
  };
}

/** Validates a jsDivergence call. */
export function planJsDivergence(p: unknown, q: unknown, classes: unknown, options: unknown): JsPlan {
  const pair = checkPair(p, q, classes);
  const o = checkOptions('jsDivergence', options, JS_OPTIONS);
  const from = checkChoice<DistributionForm>('options.from', o.from, ['probs', 'logits'], 'probs');
  const reduction = checkChoice<DivergenceReduction>('options.reduction', o.reduction, REDUCTIONS, 'batchmean');
  const unitScale = checkUnit('options.unit', o.unit);
  if (from === 'probs') {
    checkProbabilities('p', pair.p);
    checkProbabilities('q', pair.q);
  }
  return {
    ...pair, fromLogits: from === 'logits', reduction, unitScale,
    denominator: denominatorOf(reduction, pair.rows, pair.classes),
  };
}

const FORM_CODE: Record<KlInput, number> = { probs: 0, logits: 1, logProbs: 2 };

/** Runs klDivergence in WebAssembly; grad (when given) receives the gradient with respect to q. */
export function runKlDivergence(d: Driver, plan: KlPlan, grad: Float32Array | null): LossAndGrad<number | Float32Array> {
  const { p, q, rows, classes } = plan;
  const none = plan.reduction === 'none';
  const losses = none ? new Float32Array(rows) : null;
  const per = Math.min(chunkRows(classes), rows);
  const [tPtr, qPtr, lPtr] = d.reserve(per * classes * 4, per * classes * 4, none ? per * 4 : 0);
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const a = r0 * classes, b = (r0 + n) * classes;
    d.f32(tPtr, b - a).set(p.subarray(a, b));
    d.f32(qPtr, b - a).set(q.subarray(a, b));
    // The gradient is computed in place over the staged q.
    total += d.kernels.klDivergence(
      tPtr, qPtr, n, classes, FORM_CODE[plan.from], plan.logTarget ? 1 : 0, plan.epsilon,
      none ? lPtr : 0, grad ? qPtr : 0, plan.gradScale, plan.unitScale,
    );
    if (losses) losses.set(d.f32(lPtr, n), r0);
    if (grad) grad.set(d.f32(qPtr, b - a), a);
  }
  return {
    loss: reduceRows(plan.reduction, losses, total, plan.unitScale, plan.denominator),
    grad: grad as Float32Array,
  };
}

/** Runs jsDivergence in WebAssembly. */
export function runJsDivergence(d: Driver, plan: JsPlan): number | Float32Array {
  const { p, q, rows, classes } = plan;
  const none = plan.reduction === 'none';
  const losses = none ? new Float32Array(rows) : null;
  const per = Math.min(chunkRows(classes), rows);
  const [pPtr, qPtr, lPtr] = d.reserve(per * classes * 4, per * classes * 4, none ? per * 4 : 0);
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const a = r0 * classes, b = (r0 + n) * classes;
    d.f32(pPtr, b - a).set(p.subarray(a, b));
    d.f32(qPtr, b - a).set(q.subarray(a, b));
    total += d.kernels.jsDivergence(pPtr, qPtr, n, classes, plan.fromLogits ? 1 : 0, none ? lPtr : 0, plan.unitScale);
    if (losses) losses.set(d.f32(lPtr, n), r0);
  }
  return reduceRows(plan.reduction, losses, total, plan.unitScale, plan.denominator);
}
