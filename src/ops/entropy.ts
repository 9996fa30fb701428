// Entropy of distributions: validation shared with the float64 reference, and the WebAssembly runner.

import { ownResident, type Driver, type Resident } from '../engine/driver.js';
import { startScan, type ElementCheck } from '../engine/element_checks.js';
import type { ResidentDtype } from '../engine/driver.js';
import { chunkRows, rawBytes, stageFloats } from '../engine/staging.js';
import {
  classesOf, checkChoice, checkDtype, checkOptions, checkOrDefer, checkUnit, floatInputReader, probabilityCheck,
  reduceRows, rowsOf, widenValues, type DistributionForm, type FloatData, type FloatKind, type HalfDtype, type Unit,
} from './common.js';

/** Reductions of entropy: one value per row ('none'), their mean over rows, or their sum. */
export type EntropyReduction = 'none' | 'mean' | 'sum';

/** Options of entropy. */
export interface EntropyOptions {
  /** 'probs' (default): rows are probabilities in [0, 1]; 'logits': rows are logits, p = softmax(z). */
  from?: DistributionForm;
  /** 'none' (default): a Float32Array of N; 'mean' over rows or 'sum': a number. */
  reduction?: EntropyReduction;
  /** 'nats' (default) or 'bits'. */
  unit?: Unit;
  /** What a Uint16Array p holds: 'float16' or 'bfloat16' bits. */
  dtype?: HalfDtype;
}

const ENTROPY_OPTIONS = ['from', 'reduction', 'unit', 'dtype'] as const;

/** @internal A validated entropy call, the same for every backend. */
export interface EntropyPlan {
  /** p's elements (see inputKind); for a resident p, a view valid only until memory grows. */
  input: FloatData;
  /** What input holds: float32, float64, or float16 / bfloat16 bits. */
  inputKind: FloatKind;
  /** p's resident handle, when it is one. */
  inputResident: Resident<ResidentDtype> | null;
  rows: number;
  classes: number;
  fromLogits: boolean;
  reduction: EntropyReduction;
  /** Factor from nats to the requested unit. */
  unitScale: number;
  /** p's range check when the runner owes it (element_checks.ts), else null. */
  check: ElementCheck | null;
}

/**
 * @internal
 * Validates an entropy call. With `deferElementChecks` (the WebAssembly backends), p's range check is
 * left to the runner, which scans in WebAssembly (element_checks.ts); the reference checks here.
 */
export function planEntropy(p: unknown, classes: unknown, options: unknown, deferElementChecks = false): EntropyPlan {
  const reader = floatInputReader('p', p);
  const c = classesOf('classes', classes, reader.dims);
  const rows = rowsOf('p', reader, c);
  const o = checkOptions('entropy', options, ENTROPY_OPTIONS);
  const { data: input, kind: inputKind, resident: inputResident } = reader.finish(checkDtype('options.dtype', o.dtype));
  const from = checkChoice<DistributionForm>('options.from', o.from, ['probs', 'logits'], 'probs');
  const reduction = checkChoice<EntropyReduction>('options.reduction', o.reduction, ['none', 'mean', 'sum'], 'none');
  const unitScale = checkUnit('options.unit', o.unit);
  const check = from === 'probs' ? checkOrDefer(probabilityCheck('p'), () => widenValues(input, inputKind), deferElementChecks) : null;
  return { input, inputKind, inputResident, rows, classes: c, fromLogits: from === 'logits', reduction, unitScale, check };
}

/** @internal Runs entropy in WebAssembly: a resident p where it lies, else row chunks through the scratch window. */
export function runEntropy(d: Driver, plan: EntropyPlan): number | Float32Array {
  const { rows, classes } = plan;
  const inRes = ownResident(d, 'p', plan.inputResident);
  const none = plan.reduction === 'none';
  const out = none ? new Float32Array(rows) : null;
  const per = Math.min(chunkRows(classes), rows);
  const kind = plan.inputKind, direct = inRes !== null && kind === 'f32';
  const [window, dst, raw] = d.reserve(direct ? 0 : per * classes * 4, none ? per * 4 : 0, rawBytes(kind, inRes !== null, per * classes));
  // The caller sees nothing before the end, so staged chunks are scanned as they come.
  const input = inRes ? inRes.array : plan.input;
  const scan = startScan(d, [{
    check: plan.check, values: input, kind, resident: inRes, window, raw, widen: (v) => widenValues(v, kind),
  }], per * classes, false);
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const a = r0 * classes, b = (r0 + n) * classes;
    const src = stageFloats(d, window, raw, input, kind, inRes, a, b);
    scan(a, b, [src]);
    total += d.kernels.entropy(src, n, classes, plan.fromLogits ? 1 : 0, none ? dst : 0, plan.unitScale);
    if (out) out.set(d.f32(dst, n), r0);
  }
  return reduceRows(plan.reduction, out, total, plan.unitScale, rows);
}
