// The .npy format's header (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// its magic string, version and Python-literal dict, parsed from bytes, and the escaping of file- and
// user-derived text in messages. Runs in any runtime (no node: import): the readers of src/arrays/
// (bytes, Blobs) and the command line's file readers (src/cli/npy.ts) share it.

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

/** A short description of a value for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return printable(JSON.stringify(value), 60);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value !== 'object' && typeof value !== 'function') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `Array(${value.length})`;
  const name = (value as object).constructor?.name;
  if (ArrayBuffer.isView(value)) return `${name ?? 'a view'}(${(value as { length?: number }).length ?? value.byteLength})`;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
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

export const DTYPES: Record<NpyDtype, DtypeInfo> = {
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


export const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** magic (6) + version (2) + header length (2 in v1, 4 in v2/v3). */
export const PREFIX_V1 = 10;
export const PREFIX_V2 = 12;
/** NumPy itself refuses headers over 10 000 bytes by default; this only guards against garbage lengths. */
export const MAX_HEADER_BYTES = 1 << 20;

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Number of elements of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The same, exactly (shapes come from files: their product may be far beyond 2^53). */
export function exactElementCount(shape: readonly number[]): bigint {
  let count = 1n;
  for (const d of shape) count *= BigInt(d);
  return count;
}

/** Elements per row: the product of every dimension after the first (1 for a 1-D array). */
export function rowSize(shape: readonly number[]): number {
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
export function shownRepr(value: unknown, max = MAX_SHOWN): string {
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

export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}