// Writers of the container files the command line reads (.npz: a zip of .npy members; .safetensors),
// for tests: small files made in the test itself, with knobs to produce the odd layouts (ZIP64 records,
// stored or deflated members) and to damage them.

import { crc32, deflateRawSync } from 'node:zlib';

/** One member of a zip archive. */
export interface ZipMember {
  /** The member's name ('logits.npy' holds the array 'logits'). */
  name: string;
  data: Uint8Array;
  /** 0 stored, 8 deflated (default 0). */
  method?: 0 | 8;
}

/** Options of zip. */
export interface ZipOptions {
  /**
   * Write ZIP64 records as numpy's writer (Python's zipfile with force_zip64) and large archives do:
   * 0xffffffff in the 32-bit fields, the values in ZIP64 extra fields, and a ZIP64 end record.
   */
  zip64?: boolean;
  /** An archive comment (after the end record, where readers must search for the record). */
  comment?: string;
}

/** A zip archive of the members, in order. */
export function zip(members: readonly ZipMember[], options: ZipOptions = {}): Uint8Array {
  const zip64 = options.zip64 === true;
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const method = m.method ?? 0;
    const body = method === 8 ? new Uint8Array(deflateRawSync(m.data)) : m.data;
    const crc = crc32(m.data);
    const name = new TextEncoder().encode(m.name);
    const extra64 = (values: number[]) => {
      const e = new DataView(new ArrayBuffer(4 + 8 * values.length));
      e.setUint16(0, 1, true);
      e.setUint16(2, 8 * values.length, true);
      values.forEach((v, i) => e.setBigUint64(4 + 8 * i, BigInt(v), true));
      return new Uint8Array(e.buffer);
    };
    const localExtra = zip64 ? extra64([m.data.length, body.length]) : new Uint8Array(0);
    const local = new Uint8Array(30 + name.length + localExtra.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, zip64 ? 45 : 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, zip64 ? 0xffffffff : body.length, true);
    lv.setUint32(22, zip64 ? 0xffffffff : m.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, localExtra.length, true);
    local.set(name, 30);
    local.set(localExtra, 30 + name.length);
    locals.push(local, body);

    const centralExtra = zip64 ? extra64([m.data.length, body.length, offset]) : new Uint8Array(0);
    const central = new Uint8Array(46 + name.length + centralExtra.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, zip64 ? 45 : 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, zip64 ? 0xffffffff : body.length, true);
    cv.setUint32(24, zip64 ? 0xffffffff : m.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, centralExtra.length, true);
    cv.setUint32(42, zip64 ? 0xffffffff : offset, true);
    central.set(name, 46);
    central.set(centralExtra, 46 + name.length);
    centrals.push(central);
    offset += local.length + body.length;
  }
  const dirSize = centrals.reduce((a, c) => a + c.length, 0);
  const dirOffset = offset;
  const tail: Uint8Array[] = [];
  if (zip64) {
    const record = new DataView(new ArrayBuffer(56));
    record.setUint32(0, 0x06064b50, true);
    record.setBigUint64(4, 44n, true);
    record.setUint16(12, 45, true);
    record.setUint16(14, 45, true);
    record.setBigUint64(24, BigInt(members.length), true);
    record.setBigUint64(32, BigInt(members.length), true);
    record.setBigUint64(40, BigInt(dirSize), true);
    record.setBigUint64(48, BigInt(dirOffset), true);
    const locator = new DataView(new ArrayBuffer(20));
    locator.setUint32(0, 0x07064b50, true);
    locator.setBigUint64(8, BigInt(dirOffset + dirSize), true);
    locator.setUint32(16, 1, true);
    tail.push(new Uint8Array(record.buffer), new Uint8Array(locator.buffer));
  }
  const comment = new TextEncoder().encode(options.comment ?? '');
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, zip64 ? 0xffff : members.length, true);
  end.setUint16(10, zip64 ? 0xffff : members.length, true);
  end.setUint32(12, zip64 ? 0xffffffff : dirSize, true);
  end.setUint32(16, zip64 ? 0xffffffff : dirOffset, true);
  end.setUint16(20, comment.length, true);
  return concat([...locals, ...centrals, ...tail, new Uint8Array(end.buffer), comment]);
}

/** One tensor of a safetensors file: its dtype name (F32, BF16...), shape and little-endian bytes. */
export interface SafeTensor {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/**
 * A .safetensors file: an 8-byte little-endian header length, the JSON header (data_offsets relative
 * to the end of the header), the data. `header` replaces the JSON text, for malformed files.
 */
export function safetensors(tensors: Record<string, SafeTensor>, metadata?: Record<string, string>, header?: string): Uint8Array {
  const entries: Record<string, unknown> = {};
  if (metadata !== undefined) entries.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    entries[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  const json = new TextEncoder().encode(header ?? JSON.stringify(entries));
  const length = new DataView(new ArrayBuffer(8));
  length.setBigUint64(0, BigInt(json.length), true);
  return concat([new Uint8Array(length.buffer), json, ...Object.values(tensors).map((t) => t.data)]);
}

/** Little-endian bytes of values in a safetensors / numpy element type. */
export function bytesOf(type: string, values: ArrayLike<number | bigint>): Uint8Array {
  const size = { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 }[type];
  if (size === undefined) throw new Error(`bytesOf: unknown type ${type}`);
  const out = new DataView(new ArrayBuffer(values.length * size));
  for (let i = 0; i < values.length; i++) {
    const big = values[i];
    const v = Number(big);
    const at = i * size;
    switch (type) {
      case 'F64': out.setFloat64(at, v, true); break;
      case 'F32': out.setFloat32(at, v, true); break;
      case 'F16': out.setUint16(at, halfBits(v), true); break;
      case 'BF16': out.setUint16(at, bfloat16Bits(v), true); break;
      case 'I64': out.setBigInt64(at, BigInt(big), true); break;
      case 'U64': out.setBigUint64(at, BigInt(big), true); break;
      case 'U32': out.setUint32(at, v, true); break;
      case 'I32': out.setInt32(at, v, true); break;
      case 'I16': out.setInt16(at, v, true); break;
      case 'U16': out.setUint16(at, v, true); break;
      case 'I8': out.setInt8(at, v); break;
      default: out.setUint8(at, v); break;
    }
  }
  return new Uint8Array(out.buffer);
}

/** float16 bits of a value that float16 holds exactly (the tests choose such values). */
function halfBits(v: number): number {
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, v);
  const bits = f.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const fraction = bits & 0x7fffff;
  if (v === 0) return sign;
  if (exponent <= 0 || exponent >= 31 || (fraction & 0x1fff) !== 0) throw new Error(`halfBits: ${v} is not a normal float16`);
  return sign | (exponent << 10) | (fraction >>> 13);
}

/** bfloat16 bits of a value that bfloat16 holds exactly. */
function bfloat16Bits(v: number): number {
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, v);
  const bits = f.getUint32(0);
  if ((bits & 0xffff) !== 0) throw new Error(`bfloat16Bits: ${v} is not a bfloat16`);
  return bits >>> 16;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
