// What dist/ ships besides tsc's declarations, and in what form (run after tsc: npm run build:ts). Every entry
// point of the package is bundled by esbuild into one file, or as few as its runtime needs, so that a
// fresh process loads one module instead of the ~30 of tsc's output (issue 27: in Node 20, each module
// costs ~0.5 ms to resolve, read and link, which made `import` take 20 ms):
//
// 1. The ESM entry points, bundled from tsc's output of the same name: dist/node.js (Node and Bun),
//    browser.js (browsers, also unbundled), worker.js (worker), workerd.js (workerd), edge_light.js and
//    index.js (deno, a bundler's module, import, default) are each a small module of what differs
//    between runtimes (how the .wasm is found and read), and share the library through chunks
//    (dist/chunk-<hash>.js): each copy of the library is ~40 kB of the packed tarball, whose budget
//    test/package.test.ts checks. dist/parts.js is the scorers, the pool and the float64 reference
//    (src/parts.ts): the other entry points import them with the rest, and dist/node.js loads them with
//    require() on first use (its require() is kept literal: literalRequire below). So Node loads two
//    modules for `import` and `init()`, node.js and the library's chunk, and the others three, with the
//    parts' chunk. Chunks that esbuild writes without code go (withoutEmptyChunks). None of it holds the
//    command line.
//
//    Every bundle is syntax- and whitespace-minified, names kept (they are what a stack trace shows; the
//    documentation is in the .d.ts files). The ESM entry points get their pure annotations back
//    (pureAnnotated), which esbuild drops when it minifies whitespace and which let a bundler drop what
//    an app does not use (an entry point's `own = createInit(...)`, `reference`). Then terser shortens
//    the names that no stack trace, export or `.name` shows: parameters and local variables that do not
//    hold a function (shortLocals). A fresh process compiles less text for it (docs/performance.md).
// 2. The pool's worker script, dist/pool/worker.js, one file (engine and protocol only).
// 3. xentropy/eval (the array readers, scoring arrays, the HTML report) and the command line's drawing
//    code (dist/cli/report.js: the report and the reliability diagram, which the command line imports
//    only for --report and --plot) share that code through a chunk of their own,
//    dist/chunk-eval-<hash>.js. The pair imports nothing else: it is not the ESM entries' chunk, so a
//    plain `import 'xentropy'` loads none of it, and it shares no code with the library (the scorer is
//    handed in). The command line itself is one CommonJS file, dist/cli/cli.cjs (bin/xentropy.js is
//    CommonJS too: bin/package.json): its own modules, the readers, the scorer and the driver, without
//    the Xentropy facade (src/cli/cli.ts, ownScorer). A run that loads no ES module never starts
//    Node's ES module loader, and a CommonJS require() of a built-in builds no namespace (an ES import
//    of node:fs loads all of streams): several ms of every run. It is the package's second copy of
//    those parts (~35 kB of the packed tarball), which the budget holds; import() of ./report.js and
//    of ../parts.js (the library's pool of workers and binary and multilabel scorers) stay imports of
//    the shipped ES modules.
// 4. No CommonJS copy of the library: `require('xentropy')` loads dist/node.js itself, which every
//    runtime the package supports can require (Node 20.19 and 22.12 on, Bun, Deno: require(esm); the
//    modules have no top-level await). A copy would double every part of the library in the packed
//    tarball, whose budget test/package.test.ts checks.
// 5. The CommonJS declarations: one file, dist/cjs/node.d.ts, that re-declares each export of
//    dist/node.d.ts through a type-only import of it. TypeScript reads it as CommonJS (the package.json
//    above), so `require('xentropy')` type-checks under moduleResolution node16, without a second copy
//    of every declaration file.
// 6. Declaration files that no `types` entry of package.json reaches (the command line's, the worker
//    script's) are removed: nothing can import them.
//
// Relative URLs: a module bundled into a file of another folder would resolve `new URL('./x',
// import.meta.url)` against the wrong folder, so each such literal (the .wasm builds, the pool's
// worker script, the package root) is rewritten, while bundling, relative to the file it lands in, and
// every URL of every output is then checked to name an existing file or folder.
//
// tsc's per-module output stays in dist/ beside the bundles, for the repository's own tests and tools
// that reach into the internals (test/pool.test.ts, bench/copy-windows.js, scripts/soak.mjs); the
// package ships only the bundles (package.json "files"), and test/package.test.ts checks that no shipped
// file imports an unshipped one. dist/pool/pool.js is replaced by a small module that hands those
// tests the pool's test hook (failNext) of the bundled dist/index.js, not of a second copy.

import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import esbuild from 'esbuild';
import { minify } from 'terser';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const cjsDir = join(dist, 'cjs');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The ESM entry points (in dist/): they share the library through one chunk (dist/chunk-<hash>.js). */
const ESM_ENTRIES = ['node.js', 'browser.js', 'index.js', 'worker.js', 'workerd.js', 'edge_light.js', 'parts.js'];
/** What the node entry loads on first use, with require() (src/node.ts; 1. below). */
const PARTS = './parts.js';
/** What stands for `require` while the ESM entry points are bundled, so that esbuild leaves node.js's require() as written. */
const REQUIRE_STANDIN = '__xentropyRequire';
const POOL_WORKER = 'pool/worker.js';
/** xentropy/eval: runs in any runtime; it imports only its chunk, shared with the command line. */
const EVAL = 'eval.js';
/** The chunk of xentropy/eval and the command line (a name the library's chunk pattern, chunk-\w+, does not match). */
const EVAL_CHUNK = /^chunk-eval-\w+\.js$/;
/** The command line as tsc writes it (ESM, not shipped), and its CommonJS bundle (see 3.). */
const CLI = 'cli/cli.js';
const CLI_BUNDLE = 'cli/cli.cjs';
/** The command line's drawing code (--plot, --report), which it imports only when asked for one. */
const CLI_REPORT = 'cli/report.js';
/** The CommonJS build: dist/node.js's graph, with import.meta.url standing for dist/node.js. */
const REQUIRE_ENTRY = './dist/node.js';

/** What stands for import.meta.url in a CommonJS bundle. */
const META_URL_CJS = '__moduleUrl';

/** The first line of every bundle (and how this script recognises one). */
const BANNER = '// xentropy: bundled by scripts/finish-dist.mjs from tsc\'s output (src/ is the source).';

if (pkg.exports['.'].require?.default !== REQUIRE_ENTRY) {
  throw new Error(`finish-dist: package.json exports["."].require.default is not ${REQUIRE_ENTRY}, the module require() loads (see 4. above)`);
}
for (const file of [...ESM_ENTRIES, POOL_WORKER, EVAL, CLI, CLI_REPORT]) {
  if (!isFile(join(dist, file))) throw new Error(`finish-dist: dist/${file} is missing; run tsc first (npm run build:ts)`);
  if (readFileSync(join(dist, file), 'utf8').startsWith(BANNER)) {
    throw new Error(`finish-dist: dist/${file} is already a bundle; run tsc first (npm run build:ts), which rewrites it`);
  }
}

/** The pool's test-hook method name (src/pool/pool.ts, failNext), read from tsc's output, which the shim below replaces. */
const failNextKey = /^export const failNext = (['"])(\w+)\1;$/m.exec(readFileSync(join(dist, 'pool', 'pool.js'), 'utf8'))?.[2];
if (!failNextKey) throw new Error('finish-dist: dist/pool/pool.js declares no `export const failNext = \'<name>\';` (src/pool/pool.ts changed?)');

/** Whether path is a file. */
function isFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Every file under dir, recursively, except under skip. */
function walk(dir, skip) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (path === skip) return [];
    return statSync(path).isDirectory() ? walk(path, skip) : [path];
  });
}

/** The files reachable from `entries` through relative imports and re-exports ('./x.js' -> `./x${ext}`). */
function reachable(entries, ext) {
  const seen = new Set();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:\bfrom|\bimport\s*\(?)\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      const target = join(dirname(file), `${spec}${ext}`);
      if (!isFile(target)) throw new Error(`finish-dist: ${relative(root, file)} imports ${spec}.js, but ${relative(root, target)} does not exist`);
      queue.push(target);
    }
  }
  return seen;
}

/** Every `types` path of package.json (top level and each exports condition). */
function typesEntries(value = pkg.exports, found = [join(root, pkg.types)]) {
  if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'types' && typeof v === 'string') found.push(join(root, v));
      else typesEntries(v, found);
    }
  }
  return found;
}

/** A relative path as a module specifier or URL: forward slashes, './' or '../' first. */
function specifier(path) {
  const posix = path.split(sep).join('/');
  return posix.startsWith('../') || posix === '..' ? posix : `./${posix}`;
}

/**
 * `new URL('<relative>...', import.meta.url)` in tsc's output: the quote, and the literal's static
 * part up to the end of the string or the first `${` of a template (`../../${path}`).
 */
const URL_LITERAL = /new URL\(\s*(['"`])(\.{1,2}\/[^'"`$]*)/g;

/**
 * esbuild plugin: rewrites each relative URL literal of a bundled module (in `from`'s folder) so that
 * it names the same file from `into`, the folder of the file it is bundled into. Counts the rewrites.
 */
function relocateUrls(intoFor, counts) {
  return {
    name: 'relocate-urls',
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, (args) => {
        const from = dirname(args.path);
        const into = typeof intoFor === 'function' ? intoFor(args.path) : intoFor;
        const code = readFileSync(args.path, 'utf8').replace(URL_LITERAL, (match, quote, literal, offset, text) => {
          // Not in comments (tsc keeps them), which esbuild drops.
          const line = text.slice(text.lastIndexOf('\n', offset) + 1, offset).trim();
          if (line.startsWith('*') || line.startsWith('/*') || line.includes('//')) return match;
          const target = resolve(from, literal);
          let moved = specifier(relative(into, target));
          if (literal.endsWith('/') && !moved.endsWith('/')) moved += '/';
          if (moved !== literal) counts.set(relative(dist, args.path), (counts.get(relative(dist, args.path)) ?? 0) + 1);
          return `new URL(${quote}${moved}`;
        });
        return { contents: code, loader: 'js' };
      });
    },
  };
}

/** esbuild plugin: the .wasm builds (`./xentropy.wasm`, `?module`) stay imports of their own, as written. */
const wasmExternal = {
  name: 'wasm-external',
  setup(build) {
    build.onResolve({ filter: /\.wasm(\?module)?$/ }, (args) => {
      if (dirname(args.importer) !== dist) {
        throw new Error(`finish-dist: ${relative(root, args.importer)} imports ${args.path}; only the entry points in dist/ may, since the import is kept as written`);
      }
      return { path: args.path, external: true };
    });
  },
};

/**
 * esbuild plugin: what the command line's bundle imports only when it needs it stays an import of the
 * shipped ES module: ../parts.js (the library's pool and binary scorers) and ./report.js (the drawing code).
 */
const cliLazyImports = {
  name: 'cli-lazy-imports',
  setup(build) {
    build.onResolve({ filter: /^(\.\.\/parts|\.\/report)\.js$/ }, (args) => {
      if (dirname(args.importer) !== join(dist, 'cli')) return undefined;
      if (args.kind !== 'dynamic-import') throw new Error(`finish-dist: ${relative(root, args.importer)} imports ${args.path} statically; the command line loads it only with import()`);
      return { path: args.path, external: true };
    });
  },
};

/**
 * Bundles `entries` (paths relative to dist/) into the folder `outdir` of dist/, syntax- and
 * whitespace-minified. Returns the outputs: { path, text, imports, relocated } with imports as written
 * (relative specifiers, node: built-ins).
 * @param pure keep the pure annotations of module-level calls (see pureAnnotated)
 */
async function bundle(entries, outdir, { pure = false, splitting = false, chunkNames = 'chunk-[hash]', plugins = [], urlsFrom, commonJs = false, define } = {}) {
  const into = join(dist, outdir);
  const relocated = new Map();
  const build = (minifyWhitespace, counts) => esbuild.build({
    entryPoints: entries.map((e) => join(dist, e)),
    outdir: into,
    bundle: true,
    write: false,
    metafile: true,
    format: commonJs ? 'cjs' : 'esm',
    ...(define && { define }),
    ...(commonJs && {
      outExtension: { '.js': '.cjs' },
      // CommonJS has no import.meta: the file's own URL stands in for it (see the URL check below).
      define: { 'import.meta.url': META_URL_CJS },
      // 'use strict' first: the banner's declaration would otherwise end the directive prologue.
      banner: { js: `'use strict';\nconst ${META_URL_CJS} = require('node:url').pathToFileURL(__filename).href;` },
    }),
    splitting,
    chunkNames,
    platform: 'neutral',
    target: 'es2022',
    external: ['node:*'],
    absWorkingDir: root,
    charset: 'ascii', // non-ASCII text would make the whole file a two-byte string to V8: slower to decode and scan
    legalComments: 'none',
    minifySyntax: true,
    minifyWhitespace,
    logLevel: 'silent',
    // urlsFrom: the folder a module's output lands in, when entries of several folders are bundled together.
    plugins: [relocateUrls(urlsFrom ?? into, counts), ...plugins],
  });
  const [result, annotated] = await Promise.all([build(true, relocated), pure ? build(false, new Map()) : null]);
  if (result.warnings.length > 0) {
    throw new Error(`finish-dist: esbuild warned on ${entries.join(', ')}:\n${(await esbuild.formatMessages(result.warnings, { kind: 'warning' })).join('\n')}`);
  }
  /** The metafile entry of an output file, and which entry point it is (undefined: a chunk). */
  const meta = (r, file) => r.metafile.outputs[relative(root, file.path).split(sep).join('/')];
  return result.outputFiles.map((file) => {
    const output = meta(result, file);
    const imports = output.imports.map((i) => (i.external ? i.path : specifier(relative(dirname(file.path), join(root, i.path)))));
    let text = file.text;
    if (annotated) {
      // The same output of the build that kept the layout: the same entry point, or the chunk of the same modules.
      const key = (o) => o.entryPoint ?? Object.keys(o.inputs).sort().join();
      const twins = annotated.outputFiles.filter((f) => key(meta(annotated, f)) === key(output));
      if (twins.length !== 1) throw new Error(`finish-dist: ${twins.length} outputs match ${relative(dist, file.path)} in the annotated build`);
      text = pureAnnotated(text, twins[0].text, relative(dist, file.path));
    }
    return { path: file.path, text: `${BANNER}\n${text}`, imports, relocated, meta: commonJs ? META_URL_CJS : 'import.meta.url' };
  });
}

/**
 * `minified` with the pure annotations of `annotated` (the same bundle, its layout kept) put back:
 * esbuild drops every `/* @__PURE__ *\/` when it minifies whitespace, and they let a bundler drop an
 * unused entry point's module-level calls (`own = createInit(...)`, `reference = Object.freeze(...)`).
 * Each `name = /* @__PURE__ *\/ callee(` of `annotated` must appear as `name=callee(` as often in
 * `minified`, where it is annotated again.
 */
function pureAnnotated(minified, annotated, name) {
  const found = new Map();
  for (const [, id, callee] of annotated.matchAll(/(?<![\w$.])([\w$]+) = \/\* @__PURE__ \*\/ ([\w$.]+)\(/g)) {
    found.set(`${id}=${callee}(`, (found.get(`${id}=${callee}(`) ?? 0) + 1);
  }
  let text = minified;
  for (const [call, count] of found) {
    const at = new RegExp(`(?<![\\w$.])${call.replace(/[.$()]/g, '\\$&')}`, 'g');
    const hits = text.match(at)?.length ?? 0;
    if (hits !== count) throw new Error(`finish-dist: ${name}: \`${call}\` ${count} times annotated, ${hits} times in the minified bundle`);
    text = text.replace(at, (m) => m.replace('=', '=/* @__PURE__ */'));
  }
  return text;
}

/**
 * The ESM bundles with node.js's require() of the parts put back as written (`typeof require`,
 * `require('./parts.js')`), where a bundler that bundles the app recognises it (esbuild would otherwise
 * have turned it into a call of its own shim, which throws in an ES module). Only node.js may use it.
 */
function literalRequire(outputs) {
  for (const out of outputs) {
    const name = relative(dist, out.path);
    const uses = out.text.split(REQUIRE_STANDIN).length - 1;
    if (name !== 'node.js' && uses > 0) throw new Error(`finish-dist: dist/${name} uses require; only the node entry may (src/node.ts)`);
    if (name !== 'node.js') continue;
    const call = `${REQUIRE_STANDIN}(${JSON.stringify(PARTS)})`;
    // typeof require, require !== globalThis.require (the REPL's), require('./parts.js'): src/node.ts.
    if (uses !== 3 || !out.text.includes(`typeof ${REQUIRE_STANDIN}`) || !out.text.includes(call) || !out.text.includes('globalThis.require')) {
      throw new Error(`finish-dist: dist/node.js should test require as src/node.ts does and call require(${JSON.stringify(PARTS)}); it names require ${uses} times`);
    }
    out.text = out.text.replaceAll(REQUIRE_STANDIN, 'require');
  }
  return outputs;
}

/**
 * A binding that holds a function, in esbuild's minified output: `name=(a,b)=>`, `name=async x=>`,
 * `name=function(`. Its name is the function's `.name` and its frame in a stack trace.
 */
const FUNCTION_BINDING = /(?<![\w$.])([\w$]+)=(?:async ?)?(?:\((?:[^()]|\([^()]*\))*\)|[\w$]+)=>|(?<![\w$.])([\w$]+)=(?:async )?function\b/g;
/** Declared names that keep_fnames / keep_classnames keep: `function name(`, `class name`. */
const DECLARED_NAME = /(?<![\w$.])(?:function\*?|class) ?([\w$]+)[({ ]/g;

/** The names `pattern` captures in `text`, sorted (a multiset). */
function namesOf(text, pattern) {
  return [...text.matchAll(pattern)].map((m) => m[1] ?? m[2]).sort();
}

/**
 * Each bundle with its local names shortened by terser: parameters and variables inside functions.
 * Kept: every top-level name (exports, imports, the functions and classes a stack trace names, the
 * CommonJS bundle's stand-in for import.meta.url), the names of declared functions and classes, the
 * variables that hold a function (FUNCTION_BINDING: an arrow's `.name` is its variable's), properties,
 * the pure annotations and the banner; ASCII only, as esbuild writes it. Checked after: the same
 * declared names and function bindings as before.
 */
async function shortLocals(outputs) {
  for (const out of outputs) {
    const name = relative(dist, out.path);
    const bindings = namesOf(out.text, FUNCTION_BINDING);
    const { code } = await minify(out.text, {
      parse: { module: out.meta !== META_URL_CJS },
      compress: false,
      mangle: { module: false, toplevel: false, keep_fnames: true, keep_classnames: true, reserved: [...new Set(bindings)] },
      format: { ascii_only: true, comments: (_, comment) => comment.value.startsWith(' xentropy:'), preserve_annotations: true },
    });
    if (!code.startsWith(`${BANNER}\n`)) throw new Error(`finish-dist: dist/${name} lost its first line to terser`);
    for (const pattern of [FUNCTION_BINDING, DECLARED_NAME]) {
      const before = namesOf(out.text, pattern), after = namesOf(code, pattern);
      if (before.join() !== after.join()) {
        const lost = before.filter((n) => !after.includes(n));
        throw new Error(`finish-dist: terser renamed functions or classes of dist/${name}: ${lost.join(', ') || '(counts differ)'}`);
      }
    }
    out.text = code;
  }
  return outputs;
}

/**
 * The bundles without the chunks that hold no code: esbuild writes one for a module of re-exports that
 * another set of entry points reaches than the code around it (src/library.ts, src/full.ts), and the
 * entry points import it for nothing. Each such chunk and every `import"./<chunk>";` of it go.
 */
function withoutEmptyChunks(outputs) {
  const empty = new Set(outputs.filter((o) => /^chunk-\w+\.js$/.test(relative(dist, o.path)) && o.text === `${BANNER}\n`)
    .map((o) => `./${relative(dist, o.path)}`));
  const kept = outputs.filter((o) => !empty.has(`./${relative(dist, o.path)}`));
  for (const out of kept) {
    for (const spec of out.imports.filter((i) => empty.has(i))) {
      const statement = `import${JSON.stringify(spec)};`;
      if (out.text.split(statement).length !== 2) throw new Error(`finish-dist: dist/${relative(dist, out.path)} imports the empty ${spec} other than as \`${statement}\``);
      out.text = out.text.replace(statement, '');
    }
    out.imports = out.imports.filter((i) => !empty.has(i));
  }
  return kept;
}

// 1.-4. The bundles, in memory first: each reads tsc's output, which they then replace.
const outputs = await shortLocals([
  ...withoutEmptyChunks(literalRequire(await bundle(ESM_ENTRIES, '.', { pure: true, splitting: true, plugins: [wasmExternal], define: { require: REQUIRE_STANDIN } }))),
  ...await bundle([POOL_WORKER], 'pool'),
  // xentropy/eval and the command line's drawing code share the chunk of the readers and the report.
  ...await bundle([EVAL, CLI_REPORT], '.', {
    pure: true, splitting: true, chunkNames: 'chunk-eval-[hash]',
    urlsFrom: (path) => (dirname(path) === join(dist, 'cli') ? join(dist, 'cli') : dist),
  }),
  // The command line: one CommonJS file with the part of the library it runs (see 3.).
  ...await bundle([CLI], 'cli', { commonJs: true, plugins: [cliLazyImports] }),
]);

for (const out of outputs) {
  const name = relative(dist, out.path);
  // esbuild writes a class that names itself in its own body as `var C = class _C`: `_C` would be its name.
  const renamed = /(?<![\w$.])([\w$]+)=class (?!extends )(?!\1[{ ])([\w$]+)/.exec(out.text);
  if (renamed) throw new Error(`finish-dist: dist/${name} names the class ${renamed[1]} '${renamed[2]}'; build it outside its own body (src/ops/binary_scorer.ts, newBinaryScorer)`);
  for (const spec of out.imports) {
    const local = ['./xentropy.wasm', './xentropy.relaxed.wasm', './xentropy.scalar.wasm', './xentropy.wasm?module', './xentropy.scalar.wasm?module'];
    const chunk = /^\.\/chunk-\w+\.js$/.test(spec) && (ESM_ENTRIES.includes(name) || /^chunk-\w+\.js$/.test(name));
    // xentropy/eval and its chunk import only that chunk (no node: built-in: they run in any runtime); the command line may too.
    const evalChunk = /^\.{1,2}\/chunk-eval-\w+\.js$/.test(spec) && (name === EVAL || name === CLI_REPORT);
    if ((name === EVAL || EVAL_CHUNK.test(name)) && !evalChunk) {
      throw new Error(`finish-dist: the bundle dist/${name} imports ${spec}; xentropy/eval may import only its chunk (it runs in any runtime, unbundled)`);
    }
    const lazy = name === CLI_BUNDLE && (spec === '../parts.js' || spec === './report.js');
    const allowed = spec.startsWith('node:') || chunk || evalChunk || lazy || (ESM_ENTRIES.includes(name) && local.includes(spec));
    if (!allowed) throw new Error(`finish-dist: the bundle dist/${name} imports ${spec}, which is neither a node: built-in nor what it may import`);
  }
}

// tsc's output of the command line's own modules stays (see the header); dist/cjs/ holds only the CommonJS declarations.
rmSync(cjsDir, { recursive: true, force: true });
for (const name of readdirSync(dist)) if (/^chunk-\w+\.js$/.test(name) || EVAL_CHUNK.test(name)) rmSync(join(dist, name));
for (const out of outputs) {
  mkdirSync(dirname(out.path), { recursive: true });
  writeFileSync(out.path, out.text);
}
mkdirSync(cjsDir, { recursive: true });
writeFileSync(join(cjsDir, 'package.json'), '{ "type": "commonjs" }\n');

// Every URL of every bundle names a file or folder that exists, from the file (or its ESM twin).
for (const out of outputs) {
  const { meta } = out;
  const base = dirname(out.path);
  // A CommonJS bundle declares its stand-in once, in the banner.
  const uses = out.text.split(meta).length - 1 - (meta === META_URL_CJS ? 1 : 0);
  const literal = new RegExp(String.raw`new URL\(\s*(["'\x60])([^"'\x60$]*)(?:\$\{[^}]*\}[^"'\x60]*)?\1\s*,\s*${meta.replace('.', '\\.')}\s*\)`, 'g');
  const urls = [...out.text.matchAll(literal)].map((m) => m[2]);
  if (out.text.includes('${', 0) && [...out.text.matchAll(literal)].some((m) => m[0].includes('${'))) {
    throw new Error(`finish-dist: dist/${relative(dist, out.path)} builds a URL from a template; bundlers locate only literal ones`);
  }
  if (urls.length !== uses) throw new Error(`finish-dist: dist/${relative(dist, out.path)} uses ${meta} ${uses} times, ${urls.length} of them in new URL('<relative>', ${meta})`);
  for (const url of urls) {
    const target = resolve(base, url);
    if (relative(root, target).startsWith('..') || !existsSync(target)) {
      throw new Error(`finish-dist: dist/${relative(dist, out.path)} has new URL('${url}', ...), which names ${relative(root, target)}: not found`);
    }
  }
}

// The pool's test hook for test/pool.test.ts, from the bundled dist/index.js (see the header).
writeFileSync(join(dist, 'pool', 'pool.js'), `// xentropy: written by scripts/finish-dist.mjs in place of tsc's dist/pool/pool.js; not shipped.
// test/pool.test.ts calls the pool's test hook (src/pool/pool.ts, failNext) through here: the method of
// the pool bundled into dist/index.js, not of a second copy.
import { XentropyPool } from '../index.js';

export const failNext = ${JSON.stringify(failNextKey)};
if (typeof XentropyPool.prototype[failNext] !== 'function') throw new Error('dist/pool/pool.js: the bundled XentropyPool has no failNext method');
`);

// 5. The CommonJS declarations.
writeFileSync(join(cjsDir, 'node.d.ts'), commonJsDeclarations(join(dist, 'node.d.ts')));

// 6. Unreachable declarations.
const types = reachable(typesEntries().filter((f) => !f.startsWith(cjsDir + sep)), '.d.ts');
const removed = walk(dist, cjsDir).filter((f) => f.endsWith('.d.ts') && !types.has(f));
for (const file of removed) rmSync(file);

const relocatedUrls = [...new Set([...new Set(outputs.map((o) => o.relocated))].flatMap((m) => [...m.keys()]))];
console.log(`finish-dist: ${outputs.length} bundles (${outputs.map((o) => `${relative(dist, o.path)} ${(o.text.length / 1000).toFixed(1)} kB`).join(', ')}); `
  + `relative URLs rewritten in ${relocatedUrls.join(', ') || 'none'}; dist/cjs/node.d.ts; `
  + `${removed.length} unreachable declaration files removed`);

/**
 * A CommonJS declaration file that re-declares every export of the ESM declaration file `esmFile`
 * (which must sit one level above dist/cjs/): values as `typeof M.x`, types as aliases, each with its
 * JSDoc, where M is a type-only import of esmFile in ESM resolution mode (TypeScript >= 5.3).
 */
function commonJsDeclarations(esmFile) {
  const program = ts.createProgram([esmFile], { noEmit: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, types: [] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(esmFile));
  const spec = `../${relative(dist, esmFile).replace(/\.d\.ts$/, '.js')}`;
  const lines = [
    `// CommonJS declarations of xentropy, generated by scripts/finish-dist.mjs: every export of ${spec.replace(/\.js$/, '.d.ts')},`,
    '// which TypeScript reads as ESM, re-declared for `require`.',
    `import type * as M from '${spec}' with { 'resolution-mode': 'import' };`,
  ];
  const exports = checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name));
  for (const symbol of exports) {
    const name = symbol.name;
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const declaration = target.declarations?.[0];
    if (!declaration) throw new Error(`finish-dist: no declaration for the export ${name}`);
    const docs = ts.getJSDocCommentsAndTags(declaration).filter(ts.isJSDoc).map((d) => d.getText());
    const doc = docs.length > 0 ? docs[docs.length - 1] : '';
    const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
    const isType = (target.flags & ts.SymbolFlags.Type) !== 0;
    if (!isValue && !isType) throw new Error(`finish-dist: the export ${name} is neither a value nor a type`);
    if (target.flags & ts.SymbolFlags.Module && checker.getExportsOfModule(target).some((s) => !(checker.getAliasedSymbol(s).flags & ts.SymbolFlags.Value))) {
      throw new Error(`finish-dist: the namespace ${name} exports types, which \`typeof M.${name}\` would drop`);
    }
    lines.push('');
    if (doc) lines.push(doc);
    if (isValue) lines.push(`export declare const ${name}: typeof M.${name};`);
    if (isType) {
      const params = declaration.typeParameters ?? [];
      const names = params.map((p) => p.name.text);
      const declared = params.map((p) => p.name.text
        + (p.constraint ? ` extends ${qualified(p.constraint, names)}` : '') + (p.default ? ` = ${qualified(p.default, names)}` : ''));
      const [list, args] = params.length > 0 ? [`<${declared.join(', ')}>`, `<${names.join(', ')}>`] : ['', ''];
      lines.push(`export type ${name}${list} = M.${name}${args};`);
    }
  }
  return `${lines.join('\n')}\n`;

  /**
   * The text of a type parameter's constraint or default, with each type it names that the module exports
   * written as M.<name>; type parameters and the standard library's types stay as they are.
   */
  function qualified(node, params) {
    const exported = new Set(exports.map((s) => s.name));
    const at = [];
    (function visit(n) {
      if (ts.isTypeReferenceNode(n) && ts.isIdentifier(n.typeName)) {
        const id = n.typeName.text;
        if (exported.has(id)) at.push(n.typeName.getStart() - node.getStart());
        else if (!params.includes(id)) {
          const declarations = checker.getSymbolAtLocation(n.typeName)?.declarations ?? [];
          if (declarations.length === 0 || !declarations.every((d) => program.isSourceFileDefaultLibrary(d.getSourceFile()))) {
            throw new Error(`finish-dist: a type parameter names ${id}, which ${spec.replace(/\.js$/, '.d.ts')} does not export`);
          }
        }
      }
      ts.forEachChild(n, visit);
    })(node);
    let text = node.getText();
    for (const i of at.reverse()) text = `${text.slice(0, i)}M.${text.slice(i)}`;
    return text;
  }
}
