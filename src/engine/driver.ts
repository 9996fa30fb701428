// The only module that touches WebAssembly: it instantiates the kernels and owns linear memory.
//
// Memory policy: memory grows on demand and is never shrunk. Growing detaches every view of the old
// buffer, so no view is kept here or anywhere else: `f32` / `i32` build a fresh view from the current
// buffer on every call, and callers use it only until their next call into the driver. Each operation
// reserves all of its scratch space first (one possible growth), then takes views, then runs kernels.
//
// Scratch space starts at the module's heap base and is reused by every call; inputs larger than a
// window are streamed through it in row chunks (staging.ts), so memory stays bounded by the window
// (or one row, when a row is larger) rather than growing with the input.

import type { Kernels } from './kernels.js';

/** Anything `init` can compile: a module, its bytes, a fetch Response, or a promise of one. */
export type ModuleSource =
  | WebAssembly.Module
  | BufferSource
  | Response
  | PromiseLike<WebAssembly.Module | BufferSource | Response>;

const PAGE = 65536;
/** Bytes a wasm32 memory can address: 65536 pages. */
const MAX_BYTES = 2 ** 32;
/** Scratch alignment: v128 loads are fastest on 16-byte boundaries. */
const ALIGN = 16;

/**
 * Rounds n up to a multiple of ALIGN. In floating point, not with 32-bit bit operations, which wrap
 * at 2^31: byte counts here reach 2^32 and beyond (a request that cannot fit must still be seen as one).
 */
export function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** Owner of one kernel instance and its linear memory. */
export class Driver {
  readonly kernels: Kernels;
  private readonly memory: WebAssembly.Memory;
  /** End of the resident region [heap base, residentTop); scratch starts here. */
  private residentTop: number;
  /** Free gaps [ptr, bytes] inside the resident region, sorted by address and never adjacent. */
  private readonly gaps: [number, number][] = [];

  constructor(kernels: Kernels) {
    this.kernels = kernels;
    this.memory = kernels.memory;
    this.residentTop = align(kernels.heapBase());
  }

  /**
   * Reserves scratch regions of the given byte sizes, each 16-byte aligned, growing memory at most
   * once, and returns their addresses. Regions are valid until the next `reserve` or `alloc`.
   */
  reserve(...sizes: number[]): number[] {
    const ptrs: number[] = [];
    let top = this.residentTop;
    for (const size of sizes) {
      ptrs.push(top);
      top = align(top + size);
    }
    this.ensure(top);
    return ptrs;
  }

  /**
   * Allocates a resident block of at least `bytes` bytes (first fit, else at the top). A request that
   * memory cannot hold throws before anything changes, so the instance stays as it was.
   */
  alloc(bytes: number): number {
    const size = align(Math.max(bytes, 1));
    for (let i = 0; i < this.gaps.length; i++) {
      const [ptr, free] = this.gaps[i];
      if (free < size) continue;
      if (free === size) this.gaps.splice(i, 1);
      else this.gaps[i] = [ptr + size, free - size];
      return ptr;
    }
    const ptr = this.residentTop;
    this.ensure(ptr + size);
    this.residentTop = ptr + size;
    return ptr;
  }

  /** Returns a block from `alloc` (same byte count) to the resident region, merging free neighbours. */
  release(ptr: number, bytes: number): void {
    let start = ptr, end = ptr + align(Math.max(bytes, 1));
    let i = 0;
    while (i < this.gaps.length && this.gaps[i][0] < start) i++;
    if (i > 0 && this.gaps[i - 1][0] + this.gaps[i - 1][1] === start) {
      i--;
      start = this.gaps[i][0];
      this.gaps.splice(i, 1);
    }
    if (i < this.gaps.length && this.gaps[i][0] === end) {
      end += this.gaps[i][1];
      this.gaps.splice(i, 1);
    }
    // A gap that reaches the top gives its space back to scratch.
    if (end === this.residentTop) this.residentTop = start;
    else this.gaps.splice(i, 0, [start, end - start]);
  }

  /** Grows memory to at least `top` bytes; a RangeError naming the size when it cannot. */
  private ensure(top: number): void {
    if (top > MAX_BYTES) {
      throw new RangeError(
        `xentropy needs ${top} bytes of WebAssembly memory, more than the 2^32 bytes (4 GiB) a WebAssembly memory can hold`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (top > have) {
      const pages = Math.ceil((top - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (cause) {
        throw new RangeError(
          `xentropy needs ${top} bytes of WebAssembly memory and the runtime refused to grow it`,
          { cause },
        );
      }
    }
  }

  /** A Float32Array over memory at ptr; valid until the next call that may grow memory. */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  /** A Float64Array over memory at ptr (8-byte aligned); valid until the next call that may grow memory. */
  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  /** A Uint16Array over memory at ptr; valid until the next call that may grow memory. */
  u16(ptr: number, length: number): Uint16Array {
    return new Uint16Array(this.memory.buffer, ptr, length);
  }

  /** An Int32Array over memory at ptr; valid until the next call that may grow memory. */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  /** Current size of linear memory in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }
}

/** Element type of a resident buffer: float32, or the bits of float16 / bfloat16 values (u16 each). */
export type ResidentDtype = 'float32' | 'float16' | 'bfloat16';

/** What `array` gives for a resident buffer of element type D: float32 values, or half bit patterns. */
export type ResidentArray<D extends ResidentDtype> = D extends 'float32' ? Float32Array : Uint16Array;

/**
 * A typed array that lives in WebAssembly memory, so xentropy reads and writes it without copying:
 * float32 values (the default), or float16 / bfloat16 bit patterns, which the kernels widen window by
 * window where they lie. `array` is a fresh view on every access: a view you keep is valid until the
 * next call into this instance that may grow its memory (any computation, alloc or tensor); read
 * `array` again after it.
 */
export class Resident<D extends ResidentDtype = 'float32'> {
  /** Number of elements. */
  readonly length: number;
  readonly #dtype: D;
  readonly #driver: Driver;
  readonly #ptr: number;
  #freed = false;

  /** @internal Use `xe.alloc` or `xe.tensor`. */
  constructor(driver: Driver, length: number, dtype: D = 'float32' as D) {
    this.#driver = driver;
    this.length = length;
    this.#dtype = dtype;
    this.#ptr = driver.alloc(this.#bytes());
  }

  /** Element type: 'float32', or 'float16' / 'bfloat16' (held as their bits, a Uint16Array view). */
  get dtype(): D {
    return this.#dtype;
  }

  /** @internal Byte address in memory, for the kernels. */
  get ptr(): number {
    this.#check();
    return this.#ptr;
  }

  /** @internal The driver that owns this buffer. */
  get owner(): Driver {
    return this.#driver;
  }

  /** A view of the buffer (see the class note on how long it stays valid): Float32Array, or Uint16Array of half bits. */
  get array(): ResidentArray<D> {
    this.#check();
    return (this.#dtype === 'float32' ? this.#driver.f32(this.#ptr, this.length) : this.#driver.u16(this.#ptr, this.length)) as ResidentArray<D>;
  }

  /** True once `free` has been called. */
  get freed(): boolean {
    return this.#freed;
  }

  /** Copies values into the buffer from `offset` (for a half buffer: bit patterns). */
  set(values: ArrayLike<number>, offset = 0): this {
    this.array.set(values, offset);
    return this;
  }

  /**
   * Returns the memory to the instance. The handle is unusable afterwards.
   * @throws TypeError when already freed
   */
  free(): void {
    this.#check();
    this.#freed = true;
    this.#driver.release(this.#ptr, this.#bytes());
  }

  #bytes(): number {
    return this.length * (this.#dtype === 'float32' ? 4 : 2);
  }

  #check(): void {
    if (this.#freed) throw new TypeError('this resident buffer was freed; allocate a new one with xe.alloc');
  }
}

/**
 * @internal
 * A resident argument checked to live in `driver`'s memory (a handle is an address in one memory only).
 * @throws TypeError naming the argument when it belongs to another instance; `hint` is appended
 */
export function ownResident<R extends Resident<ResidentDtype>>(driver: Driver, name: string, resident: R | null, hint = ''): R | null {
  if (resident && resident.owner !== driver) {
    throw new TypeError(`${name} is a resident buffer of another xentropy instance${hint}`);
  }
  return resident;
}

/**
 * Imports the kernels may ask for. Release builds import nothing; the debug build's assertions call
 * env.abort, which reads AssemblyScript's UTF-16 strings (length in bytes just before the pointer).
 */
function kernelImports(memory: () => WebAssembly.Memory | undefined, extra: Record<string, unknown> = {}): WebAssembly.Imports {
  const text = (ptr: number): string => {
    const buffer = memory()?.buffer;
    if (!buffer || !ptr) return '';
    const bytes = new Uint32Array(buffer, ptr - 4, 1)[0];
    return String.fromCharCode(...new Uint16Array(buffer, ptr, bytes >>> 1));
  };
  return {
    env: {
      ...extra,
      abort(message: number, file: number, line: number, column: number): never {
        throw new Error(`xentropy kernel assertion failed: ${text(message)} at ${text(file)}:${line}:${column}`);
      },
    },
  };
}

/** A kernel instance's exports as the driver's Kernels, memory included (imported or exported). */
function kernelsOf(instance: WebAssembly.Instance, memory?: WebAssembly.Memory): Kernels {
  const exports = instance.exports as unknown as Kernels;
  return memory ? { ...exports, memory } : exports;
}

/**
 * Compiles (when needed) and instantiates the kernels asynchronously. Plain WebAssembly.instantiate:
 * the kernels take only numbers, and a loader's first instantiate costs tens of milliseconds.
 */
export async function loadDriver(source: ModuleSource): Promise<Driver> {
  const resolved = await source;
  let exports: Kernels | undefined;
  const imports = kernelImports(() => exports?.memory);
  let instance: WebAssembly.Instance;
  // Modules and bytes are tested first: in Node, merely reading the global Response loads its fetch
  // implementation, a start-up cost.
  if (resolved instanceof WebAssembly.Module || isForeignModule(resolved)) {
    // Engines accept a Module from another realm (they check the internal brand), as Vercel Edge passes.
    instance = await WebAssembly.instantiate(resolved as WebAssembly.Module, imports);
  } else if (ArrayBuffer.isView(resolved) || (resolved as unknown) instanceof ArrayBuffer) {
    instance = (await WebAssembly.instantiate(resolved as BufferSource, imports)).instance;
  } else {
    const response = resolved as Response;
    const module = response.headers.get('content-type')?.startsWith('application/wasm')
      ? await WebAssembly.compileStreaming(response)
      : await WebAssembly.compile(await response.arrayBuffer());
    instance = await WebAssembly.instantiate(module, imports);
  }
  exports = kernelsOf(instance);
  return new Driver(exports);
}

/** Compiles (when needed) and instantiates the kernels synchronously. */
export function loadDriverSync(source: WebAssembly.Module | BufferSource): Driver {
  let exports: Kernels | undefined;
  const module = source instanceof WebAssembly.Module || isForeignModule(source)
    ? source as WebAssembly.Module
    : new WebAssembly.Module(source as BufferSource);
  exports = kernelsOf(new WebAssembly.Instance(module, kernelImports(() => exports?.memory)));
  return new Driver(exports);
}

/**
 * A WebAssembly.Module compiled in another realm (the Vercel Edge VM receives its modules from the
 * host): it fails `instanceof` but the engine takes it.
 */
function isForeignModule(value: unknown): value is WebAssembly.Module {
  return !(value instanceof WebAssembly.Module) && Object.prototype.toString.call(value) === '[object WebAssembly.Module]';
}

/**
 * Largest size of the pool's shared memory, in 64 KiB pages (4 GiB). A shared memory cannot move when
 * it grows, so its maximum is declared up front; engines reserve that much address space, not memory.
 */
export const SHARED_MAX_PAGES = 65536;

/**
 * A new shared WebAssembly.Memory for the pool's kernels (dist/xentropy.shared.wasm imports it as
 * env.memory). Where 4 GiB of address space cannot be reserved (32-bit systems), 1 GiB is tried.
 * @throws Error when the runtime has no shared memory (in browsers: the page is not cross-origin isolated)
 */
export function createSharedMemory(): WebAssembly.Memory {
  let cause: unknown;
  for (const maximum of [SHARED_MAX_PAGES, SHARED_MAX_PAGES / 4]) {
    try {
      const memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
      if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return memory;
      cause = new TypeError('WebAssembly.Memory({ shared: true }) did not give a SharedArrayBuffer');
    } catch (error) {
      cause = error;
    }
  }
  throw new Error(
    'xentropy pool: this runtime cannot create a shared WebAssembly.Memory (browsers allow it only on cross-origin isolated pages)',
    { cause },
  );
}

/**
 * Instantiates the shared build over `memory`. Each instance re-writes the module's static data (if
 * any: the release builds have none left) into the shared memory with the same bytes, so instantiating
 * a worker while others compute changes nothing they read.
 */
export async function loadSharedDriver(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<Driver> {
  const instance = await WebAssembly.instantiate(module, kernelImports(() => memory, { memory }));
  return new Driver(kernelsOf(instance, memory));
}
