#!/usr/bin/env node
// The components suite (test/README.md, "Real components"): xentropy fed the tensors that
// onnxruntime-node, onnxruntime-web, transformers.js and TensorFlow.js really produce, each suite in a
// process of its own (a native crash in one cannot hide the others), under this machine's Node and
// under Node 24 (from npm: it has Float16Array, so the libraries hand over float16 data as one, and
// init() picks the relaxed-SIMD build there). Every case is compared bit for bit with the float32 path.
// Prints each case, a table and a closing `components: N passed, N failed` line; exits 1 unless every
// case passed and every suite ran to its end.
//   npm run test:components     (after npm run build; installs test/components, then runs this)
//
// Suites print `SUITE <name> <version> <node> <build>` and `CASE <ok|fail> <suite> <case> <needs> <detail>`
// lines (tab-separated, common.mjs); anything else they print is shown only when the suite fails.

import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..');
/** Longest a suite may take, in seconds (a hung runtime must not hold CI). */
const TIMEOUT_S = 180;

const NODES = [process.execPath, join(HERE, 'node_modules', 'node24', 'bin', 'node')];
const SUITES = [
  ['ort.mjs', 'node'],
  ['ort.mjs', 'web'],
  ['transformers.mjs'],
  ['tfjs.mjs'],
  ['plain.mjs'],
];

/** Makes node_modules/xentropy this repository, so that the suites import the built package by name. */
function linkPackage() {
  const link = join(HERE, 'node_modules', 'xentropy');
  if (!existsSync(join(HERE, 'node_modules'))) throw new Error('test/components is not installed: ONNXRUNTIME_NODE_INSTALL=skip npm --prefix test/components ci');
  const target = join('..', '..', '..');
  const current = lstatSync(link, { throwIfNoEntry: false });
  if (current?.isSymbolicLink() && readlinkSync(link) === target) return;
  if (current) rmSync(link, { recursive: true, force: true });
  symlinkSync(target, link, 'dir');
}

/** Runs one suite; resolves with its exit status, output and time (never rejects). */
function runOne(node, args) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(node, args, { cwd: HERE, stdio: ['ignore', 'pipe', 'pipe'] });
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
for (const file of ['dist/node.js', 'dist/xentropy.wasm']) {
  if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: npm run build first`);
}
for (const node of NODES) if (!existsSync(node)) throw new Error(`${node} is missing: ONNXRUNTIME_NODE_INSTALL=skip npm --prefix test/components ci`);

const rows = [];
const problems = [];
let passed = 0, failed = 0;
const failedFor = new Map();
for (const node of NODES) {
  for (const args of SUITES) {
    const label = `${node === process.execPath ? 'node' : 'node24'} ${args.join(' ')}`;
    process.stderr.write(`run.mjs: ${label} …\n`);
    const r = await runOne(node, args);
    const lines = r.stdout.split('\n');
    const suite = lines.map((l) => l.split('\t')).find((f) => f[0] === 'SUITE');
    const cases = lines.map((l) => l.split('\t')).filter((f) => f[0] === 'CASE');
    const row = {
      node: suite?.[3] ?? '-', build: suite?.[4] ?? '-', suite: suite?.[1] ?? label, version: suite?.[2] ?? '-',
      passed: 0, failed: 0, pending: '', seconds: r.seconds.toFixed(1),
    };
    const pending = new Map();
    for (const [, status, , name, needs, detail] of cases) {
      if (status === 'ok') {
        row.passed++;
        console.log(`  ok    ${row.node}, ${row.suite}: ${name}`);
      } else {
        row.failed++;
        console.log(`  FAIL  ${row.node}, ${row.suite}: ${name}${needs === '-' ? '' : ` [needs ${needs}]`}\n        ${detail}`);
        pending.set(needs, (pending.get(needs) ?? 0) + 1);
        failedFor.set(needs, (failedFor.get(needs) ?? 0) + 1);
      }
    }
    row.pending = [...pending].map(([needs, n]) => `${needs === '-' ? 'other' : needs} ${n}`).join(', ') || '-';
    passed += row.passed;
    failed += row.failed;
    rows.push(row);
    if (r.status !== 0 || cases.length === 0) {
      const output = [...lines.filter((l) => l && !/^(SUITE|CASE)\t/.test(l)), ...r.stderr.trim().split('\n')].slice(-15);
      problems.push(`${label}: exit status ${r.status} after ${cases.length} cases\n${output.map((l) => `    ${l}`).join('\n')}`);
    }
  }
}

const header = { node: 'node', build: 'build', suite: 'suite', version: 'version', passed: 'passed', failed: 'failed', pending: 'failures by what they need', seconds: 'seconds' };
const table = [header, ...rows];
const keys = Object.keys(header);
const widths = keys.map((k) => Math.max(...table.map((r) => String(r[k]).length)));
console.log('');
for (const [i, r] of table.entries()) {
  console.log(keys.map((k, j) => String(r[k]).padEnd(widths[j])).join('  ').trimEnd());
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
if (problems.length > 0) console.log(`\nsuites that did not finish:\n${problems.join('\n')}`);
if (failed > 0) {
  // HALF: float16 / bfloat16 / float64 inputs; SCORER: tensors in the scorer (issue 25). "-": neither.
  const by = [...failedFor].map(([needs, n]) => `${n} ${needs === '-' ? 'with no pending work named' : `needing ${needs}`}`).join(', ');
  console.log(`\nfailed cases: ${by}`);
}
console.log(`components: ${passed} passed, ${failed + problems.length} failed`);
process.exit(failed === 0 && problems.length === 0 ? 0 : 1);
