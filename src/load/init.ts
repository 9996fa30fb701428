// init and initSync, shared by every entry point (index, node, browser, worker, edge_light): the options, one
// compilation per build of the package's own kernels, and a module in whatever form a runtime hands it
// over. Each entry point differs only in how it gets the package's own .wasm (OwnModules): read from
// disk, fetched next to the script, or imported as a module where the runtime compiles nothing itself
// (importedInit).

import { Xentropy, type ScorerClasses } from '../api.js';
import { BUILDS, bestBuild, type Build } from '../engine/builds.js';
import { loadDriver, loadDriverSync, type ModuleSource } from '../engine/driver.js';
import { describe, ownProps } from '../ops/common.js';

/** Options of `init`. */
export interface InitOptions {
  /**
   * The kernels: a WebAssembly.Module (also one compiled in another realm), its bytes, a fetch
   * Response, a URL (or URL string, or an absolute file path as Bun's `import x from './x.wasm'`
   * gives), or a promise of any of these. Default: the package's own build chosen by `build`.
   */
  module?: ModuleSource | URL | string;
  /**
   * Which of the package's own builds to load when no module is given: 'auto' (default) picks
   * 'relaxed-simd' where the runtime validates it, else 'simd', else 'scalar'.
   */
  build?: Build | 'auto';
}

/** Options of `initSync`. */
export interface InitSyncOptions {
  /** A WebAssembly.Module or its bytes. Default: the package's own build, where the runtime can read it synchronously. */
  module?: WebAssembly.Module | BufferSource;
  /** As in `init`. */
  build?: Build | 'auto';
}

/** @internal How an entry point gets the package's own builds. */
export interface OwnModules {
  /** One build: compiled, or as bytes or a Response (compiled once by `createInit`). */
  load(build: Build): Promise<WebAssembly.Module | BufferSource | Response>;
  /** The same, synchronously; absent where the runtime cannot (a browser has no synchronous fetch). */
  loadSync?(build: Build): WebAssembly.Module | BufferSource;
  /** The builds this entry point has (default: all); 'auto' picks the best of them the runtime validates. */
  builds?: readonly Build[];
  /** The scorer classes its instances create (api.ts, ScorerClasses), called on each scorer's creation. */
  scorers(): ScorerClasses;
}

/** @internal The `init` and `initSync` of one entry point. */
export interface Initializers {
  init(options?: InitOptions): Promise<Xentropy>;
  initSync(options?: InitSyncOptions): Xentropy;
}

/**
 * init and initSync over one way of getting the package's own builds. Each build is compiled at most
 * once per entry point (per process or page); every call still gets an instance with its own memory.
 * @internal
 */
export function createInit(own: OwnModules): Initializers {
  const compiled = new Map<Build, WebAssembly.Module>();
  const pending = new Map<Build, Promise<WebAssembly.Module>>();

  function ownModule(build: Build): Promise<WebAssembly.Module> {
    const done = compiled.get(build);
    if (done) return Promise.resolve(done);
    let loading = pending.get(build);
    if (!loading) {
      loading = own.load(build).then(compile).then(
        (module) => {
          compiled.set(build, module);
          pending.delete(build);
          return module;
        },
        (error: unknown) => {
          // A failed load is not cached, so a later call can retry.
          pending.delete(build);
          throw error;
        },
      );
      pending.set(build, loading);
    }
    return loading;
  }

  async function init(options: InitOptions = {}): Promise<Xentropy> {
    // Own properties, read once: an `Object.prototype.module` must not choose the kernels.
    const o = ownProps(options, ['module', 'build']);
    const build = chooseBuild(o, own.builds ?? BUILDS);
    let source = await o.module;
    if (source === undefined) {
      source = await ownModule(build);
    } else if (typeof source === 'string' || source instanceof URL) {
      source = await fetchModule(toUrl(source));
    } else if (!isModuleSource(source)) {
      throw new TypeError(
        `options.module must be a WebAssembly.Module, bytes, a Response, a URL or a file path, got ${describe(source)}`,
      );
    }
    return new Xentropy(await loadDriver(source as ModuleSource), own.scorers);
  }

  function initSync(options: InitSyncOptions = {}): Xentropy {
    const o = ownProps(options, ['module', 'build']);
    const build = chooseBuild(o, own.builds ?? BUILDS);
    let source = o.module;
    if (source === undefined) {
      let module = compiled.get(build);
      if (!module) {
        if (!own.loadSync) {
          throw new TypeError('initSync() cannot read the package\'s own .wasm in this runtime; pass options.module, or use await init()');
        }
        const loaded = own.loadSync(build);
        module = isModule(loaded) ? loaded as WebAssembly.Module : new WebAssembly.Module(loaded as BufferSource);
        compiled.set(build, module);
      }
      source = module;
    } else if (!(isModule(source) || ArrayBuffer.isView(source) || source instanceof ArrayBuffer)) {
      throw new TypeError(`options.module must be a WebAssembly.Module or bytes, got ${describe(source)}`);
    }
    return new Xentropy(loadDriverSync(source as WebAssembly.Module | BufferSource), own.scorers);
  }

  return { init, initSync };
}

/**
 * init and initSync over builds imported as modules (the worker and edge-light entry points). An import
 * that yields a file path instead of a Module (Bun, for `import x from './x.wasm'`) is read from disk by
 * `init`. (Here rather than in a module of its own, so that bundling those entry points shares one chunk
 * with the others: scripts/finish-dist.mjs.)
 * @internal
 */
export function importedInit(
  imported: Readonly<Partial<Record<Build, WebAssembly.Module | string>>>, scorers: () => ScorerClasses,
): Initializers {
  return createInit({
    scorers,
    builds: (Object.keys(imported) as Build[]),
    load: async (build) => {
      const module = imported[build]!;
      return isModule(module) ? module as WebAssembly.Module : fetchModule(toUrl(module as string));
    },
    loadSync: (build) => {
      const module = imported[build]!;
      if (!isModule(module)) {
        throw new TypeError(`initSync(): importing the ${build} build gave ${JSON.stringify(module)}, not a WebAssembly.Module; use await init()`);
      }
      return module as WebAssembly.Module;
    },
  });
}

/**
 * The build named by options.build, checked; 'auto' and undefined resolve to the best of `available`
 * that the runtime validates (builds are ordered fastest first, and each needs a subset of the
 * features of the one before).
 */
function chooseBuild(options: { module?: unknown; build?: unknown }, available: readonly Build[]): Build {
  const { build } = options;
  if (build === undefined || build === 'auto') {
    const best = BUILDS.indexOf(bestBuild());
    const pick = BUILDS.find((b, i) => i >= best && available.includes(b));
    if (!pick) throw new RangeError(`none of this entry point's builds (${available.join(', ')}) runs here`);
    return pick;
  }
  if (!available.includes(build as Build)) {
    throw new RangeError(`options.build must be 'auto', ${available.map((b) => `'${b}'`).join(', ')}, got ${describe(build)}`);
  }
  if (options.module !== undefined) {
    throw new RangeError('options.build selects one of the package\'s own builds; it cannot be combined with options.module');
  }
  return build as Build;
}

/**
 * URL of one of the package's own builds. Each URL is a literal path, which bundlers that follow
 * `new URL('./file', import.meta.url)` (Vite, webpack, Rollup's importMetaAssets) emit, and which
 * scripts/finish-dist.mjs relocates to the file each lands in: './xentropy.wasm' beside every entry
 * point. Written from the package root ('../../dist/'), so that it also holds in src/load/, where the
 * tests import this file. Built on demand: a module-level `new URL(..., import.meta.url)` stops a
 * Cloudflare Worker from starting. In the CommonJS build (dist/cjs/) import.meta.url is the URL of its
 * ESM twin in dist/.
 * @internal
 */
export function ownBuildUrl(build: Build): URL {
  switch (build) {
    case 'relaxed-simd': return new URL('../../dist/xentropy.relaxed.wasm', import.meta.url);
    case 'simd': return new URL('../../dist/xentropy.wasm', import.meta.url);
    case 'scalar': return new URL('../../dist/xentropy.scalar.wasm', import.meta.url);
  }
}

/** @internal URL of the pool's build (apart from ownBuildUrl, so that an app without a pool never names it). */
export function ownSharedBuildUrl(): URL {
  return new URL('../../dist/xentropy.shared.wasm', import.meta.url);
}

/** The pool's build, compiled once per process. */
let sharedModule: Promise<WebAssembly.Module> | undefined;

/** @internal The pool's build (SIMD, shared memory), compiled once per process; a failed load is not cached, so a later call can retry. */
export function ownSharedModule(): Promise<WebAssembly.Module> {
  sharedModule ??= fetchModule(ownSharedBuildUrl()).catch((error: unknown) => {
    sharedModule = undefined;
    throw error;
  });
  return sharedModule;
}

interface NodeLikeProcess {
  getBuiltinModule?: (id: string) => unknown;
}

/** @internal The parts of node:fs used here (declared, so that no declaration file needs @types/node). */
export interface FileReader {
  readFileSync(url: URL): Uint8Array<ArrayBuffer>;
}

/** The part of Bun's global used here. */
interface BunLike {
  file(url: URL): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * A synchronous file reader where the runtime has one, found without an import statement, so that
 * bundlers building for browsers and workers never meet a node: specifier: Deno's own, else node:fs
 * (Node ≥ 20.16, Bun). Deno first: in Deno, reading `process` or importing node:fs starts its Node
 * compatibility layer, 12-20 ms of a fresh process (docs/performance.md, start-up).
 * @internal
 */
export function fileReader(): FileReader | undefined {
  const deno = (globalThis as { Deno?: Partial<FileReader> }).Deno;
  if (typeof deno?.readFileSync === 'function') return deno as FileReader;
  return nodeBuiltin('node:fs') as FileReader | undefined;
}

/**
 * A Node built-in module through process.getBuiltinModule (Node ≥ 20.16, Bun), without an import
 * statement; undefined where the runtime has none.
 * @internal
 */
export function nodeBuiltin(id: string): unknown {
  return (globalThis as { process?: NodeLikeProcess }).process?.getBuiltinModule?.(id);
}

/**
 * Compiles the .wasm at `url`: read from disk for file: URLs (Bun.file in Bun, whose node:fs costs a
 * fresh process ~4 ms; else fileReader(), else fetch, which Deno and Bun allow on files), else fetched
 * and compiled while it streams when served as application/wasm.
 * @throws TypeError when a file: URL cannot be read in this runtime; Error on an HTTP error status
 * @internal
 */
export async function fetchModule(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:') {
    // Read and compiled synchronously: faster in a fresh process than readFile and WebAssembly.compile
    // for a file this small (docs/performance.md, start-up).
    const bun = (globalThis as { Bun?: Partial<BunLike> }).Bun;
    if (typeof bun?.file === 'function') return new WebAssembly.Module(await (bun as BunLike).file(url).arrayBuffer());
    const fs = fileReader();
    if (fs) return new WebAssembly.Module(fs.readFileSync(url));
    if (typeof fetch !== 'function') throw new TypeError(`cannot read ${url.href} in this runtime`);
  }
  return compile(await fetch(url), url);
}

/** A Module from a Module, bytes or a Response (an HTTP error status is an Error naming the URL). */
async function compile(source: WebAssembly.Module | BufferSource | Response, url?: URL): Promise<WebAssembly.Module> {
  if (isModule(source)) return source as WebAssembly.Module;
  // Bytes before Response: in Node, reading the global Response loads the fetch machinery, a start-up cost.
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return WebAssembly.compile(source as BufferSource);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new Error(`fetching ${url?.href ?? source.url} failed: HTTP ${source.status}`);
    if (source.headers.get('content-type')?.startsWith('application/wasm')) return WebAssembly.compileStreaming(source);
    return WebAssembly.compile(await source.arrayBuffer());
  }
  return WebAssembly.compile(source as BufferSource);
}

/**
 * A URL from a URL, a URL string (relative ones against the page, where there is one) or an absolute
 * file path (Bun's `import x from './x.wasm'` gives one).
 * @throws TypeError for a relative string where there is no page to resolve it against
 * @internal
 */
export function toUrl(source: string | URL): URL {
  if (source instanceof URL) return source;
  const page = pageHref();
  if (page) return new URL(source, page);
  // Windows paths first: 'C:\x' would otherwise parse as a URL with the scheme 'c:'.
  const windows = /^[A-Za-z]:[\\/]/.test(source);
  if (windows || source.startsWith('/')) {
    const path = source.replace(/\\/g, '/').split('/').map((part, i) => (windows && i === 0 ? part : encodeURIComponent(part)));
    return new URL(`file://${windows ? '/' : ''}${path.join('/')}`);
  }
  try {
    return new URL(source);
  } catch {
    throw new TypeError(`options.module ${JSON.stringify(source)} is neither an absolute URL nor an absolute file path`);
  }
}

/** The page's URL where there is one. Deno throws on reading `location` unless started with --location. */
function pageHref(): string | undefined {
  try {
    return typeof location === 'undefined' ? undefined : location.href;
  } catch {
    return undefined;
  }
}

/**
 * A WebAssembly.Module of this realm or another: the Vercel Edge VM hands over modules compiled by the
 * host, which fail `instanceof` but instantiate (engines check the internal brand, not the prototype).
 * @internal
 */
export function isModule(value: unknown): boolean {
  return value instanceof WebAssembly.Module || Object.prototype.toString.call(value) === '[object WebAssembly.Module]';
}

function isModuleSource(value: unknown): boolean {
  return isModule(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer
    || (typeof Response !== 'undefined' && value instanceof Response);
}
