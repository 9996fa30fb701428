// Kullback-Leibler and Jensen-Shannon divergences: validation shared with the float64 reference, and
// the WebAssembly runners.

import { ownResident, type Driver, type Resident } from '../engine/driver.js';
import { startScan, type ElementCheck } from '../engine/element_checks.js';
import type { ResidentDtype } from '../engine/driver.js';
import { chunkRows, rawBytes, stageFloats, windowRows } from '../engine/staging.js';
import {
  isResident, checkChoice, classesOf, checkDims, checkDtype, checkNumberIn, checkOptions, checkOrDefer, checkOut, checkUnit,
  describe, floatInputReader, logProbabilityCheck, overlaps, probabilityCheck, reduceRows, rowsOf, widenValues,
  type DistributionForm, type FloatData, type FloatKind, type HalfDtype, type LossAndGrad, type Unit,
} from './common.js';

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
  /** What a Uint16Array p or q holds: 'float16' or 'bfloat16' bits. */
  dtype?: HalfDtype;
}

/** Options of klDivergenceWithGrad. */
export interface KlDivergenceGradOptions extends KlDivergenceOptions {
  /** Float32Array (or resident buffer) of q.length to write the gradient into; may be q itself (in place). */
  gradOut?: Float32Array | Resident;
}

/** Options of jsDivergence. */
export interface JsDivergenceOptions {
  /** What both p and q hold: 'probs' (default) or 'logits'. */
  from?: DistributionForm;
  /** 'batchmean' (default), 'sum', 'mean' or 'none'. */
  reduction?: DivergenceReduction;
  /** 'nats' (default) or 'bits'. */
  unit?: Unit;
  /** What a Uint16Array p or q holds: 'float16' or 'bfloat16' bits. */
  dtype?: HalfDtype;
}

const KL_OPTIONS = ['from', 'logTarget', 'epsilon', 'reduction', 'unit', 'dtype'] as const;
const KL_GRAD_OPTIONS = [...KL_OPTIONS, 'gradOut'] as const;
const JS_OPTIONS = ['from', 'reduction', 'unit', 'dtype'] as const;
const REDUCTIONS = ['batchmean', 'sum', 'mean', 'none'] as const;

/** @internal A validated klDivergence call, the same for every backend. */
export interface KlPlan {
  /** p's and q's values; a resident's view is valid only until memory grows. */
  p: FloatData;
  q: FloatData;
  /** What p and q hold: float32, float64, or float16 / bfloat16 bits (widened in WebAssembly as staged). */
  pKind: FloatKind;
  qKind: FloatKind;
  /** The resident handles among p, q and options.gradOut. */
  pResident: Resident<ResidentDtype> | null;
  qResident: Resident<ResidentDtype> | null;
  gradOutResident: Resident | null;
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
  /** The range checks of p and q the runner owes (element_checks.ts), else null. */
  pCheck: ElementCheck | null;
  qCheck: ElementCheck | null;
}

/** @internal A validated jsDivergence call. */
export interface JsPlan {
  /** p's and q's values; a resident's view is valid only until memory grows. */
  p: FloatData;
  q: FloatData;
  /** What p and q hold: float32, float64, or float16 / bfloat16 bits (widened in WebAssembly as staged). */
  pKind: FloatKind;
  qKind: FloatKind;
  pResident: Resident<ResidentDtype> | null;
  qResident: Resident<ResidentDtype> | null;
  rows: number;
  classes: number;
  fromLogits: boolean;
  reduction: DivergenceReduction;
  unitScale: number;
  denominator: number;
  /** The range checks of p and q the runner owes (element_checks.ts), else null. */
  pCheck: ElementCheck | null;
  qCheck: ElementCheck | null;
}

/** p and q of the same [N, classes] shape. */
function checkPair(p: unknown, q: unknown, classes: unknown) {
  const pr = floatInputReader('p', p), qr = floatInputReader('q', q);
  const c = pr.dims ? classesOf('classes', classes, pr.dims, "p's") : classesOf('classes', classes, qr.dims, "q's");
  checkDims('q', qr.dims, "p's", pr.dims, pr.dims);
  const rows = rowsOf('p', pr, c);
  if (qr.length !== pr.length) throw new RangeError(`q.length must equal p.length = ${pr.length}, got ${qr.length}`);
  return { pr, qr, classes: c, rows };
}

/** p and q resolved with options.dtype, which describes whichever of them holds half bits. */
function finishPair(pair: ReturnType<typeof checkPair>, dtypeOption: unknown) {
  const dtype = checkDtype('options.dtype', dtypeOption);
  if (dtype !== undefined && !pair.pr.halfBits && !pair.qr.halfBits) {
    throw new TypeError(`options.dtype = '${dtype}' applies to a Uint16Array of half bits, but neither p nor q is one; leave options.dtype out`);
  }
  const a = pair.pr.finish(dtype, true), b = pair.qr.finish(dtype, true);
  return {
    p: a.data, q: b.data, pKind: a.kind, qKind: b.kind, pResident: a.resident, qResident: b.resident,
    classes: pair.classes, rows: pair.rows,
  };
}

function denominatorOf(reduction: DivergenceReduction, rows: number, classes: number): number {
  return reduction === 'batchmean' ? rows : reduction === 'mean' ? rows * classes : 1;
}

/**
 * @internal
 * Validates a klDivergence call; `withGrad` admits the gradOut option. With `deferElementChecks` (the
 * WebAssembly backends) the ranges of p's and q's elements are left to the runner, which scans them in
 * WebAssembly (element_checks.ts); the reference checks them here.
 */
export function planKlDivergence(
  fn: string, p: unknown, q: unknown, classes: unknown, options: unknown, withGrad: boolean, deferElementChecks = false,
): KlPlan {
  const checked = checkPair(p, q, classes);
  const o = checkOptions(fn, options, withGrad ? KL_GRAD_OPTIONS : KL_OPTIONS);
  const pair = finishPair(checked, o.dtype);
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
  let gradOut: Float32Array | undefined;
  if (withGrad) {
    // In place only over a float32 q: a gradient has float32 elements.
    gradOut = checkOut('options.gradOut', o.gradOut, pair.q.length, pair.q, pair.qKind === 'f32');
    if (gradOut && overlaps(gradOut, pair.p)) {
      throw new RangeError('options.gradOut overlaps p; the gradient cannot overwrite the target');
    }
  }
  // The element checks come last, so that every backend refuses a call with the same first error
  // (the WebAssembly runners do them after everything else here).
  // With logTarget, exp(log p) must be a probability; the kernel's exp also assumes a non-positive argument.
  const pValues = () => widenValues(pair.p, pair.pKind), qValues = () => widenValues(pair.q, pair.qKind);
  const pCheck = checkOrDefer(logTarget ? logProbabilityCheck('p') : probabilityCheck('p'), pValues, deferElementChecks);
  const qCheck = from === 'probs' ? checkOrDefer(probabilityCheck('q'), qValues, deferElementChecks) : null;
  const denominator = denominatorOf(reduction, pair.rows, pair.classes);
  return {
    ...pair, from, logTarget, epsilon: Math.fround(epsilon), reduction, unitScale, denominator,
    gradScale: unitScale / denominator, gradOut,
    gradOutResident: withGrad && isResident(o.gradOut) ? o.gradOut : null, pCheck, qCheck,
  };
}

/** @internal Validates a jsDivergence call; `deferElementChecks` as planKlDivergence. */
export function planJsDivergence(p: unknown, q: unknown, classes: unknown, options: unknown, deferElementChecks = false): JsPlan {
  const checked = checkPair(p, q, classes);
  const o = checkOptions('jsDivergence', options, JS_OPTIONS);
  const pair = finishPair(checked, o.dtype);
  const from = checkChoice<DistributionForm>('options.from', o.from, ['probs', 'logits'], 'probs');
  const reduction = checkChoice<DivergenceReduction>('options.reduction', o.reduction, REDUCTIONS, 'batchmean');
  const unitScale = checkUnit('options.unit', o.unit);
  const probs = from === 'probs';
  const pCheck = probs ? checkOrDefer(probabilityCheck('p'), () => widenValues(pair.p, pair.pKind), deferElementChecks) : null;
  const qCheck = probs ? checkOrDefer(probabilityCheck('q'), () => widenValues(pair.q, pair.qKind), deferElementChecks) : null;
  return {
    ...pair, fromLogits: from === 'logits', reduction, unitScale,
    denominator: denominatorOf(reduction, pair.rows, pair.classes), pCheck, qCheck,
  };
}

const FORM_CODE: Record<KlInput, number> = { probs: 0, logits: 1, logProbs: 2 };

/**
 * @internal
 * Runs klDivergence in WebAssembly; with `withGrad`, the gradient with respect to q goes to a resident
 * gradOut where it lies, else over the staged q (or a staging window, for a resident q) and out to
 * options.gradOut or a new array. Resident p and q are read where they lie, but for a resident p with
 * logTarget, which is staged.
 */
export function runKlDivergence(d: Driver, plan: KlPlan, withGrad: boolean): LossAndGrad<number | Float32Array> {
  const { rows, classes } = plan;
  const pOwn = ownResident(d, 'p', plan.pResident), qRes = ownResident(d, 'q', plan.qResident);
  // With logTarget the kernel writes exp(log p) over its p, so a resident p is staged like a plain one.
  // Other element types are widened into the windows as they are staged, from where a resident lies.
  const { pKind, qKind } = plan;
  const pRes = plan.logTarget && pKind === 'f32' ? null : pOwn;
  const pDirect = pKind === 'f32' && pRes !== null, qDirect = qKind === 'f32' && qRes !== null;
  const gRes = withGrad ? ownResident(d, 'options.gradOut', plan.gradOutResident) : null;
  const none = plan.reduction === 'none';
  const losses = none ? new Float32Array(rows) : null;
  const per = Math.min(chunkRows(classes), rows), span = Math.min(windowRows(classes), rows);
  const window = span * classes * 4;
  const [pBuf, qBuf, lPtr, gBuf, pRaw, qRaw] = d.reserve(
    pDirect ? 0 : window, qDirect ? 0 : window, none ? span * 4 : 0, withGrad && !gRes && qDirect ? window : 0,
    rawBytes(pKind, pRes !== null, span * classes), rawBytes(qKind, qRes !== null, span * classes),
  );
  // Memory may have grown: views of resident arguments are taken again from here on.
  const p = pOwn ? pOwn.array : plan.p, q = qRes ? qRes.array : plan.q;
  const grad = withGrad && !gRes ? plan.gradOut ?? new Float32Array(q.length) : null;
  // A gradient the caller can see is written window by window: then every element is checked first.
  const first = withGrad && (gRes !== null || plan.gradOut !== undefined);
  const scan = startScan(d, [
    { check: plan.pCheck, values: p, kind: pKind, resident: pRes, window: pBuf, raw: pRaw, widen: (v) => widenValues(v, pKind) },
    { check: plan.qCheck, values: q, kind: qKind, resident: qRes, window: qBuf, raw: qRaw, widen: (v) => widenValues(v, qKind) },
  ], span * classes, first);
  let total = 0;
  // Windows of `span` rows are staged and copied out whole; each block of `per` rows is one kernel
  // call, so the sum's order is that of the blocks (api.ts windowRows).
  for (let r0 = 0; r0 < rows; r0 += span) {
    const n = Math.min(span, rows - r0);
    const a = r0 * classes, b = (r0 + n) * classes;
    const pBase = stageFloats(d, pBuf, pRaw, p, pKind, pRes, a, b), qBase = stageFloats(d, qBuf, qRaw, q, qKind, qRes, a, b);
    scan(a, b, [pBase, qBase]);
    const gBase = !withGrad ? 0 : gRes ? gRes.ptr + a * 4 : qDirect ? gBuf : qBuf;
    for (let r = 0; r < n; r += per) {
      const at = r * classes * 4;
      total += d.kernels.klDivergence(
        pBase + at, qBase + at, Math.min(per, n - r), classes, FORM_CODE[plan.from], plan.logTarget ? 1 : 0,
        plan.epsilon, none ? lPtr + r * 4 : 0, gBase && gBase + at, plan.gradScale, plan.unitScale,
      );
    }
    if (losses) losses.set(d.f32(lPtr, n), r0);
    if (grad) grad.set(d.f32(gBase, b - a), a);
  }
  return {
    loss: reduceRows(plan.reduction, losses, total, plan.unitScale, plan.denominator),
    grad: gRes ? gRes.array : grad as Float32Array,
  };
}

/**
 * @internal Runs jsDivergence in WebAssembly; resident p and q are read where they lie, but for logits,
 * whose softmax the kernel writes over its inputs: those are staged.
 */
export function runJsDivergence(d: Driver, plan: JsPlan): number | Float32Array {
  const { rows, classes } = plan;
  const pOwn = ownResident(d, 'p', plan.pResident), qOwn = ownResident(d, 'q', plan.qResident);
  // A half resident is widened into the window from where it lies (a private copy, as logits need).
  const { pKind, qKind } = plan;
  const pRes = plan.fromLogits && pKind === 'f32' ? null : pOwn, qRes = plan.fromLogits && qKind === 'f32' ? null : qOwn;
  const pDirect = pKind === 'f32' && pRes !== null, qDirect = qKind === 'f32' && qRes !== null;
  const none = plan.reduction === 'none';
  const losses = none ? new Float32Array(rows) : null;
  const per = Math.min(chunkRows(classes), rows);
  const [pBuf, qBuf, lPtr, pRaw, qRaw] = d.reserve(
    pDirect ? 0 : per * classes * 4, qDirect ? 0 : per * classes * 4, none ? per * 4 : 0,
    rawBytes(pKind, pRes !== null, per * classes), rawBytes(qKind, qRes !== null, per * classes),
  );
  const p = pOwn ? pOwn.array : plan.p, q = qOwn ? qOwn.array : plan.q;
  // The caller sees nothing before the end, so staged chunks are scanned as they come.
  const scan = startScan(d, [
    { check: plan.pCheck, values: p, kind: pKind, resident: pRes, window: pBuf, raw: pRaw, widen: (v) => widenValues(v, pKind) },
    { check: plan.qCheck, values: q, kind: qKind, resident: qRes, window: qBuf, raw: qRaw, widen: (v) => widenValues(v, qKind) },
  ], per * classes, false);
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const a = r0 * classes, b = (r0 + n) * classes;
    const pPtr = stageFloats(d, pBuf, pRaw, p, pKind, pRes, a, b), qPtr = stageFloats(d, qBuf, qRaw, q, qKind, qRes, a, b);
    scan(a, b, [pPtr, qPtr]);
    total += d.kernels.jsDivergence(pPtr, qPtr, n, classes, plan.fromLogits ? 1 : 0, none ? lPtr : 0, plan.unitScale);
    if (losses) losses.set(d.f32(lPtr, n), r0);
  }
  return reduceRows(plan.reduction, losses, total, plan.unitScale, plan.denominator);
}
