#!/usr/bin/env node
// The Node flags that let this Node load the relaxed-SIMD build, for the test suites (vitest.*.config.ts)
// and the benchmark: Node 20 validates relaxed SIMD only with V8's --experimental-wasm-relaxed-simd, and
// Node 22 and later, which validate it by default, refuse that flag ("bad option"), so it is passed only
// where this Node needs it.
//
//   node scripts/relaxed-simd.mjs SCRIPT [ARGS]   runs SCRIPT in a Node with those flags (npm run bench)

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bestBuild } from '../dist/engine/builds.js';

const FLAG = '--experimental-wasm-relaxed-simd';

/** [] where this Node validates relaxed SIMD as it was started, else the V8 flag it needs (Node 20). */
export const RELAXED_SIMD_FLAGS = process.execArgv.includes(FLAG) || bestBuild() !== 'relaxed-simd' ? [FLAG] : [];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.length < 3) {
    console.error('usage: node scripts/relaxed-simd.mjs SCRIPT [ARGS]');
    process.exit(2);
  }
  const run = spawnSync(process.execPath, [...RELAXED_SIMD_FLAGS, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (run.error) throw run.error;
  process.exit(run.status ?? 1);
}
