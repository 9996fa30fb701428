// `xentropy score --threads N` (issue 26): a pool of workers scores inputs of POOL_FROM_ELEMENTS
// elements or more (lowered here through the poolFrom knob, to keep the files small), with output
// identical to one thread's; the bundled sample never starts one (issue 27: cold start); the process
// exits promptly; bad values are usage errors.
//
// The pool's workers load dist/pool/worker.js, so this suite runs the CLI from dist/ (`npm run build`):
// the shipped CommonJS bundle, which imports the library's ES module for the pool.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type * as Cli from '../src/cli/cli.js';
import type * as Npy from '../src/cli/npy.js';
import { labels, normal } from './helpers.js';

// dist/ holds no declarations for the command line: its types are src/'s.
const CLI_BUNDLE = fileURLToPath(new URL('../dist/cli/cli.cjs', import.meta.url));
const { main, USAGE } = createRequire(import.meta.url)(CLI_BUNDLE) as typeof Cli;
const { writeNpy } = await import(new URL('../dist/cli/npy.js', import.meta.url).href) as typeof Npy;
type CliIO = Cli.CliIO;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let dir: string;
beforeAll(() => {
  for (const [name, built] of [['cli/cli', 'cli/cli.cjs'], ['pool/pool', 'pool/pool.js'], ['pool/pool_scorer', 'pool/pool_scorer.js'], ['engine/score_groups', 'engine/score_groups.js']]) {
    const src = statSync(join(ROOT, `src/${name}.ts`)).mtimeMs, dist = statSync(join(ROOT, `dist/${built}`)).mtimeMs;
    expect(dist >= src, `dist/${built} is older than src/${name}.ts: run \`npm run build:ts\``).toBe(true);
  }
  dir = mkdtempSync(join(tmpdir(), 'xentropy-threads-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs main in-process, capturing its output and the pools it starts. */
async function run(argv: string[], extra: Omit<CliIO, 'stdout' | 'stderr' | 'onPool'> = {}) {
  let out = '', err = '';
  const pools: number[] = [];
  const code = await main(argv, {
    ...extra, stdout: (t: string) => { out += t; }, stderr: (t: string) => { err += t; }, onPool: (threads: number) => pools.push(threads),
  });
  return { code, out, err, pools };
}

describe('xentropy score --threads', () => {
  it('never starts a pool for the bundled sample (2000 x 10), whatever --threads says', async () => {
    for (const argv of [['score', '--json'], ['score', '--json', '--threads', '4'], ['score']]) {
      const { code, pools, out } = await run(argv);
      expect(code, argv.join(' ')).toBe(0);
      expect(out.length).toBeGreaterThan(0);
      expect(pools, argv.join(' ')).toEqual([]);
    }
  });

  it('gives the same --json with 1 and 2 threads, starting a pool only for 2', async () => {
    // 1.2 million elements: two fold groups (2^20 elements each, at most), so two workers.
    const C = 300, N = 4000, poolFrom = 2 ** 18;
    const z = normal(N * C, 3, 1), y = labels(N, C, 2);
    const logits = join(dir, 'logits.npy'), halfLogits = join(dir, 'half.npy'), wideLogits = join(dir, 'wide.npy'), labelsPath = join(dir, 'labels.npy');
    writeNpy(logits, '<f4', [N, C], z);
    writeNpy(halfLogits, '<f2', [N, C], z);
    writeNpy(wideLogits, '<f8', [N, C], z);
    writeNpy(labelsPath, '<i4', [N], y);
    for (const file of [logits, halfLogits, wideLogits]) {
      const args = ['score', '--json', '--logits', file, '--labels', labelsPath, '--top-k', '1,3', '--bins', '10'];
      const one = await run([...args, '--threads', '1'], { poolFrom });
      expect(one.code, one.err).toBe(0);
      expect(one.pools).toEqual([]);
      // Without the knob, 1.2 million elements are scored on this thread.
      expect(await run([...args, '--threads', '2'])).toEqual(one);
      // One chunk (on the workers), and chunks of 900 rows and a last one of 400 (below the pool's inlineBelow).
      for (const chunkRows of [undefined, 900]) {
        const two = await run([...args, '--threads', '2'], { chunkRows, poolFrom });
        expect(two.code, two.err).toBe(0);
        expect(two.pools).toEqual([2]);
        expect(two.out, `${file}, chunkRows ${chunkRows}`).toBe(one.out);
      }
    }
    // Sequences: [B, T, V] with --shift, --mask and --per-sequence.
    const B = 80, T = 60, V = 250;
    const zs = normal(B * T * V, 3, 3), ys = labels(B * T, V, 4);
    const mask = Uint8Array.from({ length: B * T }, (_, i) => (i % T < T - (i % 9) ? 1 : 0));
    const seqLogits = join(dir, 'seq.npy'), seqLabels = join(dir, 'seq-labels.npy'), seqMask = join(dir, 'seq-mask.npy');
    writeNpy(seqLogits, '<f4', [B, T, V], zs);
    writeNpy(seqLabels, '<i8', [B, T], Array.from(ys, BigInt));
    writeNpy(seqMask, '|u1', [B, T], mask);
    const args = ['score', '--json', '--per-sequence', '--shift', '--logits', seqLogits, '--labels', seqLabels, '--mask', seqMask];
    const one = await run([...args, '--threads', '1'], { poolFrom });
    // Two fold groups: no more than two workers, however many threads are asked for.
    const three = await run([...args, '--threads', '3'], { chunkRows: 20, poolFrom });
    expect(one.code, one.err).toBe(0);
    expect(three.pools).toEqual([2]);
    expect(three.out).toBe(one.out);
    expect(JSON.parse(one.out).perSequence.tokens.length).toBe(B);
  }, 60_000);

  it('scores binary and multilabel models on a pool too, to the same --json, and names a bad value the same', async () => {
    const poolFrom = 2 ** 18;
    // 1.5 million binary rows and 300,000 x 4 multilabel ones: more than one fold group of 2^20 elements.
    const N = 1_500_000, M = 300_000, L = 4;
    const binaryLogits = join(dir, 'binary.npy'), binaryLabels = join(dir, 'binary-labels.npy');
    writeNpy(binaryLogits, '<f4', [N], normal(N, 2, 5));
    writeNpy(binaryLabels, '|u1', [N], Uint8Array.from(labels(N, 2, 6)));
    const multiLogits = join(dir, 'multi.npy'), multiLabels = join(dir, 'multi-labels.npy');
    writeNpy(multiLogits, '<f2', [M, L], normal(M * L, 2, 7));
    writeNpy(multiLabels, '<f4', [M, L], Float32Array.from(labels(M * L, 5, 8), (v) => v / 4));
    const cases = [
      ['--logits', binaryLogits, '--labels', binaryLabels, '--threshold', '0.3'],
      ['--logits', multiLogits, '--labels', multiLabels, '--bins', '7'],
    ];
    for (const files of cases) {
      const args = ['score', '--json', ...files];
      const one = await run([...args, '--threads', '1'], { poolFrom });
      expect(one.code, one.err).toBe(0);
      expect(one.pools).toEqual([]);
      for (const chunkRows of [undefined, 200_000]) {
        const two = await run([...args, '--threads', '2'], { chunkRows, poolFrom });
        expect(two.code, two.err).toBe(0);
        expect(two.pools).toEqual([2]);
        expect(two.out, `${files[1]}, chunkRows ${chunkRows}`).toBe(one.out);
      }
    }
    // Probabilities with one out of [0, 1], in the second chunk: the same message either way.
    const probs = Float32Array.from({ length: N }, (_, i) => (i % 7) / 7);
    probs[1_234_567] = 1.5;
    const probsPath = join(dir, 'probs.npy');
    writeNpy(probsPath, '<f4', [N], probs);
    const args = ['score', '--probs', '--logits', probsPath, '--labels', binaryLabels];
    const one = await run([...args, '--threads', '1'], { poolFrom, chunkRows: 1_000_000 });
    const two = await run([...args, '--threads', '2'], { poolFrom, chunkRows: 1_000_000 });
    expect(two.pools).toEqual([2]);
    expect([one.code, two.code]).toEqual([2, 2]);
    expect(two.err).toBe(one.err);
    expect(one.err).toContain('value 1.5 at row 1234567');
  }, 60_000);

  it('reports logits that end early while the workers score the chunk before', async () => {
    // Read from standard input, whose length is known only at its end: chunks of 1000 rows (300,000
    // elements, so on the workers), and the data stops 500 rows short.
    const C = 300;
    const whole = readFileSync(join(dir, 'logits.npy'));
    const cut = whole.subarray(0, whole.length - 500 * C * 4);
    const stdin = Readable.from((function* () {
      for (let i = 0; i < cut.length; i += 1 << 16) yield cut.subarray(i, Math.min(cut.length, i + (1 << 16)));
    })());
    const { code, err, pools } = await run(
      ['score', '--json', '--logits', '-', '--labels', join(dir, 'labels.npy'), '--threads', '2'], { chunkRows: 1000, poolFrom: 2 ** 18, stdin },
    );
    expect(pools).toEqual([2]);
    expect(code).toBe(2);
    expect(err).toMatch(/^xentropy: <standard input>: truncated data: expected 1200000 bytes at offset \d+ of the data stream, it ended after 600000\n$/);
  });

  it('exits promptly after scoring with workers (the pool is closed)', () => {
    // As bin/xentropy.js runs main, with the pool's threshold lowered (the knob is main's).
    const script = (threads: string) => `require(${JSON.stringify(CLI_BUNDLE)}).main(['score', '--json', '--logits', ${JSON.stringify(join(dir, 'logits.npy'))},
        '--labels', ${JSON.stringify(join(dir, 'labels.npy'))}, '--threads', '${threads}'], { poolFrom: 2 ** 18, onPool: () => console.error('pool') })
        .then((status) => { process.exitCode = status; });`;
    const spawn = (threads: string) => spawnSync(process.execPath, ['-e', script(threads)], { encoding: 'utf8', timeout: 30_000 });
    const one = spawn('1'), two = spawn('2');
    expect(one.stderr).toBe('');
    expect(two.stderr).toBe('pool\n');
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    expect(two.signal).toBeNull();
    expect(two.stdout).toBe(one.stdout);
  }, 60_000);

  it('refuses bad --threads values with exit status 2, naming the flag and the value', async () => {
    for (const value of ['0', '-1', '1.5', 'x', '257', '', '1e1']) {
      const { code, err, pools } = await run(['score', `--threads=${value}`]);
      expect(code, value).toBe(2);
      expect(err, value).toContain(value === '' ? '--threads needs a value' : `--threads needs an integer in [1, 256] (like 2; 1 scores on one thread), got "${value}"`);
      expect(pools).toEqual([]);
    }
    const { code, err } = await run(['score', '--threads']);
    expect(code).toBe(2);
    expect(err).toContain('--threads needs a value');
    expect(USAGE).toContain('--threads N');
  });
});
