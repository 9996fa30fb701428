// Runner for Vitest's VM pools (docs/runtimes.md, "Test runners"): the smoke suite inside a Vitest test
// run by the `vmThreads` pool, whose modules live in a VM context of their own, with the configuration
// the docs give (vitest/vitest.config.mjs). Vitest is the repository's own (its devDependencies).
//   node test/runtimes/vitest.mjs

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportLines } from './smoke.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const VITEST = join(HERE, '..', '..', 'node_modules', 'vitest', 'vitest.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'xentropy-vitest-'));
try {
  const out = join(scratch, 'result.json');
  const dir = join(HERE, 'vitest');
  const vitest = spawnSync(process.execPath, [VITEST, 'run', '--root', dir, '--config', join(dir, 'vitest.config.mjs')], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, XENTROPY_VITEST_OUT: out },
  });
  if (vitest.status !== 0) {
    process.stderr.write(vitest.stdout + vitest.stderr);
    throw new Error(`vitest.mjs: Vitest exited with ${vitest.status}`);
  }
  const { result, entry } = JSON.parse(readFileSync(out, 'utf8'));
  const runtime = `vitest-vmthreads-node${process.versions.node.split('.')[0]}`;
  for (const line of reportLines(runtime, process.versions.node, result)) console.log(line);
  console.log(`ENTRY ${runtime} ${entry.replace(/^.*\/(dist\/)/, '$1')}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
