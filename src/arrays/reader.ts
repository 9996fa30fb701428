// The arrays scoring reads: a .npy array, one member of a .npz archive (stored or deflated), one tensor
// of a .safetensors file, each opened as an ArrayReader that hands out its data in order, a chunk at a
// time, so that the logits are never held whole. The format is told by the first bytes, not the name.
//
// Runs in any runtime (no node: import): the bytes come from a ByteSource, random access to a file's
// bytes (a Uint8Array, a Blob, or the command line's file descriptor: src/cli/arrays.ts), and deflated
// .npz members are inflated by DecompressionStream('deflate-raw') (browsers, Node >= 18, Deno, Bun)
// unless the caller passes its own inflater (the command line passes node:zlib's). The public entry is
// src/arrays/bytes.ts, exported as xentropy/eval; the command line adds files, FILE:NAME and standard input.

import {
  HOST_LITTLE_ENDIAN, MAX_SHOWN, NpyFormatError, type NpyDtype, type NpyHeader, dtypeName, latin1, npyHeaderLength,
  parseNpyHeader, printable, quoted,
} from './npy.js';

/** Element types of the arrays read (NumPy's names). */
export type ElementType =
  | 'float16' | 'bfloat16' | 'float32' | 'float64'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';

/** Bytes per element. */
export const ELEMENT_SIZE: Record<ElementType, number> = {
  float16: 2, bfloat16: 2, float32: 4, float64: 8,
  int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, bool: 1,
};

/** True for the floating-point element types. */
export function isFloat(type: ElementType): boolean {
  return type === 'float16' || type === 'bfloat16' || type === 'float32' || type === 'float64';
}

/** The safetensors dtypes read, and their element types. */
const SAFETENSORS_DTYPES: Record<string, ElementType> = {
  F16: 'float16', BF16: 'bfloat16', F32: 'float32', F64: 'float64',
  I8: 'int8', U8: 'uint8', I16: 'int16', U16: 'uint16', I32: 'int32', U32: 'uint32', I64: 'int64', U64: 'uint64', BOOL: 'bool',
};

/** An error in an archive or safetensors file: the message starts with the file (and member). */
export class ArrayFileError extends NpyFormatError {
  constructor(path: string, message: string) {
    super(path, message);
    this.name = 'ArrayFileError';
  }
}

/** One array opened for reading, its data handed out in order. */
export interface ArrayReader {
  /** Names the array in messages: the path as given, with ':NAME' for a member of an archive. */
  readonly label: string;
  /** The file as given ('-' for standard input; a Blob's name, or the label given for bytes). */
  readonly path: string;
  readonly format: 'npy' | 'npz' | 'safetensors';
  readonly type: ElementType;
  readonly shape: number[];
  /**
   * The next `count` elements' little-endian bytes. `into`, when given, must hold count × element size
   * bytes and is filled and returned (a reused buffer); the result is valid until the next call.
   * @throws ArrayFileError when the data ends early
   */
  read(count: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * Called once the data are read: checks what can only be checked at the end (a deflated member's
   * size and CRC-32, read to its end).
   * @throws ArrayFileError for a damaged member
   */
  finish(): Promise<void>;
  /** Releases the file or stream; safe to call more than once. */
  close(): void;
}

/** What an array argument names: a file (as named in messages) and, in an archive, a member. */
export interface ArraySpec {
  path: string;
  name?: string;
}

/**
 * Random access to the bytes of one file: a Uint8Array, a Blob, a file descriptor.
 * @internal
 */
export interface ByteSource {
  /** The file's length in bytes. */
  readonly size: number;
  /**
   * The bytes [position, position + length), fewer only where the file ends first. With `into` (of at
   * least `length` bytes), they are written there and a view of it is returned; without, the result may
   * be a view of the source's own memory, valid until the next read.
   */
  read(position: number, length: number, into?: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Releases the source (a file descriptor); called once the array is read, or when opening it fails. Idempotent. */
  close?(): void;
}

/**
 * An inflater of raw deflate data (a deflated .npz member): the compressed chunks in, the inflated
 * chunks out; `close` stops it early.
 * @internal
 */
export type Inflater = (compressed: AsyncIterable<Uint8Array>) => { output: AsyncIterable<Uint8Array>; close(): void };

/** How the readers inflate and check deflated members (the command line passes node:zlib's). @internal */
export interface ReadOptions {
  /** Default: DecompressionStream('deflate-raw'). */
  inflateRaw?: Inflater;
  /** CRC-32 of `data` continuing from `value`. Default: a table-driven one in JavaScript. */
  crc32?: (data: Uint8Array, value: number) => number;
}

/**
 * Opens an array of a file: the format is told by its first bytes (.npy magic, zip signature, else
 * safetensors); `spec.path` names the file in messages (and, for a file of neither kind, its extension
 * picks whose error it gets), `spec.name` a member of a .npz or a tensor of a .safetensors file.
 * The source is closed when opening fails, and by the reader's close.
 * @throws NpyFormatError / ArrayFileError for a malformed file, a missing member, or a name given for a .npy file
 * @internal
 */
export async function openArrayIn(file: ByteSource, spec: ArraySpec, options: ReadOptions = {}): Promise<ArrayReader> {
  try {
    const kind = await sniff(file, spec.path);
    if (kind === 'npy') {
      if (spec.name !== undefined) {
        throw new ArrayFileError(spec.path, `a .npy file holds one array; there is no array named ${quoted(spec.name)} in it`);
      }
      return await openNpyAt(spec.path, spec.path, file, 0, file.size);
    }
    if (kind === 'npz') return await openNpzMember(spec, file, options);
    return await openSafetensors(spec, file);
  } catch (e) {
    file.close?.();
    throw e;
  }
}

/**
 * The names of the arrays a file holds: [undefined] for a .npy (one array, no name), the members of a
 * .npz archive (without '.npy'), the tensors of a .safetensors file. Does not close the source.
 * @throws NpyFormatError / ArrayFileError for a malformed file
 * @internal
 */
export async function arrayNames(file: ByteSource, path: string): Promise<{ format: ArrayReader['format']; names: (string | undefined)[] }> {
  const kind = await sniff(file, path);
  if (kind === 'npy') return { format: 'npy', names: [undefined] };
  if (kind === 'npz') return { format: 'npz', names: (await npzEntries(path, file)).map((e) => arrayName(e.name)) };
  return { format: 'safetensors', names: (await safetensorsHeader(path, file)).names };
}

/** A file's format, from its first bytes; the name only picks whose error a file of neither kind gets. */
async function sniff(file: ByteSource, path: string): Promise<ArrayReader['format']> {
  const head = await file.read(0, 8);
  const npy = head.length >= 6 && head[0] === 0x93 && latin1(head.subarray(1, 6)) === 'NUMPY';
  const zip = head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
  if (npy || (!zip && /\.npy$/i.test(path))) return 'npy';
  if (zip || /\.npz$/i.test(path)) return 'npz';
  return 'safetensors';
}

/** Raw deflate through DecompressionStream('deflate-raw'), the web platform's (browsers, Node >= 18, Deno, Bun). @internal */
export const decompressionStreamInflater: Inflater = (compressed) => {
  if (typeof DecompressionStream !== 'function') {
    throw new TypeError('DecompressionStream is not available in this runtime: a deflated .npz member cannot be read (save it with np.savez, not np.savez_compressed)');
  }
  const iterator = compressed[Symbol.asyncIterator]();
  const input = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel() {
      void iterator.return?.();
    },
  });
  // The cast: TypeScript's DOM types give the stream's chunks as BufferSource, which Uint8Array is.
  const reader = input.pipeThrough(new DecompressionStream('deflate-raw') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>).getReader();
  let closed = false;
  return {
    output: {
      async* [Symbol.asyncIterator]() {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      },
    },
    close: () => {
      if (closed) return;
      closed = true;
      reader.cancel().catch(() => {});
    },
  };
};

/** CRC-32 (the zip polynomial), table-driven; the table is built on first use. @internal */
export function crc32(data: Uint8Array, value = 0): number {
  let table = crcTable;
  if (table === undefined) {
    table = crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
let crcTable: Int32Array | undefined;

// ---- .npy: in a file (at an offset, for stored .npz members) or on a stream.

/** A .npy array at [start, start + length) of an open file, read with positioned reads. */
async function openNpyAt(path: string, label: string, file: ByteSource, start: number, length: number): Promise<ArrayReader> {
  const prefix = await file.read(start, Math.min(12, length));
  const needed = npyHeaderLength(prefix, label);
  if (needed > MAX_NPY_HEADER) {
    throw new NpyFormatError(label, `malformed header: header length ${needed} bytes exceeds ${MAX_NPY_HEADER}`);
  }
  if (needed > length) throw new NpyFormatError(label, `truncated header: need ${needed} bytes, the file has ${length}`);
  const header = parseNpyHeader(await file.read(start, needed), label);
  const type = npyElementType(header.dtype);
  checkOrder(header.fortranOrder, header.shape, label);
  checkDataFits(header, length, label);
  return positionedReader(path, label, 'npy', type, header.shape, file, start + needed);
}

/** Longest .npy header read (numpy itself writes a few hundred bytes). */
const MAX_NPY_HEADER = 1 << 20;

/** A .npy array on a byte stream (standard input, a deflated .npz member). */
export async function openNpyStream(
  path: string, label: string, stream: ByteStream, format: 'npy' | 'npz' = 'npy', length?: number,
): Promise<ArrayReader> {
  try {
    let bytes = await stream.take(8, label, true);
    if (bytes.length === 0) throw new NpyFormatError(label, 'not a .npy file: expected the magic string "\\x93NUMPY", found an empty file');
    let needed = npyHeaderLength(bytes, label);
    if (bytes.length < 8) throw new NpyFormatError(label, `truncated header: need ${needed} bytes, found ${bytes.length}`);
    bytes = concat(bytes, await stream.take(needed - 8, label));
    needed = npyHeaderLength(bytes, label);
    if (needed > MAX_NPY_HEADER) {
      throw new NpyFormatError(label, `malformed header: header length ${needed} bytes exceeds ${MAX_NPY_HEADER}`);
    }
    bytes = concat(bytes, await stream.take(needed - bytes.length, label));
    const header = parseNpyHeader(bytes, label);
    checkOrder(header.fortranOrder, header.shape, label);
    const type = npyElementType(header.dtype);
    // A member's size is known: a header claiming more data is refused before a chunk is allocated for it.
    if (length !== undefined) checkDataFits(header, length, label);
    return {
      label, path, format, type, shape: header.shape,
      read: (count, into) => stream.take(count * ELEMENT_SIZE[type], label, false, into),
      // Standard input is not drained: whatever follows the array is not ours to wait for.
      finish: async () => {
        if (format === 'npz') await stream.drain(label);
      },
      close: () => stream.close(),
    };
  } catch (e) {
    stream.close();
    throw e;
  }
}

/** Refuses a header whose shape needs more data than the `length` bytes of the file or member hold. */
function checkDataFits(header: NpyHeader, length: number, label: string): void {
  // Exact (bigint): shape products of a crafted header can be far beyond 2^53.
  const dataBytes = exactCount(header.shape) * BigInt(header.itemSize);
  const found = length - header.dataOffset;
  if (BigInt(found) < dataBytes) {
    throw new NpyFormatError(
      label,
      `truncated file: shape ${shapeText(header.shape)} of ${dtypeName(header.dtype)} needs ${dataBytes} data bytes after the ${header.dataOffset}-byte header, found ${found}`,
    );
  }
}

function npyElementType(dtype: NpyDtype): ElementType {
  return dtypeName(dtype) as ElementType;
}

function checkOrder(fortranOrder: boolean, shape: readonly number[], label: string): void {
  if (fortranOrder && shape.length >= 2) {
    throw new NpyFormatError(label, `Fortran-ordered arrays are not supported (shape ${shapeText(shape)}); save np.ascontiguousarray(a) instead`);
  }
}

/** An array whose data lie at `offset` of a regular file. */
function positionedReader(
  path: string, label: string, format: ArrayReader['format'], type: ElementType, shape: number[], file: ByteSource, offset: number,
): ArrayReader {
  let position = offset;
  return {
    label, path, format, type, shape,
    read: async (count, into) => {
      const length = count * ELEMENT_SIZE[type];
      const got = await file.read(position, length, into?.subarray(0, length));
      if (got.length < length) throw new ArrayFileError(label, `truncated file: expected ${length} bytes at offset ${position}, found ${got.length}`);
      position += length;
      return got;
    },
    finish: async () => {},
    close: () => file.close?.(),
  };
}

// ---- .npz: a zip archive of .npy members.

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** Largest central directory read: a few hundred bytes per member. */
const MAX_CENTRAL_DIRECTORY = 64 << 20;

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** The members of a zip file, from its central directory (ZIP64 records read where present). */
async function readZipDirectory(path: string, file: ByteSource): Promise<ZipEntry[]> {
  const size = file.size;
  const bad = (what: string): never => {
    throw new ArrayFileError(path, `not a readable .npz (zip) file: ${what}`);
  };
  // The end record is 22 bytes plus a comment of up to 65 535 bytes, at the very end.
  const tailStart = Math.max(0, size - (22 + 0xffff));
  const tail = await file.read(tailStart, size - tailStart);
  const tv = view(tail);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) bad('no end of central directory record (a truncated or damaged archive)');
  if (tv.getUint16(at + 4, true) !== 0 || tv.getUint16(at + 6, true) !== 0) bad('multi-disk archives are not supported');
  let count = tv.getUint16(at + 10, true);
  let dirSize = tv.getUint32(at + 12, true);
  let dirOffset = tv.getUint32(at + 16, true);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    // ZIP64: the locator sits just before the end record and points at the ZIP64 end record.
    const locatorAt = tailStart + at - 20;
    if (locatorAt < 0) bad('a ZIP64 archive without its locator');
    const locator = view(await file.read(locatorAt, 20));
    if (locator.getUint32(0, true) !== ZIP64_LOCATOR) bad('a ZIP64 archive without its locator');
    const recordAt = safeNumber(locator.getBigUint64(8, true), bad);
    const record = await file.read(recordAt, 56);
    const rv = view(record);
    if (record.length < 56 || rv.getUint32(0, true) !== ZIP64_EOCD) bad('the ZIP64 end record is missing');
    count = safeNumber(rv.getBigUint64(32, true), bad);
    dirSize = safeNumber(rv.getBigUint64(40, true), bad);
    dirOffset = safeNumber(rv.getBigUint64(48, true), bad);
  }
  if (dirSize > MAX_CENTRAL_DIRECTORY) bad(`a central directory of ${dirSize} bytes (at most ${MAX_CENTRAL_DIRECTORY})`);
  if (dirOffset + dirSize > size) bad(`the central directory [${dirOffset}, ${dirOffset + dirSize}) lies beyond the end of the file (${size} bytes)`);
  const dir = await file.read(dirOffset, dirSize);
  const dv = view(dir);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > dir.length || dv.getUint32(p, true) !== CENTRAL) bad(`central directory entry ${k} is damaged`);
    const nameLength = dv.getUint16(p + 28, true);
    const extraLength = dv.getUint16(p + 30, true);
    const commentLength = dv.getUint16(p + 32, true);
    const end = p + 46 + nameLength + extraLength + commentLength;
    if (end > dir.length) bad(`central directory entry ${k} is damaged`);
    const flags = dv.getUint16(p + 8, true);
    const name = (flags & 0x800 ? new TextDecoder() : { decode: latin1 }).decode(dir.subarray(p + 46, p + 46 + nameLength));
    let compressedSize = dv.getUint32(p + 20, true);
    let entrySize = dv.getUint32(p + 24, true);
    let localOffset = dv.getUint32(p + 42, true);
    // ZIP64 extra field (id 1): the 64-bit values of the fields that are 0xffffffff, in this order.
    const extraEnd = p + 46 + nameLength + extraLength;
    for (let e = p + 46 + nameLength; e + 4 <= extraEnd;) {
      const id = dv.getUint16(e, true);
      const length = dv.getUint16(e + 2, true);
      if (e + 4 + length > extraEnd) bad(`the extra field of ${quoted(name)} is damaged`);
      if (id === 1) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + length) bad(`the ZIP64 field of ${quoted(name)} is too short`);
          const v = safeNumber(dv.getBigUint64(q, true), bad);
          q += 8;
          return v;
        };
        if (entrySize === 0xffffffff) entrySize = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      e += 4 + length;
    }
    entries.push({
      name, flags, method: dv.getUint16(p + 10, true), crc: dv.getUint32(p + 16, true), compressedSize, size: entrySize, localOffset,
    });
    p = end;
  }
  return entries;
}

/** The array name of a .npz member: 'logits.npy' holds the array 'logits' (np.savez's naming). */
function arrayName(member: string): string {
  return member.endsWith('.npy') ? member.slice(0, -4) : member;
}

/** Names for a message: '"a", "b"', bounded. */
function nameList(names: readonly string[]): string {
  const shown = names.slice(0, 20).map((n) => quoted(n, 100)).join(', ');
  return names.length > 20 ? `${shown}, … (${names.length} arrays)` : shown;
}

/** The members of an archive that hold arrays (folders left out). */
async function npzEntries(path: string, file: ByteSource): Promise<ZipEntry[]> {
  return (await readZipDirectory(path, file)).filter((e) => !e.name.endsWith('/'));
}

async function openNpzMember(spec: ArraySpec, file: ByteSource, options: ReadOptions): Promise<ArrayReader> {
  const path = spec.path;
  const size = file.size;
  const entries = await npzEntries(path, file);
  const names = entries.map((e) => arrayName(e.name));
  let entry: ZipEntry;
  if (spec.name === undefined) {
    if (entries.length !== 1) {
      throw new ArrayFileError(
        path,
        entries.length === 0 ? 'the archive holds no arrays' : `the archive holds ${entries.length} arrays: choose one as FILE:NAME, one of ${nameList(names)}`,
      );
    }
    entry = entries[0];
  } else {
    const found = entries.find((e) => arrayName(e.name) === spec.name || e.name === spec.name);
    if (found === undefined) {
      throw new ArrayFileError(path, `no array named ${quoted(spec.name)}; the archive holds ${names.length === 0 ? 'none' : nameList(names)}`);
    }
    entry = found;
  }
  const label = `${path}:${arrayName(entry.name)}`;
  if (entry.flags & 1) throw new ArrayFileError(label, 'the member is encrypted');
  if (entry.method !== 0 && entry.method !== 8) {
    throw new ArrayFileError(label, `compression method ${entry.method} is not supported (only stored and deflated members)`);
  }
  // The data follow the local header, whose name and extra field may differ in length from the central ones.
  const local = await file.read(entry.localOffset, 30);
  const lv = view(local);
  if (local.length < 30 || lv.getUint32(0, true) !== LOCAL) throw new ArrayFileError(label, `no local file header at offset ${entry.localOffset}`);
  const dataStart = entry.localOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
  if (dataStart + entry.compressedSize > size) {
    throw new ArrayFileError(label, `truncated archive: the member's ${entry.compressedSize} bytes at offset ${dataStart} run past the end of the file (${size} bytes)`);
  }
  if (entry.method === 0) {
    if (entry.size !== entry.compressedSize) throw new ArrayFileError(label, 'a stored member whose sizes disagree');
    return { ...(await openNpyAt(path, label, file, dataStart, entry.size)), format: 'npz' };
  }
  const inflater = (options.inflateRaw ?? decompressionStreamInflater)(compressedChunks(file, dataStart, entry.compressedSize));
  const stream = new ByteStream(checked(inflater.output, entry, label, options.crc32 ?? crc32), () => inflater.close());
  // On failure openNpyStream releases the stream and openArray closes the source; after, close does both.
  const reader = await openNpyStream(path, label, stream, 'npz', entry.size);
  return {
    ...reader,
    close: () => {
      reader.close();
      file.close?.();
    },
  };
}

/** The compressed bytes of a member, a megabyte at a time. */
async function* compressedChunks(file: ByteSource, start: number, length: number): AsyncGenerator<Uint8Array> {
  for (let done = 0; done < length;) {
    const n = Math.min(1 << 20, length - done);
    // A copy: a source may hand out views of its own memory, which a decompressor may hold on to.
    const chunk = (await file.read(start + done, n)).slice();
    if (chunk.length === 0) return;
    done += chunk.length;
    yield chunk;
  }
}

/** The inflated bytes, checked against the member's size and CRC-32 at the end. */
async function* checked(
  source: AsyncIterable<Uint8Array>, entry: ZipEntry, label: string, crc32: (data: Uint8Array, value: number) => number,
): AsyncGenerator<Uint8Array> {
  let crc = 0;
  let total = 0;
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > entry.size) throw new ArrayFileError(label, `the member inflates to more than its recorded ${entry.size} bytes`);
      crc = crc32(chunk, crc);
      yield chunk;
    }
  } catch (e) {
    if (e instanceof NpyFormatError) throw e;
    throw new ArrayFileError(label, `damaged deflate data: ${printable((e as Error).message, MAX_SHOWN)}`);
  }
  if (total !== entry.size) throw new ArrayFileError(label, `the member inflates to ${total} bytes, ${entry.size} recorded`);
  if (crc >>> 0 !== entry.crc) throw new ArrayFileError(label, 'CRC-32 mismatch: the member is damaged');
}

// ---- .safetensors: an 8-byte header length, a JSON header, the data.

/** The format's own limit on the JSON header. */
const MAX_SAFETENSORS_HEADER = 100_000_000;

/** The header of a .safetensors file, parsed: its JSON object, where the data start, and the tensors' names. */
async function safetensorsHeader(path: string, file: ByteSource): Promise<{ header: Record<string, unknown>; dataStart: number; names: string[] }> {
  const size = file.size;
  const bad = (what: string): never => {
    throw new ArrayFileError(path, what);
  };
  if (size < 8) bad(`not a .npy, .npz or .safetensors file: ${size === 0 ? 'an empty file' : `only ${size} bytes`}`);
  const start = await file.read(0, 8);
  const lengthBig = view(start).getBigUint64(0, true);
  if (lengthBig > BigInt(MAX_SAFETENSORS_HEADER) || lengthBig + 8n > BigInt(size)) {
    bad(
      lengthBig + 8n > BigInt(size) && lengthBig <= BigInt(MAX_SAFETENSORS_HEADER)
        ? `truncated .safetensors file: a ${lengthBig}-byte header does not fit in ${size} bytes`
        : `not a .npy, .npz or .safetensors file (it starts with ${quoted(latin1(start))})`,
    );
  }
  const headerLength = Number(lengthBig);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(await file.read(8, headerLength));
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    bad(`malformed .safetensors header (${printable((e as Error).message, MAX_SHOWN)}); it starts ${quoted(text, 120)}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) bad('malformed .safetensors header: not a JSON object');
  const names = Object.keys(header as object).filter((k) => k !== '__metadata__');
  return { header: header as Record<string, unknown>, dataStart: 8 + headerLength, names };
}

async function openSafetensors(spec: ArraySpec, file: ByteSource): Promise<ArrayReader> {
  const path = spec.path;
  const size = file.size;
  const bad = (what: string): never => {
    throw new ArrayFileError(path, what);
  };
  const { header, dataStart, names } = await safetensorsHeader(path, file);
  let name: string;
  if (spec.name === undefined) {
    if (names.length !== 1) {
      bad(names.length === 0 ? 'the file holds no tensors' : `the file holds ${names.length} tensors: choose one as FILE:NAME, one of ${nameList(names)}`);
    }
    name = names[0];
  } else {
    if (!names.includes(spec.name)) bad(`no tensor named ${quoted(spec.name)}; the file holds ${names.length === 0 ? 'none' : nameList(names)}`);
    name = spec.name;
  }
  const label = `${path}:${name}`;
  const entry = header[name] as Record<string, unknown> | null;
  const fail = (what: string): never => {
    throw new ArrayFileError(label, `malformed .safetensors entry: ${what}`);
  };
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail('not an object');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') fail(`dtype ${quoted(String(dtype))} is not a string`);
  const type = SAFETENSORS_DTYPES[dtype as string];
  if (type === undefined || !Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, dtype as string)) {
    throw new ArrayFileError(label, `unsupported dtype ${quoted(dtype as string)}; supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0) || shape.length > 64) {
    fail(`shape must be a list of non-negative integers, found ${quoted(JSON.stringify(shape) ?? String(shape))}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0) || offsets[0] > offsets[1]) {
    fail(`data_offsets must be [begin, end] with 0 <= begin <= end, found ${quoted(JSON.stringify(offsets) ?? String(offsets))}`);
  }
  const dims = shape as number[];
  const [begin, end] = offsets as number[];
  const want = exactCount(dims) * BigInt(ELEMENT_SIZE[type]);
  if (BigInt(end - begin) !== want) {
    fail(`shape ${shapeText(dims)} of ${dtype} needs ${want} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  if (dataStart + end > size) {
    throw new ArrayFileError(label, `truncated file: the tensor's bytes [${dataStart + begin}, ${dataStart + end}) run past the end of the file (${size} bytes)`);
  }
  return positionedReader(path, label, 'safetensors', type, dims, file, dataStart + begin);
}

// ---- Byte streams.

/** Sequential reads of exact lengths from an async iterable of byte chunks. */
export class ByteStream {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;
  private closed = false;
  /** Bytes handed out so far, for messages. */
  private offset = 0;

  constructor(source: AsyncIterable<Uint8Array>, private readonly release: () => void = () => {}) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /**
   * The next `length` bytes (into `into` when given). With `partial`, fewer when the stream ends first;
   * without it, a stream that ends first is an ArrayFileError naming `label`.
   */
  async take(length: number, label = '<stream>', partial = false, into?: Uint8Array): Promise<Uint8Array> {
    const out = into?.subarray(0, length) ?? new Uint8Array(length);
    let done = 0;
    while (done < length) {
      if (this.pending.length === 0) {
        if (this.ended) break;
        const next = await this.next(label);
        if (next.done) {
          this.ended = true;
          break;
        }
        this.pending = next.value instanceof Uint8Array ? next.value : new Uint8Array(next.value as ArrayBuffer);
        continue;
      }
      const n = Math.min(length - done, this.pending.length);
      out.set(this.pending.subarray(0, n), done);
      this.pending = this.pending.subarray(n);
      done += n;
    }
    const start = this.offset;
    this.offset += done;
    if (done < length && !partial) {
      throw new ArrayFileError(label, `truncated data: expected ${length} bytes at offset ${start} of the data stream, it ended after ${done}`);
    }
    return done === length ? out : out.subarray(0, done);
  }

  /** Reads to the end of the stream, discarding what is left. */
  async drain(label = '<stream>'): Promise<void> {
    this.pending = new Uint8Array(0);
    while (!this.ended) {
      const next = await this.next(label);
      if (next.done) this.ended = true;
    }
  }

  /** The source's next chunk; its failure (a reset pipe, an I/O error) becomes an ArrayFileError naming `label`. */
  private async next(label: string): Promise<IteratorResult<Uint8Array>> {
    try {
      return await this.iterator.next();
    } catch (e) {
      if (e instanceof NpyFormatError) throw e;
      throw new ArrayFileError(label, `cannot read: ${printable(e instanceof Error ? e.message : String(e), MAX_SHOWN)}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.iterator.return?.().catch(() => {});
    this.release();
  }
}

// ---- Element conversion.

/** Copies bytes into a fresh buffer when a typed array cannot view them in place (alignment, byte order). */
function aligned(bytes: Uint8Array, size: number): Uint8Array {
  if (bytes.byteOffset % size === 0 && HOST_LITTLE_ENDIAN) return bytes;
  const copy = new Uint8Array(bytes);
  if (!HOST_LITTLE_ENDIAN && size > 1) {
    for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  }
  return copy;
}

/** The float data as stored: Float32Array, Float64Array, or Uint16Array bits for float16 and bfloat16. */
export type FloatData = Float32Array | Float64Array | Uint16Array;

/** A view of little-endian float bytes in their own element type (no conversion). */
export function floatView(bytes: Uint8Array, type: ElementType): FloatData {
  const size = ELEMENT_SIZE[type];
  const b = aligned(bytes, size);
  const n = bytes.length / size;
  if (type === 'float32') return new Float32Array(b.buffer, b.byteOffset, n);
  if (type === 'float64') return new Float64Array(b.buffer, b.byteOffset, n);
  if (type === 'float16' || type === 'bfloat16') return new Uint16Array(b.buffer, b.byteOffset, n);
  throw new TypeError(`floatView: ${type} is not a float type`);
}

/** What the scorer is handed for a chunk of logits: a tensor of the file's own element type. */
export interface ScorerFloats { data: FloatData; dims: number[]; type: 'float32' | 'float64' | 'float16' | 'bfloat16' }

/**
 * The one place file data become scorer input: a tensor of the file's element type, which the kernels
 * widen (float16, bfloat16) or narrow (float64) as they stage it; no float32 copy is made here.
 */
export function floatInput(data: FloatData, dims: readonly number[], type: ElementType): ScorerFloats {
  if (type !== 'float32' && type !== 'float64' && type !== 'float16' && type !== 'bfloat16') {
    throw new TypeError(`floatInput: ${type} is not a float type`);
  }
  return { data, dims: [...dims], type };
}

/** A float16 value from its bits, through a table of every pattern (built on first use). */
function halfBits(h: number): number {
  if (halfTable === undefined) {
    halfTable = new Float32Array(0x10000);
    for (let i = 0; i < 0x10000; i++) {
      const sign = i & 0x8000 ? -1 : 1;
      const exponent = (i >> 10) & 0x1f;
      const fraction = i & 0x3ff;
      halfTable[i] = exponent === 0 ? sign * fraction * 2 ** -24
        : exponent === 31 ? (fraction ? NaN : sign * Infinity)
          : sign * (1024 + fraction) * 2 ** (exponent - 25);
    }
  }
  return halfTable[h];
}
let halfTable: Float32Array | undefined;

/** One float of `data` as a number (for checks that look at values: the probability guard). */
export function floatAt(data: FloatData, type: ElementType, i: number): number {
  if (type === 'float16') return halfBits(data[i]);
  if (type === 'bfloat16') {
    bfScratch[0] = data[i] << 16;
    return bfScratchF[0];
  }
  return data[i];
}
const bfScratch = new Uint32Array(1);
const bfScratchF = new Float32Array(bfScratch.buffer);

/** Reads element i of little-endian integer bytes (bigint for the 64-bit types). */
const INTEGER_READERS: Partial<Record<ElementType, (dv: DataView, i: number) => number | bigint>> = {
  bool: (dv, i) => (dv.getUint8(i) === 0 ? 0 : 1),
  int8: (dv, i) => dv.getInt8(i),
  uint8: (dv, i) => dv.getUint8(i),
  int16: (dv, i) => dv.getInt16(i * 2, true),
  uint16: (dv, i) => dv.getUint16(i * 2, true),
  int32: (dv, i) => dv.getInt32(i * 4, true),
  uint32: (dv, i) => dv.getUint32(i * 4, true),
  int64: (dv, i) => dv.getBigInt64(i * 8, true),
  uint64: (dv, i) => dv.getBigUint64(i * 8, true),
};

/**
 * Integer (or bool) data as Int32Array: labels, or with `mask` an attention mask as 0/1 (any nonzero
 * value counts, so no value is out of range).
 * @param firstIndex flat index of the first element, for messages
 * @throws ArrayFileError for a label outside the int32 range
 */
export function intData(bytes: Uint8Array, type: ElementType, label: string, firstIndex = 0, mask = false): Int32Array {
  const read = INTEGER_READERS[type];
  if (read === undefined) throw new TypeError(`intData: ${type} is not an integer type`);
  const n = bytes.length / ELEMENT_SIZE[type];
  const dv = view(bytes);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = read(dv, i);
    if (mask) {
      out[i] = v === 0 || v === 0n ? 0 : 1;
    } else if (v < -2147483648 || v > 2147483647) {
      throw new ArrayFileError(label, `${type} value ${v} at flat index ${firstIndex + i} does not fit in int32 [-2147483648, 2147483647]`);
    } else {
      out[i] = Number(v);
    }
  }
  return out;
}

// ---- Small helpers.

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function safeNumber(v: bigint, bad: (what: string) => never): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(`a size or offset of ${v} bytes`);
  return Number(v);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Number of elements of a shape, exactly (shapes come from files). */
function exactCount(shape: readonly number[]): bigint {
  let count = 1n;
  for (const d of shape) count *= BigInt(d);
  return count;
}

/** Number of elements of a shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A shape for messages: '[20, 4]'; cut short for a crafted header with very many dimensions. */
export function shapeText(shape: readonly number[]): string {
  const text = `[${shape.slice(0, 20).join(', ')}`;
  return shape.length > 20 ? `${text}, … (${shape.length} dimensions)]` : `${text}]`;
}

