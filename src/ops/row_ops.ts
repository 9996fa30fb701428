// softmax, logSoftmax and logSumExp over the last axis: one plan for the three (shared with the float64
// reference) and the runners that stream rows through the scratch window, or run on resident buffers
// where they lie.

import { ownResident, type Driver, type Resident } from '../engine/driver.js';
import { chunkRows, windowRows } from '../engine/staging.js';
import { checkClasses, checkFloat32OrResident, checkOut, isResident, rowsOf } from './common.js';

/** @internal A validated (logits, classes, out?) call. */
export interface RowsPlan {
  input: Float32Array;
  rows: number;
  classes: number;
  out: Float32Array | undefined;
  inputResident: Resident | null;
  outResident: Resident | null;
}

/** The row kernels of the same shape as their input. */
export type RowKernel = 'softmax' | 'logSoftmax';

/**
 * @internal
 * Validates the (logits, classes, out?) shape shared by softmax, logSoftmax and logSumExp; `perRow`:
 * out holds one value per row (logSumExp), else one per element and may be logits itself.
 */
export function planRows(logits: unknown, classes: unknown, out: unknown, perRow: boolean, float64Allowed = false): RowsPlan {
  const { array: input, resident: inputResident } = checkFloat32OrResident('logits', logits);
  const c = checkClasses(classes);
  const rows = rowsOf('logits', input, c);
  const checked = checkOut('out', out, perRow ? rows : input.length, input, !perRow, float64Allowed);
  return { input, rows, classes: c, out: checked, inputResident, outResident: isResident(out) ? out : null };
}

/**
 * @internal
 * Runs softmax or logSoftmax: copy windows through the scratch space (computed in place there), or
 * directly on resident input and output.
 */
export function runRows(d: Driver, kernel: RowKernel, plan: RowsPlan): Float32Array {
  const { input, rows, classes } = plan;
  const inRes = ownResident(d, 'logits', plan.inputResident), outRes = ownResident(d, 'out', plan.outResident);
  const result = outRes ? null : plan.out ?? new Float32Array(input.length);
  const run = d.kernels[kernel];
  const per = Math.min(windowRows(classes), rows);
  const [buf] = d.reserve(inRes && outRes ? 0 : per * classes * 4);
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const a = r0 * classes, b = (r0 + n) * classes;
    if (!inRes) d.f32(buf, b - a).set(input.subarray(a, b));
    run(inRes ? inRes.ptr + a * 4 : buf, outRes ? outRes.ptr + a * 4 : buf, n, classes);
    if (result) result.set(d.f32(buf, b - a), a);
  }
  return outRes ? outRes.array : result!;
}

/** @internal Runs logSumExp: one value per row, block by block. */
export function runLogSumExp(d: Driver, plan: RowsPlan): Float32Array {
  const { input, rows, classes: c } = plan;
  const inRes = ownResident(d, 'logits', plan.inputResident), outRes = ownResident(d, 'out', plan.outResident);
  const result = outRes ? null : plan.out ?? new Float32Array(rows);
  const per = Math.min(chunkRows(c), rows);
  const [src, dst] = d.reserve(inRes ? 0 : per * c * 4, outRes ? 0 : per * 4);
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    if (!inRes) d.f32(src, n * c).set(input.subarray(r0 * c, (r0 + n) * c));
    const to = outRes ? outRes.ptr + r0 * 4 : dst;
    d.kernels.logSumExp(inRes ? inRes.ptr + r0 * c * 4 : src, to, n, c);
    if (result) result.set(d.f32(dst, n), r0);
  }
  return outRes ? outRes.array : result!;
}
