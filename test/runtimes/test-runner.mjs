// What jest.mjs and vitest.mjs share: run a test runner whose test (jest/, vitest/) runs the smoke suite
// and writes its result to the file XENTROPY_SMOKE_OUT names (a runner's own console is its own), then
// print that result as run.mjs reads it (HASH, AUTO, ENTRY).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportLines } from './smoke.mjs';

/**
 * Runs `node <args>` in `cwd` (args may name `{scratch}`, a folder of its own, removed after) and
 * reports the smoke suite's result as `runtime`.
 * @throws Error when the runner fails (its output on stderr) or its test wrote no result
 */
export function reportSmokeTest(runtime, cwd, args) {
  const scratch = mkdtempSync(join(tmpdir(), 'xentropy-test-runner-'));
  try {
    const out = join(scratch, 'result.json');
    const run = spawnSync(process.execPath, args.map((a) => a.replaceAll('{scratch}', scratch)), {
      cwd, encoding: 'utf8', env: { ...process.env, XENTROPY_SMOKE_OUT: out },
    });
    if (run.status !== 0) {
      process.stderr.write(run.stdout + run.stderr);
      throw new Error(`${runtime}: the test runner exited with ${run.status}`);
    }
    const { result, entry } = JSON.parse(readFileSync(out, 'utf8'));
    for (const line of reportLines(runtime, process.versions.node, result)) console.log(line);
    console.log(`ENTRY ${runtime} ${entry.replace(/^.*\/(dist\/)/, '$1')}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
