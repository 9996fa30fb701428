// What the library's chunk costs a fresh Node process for `import { init }` + `await init()`, against
// the same chunk with what a plain init() never runs left out: the scorers, the pool and the float64
// reference, which the node entry exports synchronously (`reference`, `Scorer`, `xe.scorer()`), so an
// ES module has to load them with everything else (issue 27, docs/performance.md "Start-up").
//
//   node bench/core-chunk.js [--runs=30] [--nodes=PATH,PATH]         (default: this Node, and Node 22
//                                                                     and 24 from test/runtimes)
//
// Both bundles are built here from src/node.ts as scripts/finish-dist.mjs bundles the entry points (one
// file: esbuild, minified syntax and whitespace); in the "core" one the modules of the scorers, the pool
// and the reference are empty CommonJS stubs, so that every import of them resolves to undefined.
// Nothing of the core bundle's API is usable beyond init() and the plain functions: it only measures.
// They are imported by relative path (no package resolution, which an empty package costs as well).
// Each round starts one fresh process per case, in an order that alternates from round to round;
// figures are medians over rounds of (performance.now() at the end of the script − the same for an
// empty ES module in the same round): ms from process start to ready, above the runtime's own start.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import esbuild from 'esbuild';
import { median } from './report.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Two folders below the repository, so that the bundles' `new URL('../../dist/…', import.meta.url)` finds dist/. */
const WORK = join(REPO, 'tmp', 'core-chunk');
const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, '').split('=');
  return [k, v ?? true];
}));
const RUNS = Number(args.runs ?? 30);
const RUNTIMES = join(REPO, 'test', 'runtimes', 'node_modules');
const NODES = args.nodes ? String(args.nodes).split(',')
  : [process.execPath, join(RUNTIMES, 'node', 'bin', 'node'), join(RUNTIMES, 'node24', 'bin', 'node')].filter((n) => existsSync(n));
/** The modules a plain init() never runs: the scorers, the pool and the reference. */
const LEFT_OUT = /(ops\/(scorer|binary_scorer)|pool\/(pool|pool_scorer)|reference\/index)\.js$/;

mkdirSync(WORK, { recursive: true });
const bytes = {};
for (const variant of ['full', 'core']) {
  const stub = {
    name: 'stub',
    setup(build) {
      build.onResolve({ filter: LEFT_OUT }, (a) => ({ path: a.path, namespace: 'stub' }));
      build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'module.exports = {}', loader: 'js' }));
    },
  };
  const result = await esbuild.build({
    entryPoints: [join(REPO, 'src', 'node.ts')], bundle: true, format: 'esm', platform: 'neutral',
    minifySyntax: true, minifyWhitespace: true, external: ['*.wasm', 'node:*'], metafile: true, logLevel: 'error',
    outfile: join(WORK, `${variant}.js`), plugins: variant === 'core' ? [stub] : [],
  });
  bytes[variant] = Object.values(result.metafile.outputs)[0].bytes;
  writeFileSync(join(WORK, `run-${variant}.mjs`), `import { init } from './${variant}.js';\nawait init();\nconsole.log(performance.now());\n`);
}
writeFileSync(join(WORK, 'empty.mjs'), 'console.log(performance.now());\n');

console.log(`full chunk ${bytes.full} bytes, core ${bytes.core} bytes; ${RUNS} rounds; ms above an empty ES module, import + init()`);
for (const node of NODES) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const cases = ['empty', 'run-full', 'run-core'];
  const diffs = { 'run-full': [], 'run-core': [] };
  for (let r = 0; r < RUNS; r++) {
    const ready = {};
    for (const c of r % 2 ? [...cases].reverse() : cases) {
      const run = spawnSync(node, [join(WORK, `${c}.mjs`)], { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`${c} on ${version}: ${run.stderr}`);
      ready[c] = Number(run.stdout);
    }
    for (const c of Object.keys(diffs)) diffs[c].push(ready[c] - ready.empty);
  }
  console.log(`Node ${version}: full ${median(diffs['run-full']).toFixed(2)}, core ${median(diffs['run-core']).toFixed(2)}`);
}
