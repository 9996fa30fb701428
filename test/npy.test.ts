import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NpyFormatError, encodeNpy, floatToHalf, halfToFloat, npyHeaderLength, openNpyFile, parseNpyHeader, printable, quoted,
  readNpy, readNpyHeader, readNpyRows, writeNpy,
  type NpyDtype,
} from '../src/cli/npy.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xentropy-npy-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes bytes to a fresh temp file and returns its path. */
let counter = 0;
function temp(bytes: Uint8Array, name = 'a.npy'): string {
  const path = join(dir, `${counter++}-${name}`);
  writeFileSync(path, bytes);
  return path;
}

/** A .npy file with an arbitrary header text, for malformed inputs (the header is padded as numpy does). */
function rawNpy(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const len = Math.ceil((prefix + header.length + 1) / 64) * 64 - prefix;
  const text = header.padEnd(len - 1, ' ') + '\n';
  const out = new Uint8Array(prefix + len + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, len, true);
  else view.setUint32(8, len, true);
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i);
  out.set(data, prefix + len);
  return out;
}

/** Asserts that fn throws an NpyFormatError whose message names the path and contains every fragment. */
function expectNpyError(fn: () => unknown, path: string, ...fragments: string[]): NpyFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(NpyFormatError);
  const error = caught as NpyFormatError;
  expect(error.path).toBe(path);
  expect(error.message).toContain(path);
  for (const f of fragments) expect(error.message).toContain(f);
  return error;
}

// Files written by numpy 2.4 (np.lib.format.write_array), base64: the reader must accept numpy's own
// output and the writer must reproduce it byte for byte.
const NUMPY = {
  // np.array([[1.5, -2], [3, 4.25], [0, -0.5]], dtype=np.float32)
  f4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAQEAAAIhAAAAAAAAAAL8=',
  // np.array([0, 2, 1, -7], dtype=np.int64), version=(2, 0)
  i8v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoNCwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAIAAAAAAAAAAQAAAAAAAAD5/////////w==',
  // np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float64, order='F')
  fortran: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAADwPwAAAAAAABBAAAAAAAAAAEAAAAAAAAAUQAAAAAAAAAhAAAAAAAAAGEA=',
  // np.array([1, 2], dtype='>f4')
  bigEndian: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/gAAAQAAAAA==',
};
const fromBase64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe('round trips', () => {
  const cases: { dtype: NpyDtype; values: number[]; expected: number[]; type: typeof Float32Array | typeof Int32Array }[] = [
    { dtype: '<f4', values: [1.5, -2, 0, 3.25e10, -1e-30, Infinity], expected: [1.5, -2, 0, Math.fround(3.25e10), Math.fround(-1e-30), Infinity], type: Float32Array },
    // float64 is rounded to float32 on read.
    { dtype: '<f8', values: [0.1, -1 / 3, 1e300, 5e-324], expected: [Math.fround(0.1), Math.fround(-1 / 3), Infinity, 0], type: Float32Array },
    { dtype: '<i4', values: [0, -1, 2147483647, -2147483648], expected: [0, -1, 2147483647, -2147483648], type: Int32Array },
    { dtype: '<i8', values: [0, 9, -5, 2147483647, -2147483648], expected: [0, 9, -5, 2147483647, -2147483648], type: Int32Array },
    { dtype: '|u1', values: [0, 1, 200, 255], expected: [0, 1, 200, 255], type: Int32Array },
    { dtype: '<u2', values: [0, 7, 40000, 65535], expected: [0, 7, 40000, 65535], type: Int32Array },
    // bool, int8 and int16 are read for attention masks.
    { dtype: '|b1', values: [0, 1, 1, 0], expected: [0, 1, 1, 0], type: Int32Array },
    { dtype: '|i1', values: [0, -128, 127, 5], expected: [0, -128, 127, 5], type: Int32Array },
    { dtype: '<i2', values: [0, -32768, 32767, -3], expected: [0, -32768, 32767, -3], type: Int32Array },
    { dtype: '<u4', values: [0, 7, 2147483647], expected: [0, 7, 2147483647], type: Int32Array },
    { dtype: '<u8', values: [0, 7, 2147483647], expected: [0, 7, 2147483647], type: Int32Array },
    // float16 is read into float32 exactly; writing rounds to nearest, ties to even, and overflows to inf.
    { dtype: '<f2', values: [1.5, -2, 0, 65504, 1e5, 2 ** -24, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -Infinity], expected: [1.5, -2, 0, 65504, Infinity, 2 ** -24, 1, 1 + 2 ** -9, -Infinity], type: Float32Array },
  ];
  for (const { dtype, values, expected, type } of cases) {
    for (const version of [1, 2, 3] as const) {
      it(`${dtype}, format version ${version}`, () => {
        const path = join(dir, `rt-${dtype.slice(1)}-v${version}.npy`);
        writeNpy(path, dtype, [values.length], values, { version });
        const read = readNpy(path);
        expect(read.dtype).toBe(dtype);
        expect(read.shape).toEqual([values.length]);
        expect(read.data).toBeInstanceOf(type);
        expect(Array.from(read.data)).toEqual(expected);
      });
    }
  }

  it('float16: every bit pattern decodes and encodes back to itself', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = halfToFloat(h);
      if (Number.isNaN(x)) expect((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0).toBe(true);
      else expect(floatToHalf(x)).toBe(h);
    }
    // Halfway between 1 and the next float16 rounds to even (1); just above rounds up.
    expect(floatToHalf(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    expect(floatToHalf(65519)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00);
  });

  it('keeps 2-D shapes and C order', () => {
    const path = join(dir, 'rt-2d.npy');
    const values = Array.from({ length: 12 }, (_, i) => i - 5.5);
    writeNpy(path, '<f4', [3, 4], values);
    const read = readNpy(path);
    expect(read.shape).toEqual([3, 4]);
    expect(Array.from(read.data)).toEqual(values);
  });

  it('reads scalars and empty arrays', () => {
    const scalar = join(dir, 'rt-scalar.npy');
    writeNpy(scalar, '<f8', [], [2.5]);
    expect(readNpy(scalar)).toEqual({ dtype: '<f8', shape: [], data: new Float32Array([2.5]) });
    const empty = join(dir, 'rt-empty.npy');
    writeNpy(empty, '<f4', [0, 10], []);
    const read = readNpy(empty);
    expect(read.shape).toEqual([0, 10]);
    expect(read.data.length).toBe(0);
  });

  it('reads int64 values given as bigints', () => {
    const path = join(dir, 'rt-bigint.npy');
    writeNpy(path, '<i8', [2], [3n, -4n]);
    expect(Array.from(readNpy(path).data)).toEqual([3, -4]);
  });

  it('pads the header so the data is 64-byte aligned', () => {
    for (const version of [1, 2, 3] as const) {
      const header = parseNpyHeader(encodeNpy('<f4', [123456, 10], new Float32Array(1234560), { version }));
      expect(header.dataOffset % 64).toBe(0);
      expect(header.version).toEqual([version, 0]);
    }
  });
});

describe('numpy interoperability', () => {
  it('reads float32 written by numpy, and writes the same bytes', () => {
    const bytes = fromBase64(NUMPY.f4);
    const read = readNpy(temp(bytes));
    expect(read.shape).toEqual([3, 2]);
    expect(Array.from(read.data)).toEqual([1.5, -2, 3, 4.25, 0, -0.5]);
    expect(encodeNpy('<f4', [3, 2], [1.5, -2, 3, 4.25, 0, -0.5])).toEqual(bytes);
  });

  it('reads a version 2.0 int64 file written by numpy, and writes the same bytes', () => {
    const bytes = fromBase64(NUMPY.i8v2);
    const header = parseNpyHeader(bytes, 'x.npy');
    expect(header).toEqual({ version: [2, 0], dtype: '<i8', shape: [4], fortranOrder: false, dataOffset: 128, itemSize: 8 });
    expect(Array.from(readNpy(temp(bytes)).data)).toEqual([0, 2, 1, -7]);
    expect(encodeNpy('<i8', [4], [0, 2, 1, -7], { version: 2 })).toEqual(bytes);
  });

  it('accepts headers with double quotes, no trailing comma, Python 2 long suffixes and other key order', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const path = temp(rawNpy('{"shape": (2L, 3L), "fortran_order": False, "descr": "<f4"}', data));
    expect(readNpy(path)).toEqual({ dtype: '<f4', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
  });

  it("accepts '<u1' for uint8", () => {
    const path = temp(rawNpy("{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([7, 250])));
    expect(readNpy(path)).toEqual({ dtype: '|u1', shape: [2], data: new Int32Array([7, 250]) });
  });

  it('accepts fortran_order True for 1-D arrays, whose layout is the same', () => {
    const path = temp(rawNpy("{'descr': '<i4', 'fortran_order': True, 'shape': (2,), }", new Uint8Array(new Int32Array([4, 5]).buffer)));
    expect(Array.from(readNpy(path).data)).toEqual([4, 5]);
  });
});

describe('header and row reading for streaming', () => {
  const rows = 10, cols = 3;
  const values = Array.from({ length: rows * cols }, (_, i) => i * 0.5);

  it('npyHeaderLength says how many bytes parseNpyHeader needs', () => {
    const bytes = encodeNpy('<f8', [rows, cols], values, { version: 2 });
    expect(npyHeaderLength(bytes.subarray(0, 6))).toBe(12);
    expect(npyHeaderLength(bytes.subarray(0, 12))).toBe(128);
    expect(() => parseNpyHeader(bytes.subarray(0, 100), 'part.npy')).toThrow(/part\.npy: truncated header: need 128 bytes/);
    expect(parseNpyHeader(bytes.subarray(0, 128)).shape).toEqual([rows, cols]);
  });

  for (const dtype of ['<f4', '<f8'] as const) {
    it(`reads row ranges of ${dtype} with positioned reads, into a reused buffer`, () => {
      const path = join(dir, `rows-${dtype.slice(1)}.npy`);
      writeNpy(path, dtype, [rows, cols], values);
      const fd = openSync(path, 'r');
      try {
        const header = readNpyHeader(fd, path);
        expect(header).toMatchObject({ dtype, shape: [rows, cols], fortranOrder: false, itemSize: dtype === '<f4' ? 4 : 8 });
        expect(Array.from(readNpyRows(fd, header, 2, 4, path))).toEqual(values.slice(6, 12));
        const buffer = new Float32Array(4 * cols);
        const chunk = readNpyRows(fd, header, 7, 10, path, buffer);
        expect(chunk.buffer).toBe(buffer.buffer);
        expect(Array.from(chunk)).toEqual(values.slice(21, 30));
        expect(readNpyRows(fd, header, 5, 5, path).length).toBe(0);
        // Reads are positioned, so order does not matter.
        expect(Array.from(readNpyRows(fd, header, 0, 1, path))).toEqual(values.slice(0, 3));
        expect(() => readNpyRows(fd, header, 3, 11, path)).toThrow(RangeError);
        expect(() => readNpyRows(fd, header, 4, 3, path)).toThrow(RangeError);
        expect(() => readNpyRows(fd, header, 0, 5, path, new Float32Array(3))).toThrow(/out must be a Float32Array of at least 15/);
        expect(() => readNpyRows(fd, header, 0, 1, path, new Int32Array(3))).toThrow(RangeError);
      } finally {
        closeSync(fd);
      }
    });
  }

  it('reads rows of a 1-D integer array', () => {
    const path = join(dir, 'rows-1d.npy');
    writeNpy(path, '<u2', [6], [5, 4, 3, 2, 1, 0]);
    const fd = openSync(path, 'r');
    try {
      const header = readNpyHeader(fd, path);
      const got = readNpyRows(fd, header, 1, 4, path);
      expect(got).toBeInstanceOf(Int32Array);
      expect(Array.from(got)).toEqual([4, 3, 2]);
    } finally {
      closeSync(fd);
    }
  });
});

describe('errors name the file and what was found', () => {
  it('wrong magic', () => {
    const path = temp(new TextEncoder().encode('PK\x03\x04 this is a zip, not npy'));
    expectNpyError(() => readNpy(path), path, 'not a .npy file', '"PK\\x03\\x04 t"');
  });

  it('empty file', () => {
    const path = temp(new Uint8Array(0));
    expectNpyError(() => readNpy(path), path, 'found an empty file');
  });

  it('unsupported version', () => {
    const bytes = encodeNpy('<f4', [1], [1]);
    bytes[6] = 4;
    bytes[7] = 1;
    const path = temp(bytes);
    expectNpyError(() => readNpy(path), path, 'unsupported .npy format version 4.1');
  });

  it('Fortran order', () => {
    const path = temp(fromBase64(NUMPY.fortran));
    // The header alone is fine (a streaming caller may want to see it); reading data is refused.
    const fd = openSync(path, 'r');
    try {
      expect(readNpyHeader(fd, path).fortranOrder).toBe(true);
    } finally {
      closeSync(fd);
    }
    expectNpyError(() => readNpy(path), path, 'Fortran-ordered', 'fortran_order: True', '(2, 3)');
  });

  it('big-endian dtype', () => {
    const path = temp(fromBase64(NUMPY.bigEndian));
    expectNpyError(() => readNpy(path), path, "big-endian dtype '>f4'", "astype('<f4')");
  });

  it('unsupported dtypes', () => {
    for (const descr of ["'<c8'", "'|V2'", "'<f16'", "'<c16'", "'>i1x'"]) {
      const path = temp(rawNpy(`{'descr': ${descr}, 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(16)));
      expectNpyError(() => readNpy(path), path, `unsupported dtype ${descr}`, "'<f4' (float32)");
    }
    // A structured dtype is a list of fields.
    const path = temp(rawNpy("{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)));
    expectNpyError(() => readNpy(path), path, "unsupported dtype (('x', '<f4'), ('y', '<i4'))");
  });

  it('truncated data', () => {
    const full = encodeNpy('<f4', [4, 3], new Float32Array(12));
    const path = temp(full.subarray(0, full.length - 5));
    expectNpyError(() => readNpy(path), path, 'truncated file', '(4, 3)', 'needs 48 data bytes', 'found 43');
  });

  it('truncated header', () => {
    const full = encodeNpy('<f4', [4, 3], new Float32Array(12));
    for (const keep of [7, 9, 40]) {
      const path = temp(full.subarray(0, keep));
      expectNpyError(() => readNpy(path), path, 'truncated header');
    }
  });

  it('int64 labels outside int32', () => {
    const path = join(dir, 'big-i8.npy');
    writeNpy(path, '<i8', [3], [1, 2, 2 ** 40]);
    expectNpyError(() => readNpy(path), path, 'int64 value 1099511627776 at flat index 2 does not fit in int32');
    writeNpy(path, '<i8', [2], [0, -(2 ** 31) - 1]);
    expectNpyError(() => readNpy(path), path, 'int64 value -2147483649 at flat index 1');
    writeNpy(path, '<u4', [2], [0, 2 ** 31]);
    expectNpyError(() => readNpy(path), path, 'uint32 value 2147483648 at flat index 1 does not fit in int32');
    writeNpy(path, '<u8', [1], [2n ** 64n - 1n]);
    expectNpyError(() => readNpy(path), path, 'uint64 value 18446744073709551615 at flat index 0 does not fit in int32');
  });

  it('malformed headers', () => {
    const cases: [string, string][] = [
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "expected ',' or '}'"],
      ["{'descr': '<f4' 'fortran_order': False, 'shape': (1,), }", "expected ',' or '}'"],
      ["['descr', '<f4']", 'expected a dict'],
      ["{'descr': '<f4', 'shape': (1,), }", "found 'descr', 'shape'"],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "'extra'"],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,)}", "duplicate key 'shape'"],
      ["{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", "'fortran_order' must be True or False, found 0"],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (1, -2), }", "'shape' must be a tuple of non-negative integers, found (1, -2)"],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", "found 3"],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': ('a',), }", "found ('a',)"],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", 'unexpected text after the value'],
      ["{'descr: '<f4'}", 'malformed header'],
      ['', 'unexpected end'],
    ];
    for (const [header, fragment] of cases) {
      const path = temp(rawNpy(header, new Uint8Array(64)));
      expectNpyError(() => readNpy(path), path, fragment);
    }
  });

  it('unreadable files give Node errors naming the path', () => {
    const path = join(dir, 'does-not-exist.npy');
    expect(() => readNpy(path)).toThrow(/ENOENT.*does-not-exist\.npy/);
  });
});

describe('hostile input', () => {
  /** The first C0 or C1 control, DEL, zero-width, separator or bidi character in text, if any. */
  const rawControl = (text: string): string | undefined => {
    for (const ch of text) {
      const c = ch.codePointAt(0)!;
      if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x200b && c <= 0x200f)
        || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return `U+${c.toString(16)}`;
    }
    return undefined;
  };

  it('printable escapes what a terminal would act on, and bounds the length', () => {
    expect(printable('plain text, é ü 中文 ✓')).toBe('plain text, é ü 中文 ✓');
    expect(printable('\x1b[2J\x07\x00\x7f\x9b\n\t\r')).toBe('\\x1b[2J\\x07\\x00\\x7f\\x9b\\n\\t\\r');
    expect(printable('a\u202eb\u200bc\u2028d\ufeffe\ud800f\u{e0001}')).toBe('a\\u202eb\\u200bc\\u2028d\\ufeffe\\ud800f\\u{e0001}');
    expect(printable('x'.repeat(1000))).toBe('x'.repeat(200) + '…');
    expect(printable('\x1b'.repeat(1000)).length).toBeLessThanOrEqual(201);
    expect(printable('abc', 2)).toBe('ab…');
    // Escapes are never cut in half.
    expect(printable('ab\x1b', 4)).toBe('ab…');
    expect(quoted('say "hi" \\ \x1b')).toBe('"say \\"hi\\" \\\\ \\x1b"');
    expect(quoted('')).toBe('""');
  });

  it('header text in messages is escaped and bounded', () => {
    const evil = '\x1b]0;pwned\x07\x1b[2J\x9b';
    const big = 'B'.repeat(900_000);
    const headers = [
      `{'descr': '${evil}', 'fortran_order': False, 'shape': (1,), }`,
      `{'descr': '>${evil}', 'fortran_order': False, 'shape': (1,), }`,
      `{'descr': '<f4', 'fortran_order': '${evil}', 'shape': (1,), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': ('${evil}',), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (1,), '${evil}': 0}`,
      `{'descr': '<f4', '${evil}': 0, 'descr': 1}`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } ${evil}`,
      `${evil}`,
      `{'descr': '${big}', 'fortran_order': False, 'shape': (1,), }`,
      `{'descr': '<f4', 'fortran_order': ${big}, 'shape': (1,), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (1,), '${big}': 0}`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (${'7'.repeat(900_000)},), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (${'0, '.repeat(300_000)}'x'), }`,
    ];
    for (const header of headers) {
      const path = temp(rawNpy(header, new Uint8Array(0), 2));
      let message = '';
      try {
        readNpy(path);
      } catch (e) {
        expect(e).toBeInstanceOf(NpyFormatError);
        message = (e as Error).message;
      }
      expect(message).not.toBe('');
      expect(rawControl(message), message.slice(0, 300)).toBeUndefined();
      expect(message.length).toBeLessThan(800);
    }
  });

  it('deep nesting is refused, not a stack overflow', () => {
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(100_000)}1${')'.repeat(100_000)}, }`;
    const path = temp(rawNpy(header, new Uint8Array(0), 2));
    expectNpyError(() => readNpy(path), path, 'nesting deeper than 32');
  });

  it('shape arithmetic is exact beyond 2^53', () => {
    // 3 * 3002399751580331 = 2^53 + 1, which a double rounds to 2^53.
    const path = temp(rawNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 3002399751580331), }"));
    expectNpyError(() => readNpy(path), path, 'is too large: 9007199254740993 data bytes');
    // Just within: the size check is exact too (the file is far shorter than 2^53 - 1 bytes).
    const within = temp(rawNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (9007199254740991,), }"));
    expectNpyError(() => readNpy(within), within, 'needs 9007199254740991 data bytes after the 128-byte header, found 0');
  });

  it('a path with control characters is escaped in the message, and kept as given in error.path', () => {
    const path = temp(new TextEncoder().encode('not npy'), 'evil\x1b[2J.npy');
    let error: unknown;
    try {
      readNpy(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NpyFormatError);
    if (!(error instanceof NpyFormatError)) return;
    expect(error.path).toBe(path);
    expect(error.message).toContain('evil\\x1b[2J.npy: not a .npy file');
    expect(rawControl(error.message)).toBeUndefined();
  });

  it('openNpyFile and readNpy refuse FIFOs (without blocking), devices and directories', () => {
    const fifo = join(dir, 'pipe.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // No writer: a blocking open would hang here.
    expectNpyError(() => openNpyFile(fifo), fifo, 'is a FIFO, not a regular file');
    expectNpyError(() => readNpy(fifo), fifo, 'is a FIFO, not a regular file');
    expectNpyError(() => readNpy('/dev/zero'), '/dev/zero', 'is a character device, not a regular file');
    expectNpyError(() => readNpy(dir), dir, 'is a directory, not a regular file');
    const { fd, stats } = openNpyFile(temp(encodeNpy('<f4', [1], [1])));
    try {
      expect(stats.isFile()).toBe(true);
      expect(readNpyHeader(fd, 'ok.npy').shape).toEqual([1]);
    } finally {
      closeSync(fd);
    }
  });

  it('readNpyHeader refuses a descriptor that is not a regular file (a pipe has no size to check)', () => {
    const fifo = join(dir, 'pipe2.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const fd = openSync(fifo, 'r+'); // O_RDWR: does not block on Linux
    try {
      expectNpyError(() => readNpyHeader(fd, fifo), fifo, 'is a FIFO, not a regular file');
    } finally {
      closeSync(fd);
    }
  });
});

describe('writer argument checks', () => {
  it('refuses data that does not match the shape or dtype', () => {
    expect(() => encodeNpy('<f4', [2, 3], [1, 2, 3])).toThrow(new RangeError('data.length must be 6 for shape [2, 3], got 3'));
    expect(() => encodeNpy('<i4', [1], [1.5])).toThrow(/data\[0\] = 1\.5 is not an integer/);
    expect(() => encodeNpy('|u1', [2], [1, 256])).toThrow(/data\[1\] = 256 is outside \[0, 255\]/);
    expect(() => encodeNpy('<u2', [1], [-1])).toThrow(RangeError);
    expect(() => encodeNpy('<i4', [1], [2 ** 31])).toThrow(RangeError);
    expect(() => encodeNpy('<c8' as NpyDtype, [1], [1])).toThrow(TypeError);
    expect(() => encodeNpy('<f4', [-1], [])).toThrow(TypeError);
    expect(() => encodeNpy('<f4', [1], [1], { version: 4 as 1 })).toThrow(RangeError);
  });
});
