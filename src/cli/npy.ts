// A reader and writer for NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
// limited to what scoring needs: little-endian float logits and integer labels, C order.
//
// Reading is split into a header parser and a row reader so that callers can stream a large array in
// row chunks with bounded memory: parse the header once, then read [start, end) row ranges with
// positioned reads. Floats come back as Float32Array and integers as Int32Array, the types the
// WebAssembly API takes; anything that cannot be converted exactly (an int64 outside int32) is an error.
//
// Node only (node:fs).

import { type BigIntStats, closeSync, constants, fstatSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { describe } from '../ops/common.js';

/**
 * Thrown for a file that is not a readable .npy array of a supported dtype; the message starts with the
 * path (control characters escaped, see printable).
 */
export class NpyFormatError extends Error {
  /** The file (or the label given for a buffer) that failed to parse, as given. */
  readonly path: string;

  constructor(path: string, message: string) {
    super(`${printable(path, MAX_PATH_SHOWN)}: ${message}`);
    this.name = 'NpyFormatError';
    this.path = path;
  }
}

// ---- Text from files and command lines in messages: escaped and bounded.

/** Default length bound of file-derived text in messages (characters, before the '…'). */
export const MAX_SHOWN = 200;
/** Length bound of a path in messages: paths come from the user, but may be long or odd. */
export const MAX_PATH_SHOWN = 1000;

/**
 * Code points a terminal would act on or hide rather than print: C0 and C1 controls and DEL (Cc),
 * format characters such as bidi overrides and zero-width spaces (Cf), line and paragraph separators,
 * private-use, unassigned and lone surrogate code points.
 */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/u;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCodePoint(ch: string): string {
  const short = SHORT_ESCAPES[ch];
  if (short !== undefined) return short;
  const code = ch.codePointAt(0)!;
  const hex = code.toString(16).padStart(code < 0x100 ? 2 : 4, '0');
  return code < 0x100 ? `\\x${hex}` : code <= 0xffff ? `\\u${hex}` : `\\u{${hex}}`;
}

/**
 * Text safe to print in a message: non-printable code points (controls, escape sequences, bidi
 * overrides...) written as \xNN, \uNNNN or \n, \r, \t, and the result cut to about `max`
 * characters with a trailing '…'. With `quote`, that character and backslashes are escaped too and
 * the result is enclosed in it (JSON.stringify-like for '"', Python-repr-like for "'").
 */
export function printable(text: string, max = MAX_SHOWN, quote = ''): string {
  let out = '';
  for (const ch of text) {
    let piece = ch;
    if (NON_PRINTABLE.test(ch)) piece = escapeCodePoint(ch);
    else if (quote !== '' && (ch === quote || ch === '\\')) piece = '\\' + ch;
    if (out.length + piece.length > max) {
      out += '…';
      break;
    }
    out += piece;
  }
  return quote + out + quote;
}

/** printable(text, max, '"'): a quoted, escaped and bounded rendering of a string for messages. */
export function quoted(text: string, max = MAX_SHOWN): string {
  return printable(text, max, '"');
}

/**
 * The dtypes read and written: float16/float32/float64 logits, int32/int64/uint8/uint16 labels, and
 * bool/int8/int16/uint32/uint64 for attention masks.
 */
export type NpyDtype = '<f2' | '<f4' | '<f8' | '<i4' | '<i8' | '|u1' | '<u2' | '|b1' | '|i1' | '<i2' | '<u4' | '<u8';

interface DtypeInfo {
  itemSize: number;
  kind: 'float' | 'int';
  name: string;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  '<f2': { itemSize: 2, kind: 'float', name: 'float16' },
  '<f4': { itemSize: 4, kind: 'float', name: 'float32' },
  '<f8': { itemSize: 8, kind: 'float', name: 'float64' },
  '<i4': { itemSize: 4, kind: 'int', name: 'int32' },
  '<i8': { itemSize: 8, kind: 'int', name: 'int64' },
  '|u1': { itemSize: 1, kind: 'int', name: 'uint8' },
  '<u2': { itemSize: 2, kind: 'int', name: 'uint16' },
  '|b1': { itemSize: 1, kind: 'int', name: 'bool' },
  '|i1': { itemSize: 1, kind: 'int', name: 'int8' },
  '<i2': { itemSize: 2, kind: 'int', name: 'int16' },
  '<u4': { itemSize: 4, kind: 'int', name: 'uint32' },
  '<u8': { itemSize: 8, kind: 'int', name: 'uint64' },
};

/** True for the dtype strings this module reads. */
export function isNpyDtype(value: unknown): value is NpyDtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, value);
}

/** The NumPy name of a supported dtype ('<f4' → 'float32'), for messages. */
export function dtypeName(dtype: NpyDtype): string {
  return DTYPES[dtype].name;
}

/** What a .npy header says, plus where the data starts. */
export interface NpyHeader {
  /** Format version [major, minor]: [1, 0], [2, 0] or [3, 0]. */
  version: [number, number];
  dtype: NpyDtype;
  /** Array shape; [] for a scalar. */
  shape: number[];
  /** As written in the header; the readers refuse true for arrays of 2 or more dimensions. */
  fortranOrder: boolean;
  /** Byte offset of the first element. */
  dataOffset: number;
  /** Bytes per element in the file. */
  itemSize: number;
}

/** The element type an array is read into: floats as Float32Array, integers as Int32Array. */
export type NpyData = Float32Array | Int32Array;

/** A whole array read by readNpy. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** magic (6) + version (2) + header length (2 in v1, 4 in v2/v3). */
const PREFIX_V1 = 10;
const PREFIX_V2 = 12;
/** NumPy itself refuses headers over 10 000 bytes by default; this only guards against garbage lengths. */
const MAX_HEADER_BYTES = 1 << 20;

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Number of elements of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The same, exactly (shapes come from files: their product may be far beyond 2^53). */
function exactElementCount(shape: readonly number[]): bigint {
  let count = 1n;
  for (const d of shape) count *= BigInt(d);
  return count;
}

/** Elements per row: the product of every dimension after the first (1 for a 1-D array). */
function rowSize(shape: readonly number[]): number {
  return elementCount(shape.slice(1));
}

/**
 * Bytes needed before parseNpyHeader can succeed: 10 or 12 for the prefix alone; once the prefix is
 * there, the full header length (the data offset).
 * @throws NpyFormatError for a wrong magic string or an unsupported version
 */
export function npyHeaderLength(bytes: Uint8Array, path = '<buffer>'): number {
  checkMagic(bytes, path);
  if (bytes.length < 8) return PREFIX_V2;
  const major = bytes[6];
  const prefix = major === 1 ? PREFIX_V1 : PREFIX_V2;
  if (bytes.length < prefix) return prefix;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return prefix + (major === 1 ? view.getUint16(8, true) : view.getUint32(8, true));
}

function checkMagic(bytes: Uint8Array, path: string): void {
  const head = Array.from(bytes.subarray(0, 6));
  if (head.length < 6 || head.some((b, i) => b !== MAGIC[i])) {
    const shown = head.length === 0 ? 'an empty file' : `bytes ${quoted(latin1(bytes.subarray(0, 6)))}`;
    throw new NpyFormatError(path, `not a .npy file: expected the magic string "\\x93NUMPY", found ${shown}`);
  }
  if (bytes.length >= 8) {
    const [major, minor] = [bytes[6], bytes[7]];
    if (!(major >= 1 && major <= 3 && minor === 0)) {
      throw new NpyFormatError(path, `unsupported .npy format version ${major}.${minor}; supported: 1.0, 2.0, 3.0`);
    }
  }
}

/**
 * Parses a .npy header from the first bytes of a file (at least npyHeaderLength(bytes) of them).
 * Does not look at the data, so it cannot detect truncation; readNpyHeader can.
 * @param path names the source in error messages
 * @throws NpyFormatError for a wrong magic string, unsupported version, malformed header dict,
 *   unsupported or big-endian dtype, or invalid shape
 */
export function parseNpyHeader(bytes: Uint8Array, path = '<buffer>'): NpyHeader {
  const needed = npyHeaderLength(bytes, path);
  if (bytes.length < needed) {
    throw new NpyFormatError(path, `truncated header: need ${needed} bytes, the file has ${bytes.length}`);
  }
  const major = bytes[6];
  const start = major === 1 ? PREFIX_V1 : PREFIX_V2;
  const raw = bytes.subarray(start, needed);
  // Versions 1 and 2 store the header in latin-1, version 3 in UTF-8.
  const text = major === 3 ? new TextDecoder('utf-8').decode(raw) : latin1(raw);

  let dict: unknown;
  try {
    dict = parsePythonLiteral(text);
  } catch (e) {
    throw new NpyFormatError(path, `malformed header ${quoteHeader(text)}: ${(e as Error).message}`);
  }
  if (!(dict instanceof Map)) {
    throw new NpyFormatError(path, `malformed header ${quoteHeader(text)}: expected a dict`);
  }
  const keys = [...dict.keys()].sort();
  if (keys.join() !== 'descr,fortran_order,shape') {
    throw new NpyFormatError(
      path,
      `malformed header ${quoteHeader(text)}: keys must be exactly 'descr', 'fortran_order', 'shape', found ${keys.length === 0 ? 'none' : clip(keys.map(pyRepr).join(', '), MAX_SHOWN)}`,
    );
  }

  const descr = dict.get('descr');
  const dtype = checkDescr(descr, path);
  const fortranOrder = dict.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') {
    throw new NpyFormatError(path, `malformed header: 'fortran_order' must be True or False, found ${shownRepr(fortranOrder)}`);
  }
  const shape = dict.get('shape');
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new NpyFormatError(path, `malformed header: 'shape' must be a tuple of non-negative integers, found ${shownRepr(shape)}`);
  }
  const dims = shape as number[];
  const itemSize = DTYPES[dtype].itemSize;
  // Exact: the data size must be a safe integer so that every offset computed from it is exact.
  const dataBytes = exactElementCount(dims) * BigInt(itemSize);
  if (dataBytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new NpyFormatError(path, `shape ${shownRepr(dims)} is too large: ${dataBytes} data bytes`);
  }
  return { version: [major, 0], dtype, shape: dims, fortranOrder, dataOffset: needed, itemSize };
}

function checkDescr(descr: unknown, path: string): NpyDtype {
  if (isNpyDtype(descr)) return descr;
  if (typeof descr === 'string') {
    // Numpy writes '<' or '>' for multi-byte types and '|' for single bytes; say which part is wrong.
    const swapped = descr.startsWith('>') ? `<${descr.slice(1)}` : null;
    if (swapped && isNpyDtype(swapped)) {
      throw new NpyFormatError(
        path,
        `big-endian dtype ${pyRepr(descr)} is not supported; convert with a.astype(${pyRepr(swapped)}) before saving`,
      );
    }
    // Byte order is meaningless for one byte; accept '<u1' etc. from other writers as '|u1'.
    if (/^[<>=]u1$/.test(descr)) return '|u1';
    if (/^[<>=]i1$/.test(descr)) return '|i1';
    if (/^[<>=]b1$/.test(descr)) return '|b1';
  }
  throw new NpyFormatError(
    path,
    `unsupported dtype ${shownRepr(descr)}; supported: ${Object.entries(DTYPES).map(([d, i]) => `'${d}' (${i.name})`).join(', ')}`,
  );
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

/** The value of IEEE 754 binary16 bits h (every float16 is exact in float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/** binary16 bits of x rounded to nearest, ties to even (overflow to infinity, as numpy). */
export function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  // Subnormal spacing 2^-24 below 2^-14, else 10 fraction bits below the leading one.
  const e = a < 2 ** -14 ? -14 : Math.floor(Math.log2(a));
  const exponent = a >= 2 ** (e + 1) ? e + 1 : a < 2 ** e ? e - 1 : e; // log2 can be off by one
  const ulp = 2 ** (Math.max(exponent, -14) - 10);
  let m = a / ulp;
  const f = Math.floor(m);
  m = m - f > 0.5 || (m - f === 0.5 && f % 2 === 1) ? f + 1 : f;
  const value = m * ulp;
  if (value > 65504) return sign | 0x7c00;
  if (value < 2 ** -14) return sign | m;
  const be = Math.floor(Math.log2(value));
  const exp = value >= 2 ** (be + 1) ? be + 1 : value < 2 ** be ? be - 1 : be;
  return sign | ((exp + 15) << 10) | ((value / 2 ** (exp - 10)) - 1024);
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

// ---- The Python literal subset of .npy headers: dicts, tuples, lists, strings, ints, True/False/None.

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

/** Nesting a real header never needs; deeper input is refused rather than overflowing the stack. */
const MAX_NESTING = 32;
/** Numbers and booleans, matched where the parser stands (sticky: no copy of the rest of the text). */
const WORD = /(-?\d+)[lL]?|(True|False|None)\b/y;

/** Parses one Python literal (the whole text, surrounding whitespace allowed). */
function parsePythonLiteral(text: string): PyValue {
  let i = 0;
  let depth = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${i}`);
  };
  const value = (): PyValue => {
    skip();
    const ch = text[i];
    if (ch === '{' || ch === '(' || ch === '[') {
      if (depth >= MAX_NESTING) fail(`nesting deeper than ${MAX_NESTING}`);
      depth++;
      const result = container(ch);
      depth--;
      return result;
    }
    return scalar(ch);
  };
  const container = (ch: string): PyValue => {
    if (ch === '{') {
      i++;
      const map = new Map<string, PyValue>();
      for (;;) {
        skip();
        if (text[i] === '}') { i++; return map; }
        const key = value();
        if (typeof key !== 'string') fail('dict key is not a string');
        skip();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        if (map.has(key as string)) fail(`duplicate key ${pyRepr(key)}`);
        map.set(key as string, value());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (ch === '(' || ch === '[') {
      const close = ch === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      let commas = 0;
      for (;;) {
        skip();
        if (text[i] === close) { i++; break; }
        items.push(value());
        skip();
        if (text[i] === ',') { i++; commas++; }
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
      // (x) without a comma is a parenthesised value, not a tuple.
      return ch === '(' && items.length === 1 && commas === 0 ? items[0] : items;
    }
    return fail('unreachable');
  };
  const scalar = (ch: string | undefined): PyValue => {
    if (ch === "'" || ch === '"') {
      i++;
      let s = '';
      while (i < text.length && text[i] !== ch) {
        if (text[i] === '\\') i++;
        s += text[i++];
      }
      if (i >= text.length) fail('unterminated string');
      i++;
      return s;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(text);
    if (word) {
      if (word[1] !== undefined) {
        const n = Number(word[1]);
        if (!Number.isSafeInteger(n)) fail(`integer ${clip(word[1], 40)} is too large`);
        i += word[0].length;
        return n;
      }
      i += word[0].length;
      return word[2] === 'True' ? true : word[2] === 'False' ? false : null;
    }
    return fail(i >= text.length ? 'unexpected end' : `unexpected ${quoted(String.fromCodePoint(text.codePointAt(i)!))}`);
  };
  const result = value();
  skip();
  if (i < text.length) fail('unexpected text after the value');
  return result;
}

/**
 * Python-like rendering of a header value for messages: '<f4', (3, 4), True; strings escaped (see
 * printable) and each cut to MAX_SHOWN characters. Use shownRepr for a bounded whole.
 */
function pyRepr(value: unknown): string {
  if (typeof value === 'string') return printable(value, MAX_SHOWN, "'");
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  if (Array.isArray(value)) return value.length === 1 ? `(${pyRepr(value[0])},)` : `(${value.map(pyRepr).join(', ')})`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  return String(value);
}

/** pyRepr cut to about `max` characters. */
function shownRepr(value: unknown, max = MAX_SHOWN): string {
  return clip(pyRepr(value), max);
}

/** Text already safe to print, cut to `max` characters with '…' (not inside a surrogate pair). */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + '…';
}

/** The header text for messages: quoted, escaped and cut to 120 characters. */
function quoteHeader(text: string): string {
  return quoted(text.trim(), 120);
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
