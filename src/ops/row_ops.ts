// softmax, logSoftmax and logSumExp over the last axis: one plan for the three (shared with the float64
// reference) and the runners that stream rows through the scratch window, or run on resident buffers
// where they lie.

import { ownResident, type Driver, type Resident, type ResidentDtype } from '../engine/driver.js';
import { chunkRows, rawBytes, stageFloats, windowRows } from '../engine/staging.js';
import {
  classesOf, checkDtype, checkOptions, checkOut, floatInputReader, isResident, rowsOf,
  type FloatData, type FloatKind, type HalfDtype,
} from './common.js';

/** Options of softmax, logSoftmax and logSumExp (their fourth argument). */
export interface RowOptions {
  /** What a Uint16Array of logits holds: 'float16' or 'bfloat16' bits. */
  dtype?: HalfDtype;
}

/** @internal A validated (logits, classes, out?) call. */
export interface RowsPlan {
  /** The logits' elements (see inputKind). */
  input: FloatData;
  /** What input holds: float32, float64, or float16 / bfloat16 bits (widened in WebAssembly as staged). */
  inputKind: FloatKind;
  rows: number;
  classes: number;
  out: Float32Array | undefined;
  inputResident: Resident<ResidentDtype> | null;
  outResident: Resident | null;
}

/** The row kernels of the same shape as their input. */
export type RowKernel = 'softmax' | 'logSoftmax';

/**
 * @internal
 * Validates the (logits, classes, out?) shape shared by softmax, logSoftmax and logSumExp; `perRow`:
 * out holds one value per row (logSumExp), else one per element and may be logits itself.
 */
export function planRows(
  logits: unknown, classes: unknown, out: unknown, perRow: boolean, float64Allowed = false, options?: unknown, fn = 'softmax',
): RowsPlan {
  const reader = floatInputReader('logits', logits);
  const c = classesOf('classes', classes, reader.dims);
  const rows = rowsOf('logits', reader, c);
  const o = checkOptions(fn, options, ['dtype']);
  const { data: input, kind: inputKind, resident: inputResident } = reader.finish(checkDtype('options.dtype', o.dtype));
  // In place only over float32 logits: the output has float32 elements.
  const checked = checkOut('out', out, perRow ? rows : input.length, input, !perRow && inputKind === 'f32', float64Allowed);
  return { input, inputKind, rows, classes: c, out: checked, inputResident, outResident: isResident(out) ? out : null };
}

/**
 * @internal
 * Runs softmax or logSoftmax: copy windows through the scratch space (computed in place there), or
 * directly on resident input and output.
 */
export function runRows(d: Driver, kernel: RowKernel, plan: RowsPlan): Float32Array {
  const { rows, classes, inputKind: kind } = plan;
  const inRes = ownResident(d, 'logits', plan.inputResident), outRes = ownResident(d, 'out', plan.outResident);
  const direct = inRes !== null && kind === 'f32';
  const result = outRes ? null : plan.out ?? new Float32Array(plan.input.length);
  const run = d.kernels[kernel];
  const per = Math.min(windowRows(classes), rows);
  const [buf, raw] = d.reserve(direct && outRes ? 0 : per * classes * 4, rawBytes(kind, inRes !== null, per * classes));
  const input = inRes ? inRes.array : plan.input;
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const a = r0 * classes, b = (r0 + n) * classes;
    const src = direct ? inRes.ptr + a * 4 : stageFloats(d, buf, raw, input, kind, inRes, a, b);
    run(src, outRes ? outRes.ptr + a * 4 : buf, n, classes);
    if (result) result.set(d.f32(buf, b - a), a);
  }
  return outRes ? outRes.array : result!;
}

/** @internal Runs logSumExp: one value per row, block by block. */
export function runLogSumExp(d: Driver, plan: RowsPlan): Float32Array {
  const { rows, classes: c, inputKind: kind } = plan;
  const inRes = ownResident(d, 'logits', plan.inputResident), outRes = ownResident(d, 'out', plan.outResident);
  const direct = inRes !== null && kind === 'f32';
  const result = outRes ? null : plan.out ?? new Float32Array(rows);
  const per = Math.min(chunkRows(c), rows);
  const [src, dst, raw] = d.reserve(direct ? 0 : per * c * 4, outRes ? 0 : per * 4, rawBytes(kind, inRes !== null, per * c));
  const input = inRes ? inRes.array : plan.input;
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const at = direct ? inRes.ptr + r0 * c * 4 : stageFloats(d, src, raw, input, kind, inRes, r0 * c, (r0 + n) * c);
    const to = outRes ? outRes.ptr + r0 * 4 : dst;
    d.kernels.logSumExp(at, to, n, c);
    if (result) result.set(d.f32(dst, n), r0);
  }
  return outRes ? outRes.array : result!;
}
