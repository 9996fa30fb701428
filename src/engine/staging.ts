// How rows reach the kernels: the blocks that fix every batch sum's order, the copy windows that stage
// plain arrays through scratch memory, and the gathers between PyTorch's [N, C, spatial] layout and
// rows of classes. Nothing here knows which loss runs.

import type { Driver, Resident, ResidentDtype } from './driver.js';

/**
 * @internal
 * Bytes of input staged per kernel call. Large enough that call overhead vanishes, small enough that a
 * chunk stays in L2 between the copy and the kernel; a row larger than this is staged alone.
 */
export const WINDOW_BYTES = 256 * 1024;

/**
 * @internal
 * Rows per staged chunk for rows of `classes` floats. The chunks also fix the order of every batch
 * sum, whatever the path (copied or resident input): each kernel call sums its chunk's rows in f64,
 * and the chunk sums are added in row order. The pool computes the same chunk sums on
 * its workers and adds them in the same order, which makes its results bit-identical to one thread.
 */
export function chunkRows(classes: number): number {
  return Math.max(1, Math.floor(WINDOW_BYTES / (classes * 4)));
}

/**
 * @internal
 * Bytes a copy window reaches: glibc's memmove on AMD stops using `rep movsb` at the L2 size (1 MiB
 * as the bench machine reports it; glibc sysdeps/x86/dl-cacheinfo.h, rep_movsb_stop_threshold), and
 * its vector loop copies a window out to a cold typed array faster (bench/copy-windows.js).
 */
export const STREAM_BYTES = 1024 * 1024;

/**
 * @internal
 * Rows per copy window: the fewest whole blocks of chunkRows(classes) rows that reach STREAM_BYTES.
 * A window is staged and copied out in one piece, and its blocks are still summed one kernel call
 * each, so the sums and their order do not depend on the window.
 */
export function windowRows(classes: number): number {
  const per = chunkRows(classes);
  return per * Math.ceil(STREAM_BYTES / (per * classes * 4));
}

/**
 * @internal
 * Copies rows r0 .. r0 + dst.length / classes of src into dst as [rows, classes]. With spatial > 1, src
 * is PyTorch's [N, C, spatial] layout and row r is sample floor(r / spatial) at position r % spatial,
 * whose classes lie `spatial` apart.
 */
export function gatherRows<T extends Float32Array | Float64Array | Uint16Array>(dst: T, src: T, r0: number, classes: number, spatial: number): void {
  if (spatial === 1) {
    dst.set(src.subarray(r0 * classes, r0 * classes + dst.length));
    return;
  }
  const n = dst.length / classes;
  for (let i = 0; i < n; i++) {
    const r = r0 + i;
    const base = Math.floor(r / spatial) * classes * spatial + (r % spatial);
    for (let c = 0; c < classes; c++) dst[i * classes + c] = src[base + c * spatial];
  }
}

/** @internal The inverse of gatherRows: writes staged [rows, classes] back into dst's layout. */
export function scatterRows(dst: Float32Array, src: Float32Array, r0: number, classes: number, spatial: number): void {
  if (spatial === 1) {
    dst.set(src, r0 * classes);
    return;
  }
  const n = src.length / classes;
  for (let i = 0; i < n; i++) {
    const r = r0 + i;
    const base = Math.floor(r / spatial) * classes * spatial + (r % spatial);
    for (let c = 0; c < classes; c++) dst[base + c * spatial] = src[i * classes + c];
  }
}

/** @internal Copies labels[r0 .. r0 + dst.length) into the staged Int32Array (converting integer types). */
export function stageLabels(dst: Int32Array, labels: Int32Array, r0: number): void {
  dst.set(labels.subarray(r0, r0 + dst.length));
}

/**
 * @internal
 * Address of elements [a, b) of a float kernel input: where a resident buffer lies (no copy), else
 * `values[a, b)` copied into the reserved `window`, which holds them until the next copy into it.
 */
export function stageInput(
  driver: Driver, window: number, values: Float32Array | Uint8Array, resident: Resident | null, a: number, b: number,
): number {
  if (resident) return resident.ptr + a * 4;
  // Uint8Array values become 0.0 / 1.0 ... 255.0 in the copy.
  driver.f32(window, b - a).set(values.subarray(a, b));
  return window;
}

/**
 * What a float input's elements are: float32, float16 or bfloat16 bits (u16 each), or float64. The
 * kernels read float32; the others are widened (narrowed) into float32 windows by the `widen` kernel
 * as they are staged (assembly/widen.ts), but for the sparse cross-entropy loss, which reads halves
 * itself (ops/cross_entropy.ts crossEntropyRoute).
 */
export type FloatKind = 'f32' | 'f16' | 'bf16' | 'f64';

/** A float input's elements as read: float32 values, half bit patterns, or float64 values. */
export type FloatData = Float32Array | Float64Array | Uint16Array;

/** @internal Bytes of one element of each kind. */
export const ELEMENT_BYTES: Readonly<Record<FloatKind, number>> = { f32: 4, f16: 2, bf16: 2, f64: 8 };

/** @internal The widen kernel's code for each kind (0: float32, nothing to widen). */
export const WIDEN_CODE: Readonly<Record<FloatKind, number>> = { f32: 0, f16: 1, bf16: 2, f64: 3 };

/**
 * @internal
 * Bytes of raw scratch a runner reserves for staging `count` elements of a `kind` input before the
 * widen kernel turns them into float32: none for float32, and none for a resident half buffer read
 * where it lies (spatial 1); else count elements of the kind.
 */
export function rawBytes(kind: FloatKind, resident: boolean, count: number, spatial = 1): number {
  if (kind === 'f32' || (resident && spatial === 1)) return 0;
  return count * ELEMENT_BYTES[kind];
}

/** A view of `length` elements of `kind` at ptr. */
function rawView(driver: Driver, ptr: number, kind: FloatKind, length: number): FloatData {
  return kind === 'f64' ? driver.f64(ptr, length) : kind === 'f32' ? driver.f32(ptr, length) : driver.u16(ptr, length);
}

/**
 * @internal
 * Address of rows r0 .. r0 + n of an input of a kind other than float32 as its raw elements
 * [n, classes] (gatherRows' layout for spatial > 1): where a resident buffer lies when spatial is 1,
 * else copied into `raw` (rawBytes), which holds them until the next copy into it.
 */
export function stageRaw(
  driver: Driver, raw: number, values: FloatData, kind: FloatKind, resident: Resident<ResidentDtype> | null,
  r0: number, n: number, classes: number, spatial: number,
): number {
  if (resident && spatial === 1) return resident.ptr + r0 * classes * ELEMENT_BYTES[kind];
  gatherRows(rawView(driver, raw, kind, n * classes), values, r0, classes, spatial);
  return raw;
}

/**
 * @internal
 * Stages rows r0 .. r0 + n of a float input as float32 [n, classes] at `window` (gatherRows' layout
 * for spatial > 1). float32 is copied; other kinds are staged raw (stageRaw) and widened from there.
 * `values` is the input's view (a resident's taken after the runner's reserve).
 */
export function stageRows(
  driver: Driver, window: number, raw: number, values: FloatData, kind: FloatKind, resident: Resident<ResidentDtype> | null,
  r0: number, n: number, classes: number, spatial: number,
): void {
  const count = n * classes;
  if (kind === 'f32') {
    gatherRows(driver.f32(window, count), values as Float32Array, r0, classes, spatial);
    return;
  }
  const src = stageRaw(driver, raw, values, kind, resident, r0, n, classes, spatial);
  driver.kernels.widen(src, window, count, WIDEN_CODE[kind]);
}

/**
 * @internal
 * stageInput for a float input of any kind: the address of elements [a, b) as float32, where a
 * resident float32 buffer lies, else staged into `window` (through `raw` for other kinds, see
 * stageRows).
 */
export function stageFloats(
  driver: Driver, window: number, raw: number, values: FloatData, kind: FloatKind, resident: Resident<ResidentDtype> | null,
  a: number, b: number,
): number {
  if (kind === 'f32') return stageInput(driver, window, values as Float32Array, resident as Resident | null, a, b);
  stageRows(driver, window, raw, values, kind, resident, a, b - a, 1, 1);
  return window;
}
