#!/usr/bin/env node
// The runtime matrix (docs/runtimes.md, "The runtime matrix"): the smoke suite (smoke.mjs) in every runtime, one
// runner after the other, then a table; exits 1 unless every runner succeeded and every hash is the same.
//   npm run test:runtimes      (after npm run build; installs test/runtimes, then runs this)
//
// Runners print on stdout `HASH <runtime> <version> <sha256 hex>` (one per runtime they cover), and
// optionally `AUTO <runtime> <build>` (what init() picks there) and `ENTRY <runtime> <file> [notes]`
// (which file of the package that runtime loaded); anything else is passed through.
//
// Node 20 is the machine's (the Node that runs this script); the other runtimes, Node 22, 24 and 26
// among them, come from npm (this folder's package.json) and Chromium from Debian (/usr/bin/chromium,
// browser.mjs).

import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..');
const BIN = join(HERE, 'node_modules', '.bin');
/**
 * Node 22, the npm package `node`, by its own folder: node_modules/.bin/node links to whichever package
 * with a `node` bin npm links last (node24 is one too), so it is not named through .bin.
 */
const NODE22 = join(HERE, 'node_modules', 'node', 'bin', 'node');
/** Longest a runner may take, in seconds (a hung runtime must not hold CI). */
const TIMEOUT_S = 180;

const RUNNERS = [
  { name: `node ${process.versions.node}`, command: process.execPath, args: ['direct.mjs'] },
  { name: 'node 22 (npm)', command: NODE22, args: ['direct.mjs'], major: 22 },
  // Node 24, the active LTS (V8 13.6, Turboshaft's wasm pipeline), from npm as `node24` (its bin is
  // also named node, so it is run from its own folder).
  { name: 'node 24 (npm)', command: join(HERE, 'node_modules', 'node24', 'bin', 'node'), args: ['direct.mjs'], major: 24 },
  // Node 26, the newest release line on npm, as `node26` in the same way.
  { name: 'node 26 (npm)', command: join(HERE, 'node_modules', 'node26', 'bin', 'node'), args: ['direct.mjs'], major: 26 },
  { name: 'deno', command: join(BIN, 'deno'), args: ['run', `--allow-read=${ROOT}`, 'direct.mjs'] },
  { name: 'bun', command: join(BIN, 'bun'), args: ['direct.mjs'] },
  // Bun's `import x from './x.wasm'` gives a file path, not a Module: the worker entry must cope.
  { name: 'bun, worker condition', command: join(BIN, 'bun'), args: ['--conditions=worker', 'direct.mjs', 'worker'] },
  // miniflare 4 needs Node 22.
  { name: 'workerd (miniflare)', command: NODE22, args: ['workerd.mjs'] },
  { name: 'vercel edge (@edge-runtime/vm)', command: process.execPath, args: ['edge.mjs'] },
  { name: 'chromium (browser.mjs)', command: process.execPath, args: ['browser.mjs'], file: 'browser.mjs' },
  // Jest 30 (docs/runtimes.md "Test runners"), whose module system loads the package in place of Node's: a CommonJS test
  // that requires it and an ES module test on Node 24, and on Node 22 with the `module` condition.
  { name: 'jest, node 24, require', command: join(HERE, 'node_modules', 'node24', 'bin', 'node'), args: ['jest.mjs', 'require'], major: 24 },
  { name: 'jest, node 24, import', command: join(HERE, 'node_modules', 'node24', 'bin', 'node'), args: ['jest.mjs', 'import'], major: 24 },
  { name: 'jest, node 22, module condition', command: NODE22, args: ['jest.mjs', 'module'], major: 22 },
  // Vitest's vmThreads pool, with the configuration docs/runtimes.md gives for VM pools.
  { name: 'vitest, vmThreads pool', command: process.execPath, args: ['vitest.mjs'] },
  // The recipes of docs/runtimes.md "Bundlers": Vite, webpack, Rollup and esbuild pages in Chromium, and a Node bundle.
  { name: 'bundlers (bundlers.mjs)', command: process.execPath, args: ['bundlers.mjs'], file: 'bundlers.mjs' },
];

/** Makes node_modules/xentropy this repository, so that every runner imports the package by name. */
function linkPackage() {
  const link = join(HERE, 'node_modules', 'xentropy');
  if (!existsSync(join(HERE, 'node_modules'))) throw new Error('test/runtimes is not installed: npm --prefix test/runtimes install');
  const target = join('..', '..', '..');
  const current = lstatSync(link, { throwIfNoEntry: false });
  if (current?.isSymbolicLink() && readlinkSync(link) === target) return;
  if (current) rmSync(link, { recursive: true, force: true });
  symlinkSync(target, link, 'dir');
}

/** Runs one runner; resolves with its exit status, output and time (never rejects). */
function runOne(runner) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(runner.command, runner.args, { cwd: HERE, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => {
      stderr += `\nrun.mjs: killed after ${TIMEOUT_S} s`;
      child.kill('SIGKILL');
    }, TIMEOUT_S * 1000);
    const done = (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    };
    child.on('error', (error) => {
      stderr += `\nrun.mjs: ${error.message}`;
      done(-1);
    });
    child.on('close', (code, signal) => done(code ?? signal));
  });
}

linkPackage();
for (const file of ['dist/node.js', 'dist/worker.js', 'dist/edge_light.js', 'dist/browser.js', 'dist/xentropy.wasm']) {
  if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: npm run build first`);
}

const rows = [];
const failures = [];
const started = performance.now();
for (const runner of RUNNERS) {
  if (runner.file && !existsSync(join(HERE, runner.file))) {
    failures.push(`${runner.name}: test/runtimes/${runner.file} does not exist`);
    rows.push({ runtime: runner.name, version: '-', auto: '-', entry: '-', hash: 'MISSING', seconds: 0 });
    continue;
  }
  process.stderr.write(`run.mjs: ${runner.name} …\n`);
  const r = await runOne(runner);
  const lines = r.stdout.split('\n');
  const hashes = lines.map((l) => /^HASH (\S+) (\S+) ([0-9a-f]{64})$/.exec(l)).filter(Boolean);
  const autos = new Map(lines.map((l) => /^AUTO (\S+) (\S+)$/.exec(l)).filter(Boolean).map((m) => [m[1], m[2]]));
  const entries = new Map(lines.map((l) => /^ENTRY (\S+) (\S+)/.exec(l)).filter(Boolean).map((m) => [m[1], m[2]]));
  for (const l of lines) if (l && !/^(HASH|AUTO|ENTRY) /.test(l)) process.stderr.write(`  ${runner.name}: ${l}\n`);
  if (r.status !== 0 || hashes.length === 0) {
    failures.push(`${runner.name}: exit status ${r.status}, ${hashes.length} HASH lines\n${r.stderr.trim().split('\n').slice(-15).map((l) => `    ${l}`).join('\n')}`);
  }
  if (hashes.length === 0) rows.push({ runtime: runner.name, version: '-', auto: '-', entry: '-', hash: 'FAILED', seconds: r.seconds });
  for (const [, runtime, version, hash] of hashes) {
    if (runner.major && !version.startsWith(`${runner.major}.`)) failures.push(`${runner.name}: ran Node ${version}, not Node ${runner.major}`);
    rows.push({ runtime, version, auto: autos.get(runtime) ?? '-', entry: entries.get(runtime) ?? '-', hash, seconds: r.seconds });
  }
}

const header = { runtime: 'runtime', version: 'version', auto: 'auto build', entry: 'entry', hash: 'hash (SHA-256 of the results)', seconds: 'seconds' };
const table = [header, ...rows.map((r) => ({ ...r, seconds: r.seconds.toFixed(1) }))];
const keys = Object.keys(header);
const widths = keys.map((k) => Math.max(...table.map((r) => String(r[k]).length)));
console.log('');
for (const [i, r] of table.entries()) {
  console.log(keys.map((k, j) => String(r[k]).padEnd(widths[j])).join('  ').trimEnd());
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}

const distinct = new Set(rows.filter((r) => /^[0-9a-f]{64}$/.test(r.hash)).map((r) => r.hash));
if (distinct.size > 1) failures.push(`${distinct.size} different hashes: the runtimes disagree`);
const total = (performance.now() - started) / 1000;
console.log('');
if (failures.length > 0) {
  console.log(`run.mjs: FAILED (${total.toFixed(1)} s)\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log(`run.mjs: ${rows.length} runtimes, one hash, ${total.toFixed(1)} s`);
