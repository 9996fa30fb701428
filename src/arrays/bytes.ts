// Reading .npy, .npz and .safetensors arrays from bytes in memory or a Blob (a File a page was given), in
// any runtime: the public face of src/arrays/reader.ts, exported as xentropy/eval. A Blob is read a slice at a
// time, so a large file is never held whole: openArray hands the data out in chunks, as the command
// line reads its files.

import { HOST_LITTLE_ENDIAN, describeValue } from './npy.js';
import {
  ELEMENT_SIZE, type ArrayReader, type ByteSource, type ElementType, arrayNames, openArrayIn,
} from './reader.js';

/** Where an array file's bytes are: in memory, or a Blob (a File from an <input type="file"> or a drop). */
export type ArraySource = Uint8Array | ArrayBuffer | Blob;

/** Options of openArray and readArray. */
export interface OpenArrayOptions {
  /**
   * The array to read from a .npz archive (a member, with or without '.npy') or a .safetensors file (a
   * tensor); needed when the file holds more than one. A .npy file holds one array and takes none.
   */
  name?: string;
  /** Names the file in messages (default: the File's name, else '<bytes>'). */
  label?: string;
}

/** One array of a file, as listArrays finds it. */
export interface ArrayInfo {
  /** Its name in a .npz or .safetensors file (the option openArray takes); undefined for a .npy file. */
  name?: string;
  format: 'npy' | 'npz' | 'safetensors';
  /** Its element type and shape; undefined when it cannot be read (see error). */
  type?: ElementType;
  shape?: number[];
  /** Why the array cannot be read (an unsupported dtype, a damaged member); the others still can. */
  error?: string;
}

/** A whole array read by readArray. */
export interface ArrayData {
  /** Names the array in messages: the file, and ':NAME' for a member. */
  label: string;
  type: ElementType;
  shape: number[];
  /**
   * The elements in C order, in their own type: Float32Array, Float64Array, Uint16Array (the bits of
   * float16 and bfloat16, which the scorer and the losses take with `dtype`), Int8Array to Int32Array,
   * Uint8Array (also bool) to Uint32Array, BigInt64Array, BigUint64Array. No conversion is made.
   */
  data: Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
}

/** The typed array each element type is read into. */
const VIEWS: Record<ElementType, new (buffer: ArrayBuffer) => ArrayData['data']> = {
  float16: Uint16Array, bfloat16: Uint16Array, float32: Float32Array, float64: Float64Array,
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array,
};

/**
 * Opens one array of a .npy, .npz or .safetensors file held in `source` (the format is told by the first
 * bytes): its type and shape are read, and its data are handed out in order by `read(count)`, a chunk at a
 * time. Deflated .npz members are inflated with DecompressionStream('deflate-raw'). Call `close()` when done.
 * @throws TypeError for a source that is not a Uint8Array, ArrayBuffer or Blob, or options that are not
 *   strings; NpyFormatError (ArrayFileError, its subclass) for a file that is not a readable array (the
 *   message starts with the label), a missing or unnamed member of a file of several
 */
export async function openArray(source: ArraySource, options: OpenArrayOptions = {}): Promise<ArrayReader> {
  const { name, label } = checkOptions(options, true);
  const file = byteSource(source);
  return openArrayIn(file, { path: label ?? defaultLabel(source), name });
}

/**
 * The arrays a file holds, with their types and shapes: one (without a name) for a .npy file, every
 * member of a .npz archive, every tensor of a .safetensors file (its `__metadata__` left out). A member
 * that cannot be read is listed with `error` rather than failing the list.
 * @throws TypeError as openArray; NpyFormatError for a file that is not a readable .npy, .npz or .safetensors
 */
export async function listArrays(source: ArraySource, options: Pick<OpenArrayOptions, 'label'> = {}): Promise<ArrayInfo[]> {
  const { label } = checkOptions(options, false);
  const path = label ?? defaultLabel(source);
  const file = byteSource(source);
  const { format, names } = await arrayNames(file, path);
  const out: ArrayInfo[] = [];
  for (const name of names) {
    try {
      const reader = await openArrayIn(file, { path, name });
      reader.close();
      out.push({ ...(name === undefined ? {} : { name }), format, type: reader.type, shape: reader.shape });
    } catch (e) {
      if (format === 'npy') throw e;
      out.push({ name, format, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

/**
 * Reads one array whole (see openArray), into a typed array of its own element type.
 * @throws as openArray; RangeError when the array is too large for one typed array
 */
export async function readArray(source: ArraySource, options: OpenArrayOptions = {}): Promise<ArrayData> {
  const reader = await openArray(source, options);
  try {
    const count = reader.shape.reduce((a, b) => a * b, 1);
    const buffer = new ArrayBuffer(count * ELEMENT_SIZE[reader.type]);
    await reader.read(count, new Uint8Array(buffer));
    await reader.finish();
    const size = ELEMENT_SIZE[reader.type];
    if (!HOST_LITTLE_ENDIAN && size > 1) {
      const bytes = new Uint8Array(buffer);
      for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
    }
    return { label: reader.label, type: reader.type, shape: reader.shape, data: new VIEWS[reader.type](buffer) };
  } finally {
    reader.close();
  }
}

function checkOptions(options: unknown, named: boolean): OpenArrayOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object, got ${describeValue(options)}`);
  const { name, label } = options as OpenArrayOptions;
  if (named && name !== undefined && typeof name !== 'string') throw new TypeError(`options.name must be a string, got ${describeValue(name)}`);
  if (label !== undefined && typeof label !== 'string') throw new TypeError(`options.label must be a string, got ${describeValue(label)}`);
  return { name: named ? name : undefined, label };
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob === 'function' && value instanceof Blob;
}

/** A File's name, else '<bytes>'. */
function defaultLabel(source: ArraySource): string {
  const name = (source as { name?: unknown }).name;
  return isBlob(source) && typeof name === 'string' && name !== '' ? name : '<bytes>';
}

/** Random access to a Uint8Array, an ArrayBuffer or a Blob. */
function byteSource(source: unknown): ByteSource {
  if (source instanceof ArrayBuffer) source = new Uint8Array(source);
  if (source instanceof Uint8Array) {
    const bytes = source;
    return {
      size: bytes.length,
      read: (position, length, into) => {
        const part = bytes.subarray(position, position + length);
        if (into === undefined) return part;
        into.set(part);
        return into.subarray(0, part.length);
      },
    };
  }
  if (isBlob(source)) {
    const blob = source;
    return {
      size: blob.size,
      read: async (position, length, into) => {
        const part = new Uint8Array(await blob.slice(position, position + length).arrayBuffer());
        if (into === undefined) return part;
        into.set(part);
        return into.subarray(0, part.length);
      },
    };
  }
  throw new TypeError(`source must be a Uint8Array, an ArrayBuffer or a Blob (a File), got ${describeValue(source)}`);
}
