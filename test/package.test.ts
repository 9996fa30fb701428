// The published package: its size budget, that every exports target is built and packed, that the
// types resolve under each condition, and that the packed tarball works once installed (ESM, CommonJS,
// the command line). Run after `npm run build`; the runtimes themselves are test/runtimes/run.mjs.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>; files: string[]; scripts: Record<string, string>; bin: Record<string, string>;
  main: string; module: string; types: string;
};

/** The packed size budget, in bytes of the .tgz (npm's kB are 1000 bytes). */
const BUDGET_BYTES = 250_000;

/**
 * What a browser page downloads to compute a loss: its bundled JavaScript plus the largest of the
 * WebAssembly builds it may load, each gzipped, in bytes.
 */
const PAGE_BUDGET_BYTES = 60_000;

interface PackResult { size: number; unpackedSize: number; files: { path: string; size: number }[] }

/** `npm pack --dry-run --json`, without lifecycle scripts: it measures what is built, it builds nothing. */
function packDryRun(): PackResult {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(out) as PackResult[])[0];
}

/** Every file path an exports map names (pattern entries excepted), with the condition path to it. */
function exportTargets(value: unknown, path: string[] = []): [string, string][] {
  if (typeof value === 'string') return value.includes('*') ? [] : [[path.join(' > '), value]];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => exportTargets(v, [...path, key]));
  }
  throw new TypeError(`exports${path.map((p) => `[${JSON.stringify(p)}]`).join('')} is ${JSON.stringify(value)}`);
}

describe('the package', () => {
  const pack = packDryRun();
  const packed = new Set(pack.files.map((f) => f.path));

  it(`packs into at most ${BUDGET_BYTES / 1000} kB`, () => {
    const largest = [...pack.files].sort((a, b) => b.size - a.size).slice(0, 6).map((f) => `${f.path} ${f.size}`);
    expect(pack.size, `packed ${pack.size} bytes; largest files unpacked: ${largest.join(', ')}`).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it(`lets a browser page compute a loss in at most ${PAGE_BUDGET_BYTES / 1000} kB gzipped (bundle + one build)`, async () => {
    const { build } = await import('esbuild');
    // Inside the package (a gitignored folder), so that 'xentropy' resolves to it by self-reference.
    mkdirSync(join(root, 'tmp'), { recursive: true });
    const dir = mkdtempSync(join(root, 'tmp', 'page-'));
    try {
      const page = join(dir, 'page.mjs');
      writeFileSync(page, "import { init } from 'xentropy';\n"
        + 'const xe = await init();\n'
        + 'console.log(xe.crossEntropy(new Float32Array([1, 2, 3]), [2], { classes: 3 }));\n');
      const out = await build({
        entryPoints: [page], bundle: true, minify: true, format: 'esm', platform: 'browser', write: false,
        absWorkingDir: root, logLevel: 'silent', loader: { '.wasm': 'file' }, outdir: join(dir, 'out'),
      });
      const js = out.outputFiles.filter((f) => f.path.endsWith('.js')).reduce((n, f) => n + gzipSync(f.contents).length, 0);
      const builds = ['xentropy.wasm', 'xentropy.relaxed.wasm', 'xentropy.scalar.wasm']
        .map((name) => gzipSync(readFileSync(join(root, 'dist', name))).length);
      const total = js + Math.max(...builds);
      expect(total, `bundle ${js} B + largest build ${Math.max(...builds)} B, gzipped`).toBeLessThanOrEqual(PAGE_BUDGET_BYTES);
      // The measurement must have measured something: the bundle holds the kernels' driver.
      expect(js).toBeGreaterThan(2_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets the browser-eval page read and score arrays with at most 30 kB more (xentropy/eval, gzipped)', () => {
    // examples/browser-eval/ loads dist/eval.js and its chunk beside the library, unbundled.
    const files = moduleGraph('dist/eval.js');
    expect(files).toEqual(['dist/eval.js', expect.stringMatching(/^dist\/chunk-eval-\w+\.js$/)]);
    const bytes = files.reduce((n, f) => n + gzipSync(readFileSync(join(root, f))).length, 0);
    expect(bytes, `${files.join(' + ')}: ${bytes} B gzipped`).toBeLessThanOrEqual(30_000);
  });

  it('leaves the pool, its worker script and the reference out of a bundle that only calls init()', async () => {
    const { build } = await import('esbuild');
    mkdirSync(join(root, 'tmp'), { recursive: true });
    const dir = mkdtempSync(join(root, 'tmp', 'shake-'));
    /** The unminified bundle (so that names can be searched) of `source`, for each platform's entry point. */
    const bundle = async (source: string, platform: 'browser' | 'node') => {
      writeFileSync(join(dir, 'app.mjs'), source);
      const out = await build({
        entryPoints: [join(dir, 'app.mjs')], bundle: true, format: 'esm', platform, write: false,
        absWorkingDir: root, logLevel: 'silent', loader: { '.wasm': 'file' }, outdir: join(dir, 'out'),
      });
      return out.outputFiles.filter((f) => f.path.endsWith('.js')).map((f) => f.text).join('\n');
    };
    // What only the pool (src/pool/pool.ts, createPool) and the float64 reference bring in.
    const poolMarks = ['XentropyPool', 'xentropy.shared.wasm', 'pool/worker.js', 'xentropy pool worker'];
    const referenceMark = /Object\.freeze\(\{\s*binaryCrossEntropy/;
    const evalMarks = ['renderReport', 'openArrayIn', 'DecompressionStream', 'scoreArrays', 'NpyFormatError'];
    try {
      for (const platform of ['browser', 'node'] as const) {
        const plain = await bundle("import { init } from 'xentropy';\nconsole.log((await init()).features.build);\n", platform);
        expect(plain, platform).toContain('crossEntropySparse');
        for (const mark of poolMarks) expect(plain, `${platform}: ${mark}`).not.toContain(mark);
        expect(plain, platform).not.toMatch(referenceMark);
        // Nor xentropy/eval: the array readers and the report.
        for (const mark of evalMarks) expect(plain, `${platform}: ${mark}`).not.toContain(mark);
        // The same marks are there when the app does start a pool and read the reference.
        const both = await bundle("import { createPool, reference } from 'xentropy';\nconsole.log(reference, await createPool());\n", platform);
        for (const mark of poolMarks) expect(both, `${platform}: ${mark}`).toContain(mark);
        expect(both, platform).toMatch(referenceMark);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has an esbuild plugin that puts beside a bundle the files it names, and no others', async () => {
    const { build } = await import('esbuild');
    const { default: xentropy } = await import('xentropy/esbuild');
    mkdirSync(join(root, 'tmp'), { recursive: true });
    const dir = mkdtempSync(join(root, 'tmp', 'plugin-'));
    /** The files of the output folder after bundling `source` with the plugin. */
    const outputOf = async (name: string, source: string, platform: 'browser' | 'node') => {
      writeFileSync(join(dir, `${name}.mjs`), source);
      const outdir = join(dir, name);
      await build({
        entryPoints: [join(dir, `${name}.mjs`)], bundle: true, format: 'esm', platform, outdir,
        absWorkingDir: root, logLevel: 'silent', plugins: [xentropy()],
      });
      return execFileSync('find', ['.', '-type', 'f'], { cwd: outdir, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    };
    try {
      for (const platform of ['browser', 'node'] as const) {
        expect(await outputOf(`init-${platform}`, "import { init } from 'xentropy';\nawait init();\n", platform), platform).toEqual([
          `./init-${platform}.js`, './xentropy.relaxed.wasm', './xentropy.scalar.wasm', './xentropy.wasm',
        ]);
        const pool = await outputOf(`pool-${platform}`, "import { createPool } from 'xentropy';\nawait createPool();\n", platform);
        expect(pool, platform).toEqual([`./pool-${platform}.js`, './pool/worker.js', './xentropy.shared.wasm']);
        expect(readFileSync(join(dir, `pool-${platform}`, 'pool', 'worker.js'))).toEqual(readFileSync(join(root, 'dist', 'pool', 'worker.js')));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has every exports target built and packed', () => {
    const targets = exportTargets(pkg.exports);
    expect(targets.length).toBeGreaterThanOrEqual(18);
    for (const [conditions, file] of targets) {
      expect(existsSync(join(root, file)), `${conditions}: ${file} does not exist (npm run build)`).toBe(true);
      expect(packed.has(file.replace(/^\.\//, '')), `${conditions}: ${file} is not in the packed files`).toBe(true);
    }
    // What tools that predate exports maps read (eslint-plugin-import's and old Jest's resolver): main
    // the file require() gets through the exports map, module the default entry, types its declarations.
    const dot = pkg.exports['.'] as { require: { default: string }; default: { default: string; types: string } };
    expect({ main: pkg.main, module: pkg.module, types: pkg.types }).toEqual({
      main: dot.require.default, module: dot.default.default, types: dot.default.types,
    });
    for (const field of [pkg.main, pkg.module, pkg.types, ...Object.values(pkg.bin)]) {
      expect(packed.has(field.replace(/^\.\//, '')), `${field} is not in the packed files`).toBe(true);
    }
    // Each condition with code names its types first, so TypeScript resolves the same file bundlers do.
    const dotExports = pkg.exports['.'] as Record<string, unknown>;
    for (const [condition, target] of Object.entries(dotExports)) {
      const leaves = condition === 'node' ? Object.values(target as object) : [target];
      for (const leaf of leaves) expect(Object.keys(leaf as object)[0], condition).toBe('types');
    }
  });

  it('packs the wasm builds and no test, source, sample or debug files', () => {
    for (const wasm of ['xentropy.wasm', 'xentropy.relaxed.wasm', 'xentropy.scalar.wasm', 'xentropy.shared.wasm']) expect(packed.has(`dist/${wasm}`), wasm).toBe(true);
    // Bundling must keep the entry points' pure annotations, which let bundlers drop an unused entry:
    // every module-level `own = createInit(...)` / `importedInit(...)` of what an entry loads.
    for (const entry of ['index', 'node', 'browser', 'worker', 'workerd', 'edge_light']) {
      const code = moduleGraph(`dist/${entry}.js`).map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
      const owns = [...code.matchAll(/(?<![\w$.])own\d*=(\/\* @__PURE__ \*\/)?(createInit|importedInit)\(/g)];
      expect(owns.length, entry).toBeGreaterThanOrEqual(1);
      expect(owns.filter((m) => !m[1]).map((m) => m[0]), entry).toEqual([]);
    }
    const stray = [...packed].filter((f) => /^(src|test|assembly|data|bench|wip|build)\/|\.wat$|debug\.wasm|\.map$/.test(f));
    expect(stray).toEqual([]);
  });

  it('has in the shared build (a subset, assembly/shared.ts) every kernel the worker pool calls', () => {
    // The kernels a pool job may name (SumKernel in src/engine/blocks.ts), plus the soft cap, the trap
    // test's and the scorer's (src/engine/score_groups.ts).
    const source = readFileSync(join(root, 'src/engine/blocks.ts'), 'utf8');
    const union = /type SumKernel =([^;]+);/.exec(source)?.[1] ?? '';
    const used = [...union.matchAll(/'(\w+)'/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThanOrEqual(9);
    const exported = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(root, 'dist/xentropy.shared.wasm'))))
      .map((e) => e.name);
    expect(used.concat('softcapForward', 'softcapBackward', 'logSumExp', 'heapBase', 'buildFeatures', 'scoreRows', 'widen').filter((k) => !exported.includes(k))).toEqual([]);
  });

  it('runs no install scripts for its users', () => {
    for (const hook of ['preinstall', 'install', 'postinstall']) expect(pkg.scripts[hook], hook).toBeUndefined();
  });

  it('decides in allowScripts every install script of the installs CI runs (npm 12 skips the undecided)', () => {
    // examples/beam is installed with --ignore-scripts (.ci/run), so its scripts never run.
    for (const dir of ['.', 'test/runtimes', 'test/components']) {
      const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
      const lock = JSON.parse(readFileSync(join(root, dir, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { name?: string; hasInstallScript?: boolean }>;
      };
      // An alias (node24: npm:node@24) is its real package's name in the lockfile.
      const scripted = Object.entries(lock.packages).filter(([, entry]) => entry.hasInstallScript)
        .map(([path, entry]) => entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
      expect(scripted.length, dir).toBeGreaterThan(0);
      // Keys are names or pinned names (pkg@1.2.3, @scope/pkg@1.2.3); true runs the script, false skips it
      // where the install works without (test/runtimes: Jest's file watcher, which a run never starts).
      const decided = Object.entries(manifest.allowScripts ?? {}).filter(([, allow]) => typeof allow === 'boolean')
        .map(([key]) => key.replace(/(?<=.)@.*$/, ''));
      expect(scripted.filter((name) => !decided.includes(name)), dir).toEqual([]);
    }
  });
});

/**
 * The relative specifiers a shipped script imports: static and dynamic imports, re-exports and
 * require() calls (not the `new URL('./x', import.meta.url)` of the .wasm builds and the pool's worker).
 * A require() in an ES module (the node entry's, of its parts) runs on demand, like import().
 */
function relativeImports(file: string, dynamic = true): string[] {
  const code = readFileSync(join(root, file), 'utf8');
  const esm = !file.endsWith('.cjs') && !file.startsWith('bin/');
  return [...code.matchAll(/(?:\bfrom\s*|\bimport\s*(\()?\s*|\b(require)\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)]
    .filter((m) => dynamic || (m[1] === undefined && !(m[2] && esm))).map((m) => m[3]);
}

/**
 * The scripts a runtime loads for `file` (a path from the package root), `file` first; with `dynamic`
 * false, only what it loads before it runs (not what an import() loads on demand).
 */
function moduleGraph(file: string, dynamic = true): string[] {
  const seen: string[] = [];
  const queue = [file];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.includes(next)) continue;
    seen.push(next);
    for (const spec of relativeImports(next, dynamic)) {
      // The .wasm imports of the worker and edge-light entries are WebAssembly modules, not scripts.
      if (!/\.wasm(\?module)?$/.test(spec)) queue.push(join(dirname(next), spec));
    }
  }
  return seen;
}

describe('the bundles (issue 27: each entry point loads as one module, or as few as its runtime needs)', () => {
  const pack = packDryRun();
  const packed = new Set(pack.files.map((f) => f.path));
  const scripts = [...packed].filter((f) => /\.c?js$/.test(f));

  /**
   * What each entry point loads. The pool's workers load one file; every ESM entry point loads its own
   * small module and the chunks of the library they share (a copy each would not fit the package's
   * size budget): the node entry (require() included: it loads dist/node.js) the library's chunk alone,
   * and dist/parts.js with the parts' chunk on first use; the others both chunks. The command line
   * loads its own CommonJS bundle, and imports the drawing code (with xentropy/eval's chunk) or the
   * parts (for a pool, or a binary model) only when a run needs them.
   */
  const expected: Record<string, number> = {
    'dist/node.js': 2, 'dist/parts.js': 3, 'dist/browser.js': 3, 'dist/pool/worker.js': 1,
    'dist/index.js': 3, 'dist/worker.js': 3, 'dist/workerd.js': 3, 'dist/edge_light.js': 3,
    'bin/xentropy.js': 2,
    'dist/esbuild.js': 1,
    // xentropy/eval: its own module and the chunk it shares with the command line (array readers, report).
    'dist/eval.js': 2,
  };

  it('cover every exports target, the bin and the pool\'s worker script, each loading what it should', () => {
    const targets = exportTargets(pkg.exports).map(([, file]) => file.replace(/^\.\//, '')).filter((f) => f.endsWith('.js'));
    expect(Object.keys(expected)).toEqual(expect.arrayContaining([...targets, pkg.bin.xentropy.replace(/^\.\//, '')]));
    for (const [entry, count] of Object.entries(expected)) {
      const graph = moduleGraph(entry, false);
      expect(graph, entry).toHaveLength(count);
      for (const file of graph) expect(packed.has(file), `${entry} loads ${file}, which is not packed`).toBe(true);
    }
    expect(moduleGraph('bin/xentropy.js', false)).toEqual(['bin/xentropy.js', 'dist/cli/cli.cjs']);
    expect(moduleGraph('bin/xentropy.js')).toEqual([
      'bin/xentropy.js', 'dist/cli/cli.cjs', 'dist/parts.js', 'dist/cli/report.js', expect.stringMatching(/^dist\/chunk-\w+\.js$/),
      expect.stringMatching(/^dist\/chunk-\w+\.js$/), expect.stringMatching(/^dist\/chunk-eval-\w+\.js$/),
    ]);
    // The node entry's parts, which it loads with require() (src/node.ts): dist/parts.js and the parts' chunk.
    const nodeEntry = readFileSync(join(root, 'dist/node.js'), 'utf8');
    expect(nodeEntry.match(/\brequire\("\.\/parts\.js"\)|\("\.\/parts\.js"\)/g)).toHaveLength(2);
    expect(moduleGraph('dist/parts.js').filter((f) => !moduleGraph('dist/node.js', false).includes(f))).toEqual([
      'dist/parts.js', expect.stringMatching(/^dist\/chunk-\w+\.js$/),
    ]);
  });

  it('ship no script that no entry point loads, and none of tsc\'s per-module output', () => {
    const loaded = new Set(Object.keys(expected).flatMap((entry) => moduleGraph(entry)));
    expect(scripts.filter((f) => !loaded.has(f))).toEqual([]);
    expect(scripts.filter((f) => /^dist\/(api|engine|ops|reference|load|arrays|eval|report)\b\/|^dist\/pool\/pool\.js$|^dist\/cli\/(npy|arrays|calibration)/.test(f))).toEqual([]);
  });

  it('keep the command line and its file readers out of the library', () => {
    for (const entry of ['dist/node.js', 'dist/browser.js', 'dist/index.js', 'dist/worker.js', 'dist/workerd.js', 'dist/edge_light.js']) {
      const code = moduleGraph(entry).map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
      for (const cliName of ['NpyFormatError', 'readNpyHeader', 'reliabilitySvg', 'CliError', 'renderReport', 'openArrayIn', 'DecompressionStream', 'scoreArrays']) {
        expect(code, `${entry}: ${cliName}`).not.toContain(cliName);
      }
    }
  });

  it('keep the pool\'s worker script to what workers run: no scorer classes, results or state readers', () => {
    // The workers fold rows (binary ones in JavaScript); a class with a static block, or a helper that
    // names one, would pull the whole scorer module in (43 kB instead of 10 when it happened).
    const code = readFileSync(join(root, 'dist/pool/worker.js'), 'utf8');
    for (const name of ['class BinaryScorer', 'class MultilabelScorer', 'class Scorer', 'binaryResult', 'checkBinaryState', 'renderReport']) {
      expect(code, name).not.toContain(name);
    }
    expect(code).toContain('foldBinaryJob');
  });

  it('keep xentropy/eval runnable anywhere: no node: import, nothing of the library, the command line or import.meta', () => {
    const graph = moduleGraph('dist/eval.js');
    for (const file of graph) {
      const code = readFileSync(join(root, file), 'utf8');
      expect(code, file).not.toMatch(/\bfrom\s*["']node:|\bimport\s*\(\s*["']node:|\brequire\s*\(/);
      expect(code, file).not.toMatch(/\bimport\.meta\b|\bprocess\.|\bBuffer\b/);
      for (const name of ['CliError', 'readNpyHeader', 'createInit', 'XentropyPool', 'zlib']) expect(code, `${file}: ${name}`).not.toContain(name);
    }
    expect(readFileSync(join(root, graph[1]), 'utf8')).toContain('DecompressionStream');
  });

  it('resolve their relative URLs next to the file: the .wasm builds, the pool\'s worker script', () => {
    for (const file of scripts) {
      const code = readFileSync(join(root, file), 'utf8');
      for (const [, url] of code.matchAll(/new URL\(\s*["'`](\.{1,2}\/[^"'`$]*)/g)) {
        const target = join(dirname(file), url);
        if (!target.startsWith('data/')) expect(url.endsWith('/') || packed.has(target), `${file}: new URL('${url}') names ${target}`).toBe(true);
      }
    }
    // The pool finds its worker script beside the file it was bundled into: the parts' chunk.
    const pools = scripts.filter((f) => /^dist\/chunk-\w+\.js$/.test(f) && readFileSync(join(root, f), 'utf8').includes('XentropyPool=class'));
    expect(pools).toHaveLength(1);
    expect(readFileSync(join(root, pools[0]), 'utf8')).toMatch(/new URL\(\s*["']\.\/pool\/worker\.js["']/);
  });
});

describe('the types', () => {
  // A consumer project whose node_modules/xentropy is this repository.
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xentropy-types-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'xentropy'), 'dir');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Type-checks `source` as `file` with the given options; returns the diagnostics and the resolved path. */
  function check(file: string, source: string, options: ts.CompilerOptions): { errors: string[]; resolved?: string } {
    const path = join(dir, file);
    writeFileSync(path, source);
    const program = ts.createProgram([path], {
      strict: true, noEmit: true, skipLibCheck: false, target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [], ...options,
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    const sourceFile = program.getSourceFile(path)!;
    const mode = ts.getModeForResolutionAtIndex?.(sourceFile, 0, program.getCompilerOptions());
    const resolved = ts.resolveModuleName('xentropy', path, program.getCompilerOptions(), ts.sys, undefined, undefined, mode)
      .resolvedModule?.resolvedFileName;
    return { errors, resolved: resolved?.replace(/\\/g, '/') };
  }

  const use = `
    const xe = await init({ build: 'simd' });
    const loss: number = xe.crossEntropy(new Float32Array([1, 2, 3]), [0], { classes: 3 });
    const s: Scorer = xe.scorer({ classes: 3 });
    const b: Build = xe.features.build;
    void [loss, s, b, reference.softmax];
  `;
  const node16 = { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 };

  it('resolve for import (node16) to the node entry', () => {
    const r = check('esm.mts', `import { init, reference, type Scorer, type Build } from 'xentropy';\n${use}\nexport {};`, node16);
    expect(r.errors).toEqual([]);
    expect(r.resolved).toMatch(/\/dist\/node\.d\.ts$/);
  });

  it('resolve for require (node16) to CommonJS declarations', () => {
    const r = check('cjs.cts', `import x = require('xentropy');\nasync function main() {\n  const { init, reference } = x;\n  type Scorer = x.Scorer; type Build = x.Build;\n${use}\n}\nvoid main;`, node16);
    expect(r.errors).toEqual([]);
    expect(r.resolved).toMatch(/\/dist\/cjs\/node\.d\.ts$/);
  });

  it('for require declare what require() returns (dist/node.js itself), and what the ESM declarations do', () => {
    // dist/cjs/node.d.ts is generated (scripts/finish-dist.mjs): it must stay CommonJS to TypeScript,
    // check without errors, name every export of dist/node.d.ts, and declare as values exactly the
    // properties that require() returns.
    const cjsTypes = join(root, 'dist/cjs/node.d.ts'), esmTypes = join(root, 'dist/node.d.ts');
    const program = ts.createProgram([cjsTypes, esmTypes], {
      strict: true, noEmit: true, skipLibCheck: false, target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [], ...node16,
    });
    expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
    expect(program.getSourceFile(cjsTypes)!.impliedNodeFormat).toBe(ts.ModuleKind.CommonJS);
    const checker = program.getTypeChecker();
    const exported = (file: string) => checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!);
    const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
    const names = (symbols: ts.Symbol[]) => symbols.map((s) => s.name).sort();
    expect(names(exported(cjsTypes))).toEqual(names(exported(esmTypes)));
    const values = names(exported(cjsTypes).filter((s) => resolve(s).flags & ts.SymbolFlags.Value));
    const runtime = Object.keys(createRequire(import.meta.url)(join(root, 'dist/node.js')) as object).sort();
    expect(values).toEqual(runtime);
    expect(values).toEqual(expect.arrayContaining(['init', 'initSync', 'createPool', 'reference', 'Scorer', 'Xentropy']));
  });

  it('resolve xentropy/eval, for a browser project without Node\'s types', () => {
    const source = `import { init } from 'xentropy';
      import { listArrays, openArray, readArray, renderReport, scoreArrays, scoreJson, scoreReportHtml, NpyFormatError,
        type ArrayInfo, type ScoreReport, type ElementType } from 'xentropy/eval';
      async function run(file: File): Promise<string> {
        const arrays: ArrayInfo[] = await listArrays(file);
        const xe = await init();
        const report: ScoreReport = await scoreArrays(xe, { logits: await openArray(file, { name: arrays[0].name }), labels: await openArray(new Uint8Array(8)) },
          { onProgress: async (done: number, total: number) => { void [done, total]; } });
        const type: ElementType = (await readArray(file)).type;
        void [type, scoreJson(report), renderReport({ multiclass: { count: 1 } as never }), new NpyFormatError('x', 'y').path];
        return scoreReportHtml(report);
      }
      export { run };`;
    const resolutions: [string, ts.CompilerOptions][] = [
      ['browser', { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, customConditions: ['browser'] }],
      ['node16', node16],
    ];
    for (const [condition, options] of resolutions) {
      const r = check(`eval-${condition}.mts`, source, options);
      expect(r.errors, condition).toEqual([]);
    }
  });

  it.each([
    ['workerd', /\/dist\/workerd\.d\.ts$/],
    ['edge-light', /\/dist\/edge_light\.d\.ts$/],
    ['worker', /\/dist\/worker\.d\.ts$/],
    ['browser', /\/dist\/browser\.d\.ts$/],
  ])('resolve with the %s condition (bundler resolution)', (condition, expected) => {
    const r = check(`${condition}.ts`, `import { init, reference, type Scorer, type Build } from 'xentropy';\n${use}\nexport {};`, {
      module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, customConditions: [condition],
    });
    expect(r.errors).toEqual([]);
    expect(r.resolved).toMatch(expected);
  });
});

describe('the packed tarball, installed', () => {
  /**
   * The build init() picks in a fresh Node started without flags ('simd' on Node 20, 'relaxed-simd' from
   * Node 22), which this suite's own process need not be: vitest.config.ts starts Node 20 with relaxed SIMD.
   */
  const PLAIN_BUILD = execFileSync(process.execPath, ['--input-type=module', '-e',
    `import { bestBuild } from ${JSON.stringify(new URL('../dist/engine/builds.js', import.meta.url).href)}; console.log(bestBuild());`,
  ], { encoding: 'utf8' }).trim();
  let dir: string;
  let installed: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xentropy-installed-'));
    const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const tarball = join(dir, (JSON.parse(out) as { filename: string }[])[0].filename);
    installed = join(dir, 'node_modules', 'xentropy');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['xzf', tarball, '-C', installed, '--strip-components=1']);
    // No dependency to install: the package has none at run time.
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const program = (kind: string) => `
    const xe = await x.init();
    const y = x.initSync({ build: 'scalar' });
    const z = new Float32Array([2, 1, 0.1, 0.5, 2.5, 0.3]);
    console.log(JSON.stringify({ kind: ${JSON.stringify(kind)}, build: xe.features.build, sync: y.features.build,
      loss: xe.crossEntropy(z, [0, 1], { classes: 3 }), scalar: y.crossEntropy(z, [0, 1], { classes: 3 }) }));
  `;

  function run(file: string, source: string): { kind: string; build: string; sync: string; loss: number; scalar: number } {
    writeFileSync(join(dir, file), source);
    const r = spawnSync(process.execPath, [join(dir, file)], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout);
  }

  it('loads and computes through import and require', () => {
    const esm = run('esm.mjs', `import * as x from 'xentropy';\n${program('esm')}`);
    const cjs = run('cjs.cjs', `const x = require('xentropy');\n(async () => {\n${program('cjs')}\n})();`);
    // PyTorch: F.cross_entropy([[2, 1, 0.1], [0.5, 2.5, 0.3]], [0, 1]) = 0.3185 (to 4 digits).
    for (const r of [esm, cjs]) {
      expect(r.sync).toBe('scalar');
      expect(Math.abs(r.loss - 0.318_51)).toBeLessThan(1e-4);
      expect(Math.abs(r.scalar - r.loss)).toBeLessThanOrEqual(1e-6 * r.loss);
    }
    expect(cjs.loss).toBe(esm.loss);
  });

  it('on Node 20.0-20.15 (no process.getBuiltinModule): init() works, initSync() says what to do, then works after init(); the scorers say which Node they need', () => {
    // Node < 20.16 as far as the package can tell: the stub removes process.getBuiltinModule first.
    writeFileSync(join(dir, 'old-node.mjs'), 'delete process.getBuiltinModule;\nif (process.getBuiltinModule) throw new Error("not removed");\n');
    const source = (kind: string) => `
      const before = (() => { try { x.initSync(); return 'no error'; } catch (e) { return { name: e.name, message: e.message }; } })();
      const bytes = x.initSync({ module: require_('fs').readFileSync(require_.resolve('xentropy/xentropy.wasm')) }).features.build;
      const xe = await x.init();
      const after = x.initSync().features.build;
      const parts = (() => { try { xe.scorer({ classes: 2 }); return 'no error'; } catch (e) { return { name: e.name, message: e.message }; } })();
      console.log(JSON.stringify({ kind: ${JSON.stringify(kind)}, before, bytes, build: xe.features.build, after, parts }));
    `;
    const esm = "import * as x from 'xentropy';\nimport { createRequire } from 'node:module';\nconst require_ = createRequire(import.meta.url);\n";
    const cjs = "const x = require('xentropy');\nconst require_ = require;\n";
    for (const [file, text] of [['old.mjs', `${esm}${source('esm')}`], ['old.cjs', `${cjs}(async () => {\n${source('cjs')}\n})();`]]) {
      writeFileSync(join(dir, file), text);
      const r = spawnSync(process.execPath, ['--import', './old-node.mjs', file], { cwd: dir, encoding: 'utf8' });
      expect(r.stderr, file).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out.before.name, file).toBe('TypeError');
      for (const fix of ['Node ≥ 20.16', 'options.module', 'await init()']) expect(out.before.message, file).toContain(fix);
      expect([out.bytes, out.build, out.after], file).toEqual(['simd', PLAIN_BUILD, PLAIN_BUILD]);
      // The scorers load with require() (Node ≥ 20.19 and 22.12): an Error that says so.
      expect(out.parts.name, file).toBe('Error');
      for (const fix of ['Node ≥ 20.19 or 22.12', 'upgrade Node']) expect(out.parts.message, file).toContain(fix);
    }
  });

  it('in Bun (a global Bun with file(), as the package sees it), init() reads through Bun.file and never gets node:fs', () => {
    // Getting node:fs is a start-up cost of its own in Bun (src/node.ts): the stub logs what the package asks for.
    writeFileSync(join(dir, 'bun-like.mjs'), [
      "import { readFileSync } from 'node:fs';",
      'globalThis.asked = [];',
      'const get = process.getBuiltinModule;',
      'process.getBuiltinModule = (id) => { globalThis.asked.push(id); return get(id); };',
      "globalThis.Bun = { file: (url) => ({ arrayBuffer: async () => { globalThis.asked.push('Bun.file'); const b = readFileSync(url); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); } }) };",
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'bun.mjs'), "import { init } from 'xentropy';\nconst xe = await init();\nconsole.log(JSON.stringify({ asked: globalThis.asked, build: xe.features.build }));\n");
    const r = spawnSync(process.execPath, ['--import', './bun-like.mjs', 'bun.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ asked: ['Bun.file'], build: PLAIN_BUILD });
  });

  /**
   * Writes register.mjs, which a process started with `--import ./register.mjs` runs first: a load hook
   * that appends the file: URL of every ES module the process loads to $XENTROPY_LOADED. Through
   * module.registerHooks where Node has it (22.15 and later): Node 26 deprecates module.register(),
   * whose warning on stderr the tests would read as the package's.
   */
  function writeLoadHook(): void {
    writeFileSync(join(dir, 'hooks.mjs'), "import { appendFileSync } from 'node:fs';\n"
      + 'export function logged(url, loaded) {\n'
      + "  if (url.startsWith('file:') && loaded.format === 'module') appendFileSync(process.env.XENTROPY_LOADED, `${url}\\n`);\n"
      + '  return loaded;\n}\n'
      + 'export async function load(url, context, next) {\n  return logged(url, await next(url, context));\n}\n');
    writeFileSync(join(dir, 'register.mjs'), "import module from 'node:module';\nimport { logged } from './hooks.mjs';\n"
      + 'if (module.registerHooks) module.registerHooks({ load: (url, context, next) => logged(url, next(url, context)) });\n'
      + "else module.register('./hooks.mjs', import.meta.url);\n");
  }

  /** The package's files a fresh Node process loads as ES modules (through a load hook) to run `args`. */
  function modulesLoaded(args: string[]): string[] {
    const log = join(dir, 'loaded.txt');
    writeFileSync(log, '');
    writeLoadHook();
    const r = spawnSync(process.execPath, ['--import', './register.mjs', ...args], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, XENTROPY_LOADED: log },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return readFileSync(log, 'utf8').split('\n').filter(Boolean).map((url) => relative(installed, fileURLToPath(url)))
      .filter((path) => !path.startsWith('..'));
  }

  it('loads the node entry and the library\'s chunk for `import { init } from \'xentropy\'; await init()`: no command-line file', () => {
    writeFileSync(join(dir, 'plain.mjs'), "import { init } from 'xentropy';\nconst xe = await init();\nconsole.log(xe.features.build);\n");
    expect(modulesLoaded(['plain.mjs'])).toEqual(['dist/node.js', expect.stringMatching(/^dist\/chunk-\w+\.js$/)]);
    // CommonJS: require() loads the same ES module (require(esm): no CommonJS copy); its cache lists it
    // (the chunk it imports is the ES loader's, which the cache does not list).
    writeFileSync(join(dir, 'plain.cjs'), "const { init } = require('xentropy');\n"
      + 'init().then((xe) => console.log(JSON.stringify({ build: xe.features.build, cache: Object.keys(require.cache) })));\n');
    const r = spawnSync(process.execPath, ['plain.cjs'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { build, cache } = JSON.parse(r.stdout) as { build: string; cache: string[] };
    expect(build).toMatch(/simd/);
    expect(cache.map((f) => relative(installed, f)).filter((f) => !f.startsWith('..'))).toEqual(['dist/node.js']);
  });

  it('leaves the scorers, the pool and the float64 reference out of the node entry\'s import and init(), and loads them on first use', () => {
    // What the parts' code holds (src/parts.ts), and the node entry's graph does not.
    const nodeCode = ['dist/node.js', ...relativeImports('dist/node.js', false).map((s) => join('dist', s))]
      .map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
    for (const marker of ['fresh scorer', 'XentropyPool=class', 'function binaryScore(', 'function multilabelScore(', 'MultilabelScorer=class']) {
      expect(nodeCode, marker).not.toContain(marker);
    }
    writeFileSync(join(dir, 'first-use.mjs'), "import { init } from 'xentropy';\nconst xe = await init();\n"
      + "xe.crossEntropy(new Float32Array([1, 2, 0, 0]), [1, 0], { classes: 2 });\nconsole.log(xe.scorer({ classes: 2 }).count);\n");
    const loaded = modulesLoaded(['first-use.mjs']);
    expect(loaded.slice(0, 2)).toEqual(['dist/node.js', expect.stringMatching(/^dist\/chunk-\w+\.js$/)]);
    // The load hook sees what require() loads only through module.registerHooks (Node 22.15 on: the
    // suite's Node 22 and 24 runs); on Node 20 it sees that nothing more was imported.
    if (typeof (createRequire(import.meta.url)('node:module') as { registerHooks?: unknown }).registerHooks === 'function') {
      expect(loaded.slice(2)).toEqual(['dist/parts.js', expect.stringMatching(/^dist\/chunk-\w+\.js$/)]);
      expect(loaded[3]).not.toBe(loaded[1]);
    } else {
      expect(loaded).toHaveLength(2);
    }
  });

  it('names the library\'s own functions in a stack trace (the build shortens local names only)', () => {
    // Errors from the library's chunk, an arrow held by a local (refuseDtype), the parts' chunk and the reference.
    writeFileSync(join(dir, 'stacks.mjs'), `import * as x from 'xentropy';
      const xe = await x.init();
      const z = new Float32Array(6);
      const stacks = [];
      for (const f of [() => xe.crossEntropy(z, [0, 1], { classes: 4 }), () => xe.crossEntropy(z, [0, 1], { classes: 3, dtype: 'float16' }),
        () => xe.scorer({ classes: 1 }), () => x.reference.softmax(z, 0)]) {
        try { f(); stacks.push('no error'); } catch (e) { stacks.push(e.stack); }
      }
      console.log(JSON.stringify(stacks));
    `);
    const r = spawnSync(process.execPath, ['stacks.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const stacks = JSON.parse(r.stdout) as string[];
    const frames = stacks.map((stack) => stack.split('\n').filter((line) => line.includes('/node_modules/xentropy/dist/'))
      .map((line) => /^\s+at (?:new )?([\w$.<>]+) \(/.exec(line)?.[1] ?? '(anonymous)'));
    for (const [i, names] of frames.entries()) {
      expect(names.length, stacks[i]).toBeGreaterThan(0);
      // A shortened name is one or two characters; each frame names a function of src/.
      expect(names.filter((n) => n.split('.').some((part) => part.length < 3)), stacks[i]).toEqual([]);
    }
    expect(frames[0]).toContain('Xentropy.crossEntropy');
    expect(frames[1][0]).toBe('refuseDtype');
  });

  it('loads the node entry\'s parts where a global require resolves from elsewhere (the REPL\'s)', () => {
    // As in `node -i`: a global require of another folder, which must not load the parts.
    writeFileSync(join(dir, 'global-require.mjs'), "import { createRequire } from 'node:module';\n"
      + "globalThis.require = createRequire('/nonexistent-folder/');\n");
    writeFileSync(join(dir, 'repl-like.mjs'), "import * as x from 'xentropy';\nconst xe = await x.init();\n"
      + "console.log(JSON.stringify([xe.scorer({ classes: 2 }).count, x.reference.logSumExp(new Float32Array([0, 0]), 2)[0]]));\n");
    const r = spawnSync(process.execPath, ['--import', './global-require.mjs', 'repl-like.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([0, Math.LN2]);
  });

  it('gives the node entry\'s scorers, pool classes and reference as stand-ins that act as the real ones, under their own names', () => {
    const out: unknown = run('stand-ins.mjs', `import * as x from 'xentropy';
      const all = await import(${JSON.stringify(pathToFileURL(join(installed, 'dist/index.js')).href)});
      const xe = await x.init();
      const z = new Float32Array([1, 2, 0.5, 0, 3, -1]), y = [1, 0];
      const s = xe.scorer({ classes: 3 }).update(z, y);
      const restored = x.Scorer.fromState(xe, JSON.parse(JSON.stringify(s.state())));
      class Mine extends x.BinaryScorer {}
      const pool = await x.createPool({ threads: 1, inlineBelow: 0 });
      const names = (o) => Object.getOwnPropertyNames(o).sort();
      const classes = ['Scorer', 'BinaryScorer', 'MultilabelScorer', 'XentropyPool', 'PoolScorer', 'PoolBinaryScorer', 'PoolMultilabelScorer'];
      console.log(JSON.stringify({
        instances: [s instanceof x.Scorer, s instanceof all.Scorer, restored instanceof x.Scorer, pool instanceof x.XentropyPool,
          xe.binaryScorer() instanceof x.BinaryScorer, xe.multilabelScorer({ labels: 2 }) instanceof x.MultilabelScorer,
          pool.scorer({ classes: 3 }) instanceof x.PoolScorer, !({} instanceof x.Scorer)],
        restored: restored.result().loss === s.result().loss,
        // The names users see (console.log, constructor.name): each class's own, on both entries.
        names: [...classes, 'Xentropy', 'Resident'].filter((c) => x[c].name !== c || all[c].name !== c),
        constructors: [s, restored, xe.binaryScorer(), xe.multilabelScorer({ labels: 2 }), pool, pool.scorer({ classes: 3 }), xe]
          .map((o) => o.constructor.name),
        classes: classes.map((c) => [typeof x[c], x[c].prototype === all[c].prototype, x[c].name === all[c].name,
          names(x[c]).join() === names(all[c]).join(), x[c] !== all[c]]),
        subclass: Object.getPrototypeOf(Mine.prototype) === all.BinaryScorer.prototype,
        reference: [Object.keys(x.reference).sort().join() === Object.keys(all.reference).sort().join(), Object.isFrozen(x.reference),
          Object.entries(x.reference).every(([k, f]) => f.name === k && f.length === all.reference[k].length),
          x.reference.crossEntropy(z, y, { classes: 3 }) === all.reference.crossEntropy(z, y, { classes: 3 })],
      }));
      await pool.close();`);
    expect(out).toEqual({
      instances: [true, true, true, true, true, true, true, true],
      restored: true,
      names: [],
      constructors: ['Scorer', 'Scorer', 'BinaryScorer', 'MultilabelScorer', 'XentropyPool', 'PoolScorer', 'Xentropy'],
      classes: Array.from({ length: 7 }, () => ['function', true, true, true, true]),
      subclass: true,
      reference: [true, true, true, true],
    });
  });

  /**
   * What a run of the command line (`args` after the bin) loads of the package: `required`, the
   * CommonJS files (require.cache at exit), and `imported`, the ES modules (through a load hook).
   */
  function commandLineLoads(args: string[]): { required: string[]; imported: string[] } {
    const log = join(dir, 'loaded.txt'), cache = join(dir, 'required.txt');
    writeFileSync(log, '');
    writeLoadHook();
    writeFileSync(join(dir, 'required.cjs'), "process.on('exit', () => require('node:fs').writeFileSync(process.env.XENTROPY_REQUIRED, Object.keys(require.cache).join('\\n')));\n");
    const r = spawnSync(process.execPath, ['--import', './register.mjs', '-r', './required.cjs', join(installed, pkg.bin.xentropy), ...args], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, XENTROPY_LOADED: log, XENTROPY_REQUIRED: cache },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const ours = (paths: string[]) => paths.map((p) => relative(installed, p)).filter((p) => !p.startsWith('..'));
    return {
      required: ours(readFileSync(cache, 'utf8').split('\n').filter(Boolean)),
      imported: ours(readFileSync(log, 'utf8').split('\n').filter(Boolean).map((url) => fileURLToPath(url))),
    };
  }

  it('runs the command line from bin/xentropy.js and dist/cli/cli.cjs alone (no ES module), importing the drawing code for --report', () => {
    const sample = ['--logits', join(root, 'data/sample-logits.npy'), '--labels', join(root, 'data/sample-labels.npy')];
    for (const args of [['--help'], ['score', '--json', ...sample]]) {
      expect(commandLineLoads(args), args.join(' ')).toEqual({ required: ['bin/xentropy.js', 'dist/cli/cli.cjs'], imported: [] });
    }
    expect(commandLineLoads(['score', ...sample, '--report', join(dir, 'report.html')])).toEqual({
      required: ['bin/xentropy.js', 'dist/cli/cli.cjs'], imported: ['dist/cli/report.js', expect.stringMatching(/^dist\/chunk-eval-\w+\.js$/)],
    });
  });

  it('loads xentropy/eval as dist/eval.js and its chunk, and scores the arrays it reads with the library', () => {
    const logits = readFileSync(join(root, 'data/sample-logits.npy')).toString('base64');
    const labels = readFileSync(join(root, 'data/sample-labels.npy')).toString('base64');
    writeFileSync(join(dir, 'eval-only.mjs'), "import { listArrays } from 'xentropy/eval';\n"
      + `console.log(JSON.stringify(await listArrays(new Blob([Buffer.from('${logits}', 'base64')]))));\n`);
    expect(modulesLoaded(['eval-only.mjs'])).toEqual(['dist/eval.js', expect.stringMatching(/^dist\/chunk-eval-\w+\.js$/)]);
    writeFileSync(join(dir, 'eval-score.mjs'), "import { init } from 'xentropy';\nimport { openArray, scoreArrays, scoreJson } from 'xentropy/eval';\n"
      + `const logits = await openArray(Buffer.from('${logits}', 'base64'));\nconst labels = await openArray(Buffer.from('${labels}', 'base64'));\n`
      // The SIMD build, which the command line scores with on every runtime (src/cli/cli.ts).
      + "console.log(JSON.stringify(scoreJson(await scoreArrays(await init({ build: 'simd' }), { logits, labels }))));\n");
    const r = spawnSync(process.execPath, ['eval-score.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const cli = spawnSync(process.execPath, [join(installed, pkg.bin.xentropy), 'score', '--json', '--logits', join(root, 'data/sample-logits.npy'), '--labels', join(root, 'data/sample-labels.npy')], { encoding: 'utf8' });
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(cli.stdout));
  });

  it("refuses `xentropy score` without files, the sample not being installed", () => {
    const r = spawnSync(process.execPath, [join(installed, pkg.bin.xentropy), 'score'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('the sample data is not installed with the package');
    expect(r.stderr).toContain('--logits LOGITS.npy --labels LABELS.npy');
  });
});
