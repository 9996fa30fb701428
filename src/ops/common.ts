// What every operation shares: argument checks (used by the WebAssembly runners and the float64
// reference alike, so both refuse the same calls with the same errors), reductions and units. Checks
// run before any kernel call, so a refused call has written nothing. TypeError means a wrong type,
// RangeError a wrong size or value; every message names the argument and shows the value received.

import { Resident, type Driver, type ResidentDtype } from '../engine/driver.js';
import type { ElementCheck } from '../engine/element_checks.js';
import type { FloatData, FloatKind } from '../engine/staging.js';

export type { FloatData, FloatKind };

/** Integer typed arrays and plain arrays accepted as class-index targets. */
export type IndexTarget = Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array | readonly number[];

// Arguments are read once, from what the engine itself knows of them: a typed array's kind, buffer,
// offset and length come from its internal slots (not from getters a subclass or an own property may
// override, nor through a Proxy), inputs are read through a plain view made from those, and options
// from own properties only, each once, into a snapshot. So no value can be one thing when checked and
// another when used.

const TypedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype) as object;
const slot = (key: PropertyKey) => Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)!.get! as (this: unknown) => unknown;
const kindSlot = slot(Symbol.toStringTag), bufferSlot = slot('buffer'), offsetSlot = slot('byteOffset');
const lengthSlot = slot('length'), byteLengthSlot = slot('byteLength');
const resizableSlot = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable')?.get;

const freedGetter = Object.getOwnPropertyDescriptor(Resident.prototype, 'freed')!.get!;
const dtypeGetter = Object.getOwnPropertyDescriptor(Resident.prototype, 'dtype')!.get!;

/**
 * True for a genuine resident buffer of any element type. Its private fields are the brand: a Proxy
 * of one, or an object with its prototype, is none (instanceof would accept both, and their use
 * would then fail).
 */
export function isAnyResident(value: unknown): value is Resident<ResidentDtype> {
  try {
    freedGetter.call(value);
    return true;
  } catch {
    return false;
  }
}

/** @internal A genuine resident buffer's element type, read through the class's own getter. */
export function dtypeOf(resident: Resident<ResidentDtype>): ResidentDtype {
  return dtypeGetter.call(resident) as ResidentDtype;
}

/**
 * True for a genuine float32 resident buffer (see isAnyResident): the one every argument that is read
 * as float32 only (outputs, targets, weights) takes; a half buffer passed there is refused by type.
 */
export function isResident(value: unknown): value is Resident {
  return isAnyResident(value) && dtypeOf(value) === 'float32';
}

/** The kind of a real typed array ('Float32Array', 'Int32Array', ...), else undefined (a Proxy or look-alike has none). */
export function typedArrayKind(value: unknown): string | undefined {
  return ArrayBuffer.isView(value) ? kindSlot.call(value) as string | undefined : undefined;
}

/** Buffer, byte offset, length and byte length of a real typed array, from its internal slots. */
function slotsOf(view: ArrayBufferView): { buffer: ArrayBufferLike; byteOffset: number; length: number; byteLength: number } {
  return {
    buffer: bufferSlot.call(view) as ArrayBufferLike, byteOffset: offsetSlot.call(view) as number,
    length: lengthSlot.call(view) as number, byteLength: byteLengthSlot.call(view) as number,
  };
}

/** True for a resizable ArrayBuffer (a SharedArrayBuffer can only grow, which leaves a view whole). */
function isResizable(buffer: ArrayBufferLike): boolean {
  try {
    return resizableSlot?.call(buffer) === true;
  } catch {
    return false;
  }
}

/**
 * @internal
 * A plain view of a typed array input, made once from its internal slots: what every later read goes
 * through. TypeError for a detached buffer, and for a resizable one, which a getter could shrink
 * during the call.
 */
export function plainView<T>(name: string, value: ArrayBufferView, View: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => T): T {
  checkAttached(name, value);
  const { buffer, byteOffset, length } = slotsOf(value);
  if (isResizable(buffer)) {
    const kind = typedArrayKind(value)!;
    throw new TypeError(`${name} is ${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind} on a resizable ArrayBuffer, which xentropy does not read; copy it into a fixed-length one`);
  }
  return new View(buffer, byteOffset, length);
}

/** A short, safe description of any value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'boolean' || typeof value === 'symbol') return String(value);
  if (typeof value === 'function') return 'a function';
  const kind = typedArrayKind(value);
  if (kind) return `${kind}(${slotsOf(value as ArrayBufferView).length})`;
  if (ArrayBuffer.isView(value)) return `DataView(${(value as DataView).byteLength})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  const name = (value as object).constructor?.name;
  if (name && name !== 'Object' && looksTyped(value)) return `a ${name} that is not one (a Proxy, or an object with its prototype)`;
  // A resident buffer that fails the brand check: most likely another copy of this library's, from a
  // module system that loaded the package twice (a test runner's VM modules: docs/runtimes.md).
  if (name === 'Resident' && !isAnyResident(value)) return 'a Resident of another copy of xentropy (the package loaded twice, as test runners\' VM modules do: see "Test runners" in docs/runtimes.md)';
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** True for what passes `instanceof` a typed array class without being one (a Proxy of one, a look-alike). */
function looksTyped(value: unknown): boolean {
  try {
    return value instanceof (TypedArray as abstract new () => unknown);
  } catch {
    return true;
  }
}
const TypedArray = Object.getPrototypeOf(Int8Array) as unknown;

/**
 * True when the view's buffer has been transferred away. A detached view reads as length 0, which
 * would otherwise pass for an empty batch. (ArrayBuffer.prototype.detached is missing before Node 22.)
 */
function isDetached(view: ArrayBufferView): boolean {
  const { buffer: b, byteLength } = typedArrayKind(view) ? slotsOf(view) : { buffer: view.buffer, byteLength: view.byteLength };
  if (byteLength !== 0) return false;
  const buffer = b as ArrayBuffer & { detached?: boolean };
  if (buffer.detached !== undefined) return buffer.detached;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** @internal True when a real typed array lies on a SharedArrayBuffer, which another thread may be writing. */
export function onSharedMemory(view: ArrayBufferView): boolean {
  try {
    arrayBufferByteLength.call(bufferSlot.call(view));
    return false;
  } catch {
    return true;
  }
}
const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!;

/** Throws TypeError when a typed array argument's buffer is detached. */
export function checkAttached(name: string, view: ArrayBufferView): void {
  if (isDetached(view)) throw new TypeError(`${name} is a ${typedArrayKind(view) ?? 'view'} whose buffer is detached`);
}

/**
 * A Float32Array input that may also be a resident buffer (xe.alloc / xe.tensor), resolved to a view
 * (a plain one, see plainView); `resident` is the handle, so that the caller can use its address
 * after memory grows.
 */
export function checkFloat32OrResident(
  name: string, value: unknown,
): { array: Float32Array; resident: Resident | null; dims: number[] | null } {
  if (isAnyResident(value)) {
    if (value.freed) throw new TypeError(`${name} is a resident buffer that was freed`);
    if (dtypeOf(value) !== 'float32') {
      throw new TypeError(`${name} is a ${dtypeOf(value)} resident buffer; ${name} takes float32 only (xe.alloc(n) without dtype)`);
    }
    return { array: (value as Resident).array, resident: value as Resident, dims: null };
  }
  const { data, dims } = unwrapTensor(name, value);
  return { array: checkFloat32(name, data), resident: null, dims };
}

/** A TypeError for a float16 or bfloat16 tensor where only float32 is read (its bits would not be values). */
function refuseHalfTensor(name: string, type: unknown): void {
  if (type === 'float16' || type === 'bfloat16') {
    throw new TypeError(`${name} is a ${type} tensor; ${name} is read as float32 only (convert it to a float32 tensor)`);
  }
}

/** A Float32Array input (or a float32 tensor) as a plain view; TypeError unless it is one, attached and of fixed length. */
export function checkFloat32(name: string, value: unknown): Float32Array {
  let data = value;
  if (typedArrayKind(value) === undefined) {
    const tensor = unwrapTensor(name, value);
    data = tensor.data;
    refuseHalfTensor(name, tensor.type);
  }
  if (typedArrayKind(data) !== 'Float32Array') {
    throw new TypeError(`${name} must be a Float32Array${conversionHint(data)}, got ${describe(data)}`);
  }
  return plainView(name, data as Float32Array, Float32Array);
}

/**
 * A float input as a typed array: float32 or float64 values, float16 values (a Float16Array, where the
 * runtime has one), or float16 / bfloat16 bit patterns in a Uint16Array (with options.dtype).
 */
export type FloatArrayInput = Float32Array | Float64Array | Uint16Array | Float16ArrayLike;

/** A float input argument: any FloatArrayInput, or a resident buffer of any dtype (xe.alloc, xe.tensor). */
export type FloatValues = FloatArrayInput | Resident<ResidentDtype>;

/** A Float16Array, where the runtime (and TypeScript's lib) has one; otherwise never. */
export type Float16ArrayLike = typeof globalThis extends { Float16Array: { prototype: infer A } } ? A : never;

/** Element types of half-precision data held as bit patterns in a Uint16Array (options.dtype). */
export type HalfDtype = 'float16' | 'bfloat16';

/**
 * A float input (logits, probabilities, log-probabilities) as read: its elements (float32 values,
 * float64 values, or the bit patterns of float16 / bfloat16 values), their kind, the resident handle
 * when it is one, and the tensor's dims.
 */
export interface FloatInput {
  data: FloatData;
  kind: FloatKind;
  resident: Resident<ResidentDtype> | null;
  dims: number[] | null;
}

/** @internal An input read once (takeFloatInput), before options.dtype says what a Uint16Array holds. */
export interface TakenInput {
  data: unknown;
  dims: number[] | null;
  type: unknown;
  resident: Resident<ResidentDtype> | null;
}

/** @internal Reads a float argument once: a resident buffer, or a tensor object unwrapped, or the value itself. */
export function takeFloatInput(name: string, value: unknown): TakenInput {
  if (isAnyResident(value)) {
    if (value.freed) throw new TypeError(`${name} is a resident buffer that was freed`);
    return { data: value, dims: null, type: undefined, resident: value };
  }
  const { data, dims, type } = unwrapTensor(name, value);
  return { data, dims, type, resident: null };
}

/** @internal Checks options.dtype: undefined, 'float16' or 'bfloat16'. */
export function checkDtype(name: string, value: unknown): HalfDtype | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TypeError(`${name} must be 'float16' or 'bfloat16', got ${describe(value)}`);
  if (value !== 'float16' && value !== 'bfloat16') {
    throw new RangeError(`${name} must be 'float16' or 'bfloat16' (what a Uint16Array input's bits hold), got ${describe(value)}`);
  }
  return value;
}

const HALF_KIND: Record<HalfDtype, FloatKind> = { float16: 'f16', bfloat16: 'bf16' };
const TENSOR_KIND: Record<string, FloatKind> = { float32: 'f32', float16: 'f16', bfloat16: 'bf16', float64: 'f64' };

/**
 * @internal
 * A taken float input resolved to its elements and kind. Accepted: Float32Array, Float64Array,
 * Float16Array (where the runtime has it), Uint16Array with `dtype` ('float16' or 'bfloat16' bits),
 * tensors of type float32 / float64 / float16 / bfloat16 (ORT keeps float16 data in a Uint16Array),
 * and resident buffers of any dtype. `dtype` only applies to Uint16Array data: given with anything
 * else it is a TypeError, unless `lenient` (an op with two inputs, which checks that one used it).
 */
export function resolveFloatInput(
  name: string, taken: TakenInput, dtype: HalfDtype | undefined, dtypeName = 'options.dtype', lenient = false,
): FloatInput {
  const { data, dims, type, resident } = taken;
  const refuseDtype = (what: string): void => {
    if (dtype !== undefined && !lenient) {
      throw new TypeError(`${dtypeName} = '${dtype}' applies to a Uint16Array of half bits, but ${name} is ${what}; leave ${dtypeName} out`);
    }
  };
  if (resident) {
    // Resolved again after the caller's code may have run (a label getter): it may have freed the buffer.
    if (resident.freed) throw new TypeError(`${name} is a resident buffer that was freed`);
    const dt = dtypeOf(resident);
    const kind: FloatKind = dt === 'float16' ? 'f16' : dt === 'bfloat16' ? 'bf16' : 'f32';
    if (kind === 'f32') refuseDtype('a float32 resident buffer');
    else if (dtype !== undefined && HALF_KIND[dtype] !== kind) {
      throw new RangeError(`${dtypeName} = '${dtype}' disagrees with ${name}, a ${dt} resident buffer`);
    }
    return { data: resident.array, kind, resident, dims };
  }
  const tensorKind = type === undefined ? undefined : TENSOR_KIND[type as string];
  if (type !== undefined && tensorKind === undefined && typeof type === 'string' && typedArrayKind(data) !== 'Float32Array') {
    throw new TypeError(`${name} is a tensor of type ${describe(type)}; xentropy reads float32, float64, float16 and bfloat16 tensors here`);
  }
  const kind = typedArrayKind(data);
  switch (kind) {
    case 'Float32Array':
      refuseDtype('a Float32Array');
      return { data: plainView(name, data as Float32Array, Float32Array), kind: 'f32', resident: null, dims };
    case 'Float64Array':
      refuseDtype('a Float64Array');
      return { data: plainView(name, data as Float64Array, Float64Array), kind: 'f64', resident: null, dims };
    case 'Float16Array':
      refuseDtype('a Float16Array');
      // Its bits, as a Uint16Array over the same memory: the kernels widen them.
      return { data: plainView(name, data as ArrayBufferView, Uint16Array), kind: 'f16', resident: null, dims };
    case 'Uint16Array': {
      const fromType = tensorKind === 'f16' || tensorKind === 'bf16' ? tensorKind : undefined;
      if (dtype !== undefined && fromType !== undefined && HALF_KIND[dtype] !== fromType) {
        throw new RangeError(`${dtypeName} = '${dtype}' disagrees with ${name}, a tensor of type '${type as string}'`);
      }
      const half = dtype !== undefined ? HALF_KIND[dtype] : fromType;
      if (half === undefined) {
        throw new TypeError(
          `${name} is a Uint16Array: pass ${dtypeName} 'float16' or 'bfloat16' to say what its bits hold (or a Float32Array of values)`,
        );
      }
      return { data: plainView(name, data as Uint16Array, Uint16Array), kind: half, resident: null, dims };
    }
    default:
      throw new TypeError(
        `${name} must be a Float32Array, Float64Array, Float16Array, a Uint16Array of float16 / bfloat16 bits (with ${dtypeName}), a float tensor or a resident buffer, got ${describe(data)}`,
      );
  }
}

/**
 * @internal
 * A float argument read once, now, for an op whose options (and so options.dtype) come after it: the
 * argument's own type errors are thrown here, in the order they always were, unless it is a
 * Uint16Array, which waits for the dtype. `finish(dtype)` gives the resolved input.
 */
export function floatInputReader(
  name: string, value: unknown,
): { dims: number[] | null; length: number; halfBits: boolean; finish(dtype: HalfDtype | undefined, lenient?: boolean): FloatInput } {
  const taken = takeFloatInput(name, value);
  const early = !taken.resident && typedArrayKind(taken.data) === 'Uint16Array' ? null : resolveFloatInput(name, taken, undefined);
  return {
    dims: taken.dims,
    length: early ? early.data.length : plainView(name, taken.data as Uint16Array, Uint16Array).length,
    // What options.dtype may describe: a Uint16Array, or a half resident buffer.
    halfBits: !early || (taken.resident !== null && early.kind !== 'f32'),
    // With a dtype, resolved again: that refuses a dtype given with anything but half bits (unless lenient).
    finish: (dtype, lenient = false) => (early && dtype === undefined ? early : resolveFloatInput(name, taken, dtype, 'options.dtype', lenient)),
  };
}

/** @internal takeFloatInput and resolveFloatInput at once, for a call whose dtype is already known. */
export function readFloatInput(name: string, value: unknown, dtype: HalfDtype | undefined, dtypeName?: string, lenient = false): FloatInput {
  return resolveFloatInput(name, takeFloatInput(name, value), dtype, dtypeName, lenient);
}

/**
 * @internal
 * A float input's values as float32 in JavaScript, exactly as the widen kernel makes them (float16 and
 * bfloat16 exactly, NaN payloads kept; float64 rounded to nearest even, as Math.fround): the float64
 * reference and the JavaScript element checks read these. float32 data is returned as it is.
 */
export function widenValues(data: FloatData, kind: FloatKind): Float32Array {
  if (kind === 'f32') return data as Float32Array;
  if (kind === 'f64') return Float32Array.from(data as Float64Array);
  const bits = data as Uint16Array;
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    if (kind === 'bf16') {
      outBits[i] = h << 16 >>> 0;
      continue;
    }
    const sign = (h & 0x8000) << 16 >>> 0, e = (h >> 10) & 31, m = h & 1023;
    if (e === 31) outBits[i] = (sign | 0x7f800000 | (m << 13)) >>> 0;
    else {
      const v = (e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25));
      out[i] = sign ? -v : v;
    }
  }
  return out;
}

/** How to turn an array of another element type into a Float32Array, for a TypeError's message. */
function conversionHint(value: unknown): string {
  const kind = typedArrayKind(value);
  if (kind === 'Float64Array' || kind === 'Float16Array') return ` (convert it with Float32Array.from(values))`;
  if (kind === 'Uint16Array') return ' (half bits are read only where a float input takes options.dtype; decode them into a Float32Array here)';
  return '';
}

/**
 * A tensor object as machine-learning runtimes hand them over: onnxruntime's (web and node) and
 * transformers.js's `Tensor` (`data`, `dims`, `type`), any `{ data, shape }`, or a TensorFlow.js
 * tensor (its values read with `dataSync()`, which downloads them from a GPU backend).
 */
export interface TensorLike {
  readonly data?: unknown;
  readonly dims?: readonly number[];
  readonly shape?: readonly number[];
  readonly type?: string;
  dataSync?(): unknown;
}

/** Options for a tensor input: `classes` may be left out (the tensor's last dimension). */
export type TensorOptions<O> = Omit<O, 'classes'> & { classes?: number };

/**
 * What the data of a tensor of each onnxruntime / transformers.js type is: float16 as a Uint16Array of
 * bits (or a Float16Array where the runtime has one), bool as bytes, and arrays of numbers or booleans
 * as any tensor's data may be given by hand.
 */
const TENSOR_DATA: Record<string, readonly string[]> = {
  float32: ['Float32Array', 'Array'], float64: ['Float64Array', 'Array'], float16: ['Uint16Array', 'Float16Array'], bfloat16: ['Uint16Array'],
  int8: ['Int8Array', 'Array'], uint8: ['Uint8Array', 'Array'], int16: ['Int16Array', 'Array'], uint16: ['Uint16Array', 'Array'],
  int32: ['Int32Array', 'Array'], uint32: ['Uint32Array', 'Array'], int64: ['BigInt64Array', 'Array'], uint64: ['BigUint64Array', 'Array'],
  bool: ['Uint8Array', 'Array'],
};

/**
 * @internal
 * An argument that may be a tensor object, read once: its values and its dims (null for a plain
 * array, a resident buffer or anything that is not a tensor, which the caller then refuses by type).
 * A tensor's data, dims and type may come from its class (getters), unlike an options object's.
 */
export function unwrapTensor(name: string, value: unknown): { data: unknown; dims: number[] | null; type?: unknown } {
  if (typeof value !== 'object' || value === null || typedArrayKind(value) !== undefined || Array.isArray(value)
    || isAnyResident(value) || Object.getPrototypeOf(value) === null) {
    return { data: value, dims: null };
  }
  const t = value as TensorLike;
  const dataSync = t.dataSync;
  const dimsRead = t.dims, shapeRead = t.shape;
  const shapeOrDims = dimsRead ?? shapeRead;
  if (shapeOrDims === undefined) {
    // Data without dims: no argument takes such an object, so say what it lacks.
    if (typeof dataSync !== 'function' && t.data !== undefined) {
      throw new TypeError(`${name} has data but no dims or shape: a tensor object is { data, dims } (onnxruntime, transformers.js) or { data, shape }`);
    }
    return { data: value, dims: null };
  }
  if (dimsRead !== undefined && shapeRead !== undefined && !sameSizes(dimsRead, shapeRead)) {
    throw new RangeError(`${name} has dims ${describeSizes(dimsRead)} and shape ${describeSizes(shapeRead)}, which disagree`);
  }
  let data: unknown;
  if (typeof dataSync === 'function' && dataSync !== (Object.prototype as TensorLike).dataSync) {
    data = Reflect.apply(dataSync, t, []);
  } else {
    data = t.data;
    if (data === undefined) return { data: value, dims: null };
  }
  const type = t.type;
  // A type that onnxruntime and transformers.js name must describe the data (types of their own pass).
  const holds = typeof type === 'string' && Object.prototype.hasOwnProperty.call(TENSOR_DATA, type) ? TENSOR_DATA[type] : undefined;
  if (holds && !holds.includes(typedArrayKind(data) ?? (Array.isArray(data) ? 'Array' : ''))) {
    throw new TypeError(`${name} is a tensor of type '${type as string}' whose data is ${describe(data)}`);
  }
  if (!Array.isArray(shapeOrDims)) throw new TypeError(`${name}'s dims must be an array of sizes, got ${describe(shapeOrDims)}`);
  const dims: number[] = [];
  for (let i = 0; i < shapeOrDims.length; i++) {
    const d: unknown = shapeOrDims[i];
    // ORT's int64 dims may come as bigint.
    const n = typeof d === 'bigint' ? Number(d) : d;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`${name}'s dims[${i}] = ${describe(d)} is not a size`);
    }
    dims.push(n);
  }
  const kind = typedArrayKind(data);
  const length = kind ? slotsOf(data as ArrayBufferView).length : Array.isArray(data) ? data.length : undefined;
  const size = dims.reduce((a, b) => a * b, 1);
  if (length !== undefined && length !== size) {
    throw new RangeError(`${name} has dims [${dims.join(', ')}] (${size} elements) but ${length} values`);
  }
  return { data, dims, type };
}

/** Whether two tensors' size lists (numbers or ORT's bigints) are the same. */
function sameSizes(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((x, i) => Number(x) === Number(b[i]));
}

/** A size list for a message: [2, 3], else what it is. */
function describeSizes(value: unknown): string {
  return Array.isArray(value) && value.length <= 8 ? `[${value.map((x) => (typeof x === 'bigint' ? `${x}n` : describe(x))).join(', ')}]` : describe(value);
}

/**
 * @internal
 * The number of classes: `given` when set, else the last of the input tensor's dims; a RangeError
 * when both are set and disagree, or when neither is.
 */
export function classesOf(name: string, given: unknown, dims: number[] | null, whose = "the input's"): number {
  if (given === undefined && dims && dims.length > 0) return checkClasses(dims[dims.length - 1], name);
  if (given === undefined && dims) throw new RangeError(`${name} cannot come from ${whose} dims []: a 0-D tensor has no class axis`);
  const classes = checkClasses(given, name);
  if (dims && dims.length > 0 && dims[dims.length - 1] !== classes) {
    throw new RangeError(`${name} = ${classes} disagrees with ${whose} last dimension ${dims[dims.length - 1]} (dims [${dims.join(', ')}])`);
  }
  return classes;
}

/**
 * @internal
 * Checks the dims of a second tensor of a call (a target, ids, a mask, q) against the dims that the
 * first one's call for, when both are tensors: a RangeError naming both (a [T, B] for a [B, T], say).
 * A 1-D tensor of as many elements is taken as those dims flattened; a size that differs is left to
 * the caller's length check.
 */
export function checkDims(name: string, dims: number[] | null, whose: string, inputDims: number[] | null, expected: number[] | null): void {
  if (!dims || !inputDims || !expected) return;
  const size = expected.reduce((a, b) => a * b, 1);
  // A size that differs is the length check's to name; a 1-D tensor of as many elements is flattened.
  if (dims.reduce((a, b) => a * b, 1) !== size || dims.length === 1) return;
  if (dims.length === expected.length && dims.every((d, i) => d === expected[i])) return;
  throw new RangeError(`${name} has dims [${dims.join(', ')}], but ${whose} dims [${inputDims.join(', ')}] call for [${expected.join(', ')}]`);
}

/**
 * @internal
 * The dims a mask must have: the ids' [B, T], from the logits' [B, T, V] or the ids' own (null when
 * neither is a tensor); `input` and `ids` name them as the call does ("the input's"), for the message.
 */
export function maskDimsOf(dims: number[] | null, labelDims: number[] | null, input: string, ids: string): ExpectedDims | null {
  if (dims) return { whose: input, dims, want: dims.slice(0, -1) };
  return labelDims ? { whose: ids, dims: labelDims, want: labelDims } : null;
}

/**
 * @internal
 * Refuses a float tensor of `type` where class indices go (float16 bits in a Uint16Array would pass
 * for indices); `probabilities`: a float32 tensor is a call's probabilities, not refused.
 */
export function refuseFloatTensor(name: string, type: unknown, probabilities: boolean): void {
  if (type !== 'float16' && type !== 'bfloat16' && type !== 'float64' && (probabilities || type !== 'float32')) return;
  throw new TypeError(
    `${name} is a ${type} tensor, but it takes class indices (an integer tensor)${probabilities ? ' or probabilities as float32' : ''}`,
  );
}

/** The dims a tensor must have, and whose dims call for them (checkDims). */
export interface ExpectedDims {
  whose: string;
  dims: number[];
  want: number[];
}

/** Integer typed arrays (and bool tensors' Uint8Array) a mask may be, by kind. */
const MASK_VIEWS: Record<string, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<unknown>> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array,
};

/**
 * @internal
 * A mask of `length` entries read once into 0/1 bytes: any integer typed array, a bool or integer
 * tensor, or an array of numbers or booleans, each entry 0 or 1 (false or true), as attention masks
 * hold; anything else is a RangeError naming the entry. A mask tensor's dims must be `expected` (the
 * [B, T] of the call's tensors, when it has them).
 */
export function readMask(name: string, value: unknown, length: number, expected: ExpectedDims | null = null): Uint8Array {
  const { data, dims } = unwrapTensor(name, value);
  if (expected) checkDims(name, dims, expected.whose, expected.dims, expected.want);
  const kind = typedArrayKind(data);
  let source: ArrayLike<unknown>;
  if (kind !== undefined) {
    const View = MASK_VIEWS[kind];
    if (!View) throw new TypeError(`${name} must be an integer or boolean mask, got ${describe(data)}`);
    source = plainView(name, data as ArrayBufferView, View);
  } else if (Array.isArray(data)) {
    source = data;
  } else {
    throw new TypeError(`${name} must be an integer or boolean mask (a typed array, a tensor or an array), got ${describe(data)}`);
  }
  const n = source.length;
  if (n !== length) throw new RangeError(`${name}.length must be ${length}, got ${n}`);
  const mask = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const v = source[i];
    if (typeof v === 'boolean') mask[i] = v ? 1 : 0;
    else if (typeof v === 'number' || typeof v === 'bigint') mask[i] = zeroOrOne(name, i, v);
    else throw new TypeError(`${name}[${i}] must be a number or boolean, got ${describe(v)}`);
  }
  return mask;
}


/**
 * @internal
 * An integer label or mask entry as a 0/1 byte; any other value is a RangeError naming `name[i]`
 * (`why` says what holds it, for the message).
 */
export function zeroOrOne(name: string, i: number, v: number | bigint, why = ''): 0 | 1 {
  if (v === 0 || v === 0n) return 0;
  if (v === 1 || v === 1n) return 1;
  throw new RangeError(`${name}[${i}] = ${describe(v)} is not 0 or 1${why}`);
}

/** Checks `classes` is a positive integer that fits a wasm32 row. */
export function checkClasses(classes: unknown, name = 'classes'): number {
  if (typeof classes !== 'number') throw new TypeError(`${name} must be a number, got ${describe(classes)}`);
  if (!Number.isInteger(classes) || classes < 1 || classes > 2 ** 28) {
    throw new RangeError(`${name} must be an integer in [1, 2^28], got ${describe(classes)}`);
  }
  return classes;
}

/** Number of rows of a row-major [rows, classes] array; RangeError when the length does not divide. */
export function rowsOf(name: string, array: { readonly length: number }, classes: number, what = 'classes'): number {
  if (array.length % classes !== 0) {
    throw new RangeError(
      `${name}.length = ${array.length} is not a multiple of ${what} = ${classes}`,
    );
  }
  return array.length / classes;
}

/** True when two typed arrays share any byte. */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = slotsOf(a), y = slotsOf(b);
  return x.buffer === y.buffer
    && x.byteOffset < y.byteOffset + y.byteLength
    && y.byteOffset < x.byteOffset + x.byteLength;
}

/** True when two typed arrays cover exactly the same bytes. */
export function sameRegion(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = slotsOf(a), y = slotsOf(b);
  return x.buffer === y.buffer && x.byteOffset === y.byteOffset && x.byteLength === y.byteLength;
}

/**
 * Checks an optional output array: a Float32Array of exactly `length` elements that either is
 * `input` itself (in place, when allowed) or shares no memory with it. The caller's own array is
 * returned (a call returns the `out` it was given), its length and memory read from its slots.
 */
export function checkOut(
  name: string, out: unknown, length: number, input: ArrayBufferView, inPlaceAllowed: boolean,
  float64Allowed = false,
): Float32Array | undefined {
  if (out === undefined) return undefined;
  if (float64Allowed && typedArrayKind(out) === 'Float64Array') {
    const got = plainView(name, out as Float64Array, Float64Array).length;
    if (got !== length) throw new RangeError(`${name}.length must be ${length}, got ${got}`);
    return undefined;
  }
  let array: Float32Array;
  if (isResident(out)) {
    array = checkFloat32OrResident(name, out).array;
  } else {
    checkFloat32(name, out);
    array = out as Float32Array;
  }
  const got = slotsOf(array).length;
  if (got !== length) {
    throw new RangeError(`${name}.length must be ${length}, got ${got}`);
  }
  if (overlaps(array, input) && !(inPlaceAllowed && sameRegion(array, input))) {
    throw new RangeError(
      `${name} overlaps the input without being the same array; pass the input itself to work in place, or separate memory`,
    );
  }
  return array;
}

/**
 * The own properties `keys` of an object, each read once into a snapshot (with no prototype), which
 * is all a caller reads afterwards: a property inherited from Object.prototype does not count, a
 * getter runs once, and a Proxy is asked once per key (its descriptor; no get trap). Any other value
 * than an object has none.
 */
export function ownProps(value: unknown, keys: readonly string[]): Record<string, unknown> {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return Object.create(null);
  return snapshotOf(value, descriptorsOf(value, keys));
}

/** An options object's snapshot (ownProps): TypeError for any own enumerable key that is not in `known`. */
export function ownOptions(name: string, options: object, known: readonly string[]): Record<string, unknown> {
  // Every descriptor first, so that an unknown key is refused before any getter runs.
  const descriptors: [string, PropertyDescriptor][] = [];
  for (const key of ownKeys(options)) {
    if (typeof key !== 'string') continue;
    const d = getOwnPropertyDescriptor(options, key);
    if (d === undefined) continue;
    if (known.includes(key)) descriptors.push([key, d]);
    else if (d.enumerable) throw new TypeError(`${name} has no option ${JSON.stringify(key)}; known options: ${known.join(', ')}`);
  }
  return snapshotOf(options, descriptors);
}

// Taken when the module loads, so that nothing a caller later puts in their place is called.
const { apply, getOwnPropertyDescriptor, ownKeys } = Reflect;
const objectHasOwn = Object.prototype.hasOwnProperty;
const hasOwn = (o: object, key: PropertyKey): boolean => apply(objectHasOwn, o, [key]) as boolean;

/** The own descriptors of `keys` that `o` has, each asked once. */
function descriptorsOf(o: object, keys: readonly string[]): [string, PropertyDescriptor][] {
  const out: [string, PropertyDescriptor][] = [];
  for (const key of keys) {
    const d = getOwnPropertyDescriptor(o, key);
    if (d !== undefined) out.push([key, d]);
  }
  return out;
}

/** The values of own descriptors (a getter called once, on `o`) in a null-prototype record. */
function snapshotOf(o: object, descriptors: [string, PropertyDescriptor][]): Record<string, unknown> {
  const snapshot: Record<string, unknown> = Object.create(null);
  for (const [key, d] of descriptors) {
    snapshot[key] = hasOwn(d, 'get') ? (d.get === undefined ? undefined : apply(d.get, o, [])) : d.value;
  }
  return snapshot;
}

/**
 * @internal
 * The elements of an array, each read once and only if it is an own element (a hole reads as
 * undefined, whatever a prototype holds); the length is read once. TypeError unless it is an array,
 * RangeError when `expected` is given and the length differs.
 */
export function ownElements(name: string, value: unknown, expected?: number): unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array, got ${describe(value)}`);
  const length: unknown = value.length;
  if (expected !== undefined && length !== expected) {
    throw new RangeError(`${name}.length must be ${expected}, got ${describe(length)}`);
  }
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new TypeError(`${name}.length must be an array length, got ${describe(length)}`);
  }
  const out: unknown[] = [];
  for (let i = 0; i < length; i++) out.push(hasOwn(value, i) ? value[i] : undefined);
  return out;
}

/** Throws TypeError for any key of options not in `known`. */
export function checkOptionNames(name: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${name} has no option ${JSON.stringify(key)}; known options: ${known.join(', ')}`);
    }
  }
}

/** Checks a string option against its allowed values. */
export function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${describe(value)}`);
  if (!(choices as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** Checks a finite number in [lo, hi]. */
export function checkNumberIn(name: string, value: unknown, lo: number, hi: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!(value >= lo && value <= hi)) throw new RangeError(`${name} must be in [${lo}, ${hi}], got ${describe(value)}`);
  return value;
}

/** Checks a number in the open interval (lo, hi). */
export function checkOpenInterval(name: string, value: unknown, lo: number, hi: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!(value > lo && value < hi)) throw new RangeError(`${name} must be in (${lo}, ${hi}), got ${describe(value)}`);
  return value;
}

/** RangeError unless every value is a probability in [0, 1] (NaN is not). */
export function checkProbabilities(name: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= 1)) throw new RangeError(`${name}[${i}] = ${describe(v)} is not a probability in [0, 1]`);
  }
}

/**
 * RangeError unless every value is a log-probability in [-Infinity, 0] (NaN is not); `range` ends the
 * message.
 */
export function checkLogProbabilities(name: string, values: Float32Array, range = 'in [-Infinity, 0]'): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v <= 0)) throw new RangeError(`${name}[${i}] = ${describe(v)} is not a log-probability ${range}`);
  }
}

/**
 * Probabilities a few float32 ulps outside [0, 1] that the losses from 'probs' accept and read as
 * clipped to [0, 1]: softmax outputs rounded to float32 often sum, or reach, past 1. Four ulps of the
 * float32 values next to 0 and 1 from the inside (2^-24 below 1, and that same step below 0; 2^-23
 * above 1); each bound is a float32, so the WebAssembly scan compares against it exactly.
 */
export const PROBABILITY_SLACK = { lo: -4 * 2 ** -24, hi: 1 + 4 * 2 ** -23 } as const;

/** RangeError unless every value is a probability in [0, 1] or within PROBABILITY_SLACK of it; `suffix` ends the message. */
export function checkClippableProbabilities(name: string, values: Float32Array, suffix = ''): void {
  const { lo, hi } = PROBABILITY_SLACK;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= lo && v <= hi)) {
      // Just outside: say where the line is, and how to get inside it.
      const near = v > -1e-3 && v < 1 + 1e-3
        ? ' (values within 4 float32 ulps of [0, 1] are read as clipped; renormalise or clip the rest)' : '';
      throw new RangeError(`${name}[${i}] = ${describe(v)} is not a probability in [0, 1]${suffix}${near}`);
    }
  }
}

/** @internal checkClippableProbabilities as an element check: what the losses from 'probs' accept. */
export function clippableProbabilityCheck(name: string, suffix?: string): ElementCheck {
  return { ...PROBABILITY_SLACK, explain: (values) => checkClippableProbabilities(name, values, suffix) };
}

/** @internal checkProbabilities(name, ·) as an element check (src/element_checks.ts). */
export function probabilityCheck(name: string): ElementCheck {
  return { lo: 0, hi: 1, explain: (values) => checkProbabilities(name, values) };
}

/** @internal checkLogProbabilities(name, ·, range) as an element check. */
export function logProbabilityCheck(name: string, range?: string): ElementCheck {
  return { lo: -Infinity, hi: 0, explain: (values) => checkLogProbabilities(name, values, range) };
}

/** Checks a positive integer option. */
export function checkPositiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new RangeError(`${name} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

/** Checks an integer that fits in a signed 32-bit wasm argument. */
export function checkInt32(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw new RangeError(`${name} must be an integer in [-2^31, 2^31), got ${describe(value)}`);
  }
  return value;
}

/**
 * Checks weights: a Float32Array of `length` finite, non-negative values (`lengthName` says what the
 * length is, for the message: 'classes' by default).
 */
export function checkWeight(
  name: string, value: unknown, length: number, lengthName = 'classes', expected: ExpectedDims | null = null,
): Float32Array | null {
  if (value === undefined) return null;
  // A tensor of weights has the dims its call expects (a 1-D one of as many is flat).
  const { data, dims, type } = unwrapTensor(name, value);
  refuseHalfTensor(name, type);
  if (expected) checkDims(name, dims, expected.whose, expected.dims, expected.want);
  // A copy: what is checked here is what the kernels read, whoever shares the caller's buffer.
  const weight = checkFloat32(name, data).slice();
  if (weight.length !== length) {
    throw new RangeError(`${name}.length must equal ${lengthName} = ${length}, got ${weight.length}`);
  }
  for (let c = 0; c < length; c++) {
    const w = weight[c];
    if (!(w >= 0 && w < Infinity)) {
      throw new RangeError(`${name}[${c}] = ${describe(w)} must be finite and non-negative`);
    }
  }
  return weight;
}

export type Reduction = 'mean' | 'sum' | 'none';

/**
 * What a call with reduction R returns: `PerRow` (one value per row or element: Float32Array, or the
 * reference's Float64Array) for 'none', a number for every other reduction. It distributes over a
 * union: ReducedLoss<'mean' | 'none', Float32Array> is number | Float32Array.
 */
export type ReducedLoss<R, PerRow> = R extends 'none' ? PerRow : number;

/** Parameters of the focal loss. */
export interface FocalOptions {
  /** Focusing exponent gamma >= 0; 0 gives alpha times cross-entropy. Default 2. */
  gamma?: number;
  /** Overall weight alpha >= 0. Default 0.25 (Keras). */
  alpha?: number;
}

/** Checks options.focal: undefined, or an object with finite, non-negative gamma and alpha. */
export function checkFocal(name: string, value: unknown): { gamma: number; alpha: number } | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${name} must be an object { gamma?, alpha? }, got ${describe(value)}`);
  }
  const f = ownOptions(name, value, ['gamma', 'alpha']);
  return {
    gamma: checkNumberIn(`${name}.gamma`, f.gamma, 0, 1e6, 2),
    alpha: checkNumberIn(`${name}.alpha`, f.alpha, 0, Number.MAX_VALUE, 0.25),
  };
}

/** Keras' clipping epsilon for probabilities. */
export const DEFAULT_EPSILON = 1e-7;

/**
 * @internal
 * Runs `check` now, in JavaScript, unless the plan defers it to a WebAssembly runner: returns the
 * check the runner owes (null when none is left).
 */
export function checkOrDefer(check: ElementCheck, values: Float32Array | (() => Float32Array), defer: boolean): ElementCheck | null {
  if (defer) return check;
  check.explain(typeof values === 'function' ? values() : values);
  return null;
}

/** Unit of every loss, entropy and divergence. */
export type Unit = 'nats' | 'bits';

/** Checks options.unit and returns the factor that converts nats into it (1 or 1 / ln 2). */
export function checkUnit(name: string, value: unknown): number {
  return checkChoice<Unit>(name, value, ['nats', 'bits'], 'nats') === 'bits' ? 1 / Math.LN2 : 1;
}

/** @internal Checks an optional options argument: undefined or a plain object with only known keys. */
export function checkOptions(fn: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${fn} options must be an object, got ${describe(options)}`);
  }
  return ownOptions(`${fn} options`, options, known);
}

/** @internal Reduces per-row values (already in the unit) or their sum in nats, as the plan asks. */
export function reduceRows<A>(reduction: string, perRow: A | null, totalNats: number, unitScale: number, denominator: number): number | A {
  if (reduction === 'none') return perRow as A;
  const total = totalNats * unitScale;
  return reduction === 'sum' ? total : total / denominator;
}

/** What a distribution argument holds: probabilities, or logits whose softmax is the distribution. */
export type DistributionForm = 'probs' | 'logits';

/** Result of every *WithGrad function. */
export interface LossAndGrad<L> {
  /** The reduced loss (a number), or one loss per row for reduction 'none'. */
  loss: L;
  /** dLoss/dInput, same length as the input; options.gradOut when given. */
  grad: Float32Array;
}

/** RangeError unless `length` is a resident buffer's length: an integer in [0, 2^30]. */
function checkResidentLength(length: unknown): number {
  if (typeof length !== 'number') throw new TypeError(`length must be a number, got ${describe(length)}`);
  if (!Number.isInteger(length) || length < 0 || length > 2 ** 30) {
    throw new RangeError(`length must be an integer in [0, 2^30], got ${describe(length)}`);
  }
  return length;
}

/**
 * @internal
 * `xe.alloc` and `pool.alloc`: a resident buffer of `length` float32 zeros in the driver's memory.
 * @throws TypeError for a non-number; RangeError for a length that is not an integer in [0, 2^30],
 *   or that memory cannot hold
 */
export function allocResident(driver: Driver, length: number): Resident;
export function allocResident(driver: Driver, length: number, options: unknown): Resident<ResidentDtype>;
export function allocResident(driver: Driver, length: number, options?: unknown): Resident<ResidentDtype> {
  const dtype = residentDtype('alloc', options);
  const resident = new Resident(driver, checkResidentLength(length), dtype);
  resident.array.fill(0);
  return resident;
}

/** Options of `xe.alloc` and `xe.tensor`. */
export interface ResidentOptions<D extends ResidentDtype = ResidentDtype> {
  /** 'float32' (default), or 'float16' / 'bfloat16': the buffer holds half bit patterns (a Uint16Array). */
  dtype?: D;
}

/** options.dtype of alloc and tensor: 'float32' (default), 'float16' or 'bfloat16'. */
function residentDtype(fn: string, options: unknown): ResidentDtype {
  const o = checkOptions(fn, options, ['dtype']);
  return checkChoice<ResidentDtype>('options.dtype', o.dtype, ['float32', 'float16', 'bfloat16'], 'float32');
}

/** Typed arrays whose elements `tensor` takes, by kind. */
const NUMBER_VIEWS: Record<string, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number>> = {
  Float32Array, Float64Array, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
};

/**
 * @internal
 * `xe.tensor` and `pool.tensor`: a resident buffer holding a copy of `values`, each element read
 * once (a typed array through a plain view; anything else into a copy before any memory is touched,
 * since an element's getter could run any code).
 */
export function residentFrom(driver: Driver, values: ArrayLike<number>): Resident;
export function residentFrom(driver: Driver, values: ArrayLike<number>, options: unknown): Resident<ResidentDtype>;
export function residentFrom(driver: Driver, values: ArrayLike<number>, options?: unknown): Resident<ResidentDtype> {
  const dtype = residentDtype('tensor', options);
  const kind = typedArrayKind(values);
  if (dtype !== 'float32') {
    // Half bits are copied as they are: only a Uint16Array holds them.
    if (kind !== 'Uint16Array') {
      throw new TypeError(`values must be a Uint16Array of ${dtype} bits for options.dtype '${dtype}', got ${describe(values)}`);
    }
    const bits = plainView('values', values as unknown as Uint16Array, Uint16Array);
    const resident = new Resident(driver, checkResidentLength(bits.length), dtype);
    resident.array.set(bits);
    return resident;
  }
  let copy: ArrayLike<number>;
  if (kind !== undefined) {
    const View = NUMBER_VIEWS[kind];
    if (!View) throw new TypeError(`values must be an array or a typed array of numbers, got ${describe(values)}`);
    copy = plainView('values', values as unknown as ArrayBufferView, View);
  } else {
    if (values === null || typeof values !== 'object') {
      throw new TypeError(`values must be an array or typed array, got ${describe(values)}`);
    }
    const length = (values as ArrayLike<number>).length;
    if (typeof length !== 'number') throw new TypeError(`values must be an array or typed array, got ${describe(values)}`);
    checkResidentLength(length);
    const floats = new Float32Array(length);
    for (let i = 0; i < length; i++) floats[i] = values[i];
    copy = floats;
  }
  return allocResident(driver, copy.length).set(copy);
}

// ---------------------------------------------------------------------------------------------------
// Numbers of a scorer's state (ops/scorer.ts, ops/binary_scorer.ts)

/** A float of a scorer's state as JSON holds it: non-finite values as strings, which JSON keeps. */
export type StateNumber = number | 'Infinity' | '-Infinity' | 'NaN';

/** A float of a state written for JSON: non-finite values as strings (see StateNumber). */
export function encodeStateNumber(x: number): StateNumber {
  if (Number.isFinite(x)) return x;
  return x > 0 ? 'Infinity' : x < 0 ? '-Infinity' : 'NaN';
}

/** A float of a state read back: a number (-0 read as 0, which no sum from 0 can reach) or a StateNumber string. */
export function decodeStateNumber(name: string, x: unknown): number {
  if (typeof x === 'number') return x === 0 ? 0 : x;
  if (x === 'Infinity') return Infinity;
  if (x === '-Infinity') return -Infinity;
  if (x === 'NaN') return NaN;
  if (x === null) {
    throw new TypeError(
      `${name} must be a number or one of "Infinity", "-Infinity", "NaN", got null `
      + '(what JSON made of Infinity and NaN alike before states encoded them; it cannot be read back)',
    );
  }
  throw new TypeError(`${name} must be a number or one of "Infinity", "-Infinity", "NaN", got ${describe(x)}`);
}

/** Slots per bin of the fine histogram behind the scorer's `binning: 'quantile'` (ops/scorer.ts). Here, so that the entry points export it without loading the scorer. */
export const QUANTILE_SLOTS = 256;

/** The most classes the scorer's `confusion: true` takes: its state holds classes² counts. */
export const MAX_CONFUSION_CLASSES = 1024;
