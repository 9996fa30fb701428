// A reader and writer for NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
// limited to what scoring needs: little-endian float logits and integer labels, C order.
//
// Reading is split into a header parser and a row reader so that callers can stream a large array in
// row chunks with bounded memory: parse the header once, then read [start, end) row ranges with
// positioned reads. Floats come back as Float32Array and integers as Int32Array, the types the
// WebAssembly API takes; anything that cannot be converted exactly (an int64 outside int32) is an error.
//
// The header parsing (and the escaping of text in messages) is src/arrays/npy.ts, which runs anywhere;
// this module adds what needs node:fs, and re-exports the rest for the command line and the tests.

import { type BigIntStats, closeSync, constants, fstatSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { describe } from '../ops/common.js';

import {
  DTYPES, HOST_LITTLE_ENDIAN, MAGIC, MAX_HEADER_BYTES, NpyFormatError, PREFIX_V1, PREFIX_V2, type NpyDtype, type NpyHeader,
  dtypeName, elementCount, exactElementCount, floatToHalf, halfToFloat, isNpyDtype, npyHeaderLength, parseNpyHeader, rowSize,
  shownRepr,
} from '../arrays/npy.js';

export {
  HOST_LITTLE_ENDIAN, MAX_PATH_SHOWN, MAX_SHOWN, NpyFormatError, dtypeName, elementCount, floatToHalf, halfToFloat, isNpyDtype,
  npyHeaderLength, parseNpyHeader, printable, quoted, type NpyDtype, type NpyHeader,
} from '../arrays/npy.js';

/** The element type an array is read into: floats as Float32Array, integers as Int32Array. */
export type NpyData = Float32Array | Int32Array;

/** A whole array read by readNpy. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

/** What a non-regular file is, for messages: 'a FIFO', 'a directory'... */
function fileKind(stats: { isFIFO(): boolean; isDirectory(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isSymbolicLink(): boolean }): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'a special file';
}

/** The error for a file that is not a regular file: 'PATH: is a FIFO, not a regular file'. */
function notRegular(path: string, stats: Parameters<typeof fileKind>[0]): NpyFormatError {
  return new NpyFormatError(path, `is ${fileKind(stats)}, not a regular file`);
}

/** O_NONBLOCK where the platform has it: opening a FIFO without a writer then returns at once. */
const OPEN_NONBLOCK = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** An input opened by openNpyFile. */
export interface OpenedFile {
  fd: number;
  /** fstat of the opened descriptor (bigint: inode numbers may exceed 2^53). */
  stats: BigIntStats;
}

/**
 * Opens a file for reading as .npy, refusing anything that is not a regular file (a FIFO or pipe, a
 * socket, a device such as /dev/stdin or /dev/zero, a directory) without blocking or reading from it.
 * The open is non-blocking, so a FIFO without a writer cannot hang it, and the check is an fstat of the
 * opened descriptor, so the file cannot be swapped between the check and the reads.
 * @throws NpyFormatError 'PATH: is a FIFO, not a regular file' (and so on); Node's system errors
 *   (ENOENT, EACCES...) for a file that cannot be opened
 */
export function openNpyFile(path: string): OpenedFile {
  let fd: number;
  try {
    fd = openSync(path, OPEN_NONBLOCK);
  } catch (e) {
    // A socket cannot be opened at all (ENXIO); say what is there rather than "no such device".
    let stats: ReturnType<typeof statSync> | undefined;
    try {
      stats = statSync(path);
    } catch {
      // Report the open's error.
    }
    if (stats !== undefined && !stats.isFile()) throw notRegular(path, stats);
    throw e;
  }
  try {
    const stats = fstatSync(fd, { bigint: true });
    if (!stats.isFile()) throw notRegular(path, stats);
    return { fd, stats };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Reads and parses the header of an open .npy file, and checks that the file holds all the data the
 * shape implies (trailing bytes are ignored, as numpy does).
 * @param fd an open file descriptor of a regular file (position is not used: reads are positioned)
 * @param path names the file in error messages
 * @throws NpyFormatError as parseNpyHeader, for a file that is not a regular file (a pipe has no size
 *   to check against, and reading one could block), and for a file shorter than its header and shape imply
 */
export function readNpyHeader(fd: number, path: string): NpyHeader {
  const stats = fstatSync(fd, { bigint: true });
  if (!stats.isFile()) throw notRegular(path, stats);
  const size = stats.size;
  const available = (n: number) => (size < BigInt(n) ? Number(size) : n);
  let bytes = readAt(fd, 0, available(PREFIX_V2));
  const needed = npyHeaderLength(bytes, path);
  if (needed > MAX_HEADER_BYTES) {
    throw new NpyFormatError(path, `malformed header: header length ${needed} bytes exceeds ${MAX_HEADER_BYTES}`);
  }
  if (needed > bytes.length) bytes = readAt(fd, 0, available(needed));
  const header = parseNpyHeader(bytes, path);
  // Exact (bigint): shape products of a crafted header can be far beyond 2^53.
  const dataBytes = exactElementCount(header.shape) * BigInt(header.itemSize);
  if (size < BigInt(header.dataOffset) + dataBytes) {
    throw new NpyFormatError(
      path,
      `truncated file: shape ${shownRepr(header.shape)} of ${dtypeName(header.dtype)} needs ${dataBytes} data bytes after the ${header.dataOffset}-byte header, found ${size - BigInt(header.dataOffset)}`,
    );
  }
  return header;
}

/** Largest single read: Node refuses lengths of 2^31 bytes and more (a 2^28-class float64 row is 2 GiB). */
const MAX_READ = 1 << 30;

/** Reads exactly `length` bytes at `position`, or fewer only when the file ends first. */
export function readAt(fd: number, position: number, length: number, into?: Uint8Array): Uint8Array {
  const buffer = into ?? new Uint8Array(length);
  let done = 0;
  while (done < length) {
    // readSync may return short counts (large reads, special files); loop until EOF.
    const n = readSync(fd, buffer, done, Math.min(length - done, MAX_READ), position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}

/**
 * Reads rows [start, end) of an array whose header was read by readNpyHeader: a row is one element of
 * a 1-D array, or shape[1] * shape[2] * ... elements of a higher-dimensional one. Floats are returned
 * as Float32Array (float64 rounded to float32), integers as Int32Array.
 * @param out optional array of the matching type and at least (end - start) * rowSize elements to
 *   read into, so that a streaming caller can reuse one buffer; the result is a view of it
 * @throws NpyFormatError for Fortran order, a scalar, an int64 value outside int32, or a file that
 *   ends early; RangeError for a bad row range or `out`
 */
export function readNpyRows(
  fd: number, header: NpyHeader, start: number, end: number, path: string, out?: NpyData,
): NpyData {
  checkLayout(header, path);
  const rows = header.shape[0];
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= rows)) {
    throw new RangeError(`row range [${describe(start)}, ${describe(end)}) is not within [0, ${rows}] of ${path}`);
  }
  const perRow = rowSize(header.shape);
  const count = (end - start) * perRow;
  const kind = DTYPES[header.dtype].kind;
  let result: NpyData;
  if (out === undefined) {
    result = kind === 'float' ? new Float32Array(count) : new Int32Array(count);
  } else {
    const want = kind === 'float' ? Float32Array : Int32Array;
    if (!(out instanceof want) || out.length < count) {
      throw new RangeError(`out must be a ${want.name} of at least ${count} elements for ${path}, got ${describe(out)}`);
    }
    result = out.subarray(0, count);
  }
  const position = header.dataOffset + start * perRow * header.itemSize;
  const byteLength = count * header.itemSize;

  // Fast path: a little-endian host reads float32/int32 straight into the result.
  if (HOST_LITTLE_ENDIAN && (header.dtype === '<f4' || header.dtype === '<i4')) {
    const target = new Uint8Array(result.buffer, result.byteOffset, byteLength);
    const got = readAt(fd, position, byteLength, target);
    if (got.length < byteLength) throw shortRead(path, position, byteLength, got.length);
    return result;
  }
  const bytes = readAt(fd, position, byteLength);
  if (bytes.length < byteLength) throw shortRead(path, position, byteLength, bytes.length);
  decode(header.dtype, bytes, result, path, start * perRow);
  return result;
}

function shortRead(path: string, position: number, wanted: number, got: number): NpyFormatError {
  return new NpyFormatError(path, `truncated file: expected ${wanted} bytes at offset ${position}, found ${got}`);
}

function checkLayout(header: NpyHeader, path: string): void {
  if (header.fortranOrder && header.shape.length >= 2) {
    throw new NpyFormatError(
      path,
      `Fortran-ordered arrays are not supported (fortran_order: True, shape ${shownRepr(header.shape)}); save np.ascontiguousarray(a) instead`,
    );
  }
  if (header.shape.length === 0) {
    throw new NpyFormatError(path, 'expected an array with at least one dimension, found a scalar (shape ())');
  }
}

/** Converts little-endian file bytes to the result type; DataView makes this host-endian independent. */
function decode(dtype: NpyDtype, bytes: Uint8Array, out: NpyData, path: string, firstIndex: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = out.length;
  switch (dtype) {
    case '<f4':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case '<f8':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case '<f2':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case '<i4':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case '<i8':
    case '<u8':
    case '<u4':
      for (let i = 0; i < n; i++) {
        const v = dtype === '<i8' ? view.getBigInt64(i * 8, true) : dtype === '<u8' ? view.getBigUint64(i * 8, true) : BigInt(view.getUint32(i * 4, true));
        if (v < -2147483648n || v > 2147483647n) {
          throw new NpyFormatError(
            path,
            `${DTYPES[dtype].name} value ${v} at flat index ${firstIndex + i} does not fit in int32 [-2147483648, 2147483647]`,
          );
        }
        out[i] = Number(v);
      }
      break;
    case '|u1':
      out.set(bytes.subarray(0, n));
      break;
    case '<u2':
      for (let i = 0; i < n; i++) out[i] = view.getUint16(i * 2, true);
      break;
    case '|b1':
      for (let i = 0; i < n; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      break;
    case '|i1':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case '<i2':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      break;
  }
}


/**
 * Reads a whole .npy file.
 * @returns dtype and shape as in the file, and the data as Float32Array (floats) or Int32Array (integers)
 * @throws NpyFormatError for any format problem (see parseNpyHeader, readNpyHeader, readNpyRows) and
 *   for a path that is not a regular file (see openNpyFile); Node's system errors (ENOENT, …) for an
 *   unreadable file
 */
export function readNpy(path: string): NpyArray {
  const { fd } = openNpyFile(path);
  try {
    const header = readNpyHeader(fd, path);
    if (header.shape.length === 0) {
      // A scalar is one element; read it as a 1-element row so the row reader's checks still apply.
      const data = readNpyRows(fd, { ...header, shape: [1] }, 0, 1, path);
      return { dtype: header.dtype, shape: [], data };
    }
    const data = readNpyRows(fd, header, 0, header.shape[0], path);
    return { dtype: header.dtype, shape: header.shape, data };
  } finally {
    closeSync(fd);
  }
}

/** Options of encodeNpy / writeNpy. */
export interface WriteNpyOptions {
  /** Format version to write: 1 (default; header up to 65 535 bytes), 2 or 3 (UTF-8 header). */
  version?: 1 | 2 | 3;
}

/**
 * Encodes an array as .npy bytes (C order, header padded so the data is 64-byte aligned, as numpy does).
 * @param data elements in C order; numbers (or bigints for '<i8' and '<u8'), converted to the dtype
 * @throws TypeError for an unsupported dtype; RangeError when data.length does not match the shape
 *   or a value is not representable in an integer dtype
 */
export function encodeNpy(
  dtype: NpyDtype, shape: readonly number[], data: ArrayLike<number | bigint>, options: WriteNpyOptions = {},
): Uint8Array {
  if (!isNpyDtype(dtype)) throw new TypeError(`dtype must be one of ${Object.keys(DTYPES).join(', ')}, got ${describe(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`shape must be an array of non-negative integers, got ${describe(shape)}`);
  }
  const count = elementCount(shape);
  if (data.length !== count) {
    throw new RangeError(`data.length must be ${count} for shape [${shape.join(', ')}], got ${data.length}`);
  }
  const version = options.version ?? 1;
  if (version !== 1 && version !== 2 && version !== 3) {
    throw new RangeError(`options.version must be 1, 2 or 3, got ${describe(version)}`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? PREFIX_V1 : PREFIX_V2;
  // Pad with spaces and end with '\n' so that prefix + header is a multiple of 64.
  const headerLength = Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix;
  if (version === 1 && headerLength > 0xffff) throw new RangeError(`shape [${shape.join(', ')}] needs a version 2 header`);
  const { itemSize } = DTYPES[dtype];
  const bytes = new Uint8Array(prefix + headerLength + count * itemSize);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  bytes[6] = version;
  bytes[7] = 0;
  if (version === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  const header = dict.padEnd(headerLength - 1, ' ') + '\n';
  for (let i = 0; i < header.length; i++) bytes[prefix + i] = header.charCodeAt(i);

  const base = prefix + headerLength;
  for (let i = 0; i < count; i++) {
    const v = data[i];
    const at = base + i * itemSize;
    if (dtype === '<f4') view.setFloat32(at, Number(v), true);
    else if (dtype === '<f2') view.setUint16(at, floatToHalf(Number(v)), true);
    else if (dtype === '<f8') view.setFloat64(at, Number(v), true);
    else if (dtype === '<i8') view.setBigInt64(at, toInteger(v, i, -(2n ** 63n), 2n ** 63n - 1n), true);
    else if (dtype === '<u8') view.setBigUint64(at, toInteger(v, i, 0n, 2n ** 64n - 1n), true);
    else if (dtype === '<u4') view.setUint32(at, Number(toInteger(v, i, 0n, 2n ** 32n - 1n)), true);
    else {
      const [lo, hi] = INTEGER_RANGES[dtype];
      const x = Number(toInteger(v, i, lo, hi));
      if (dtype === '<i4') view.setInt32(at, x, true);
      else if (dtype === '|u1' || dtype === '|b1') view.setUint8(at, x);
      else if (dtype === '|i1') view.setInt8(at, x);
      else if (dtype === '<i2') view.setInt16(at, x, true);
      else view.setUint16(at, x, true);
    }
  }
  return bytes;
}

/** Values the writer accepts for the 32-bit-or-narrower integer dtypes. */
const INTEGER_RANGES: Record<'<i4' | '|u1' | '<u2' | '|b1' | '|i1' | '<i2', [bigint, bigint]> = {
  '<i4': [-(2n ** 31n), 2n ** 31n - 1n], '|u1': [0n, 255n], '<u2': [0n, 65535n],
  '|b1': [0n, 1n], '|i1': [-128n, 127n], '<i2': [-32768n, 32767n],
};

function toInteger(v: number | bigint, i: number, lo: bigint, hi: bigint): bigint {
  if (typeof v === 'number' && !Number.isInteger(v)) {
    throw new RangeError(`data[${i}] = ${describe(v)} is not an integer`);
  }
  const big = BigInt(v);
  if (big < lo || big > hi) throw new RangeError(`data[${i}] = ${describe(v)} is outside [${lo}, ${hi}]`);
  return big;
}

/**
 * Writes an array to a .npy file (see encodeNpy), replacing any existing file.
 * @throws as encodeNpy, and Node's system errors for an unwritable path
 */
export function writeNpy(
  path: string, dtype: NpyDtype, shape: readonly number[], data: ArrayLike<number | bigint>, options: WriteNpyOptions = {},
): void {
  writeFileSync(path, encodeNpy(dtype, shape, data, options));
}

