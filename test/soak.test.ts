// The soak test, shortened for CI: scripts/soak.mjs in a child process (it needs --expose-gc, a young
// generation of a fixed size and a process of its own, so that RSS measures xentropy and not the test
// runner or V8's sizing of its heap). `npm run soak` runs the
// full million calls. Runs the built package (dist/), as CI builds it through `prepare`.

import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** About 5 s alone here, 10 s beside the other suites; the first 50,000 calls are the warm-up. */
const CI_CALLS = 250_000;

interface Run { status: number | null; stdout: string; stderr: string }

/** The Node flags of package.json's `soak` script, which runs the full soak. */
const SOAK_FLAGS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.soak as string)
  .split(' ').filter((word) => word.startsWith('--'));

/** Runs scripts/soak.mjs with the Node flags `npm run soak` gives it, and the given arguments and environment. */
function soak(args: string[], env: Record<string, string> = {}, flags = SOAK_FLAGS): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, 'scripts/soak.mjs', ...args], {
      cwd: ROOT, env: { ...process.env, ...env },
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface SoakResult {
  calls: number; seconds: number; refused: number;
  pagesStart: number; pagesHighWater: number; pagesLimit: number; allocatorEmpty: boolean;
  warmAt: number; rssBaseline: number; rssEnd: number; rssGrowth: number;
  heapBaseline: number; heapEnd: number; samples: number;
}

function resultOf(stdout: string): SoakResult {
  const line = stdout.split('\n').find((l) => l.startsWith('result '));
  expect(line, stdout).toBeDefined();
  return JSON.parse(line!.slice('result '.length)) as SoakResult;
}

describe('soak (scripts/soak.mjs, shortened)', () => {
  it(`keeps wasm memory under its high-water mark and RSS within 10% over ${CI_CALLS} mixed calls`, async () => {
    // glibc's malloc without its steps of a few MiB (scripts/soak.mjs), which leave Node 24 less margin.
    const run = await soak([String(CI_CALLS)], { MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(run.stderr, run.stdout).toBe('');
    expect(run.status, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^soak: ok$/m);
    // The human-readable figures are printed.
    expect(run.stdout).toMatch(new RegExp(`^soak: ${CI_CALLS} calls of \\d+ kinds in [\\d.]+ s`, 'm'));
    expect(run.stdout).toMatch(/^wasm memory: \d+ pages at start, high-water \d+ pages .*limit \d+ pages/m);
    expect(run.stdout).toMatch(/^RSS: baseline [\d.]+ MiB at call \d+, end [\d.]+ MiB: -?[\d.]+% \(limit 10%\)/m);
    expect(run.stdout).toMatch(/^heap: baseline [\d.]+ MiB used, end [\d.]+ MiB/m);

    const r = resultOf(run.stdout);
    expect(r.calls).toBe(CI_CALLS);
    expect(r.warmAt).toBe(50_000);
    expect(r.samples).toBeGreaterThanOrEqual(12);
    // Inputs above the 256 KiB block size ran: memory grew from its one initial page, and stayed bounded.
    expect(r.pagesStart).toBe(1);
    expect(r.pagesHighWater).toBeGreaterThan(r.pagesStart + 256 * 1024 / 65536);
    expect(r.pagesHighWater).toBeLessThanOrEqual(r.pagesLimit);
    expect(r.allocatorEmpty).toBe(true);
    expect(r.refused).toBeGreaterThan(0);
    expect(r.rssGrowth).toBeLessThan(0.10);
    expect(r.rssGrowth).toBe((r.rssEnd - r.rssBaseline) / r.rssBaseline);
    expect(r.heapEnd - r.heapBaseline).toBeLessThan(1024 * 1024);
  }, 120_000);

  it('fails, naming the reason, when something is kept per call (a planted leak)', async () => {
    const run = await soak(['100000'], { XENTROPY_SOAK_LEAK: '1' });
    expect(run.status, run.stdout).toBe(1);
    expect(run.stdout).toMatch(/^soak: FAILED$/m);
    expect(run.stderr).toMatch(/^FAIL: the live JS heap grew by \d+ KiB from the baseline, limit 1024 KiB$/m);
  }, 120_000);

  it('refuses to run without a forced gc or with a young generation V8 sizes (exit status 2)', async () => {
    for (const flags of [[], ['--expose-gc'], SOAK_FLAGS.filter((f) => f !== '--expose-gc')]) {
      const run = await soak(['100000'], {}, flags);
      expect(run.status, flags.join(' ')).toBe(2);
      expect(run.stderr, flags.join(' ')).toContain('run with node --expose-gc --max-semi-space-size=16 (npm run soak does)');
    }
  }, 30_000);

  it('refuses a call count too small to measure past the warm-up (exit status 2)', async () => {
    const run = await soak(['5000']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('usage: node --expose-gc --max-semi-space-size=16 scripts/soak.mjs [calls, an integer >= 100000], got 5000');
  }, 30_000);
});
