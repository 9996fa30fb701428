import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHUNK_BYTES, SAMPLE_LABELS, SAMPLE_LOGITS, USAGE, fdWriter, main, scoreNpy, type CliIO, type FdWrite } from '../src/cli/cli.js';
import { init, reference } from '../src/index.js';
import { encodeNpy, readNpy, writeNpy, type NpyDtype } from '../src/cli/npy.js';
import { zip } from './array-files.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xentropy-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs main in-process, capturing its output. */
async function run(argv: string[], extra: Omit<CliIO, 'stdout' | 'stderr'> = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, { ...extra, stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

const JSON_KEYS = ['accuracy', 'bins', 'brier', 'classes', 'count', 'ece', 'lossBits', 'lossNats', 'mce', 'n', 'perplexity', 'topK'];

/** The expected scores, computed independently: float64 reference loss and a plain arg-max. */
function expected(logits: Float32Array, labels: Int32Array, classes: number) {
  const lossNats = reference.crossEntropy(logits, labels, { classes }) as number;
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    const row = Array.from(logits.subarray(r * classes, (r + 1) * classes));
    if (row.indexOf(Math.max(...row)) === labels[r]) correct++;
  }
  return { n: labels.length, classes, lossNats, accuracy: correct / labels.length };
}

function expectRelClose(actual: number, wanted: number, rel: number): void {
  expect(Math.abs(actual - wanted)).toBeLessThanOrEqual(rel * Math.abs(wanted));
}

/** Seeded xorshift32 in [0, 1), so generated test files are reproducible. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/** Random logits [n, c] (favouring the label, so accuracy is neither 0 nor 1) and labels [n]. */
function makeData(n: number, c: number, seed: number) {
  const random = rng(seed);
  const logits = new Float32Array(n * c);
  const labels = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    labels[r] = Math.floor(random() * c);
    for (let k = 0; k < c; k++) logits[r * c + k] = (random() - 0.5) * 8;
    logits[r * c + labels[r]] += 2 * random();
  }
  return { logits, labels };
}

let fileCounter = 0;
function write(dtype: NpyDtype, shape: number[], data: ArrayLike<number>): string {
  const path = join(dir, `f${fileCounter++}.npy`);
  writeNpy(path, dtype, shape, data);
  return path;
}

describe('the bundled sample', () => {
  const sample = () => {
    const logits = readNpy(SAMPLE_LOGITS);
    const labels = readNpy(SAMPLE_LABELS);
    return { logits: logits.data as Float32Array, labels: labels.data as Int32Array, logitsNpy: logits, labelsNpy: labels };
  };

  it('is float32 [2000, 10] and int32 [2000], small, and of a plausible classifier', () => {
    const { logitsNpy, labelsNpy, logits, labels } = sample();
    expect(logitsNpy.dtype).toBe('<f4');
    expect(logitsNpy.shape).toEqual([2000, 10]);
    expect(labelsNpy.dtype).toBe('<i4');
    expect(labelsNpy.shape).toEqual([2000]);
    const want = expected(logits, labels, 10);
    expect(want.accuracy).toBeGreaterThan(0.7);
    expect(want.accuracy).toBeLessThan(0.85);
    expect(want.lossNats).toBeGreaterThan(0.6);
    expect(want.lossNats).toBeLessThan(1.0);
  });

  it('is scored by `score` alone, naming the files, with the reference loss', async () => {
    const { code, out, err } = await run(['score']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('bundled sample');
    expect(out).toContain(SAMPLE_LOGITS);
    expect(out).toContain(SAMPLE_LABELS);
    for (const key of ['rows (N)', 'classes (C)', 'loss', 'nats', 'bits', 'perplexity', 'accuracy']) expect(out).toContain(key);
    const { logits, labels } = sample();
    const want = expected(logits, labels, 10);
    const nats = Number(/loss\s+([\d.]+) nats/.exec(out)![1]);
    const bits = Number(/([\d.]+) bits/.exec(out)![1]);
    const perplexity = Number(/perplexity\s+([\d.]+)/.exec(out)![1]);
    const accuracy = Number(/accuracy\s+([\d.]+)/.exec(out)![1]);
    expect(out).toMatch(/rows \(N\)\s+2000\n/);
    expect(out).toMatch(/classes \(C\)\s+10\n/);
    // Printed with 6 decimals.
    expect(Math.abs(nats - want.lossNats)).toBeLessThan(1e-6);
    expect(Math.abs(bits - want.lossNats / Math.LN2)).toBeLessThan(1e-6);
    expect(Math.abs(perplexity - Math.exp(want.lossNats))).toBeLessThan(1e-6);
    expect(accuracy).toBeCloseTo(want.accuracy, 6);
  });

  it('prints one JSON object with --json, matching the float64 reference', async () => {
    const { code, out, err } = await run(['score', '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(out);
    expect(Object.keys(result).sort()).toEqual(JSON_KEYS);
    const { logits, labels } = sample();
    const want = expected(logits, labels, 10);
    expect(result.n).toBe(2000);
    expect(result.classes).toBe(10);
    expectRelClose(result.lossNats, want.lossNats, 1e-6);
    expectRelClose(result.lossBits, want.lossNats / Math.LN2, 1e-6);
    expectRelClose(result.perplexity, Math.exp(want.lossNats), 1e-6);
    expect(result.accuracy).toBe(want.accuracy);
  });

  it('gives the same result from --logits/--labels as from the default', async () => {
    const explicit = await run(['score', '--json', `--logits=${SAMPLE_LOGITS}`, '--labels', SAMPLE_LABELS]);
    const implicit = await run(['score', '--json']);
    expect(explicit.code).toBe(0);
    expect(explicit.out).toBe(implicit.out);
  });
});

describe('streaming in row chunks', () => {
  it('gives the same result in many chunks as in one, and as the reference', async () => {
    const n = 1000, c = 7;
    const { logits, labels } = makeData(n, c, 42);
    const lp = write('<f4', [n, c], logits);
    const yp = write('<i4', [n], labels);
    const xe = await init();
    const whole = await scoreNpy(xe, lp, yp, { chunkRows: n });
    const chunked = await scoreNpy(xe, lp, yp, { chunkRows: 64 });
    expect(whole.chunks).toBe(1);
    expect(chunked.chunks).toBe(Math.ceil(n / 64));
    expectRelClose(chunked.lossNats, whole.lossNats, 1e-12);
    expect(chunked.correct).toBe(whole.correct);
    const want = expected(logits, labels, c);
    expectRelClose(chunked.lossNats, want.lossNats, 1e-6);
    expect(chunked.accuracy).toBe(want.accuracy);

    // main takes the chunk size too, and its output does not depend on it beyond rounding.
    const a = JSON.parse((await run(['score', '--json', '--logits', lp, '--labels', yp], { chunkRows: 64 })).out);
    const b = JSON.parse((await run(['score', '--json', '--logits', lp, '--labels', yp], { chunkRows: 100000 })).out);
    expect(a.n).toBe(n);
    expectRelClose(a.lossNats, b.lossNats, 1e-12);
    expect(a.accuracy).toBe(b.accuracy);
    // A chunk size that does not divide N leaves a short last chunk.
    expect((await scoreNpy(xe, lp, yp, { chunkRows: 333 })).chunks).toBe(4);
    expect((await scoreNpy(xe, lp, yp, { chunkRows: 1 })).chunks).toBe(n);
  });

  it(`splits a file larger than CHUNK_BYTES (${CHUNK_BYTES} bytes) by default`, async () => {
    const c = 1000;
    const n = Math.floor(CHUNK_BYTES / (c * 4)) + 50;
    const { logits, labels } = makeData(n, c, 7);
    const lp = write('<f4', [n, c], logits);
    const yp = write('<i4', [n], labels);
    const report = await scoreNpy(await init(), lp, yp);
    expect(report.chunks).toBe(2);
    expectRelClose(report.lossNats, expected(logits, labels, c).lossNats, 1e-6);
    rmSync(lp);
  }, 60_000);
});

describe('input types', () => {
  const n = 300, c = 5;
  const { logits, labels } = makeData(n, c, 3);

  const combos: [NpyDtype, NpyDtype][] = [
    ['<f8', '<i8'], ['<f8', '|u1'], ['<f4', '<u2'], ['<f4', '<i8'], ['<f8', '<i4'],
  ];
  for (const [logitsType, labelsType] of combos) {
    it(`scores ${logitsType} logits with ${labelsType} labels`, async () => {
      // float64 logits are rounded to float32 on read, so the float32 reference is exact for them too.
      const lp = write(logitsType, [n, c], logits);
      const yp = write(labelsType, [n], labels);
      const { code, out, err } = await run(['score', '--json', '--logits', lp, '--labels', yp], { chunkRows: 128 });
      expect(err).toBe('');
      expect(code).toBe(0);
      const result = JSON.parse(out);
      const want = expected(logits, labels, c);
      expect(result.n).toBe(n);
      expect(result.classes).toBe(c);
      expectRelClose(result.lossNats, want.lossNats, 1e-6);
      expect(result.accuracy).toBe(want.accuracy);
    });
  }

  it('computes accuracy from the first arg-max on ties', async () => {
    // Rows 0 and 1 tie, and their labels are the first maximum (numpy.argmax); row 2 is unambiguous
    // and row 3 is wrong. Taking the last maximum instead would give 1/4.
    const lp = write('<f4', [4, 3], [0, 5, 5, 4, 1, 4, 1, 2, 3, 3, 2, 1]);
    const yp = write('<i4', [4], [1, 0, 2, 1]);
    const result = JSON.parse((await run(['score', '--json', '--logits', lp, '--labels', yp])).out);
    expect(result.accuracy).toBe(0.75);
  });
});

describe('errors', () => {
  const n = 20, c = 4;
  const { logits, labels } = makeData(n, c, 11);
  let lp: string, yp: string;
  beforeAll(() => {
    lp = write('<f4', [n, c], logits);
    yp = write('<i4', [n], labels);
  });

  async function fails(argv: string[], code: number, ...fragments: (string | RegExp)[]) {
    const result = await run(argv);
    expect(result.out).toBe('');
    expect(result.code).toBe(code);
    for (const f of fragments) {
      if (typeof f === 'string') expect(result.err).toContain(f);
      else expect(result.err).toMatch(f);
    }
    return result;
  }

  it('shape mismatch names both files and shapes', async () => {
    const short = write('<i4', [n - 1], labels.subarray(1));
    await fails(['score', '--logits', lp, '--labels', short], 2,
      'shape mismatch', `labels file ${short} has shape [19]`, `logits file ${lp} has shape [20, 4]`);
    const twoD = write('<i4', [n, 1], labels);
    await fails(['score', '--logits', lp, '--labels', twoD], 2, `labels file ${twoD} has shape [20, 1]`);
  });

  it('labels outside [0, C) name the file, index and value', async () => {
    for (const bad of [c, -1, -100]) {
      const y = Int32Array.from(labels);
      y[13] = bad;
      const path = write('<i4', [n], y);
      await fails(['score', '--logits', lp, '--labels', path], 2,
        `labels file ${path}: label ${bad} at index 13 is not a class in [0, 4)`);
    }
  });

  it('wrong dtypes and dimensions name the file and what was found', async () => {
    const intLogits = write('<i4', [n, c], new Int32Array(n * c));
    await fails(['score', '--logits', intLogits, '--labels', yp], 2,
      `logits file ${intLogits} has dtype int32; expected float32, float64, float16 or bfloat16`);
    const floatLabels = write('<f4', [n], labels);
    await fails(['score', '--logits', lp, '--labels', floatLabels], 2,
      `labels file ${floatLabels} has dtype float32; expected an integer type (int8 to int64, uint8 to uint64)`);
    const flat = write('<f4', [n * c], logits);
    // One dimension is a binary model's logits, whose labels have its length.
    await fails(['score', '--logits', flat, '--labels', yp], 2,
      `shape mismatch: labels file ${yp} has shape [20], logits file ${flat} has shape [80]; a binary model's labels have shape [80]`);
    const fourD = write('<f4', [1, 2, n, c / 2], logits);
    await fails(['score', '--logits', fourD, '--labels', yp], 2, `logits file ${fourD} has shape [1, 2, 20, 2]; expected 2 dimensions [N, C], or 3 [B, T, V]`);
    const empty = write('<f4', [0, c], []);
    const noLabels = write('<i4', [0], []);
    await fails(['score', '--logits', empty, '--labels', noLabels], 2, 'has no rows');
    // [N, 1] with labels of N is a binary model (below); with other labels, one class of a softmax.
    const oneClass = write('<f4', [n, 1], logits.subarray(0, n));
    await fails(['score', '--logits', oneClass, '--labels', write('<i4', [n, 2], new Int32Array(2 * n))], 2,
      `logits file ${oneClass} has shape [20, 1]: a softmax over one class is always 1, so there is nothing to score`);
  });

  it('missing, unreadable and malformed files', async () => {
    const missing = join(dir, 'missing.npy');
    await fails(['score', '--logits', missing, '--labels', yp], 2, /ENOENT.*missing\.npy/);
    await fails(['score', '--logits', lp, '--labels', dir], 2, `${dir}: is a directory, not a regular file`);
    const notNpy = join(dir, 'not.npy');
    writeFileSync(notNpy, 'hello world');
    await fails(['score', '--logits', notNpy, '--labels', yp], 2, `${notNpy}: not a .npy file`);
    const hugeLabel = join(dir, 'huge-label.npy');
    writeNpy(hugeLabel, '<i8', [n], [...labels.subarray(0, n - 1), 2 ** 33]);
    await fails(['score', '--logits', lp, '--labels', hugeLabel], 2, `${hugeLabel}: int64 value 8589934592 at flat index 19`);
    const fortran = join(dir, 'fortran.npy');
    const bytes = encodeNpy('<f4', [n, c], logits);
    const header = "'fortran_order': False";
    const at = Buffer.from(bytes).indexOf(header);
    bytes.set(new TextEncoder().encode("'fortran_order': True, "), at);
    writeFileSync(fortran, bytes);
    await fails(['score', '--logits', fortran, '--labels', yp], 2, `${fortran}: Fortran-ordered arrays are not supported`);
  });

  it('the default top-k list drops the k not below C (with C = 4: top-1 only); an explicit one is refused', async () => {
    const { code, out } = await run(['score', '--json', '--logits', lp, '--labels', yp]);
    expect(code).toBe(0);
    expect(Object.keys(JSON.parse(out).topK)).toEqual(['1']);
    await fails(['score', '--logits', lp, '--labels', yp, '--top-k', '4'], 2, `--top-k 4 is not below the 4 classes of logits file ${lp}`);
  });

  it('usage errors name the flag and exit with 2', async () => {
    await fails(['score', '--logits'], 2, '--logits needs a file', "Run 'xentropy --help'");
    await fails(['score', '--labels', '--json'], 2, '--labels needs a file');
    await fails(['score', '--logits='], 2, '--logits needs a file');
    await fails(['score', '--logits', lp], 2, '--logits was given without --labels');
    await fails(['score', '--labels', yp], 2, '--labels was given without --logits');
    await fails(['score', '--logits', lp, '--labels', yp, '--logits', lp], 2, '--logits given more than once');
    await fails(['score', '--frobnicate'], 2, 'unknown option "--frobnicate"');
    await fails(['score', '--verbose=1'], 2, 'unknown option "--verbose"');
    await fails(['score', '--json=yes'], 2, '--json takes no value');
    await fails(['score', 'logits.npy'], 2, 'unexpected argument "logits.npy"');
    await fails(['rank'], 2, 'unknown command "rank"');
    await fails([], 2, 'missing command');
  });

  it('--help prints usage and exits 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['score', '--help']]) {
      const { code, out, err } = await run(argv);
      expect(code).toBe(0);
      expect(err).toBe('');
      expect(out).toBe(USAGE);
    }
    expect(USAGE).toContain('xentropy score [--logits LOGITS --labels LABELS [--mask MASK]] [--shift] [--json [--per-sequence]]');
  });
});

describe('writing to a file descriptor (fdWriter)', () => {
  /** A stream that records what it is handed. */
  const recorder = () => {
    const chunks: Buffer[] = [];
    const stream = { write: (b: Uint8Array, done: (e?: Error | null) => void) => { chunks.push(Buffer.from(b)); done(); }, on: () => stream };
    return { stream: stream as unknown as NodeJS.WritableStream, text: () => Buffer.concat(chunks).toString('utf8'), count: () => chunks.length };
  };
  const errno = (code: string) => Object.assign(new Error(code), { code });

  it('finishes a partial write, and hands the rest of an EAGAIN write and every later one to the stream, in order', async () => {
    const written: Buffer[] = [];
    let calls = 0;
    // Three bytes a call (mid-character for the euro sign), then EAGAIN from the third call on.
    const write: FdWrite = (fd, bytes, offset, length) => {
      expect(fd).toBe(1);
      if (++calls >= 3) throw errno('EAGAIN');
      const n = Math.min(3, length);
      written.push(Buffer.from(bytes.subarray(offset, offset + n)));
      return n;
    };
    const { stream, text, count } = recorder();
    const out = fdWriter(1, () => stream, write);
    await out('a€bcdef');
    expect(Buffer.concat(written).toString('utf8')).toBe('a€bc');
    expect(text()).toBe('def');
    await out('next line\n');
    expect(calls).toBe(3);
    expect(Buffer.concat(written).toString('utf8') + text()).toBe('a€bcdefnext line\n');
    expect(count()).toBe(2);
  });

  it('rejects with the system error (EPIPE, ENOSPC) and writes nothing to the stream', async () => {
    for (const code of ['EPIPE', 'ENOSPC']) {
      const { stream, count } = recorder();
      const out = fdWriter(1, () => stream, () => {
        throw errno(code);
      });
      await expect(out('x')).rejects.toMatchObject({ code });
      expect(count()).toBe(0);
    }
  });

  it('writes whole texts with Node\'s writeSync to a real descriptor', async () => {
    const path = join(dir, 'fd-writer.txt');
    writeFileSync(path, '');
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync(path, 'w');
    try {
      const out = fdWriter(fd, () => {
        throw new Error('no stream needed');
      });
      await out('π '.repeat(10_000));
      await out('end\n');
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path, 'utf8')).toBe(`${'π '.repeat(10_000)}end\n`);
  });
});

describe('the installed command', () => {
  const bin = join(ROOT, 'bin', 'xentropy.js');

  it('bin/xentropy.js score --json prints the same JSON as main (needs `npm run build`)', async () => {
    expect(existsSync(join(ROOT, 'dist', 'cli', 'cli.cjs')), 'dist/cli/cli.cjs is missing: run `npm run build`').toBe(true);
    // The same wasm features as this process (vitest enables relaxed SIMD), so both load the same build.
    const flags = process.execArgv.filter((flag) => flag.startsWith('--experimental-wasm'));
    const child = spawnSync(process.execPath, [...flags, bin, 'score', '--json'], { cwd: tmpdir(), encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const result = JSON.parse(child.stdout);
    expect(Object.keys(result).sort()).toEqual(JSON_KEYS);
    expect(result).toEqual(JSON.parse((await run(['score', '--json'])).out));
  }, 30_000);

  it('starts as CommonJS and prints through writeSync: no ES module loader, no stream, no clock beyond `node -e 0`', () => {
    const flags = process.execArgv.filter((flag) => flag.startsWith('--experimental-wasm'));
    // A preload that prints, at exit, the built-ins the process loaded.
    const preload = join(dir, 'module-list.cjs');
    writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, JSON.stringify(process.moduleLoadList)));\n");
    const loaded = (args: string[]) => {
      const child = spawnSync(process.execPath, [...flags, '-r', preload, ...args], { encoding: 'utf8' });
      expect(child.status, child.stderr).toBe(0);
      return { out: child.stdout, modules: JSON.parse(child.stderr) as string[] };
    };
    const empty = new Set(loaded(['-e', '0']).modules);
    for (const args of [['score', '--json'], ['score'], ['--help']]) {
      const { out, modules } = loaded([bin, ...args]);
      expect(out.length, args.join(' ')).toBeGreaterThan(100);
      const more = modules.filter((m) => !empty.has(m));
      expect(more.filter((m) => /stream|esm\/translators|perf|tty|\bnet\b|zlib/.test(m)), args.join(' ')).toEqual([]);
    }
  }, 30_000);

  it('loads node:zlib only for a deflated member, not to score .npy files', () => {
    const flags = process.execArgv.filter((flag) => flag.startsWith('--experimental-wasm'));
    // A preload that prints, at exit, the built-ins the process loaded.
    const preload = join(dir, 'modules.cjs');
    writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, JSON.stringify(process.moduleLoadList)));\n");
    const loaded = (args: string[]) => {
      const child = spawnSync(process.execPath, [...flags, '-r', preload, bin, 'score', ...args], { encoding: 'utf8' });
      expect(child.status, child.stderr).toBe(0);
      return JSON.parse(child.stderr) as string[];
    };
    expect(loaded(['--json'])).not.toContain('NativeModule zlib');
    const npz = join(dir, 'deflated.npz');
    writeFileSync(npz, zip([{ name: 'logits.npy', data: encodeNpy('<f4', [2, 3], [0, 1, 2, 3, 4, 5]), method: 8 }]));
    expect(loaded(['--json', '--logits', npz, '--labels', write('<i4', [2], [0, 2])])).toContain('NativeModule zlib');
  }, 30_000);

  it('exits with status 2 on a usage error', () => {
    const child = spawnSync(process.execPath, [bin, 'score', '--bogus'], { encoding: 'utf8' });
    expect(child.status).toBe(2);
    expect(child.stdout).toBe('');
    expect(child.stderr).toContain('unknown option "--bogus"');
  }, 30_000);
});

describe('evaluation metrics and flags', () => {
  const n = 400, c = 6;
  const { logits, labels } = makeData(n, c, 21);
  let lp: string, yp: string;
  beforeAll(() => {
    lp = write('<f4', [n, c], logits);
    yp = write('<i4', [n], labels);
  });

  /** The scorer's metrics in the CLI's JSON match the float64 reference scorer's. */
  function expectMatchesReference(result: Record<string, any>, want: ReturnType<typeof reference.score>) {
    expect(result.count).toBe(want.count);
    expectRelClose(result.lossNats, want.lossNats, 1e-6);
    expectRelClose(result.brier, want.brier, 1e-6);
    expect(result.accuracy).toBe(want.accuracy);
    expect(result.topK).toEqual(want.topK);
    expect(result.bins.map((b: { count: number }) => b.count)).toEqual(want.bins.map((b) => b.count));
    expect(Math.abs(result.ece - want.ece)).toBeLessThan(1e-6);
    expect(Math.abs(result.mce - want.mce)).toBeLessThan(1e-6);
  }

  it('--top-k and --bins set the metrics in --json, which match the reference scorer', async () => {
    const { code, out, err } = await run(['score', '--json', '--logits', lp, '--labels', yp, '--top-k', '1,3', '--bins=10'], { chunkRows: 37 });
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(Object.keys(result).sort()).toEqual(JSON_KEYS);
    expect(Object.keys(result.topK)).toEqual(['1', '3']);
    expect(result.bins).toHaveLength(10);
    expectMatchesReference(result, reference.score(logits, labels, { classes: c, topK: [1, 3], bins: 10 }));
    // Defaults: top-1 and top-5, 15 bins.
    const plain = JSON.parse((await run(['score', '--json', '--logits', lp, '--labels', yp])).out);
    expect(Object.keys(plain.topK)).toEqual(['1', '5']);
    expect(plain.bins).toHaveLength(15);
  });

  it('prints the new metrics as text', async () => {
    const { code, out } = await run(['score', '--logits', lp, '--labels', yp, '--top-k', '2']);
    expect(code).toBe(0);
    const want = reference.score(logits, labels, { classes: c, topK: [2] });
    expect(Number(/top-2 acc\.\s+([\d.]+)/.exec(out)![1])).toBeCloseTo(want.topK['2'], 6);
    expect(Number(/brier\s+([\d.]+)/.exec(out)![1])).toBeCloseTo(want.brier, 6);
    expect(Number(/ECE\s+([\d.]+)  \(15 bins\)/.exec(out)![1])).toBeCloseTo(want.ece, 6);
    expect(Number(/MCE\s+([\d.]+)/.exec(out)![1])).toBeCloseTo(want.mce, 6);
  });

  it('--ignore-index skips rows with that label', async () => {
    const y = Int32Array.from(labels);
    for (let r = 0; r < n; r += 9) y[r] = 255;
    const path = write('|u1', [n], y);
    const { code, out } = await run(['score', '--logits', lp, '--labels', path, '--ignore-index', '255']);
    expect(code).toBe(0);
    expect(out).toMatch(/counted\s+355 {2}\(45 ignored\)/);
    const json = JSON.parse((await run(['score', '--json', '--logits', lp, '--labels', path, '--ignore-index=255'])).out);
    expect(json.n).toBe(n);
    expectMatchesReference(json, reference.score(logits, y, { classes: c, ignoreIndex: 255 }));
    const negative = write('<i4', [n], y.map((v) => (v === 255 ? -1 : v)));
    const neg = JSON.parse((await run(['score', '--json', '--logits', lp, '--labels', negative, '--ignore-index', '-1'])).out);
    expect(neg.count).toBe(355);
  });

  it('--probs and --log-probs read probabilities and log-probabilities', async () => {
    const p = new Float32Array(reference.softmax(logits, c));
    const lpr = new Float32Array(reference.logSoftmax(logits, c)).map((v) => Math.min(v, 0));
    const pp = write('<f4', [n, c], p);
    const lpp = write('<f8', [n, c], lpr);
    const a = JSON.parse((await run(['score', '--json', '--probs', '--logits', pp, '--labels', yp])).out);
    expectMatchesReference(a, reference.score(p, labels, { classes: c, from: 'probs' }));
    const b = JSON.parse((await run(['score', '--json', '--log-probs', '--logits', lpp, '--labels', yp])).out);
    expectMatchesReference(b, reference.score(lpr, labels, { classes: c, from: 'logProbs' }));
    // Logits given as probabilities are refused with the file, row and class.
    const bad = await run(['score', '--probs', '--logits', lp, '--labels', yp], { chunkRows: 50 });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(new RegExp(`logits file ${lp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: value \\S+ at row \\d+, class \\d+ is not a probability`));
    const both = await run(['score', '--probs', '--log-probs', '--logits', lp, '--labels', yp]);
    expect(both.code).toBe(2);
    expect(both.err).toContain('--probs and --log-probs cannot be combined');
  });

  it('reads float16 logits (as float32) with uint16 labels', async () => {
    const hp = write('<f2', [n, c], logits);
    const up = write('<u2', [n], labels);
    const half = readNpy(hp);
    expect(half.dtype).toBe('<f2');
    const { code, out, err } = await run(['score', '--logits', hp, '--labels', up]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(`(float16 [${n}, ${c}])`);
    expect(out).toContain(`(uint16 [${n}])`);
    const json = JSON.parse((await run(['score', '--json', '--logits', hp, '--labels', up], { chunkRows: 64 })).out);
    expectMatchesReference(json, reference.score(half.data as Float32Array, labels, { classes: c }));
  });

  it('--plot writes a well-formed SVG reliability diagram with one bar per non-empty bin and the counts', async () => {
    const svgPath = join(dir, 'calibration.svg');
    const { code, out } = await run(['score', '--json', '--logits', lp, '--labels', yp, '--bins', '12', '--plot', svgPath]);
    expect(code).toBe(0);
    const result = JSON.parse(out);
    const svg = readFileSync(svgPath, 'utf8');
    expectWellFormedXml(svg);
    expect(svg).toMatch(/^<\?xml[^>]*\?>\s*<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const nonEmpty = result.bins.map((b: { count: number }, i: number) => [i, b.count]).filter(([, k]: number[]) => k > 0);
    expect(nonEmpty.length).toBeGreaterThan(1);
    const bars = [...svg.matchAll(/<rect class="bar" data-bin="(\d+)"[^>]* height="([\d.]+)"/g)];
    expect(bars.map((m) => Number(m[1]))).toEqual(nonEmpty.map(([i]: number[]) => i));
    const counts = [...svg.matchAll(/<text class="count" data-bin="(\d+)"[^>]*>(\d+)<\/text>/g)];
    expect(counts.map((m) => [Number(m[1]), Number(m[2])])).toEqual(nonEmpty);
    expect(svg).toContain('class="diagonal"');
    for (const label of ['Confidence', 'Accuracy', 'Rows', `ECE ${result.ece.toFixed(4)}`]) expect(svg).toContain(label);
    // Text output names the plot.
    const text = await run(['score', '--logits', lp, '--labels', yp, '--plot', svgPath]);
    expect(text.out).toContain(`plot          ${svgPath}`);
  });

  it('--report writes the self-contained HTML report of the run: its numbers, no script, no request', async () => {
    const htmlPath = join(dir, 'report.html');
    const { code, out } = await run(['score', '--json', '--logits', lp, '--labels', yp, '--report', htmlPath]);
    expect(code).toBe(0);
    const result = JSON.parse(out);
    const html = readFileSync(htmlPath, 'utf8');
    expect(html.startsWith('<!doctype html>') || html.startsWith('<!DOCTYPE html>')).toBe(true);
    // The only URL allowed is SVG's namespace name, which is never fetched.
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/<script|https?:|src=|url\(/i);
    expect(html).toContain(lp);
    // Every summary figure the scorer gave appears as the report's exact data value.
    for (const key of ['lossNats', 'accuracy', 'brier', 'ece']) expect(html, key).toContain(`data-value="${result[key]}"`);
    // The per-class table and the averages are the scorer's own figures on the same rows.
    const scored = (await init()).scorer({ classes: result.classes }).update(readNpy(lp).data as Float32Array, readNpy(yp).data as Int32Array).result();
    expect(html).toContain('id="per-class"');
    expect(html).toContain(`data-value="${scored.balancedAccuracy}"`);
    expect(html).toContain(`data-value="${scored.macro?.f1}"`);
    expect(html.match(/<tr data-class="/g)?.length).toBe(result.classes);
    // The confusion heat map, from counts the scorer keeps for --report up to MAX_CONFUSION_CLASSES classes.
    expect(html).toContain('id="confusion"');
    const wide = write('<f4', [3, 1025], new Float32Array(3 * 1025).fill(0.5));
    const wideRun = await run(['score', '--logits', wide, '--labels', write('<i4', [3], [0, 1, 1024]), '--report', join(dir, 'wide.html')]);
    expect(wideRun.code).toBe(0);
    const wideHtml = readFileSync(join(dir, 'wide.html'), 'utf8');
    expect(wideHtml).toContain('id="per-class"');
    expect(wideHtml).not.toContain('id="confusion"');
    const text = await run(['score', '--logits', lp, '--labels', yp, '--report', htmlPath, '--plot', join(dir, 'r.svg')]);
    expect(text.out).toContain(`report        ${htmlPath}`);
    for (const [flags, message] of [
      [['--report'], '--report needs a file: --report FILE.html'],
      [['--report', '-'], '--report needs a file name'],
      [['--report', htmlPath, '--plot', htmlPath], '--plot and --report name the same file'],
      [['--report', lp], `--report ${lp} is the input file`],
    ] as [string[], string][]) {
      const r = await run(['score', '--logits', lp, '--labels', yp, ...flags]);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.err).toContain(message);
    }
    expect(readFileSync(lp).length).toBeGreaterThan(0);
  });

  it('bad flag values name the flag and the value, exit 2', async () => {
    const cases: [string[], string][] = [
      [['--top-k', '0'], '--top-k needs a comma-separated list of positive integers (like 1,5), got "0"'],
      [['--top-k', '1,x'], '--top-k needs a comma-separated list of positive integers (like 1,5), got "1,x"'],
      [['--top-k=1,1'], '--top-k needs distinct values, got "1,1"'],
      [['--top-k', '2.5'], 'got "2.5"'],
      [['--top-k', '1,6'], `--top-k 6 is not below the 6 classes of logits file ${lp}: every row would be a top-6 hit`],
      [['--bins', 'x'], '--bins needs a positive integer of at most 1000000 (like 15), got "x"'],
      [['--bins', '0'], '--bins needs a positive integer of at most 1000000 (like 15), got "0"'],
      [['--bins=1.5'], 'got "1.5"'],
      [['--ignore-index', 'abc'], '--ignore-index needs an integer (like -100), got "abc"'],
      [['--plot'], '--plot needs a file: --plot FILE.svg'],
      [['--bins', '3', '--bins', '4'], '--bins given more than once'],
      [['--probs=1'], '--probs takes no value'],
    ];
    for (const [flags, message] of cases) {
      const result = await run(['score', '--logits', lp, '--labels', yp, ...flags]);
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.out).toBe('');
      expect(result.err).toContain(message);
    }
  });

  it('draws a progress bar on a terminal only when the run is slow, and erases it', async () => {
    let t = 0;
    const slow = await run(['score', '--logits', lp, '--labels', yp], { chunkRows: 40, stderrIsTTY: true, now: () => (t += 300) });
    expect(slow.code).toBe(0);
    expect(slow.err).toMatch(/\r\[#+ *\] \d+% {2}\d+ \/ 400 rows/);
    expect(slow.err).toContain('100%  400 / 400 rows');
    expect(slow.err.endsWith('\r\x1b[K')).toBe(true);
    const fast = await run(['score', '--logits', lp, '--labels', yp], { chunkRows: 40, stderrIsTTY: true, now: () => 0 });
    expect(fast.err).toBe('');
    const piped = await run(['score', '--logits', lp, '--labels', yp], { chunkRows: 40, stderrIsTTY: false, now: () => (t += 300) });
    expect(piped.err).toBe('');
  });
});

/** A small well-formedness check: one root, balanced and properly nested tags, quoted attributes. */
function expectWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>/, '');
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|[<>]/g;
  let m: RegExpExecArray | null;
  while ((m = tag.exec(body))) {
    if (m[0] === '<' || m[0] === '>') expect.fail(`stray ${m[0]} at ${m.index}: ${body.slice(m.index - 20, m.index + 20)}`);
    if (m[0].startsWith('<!--')) continue;
    const [, close, name, , selfClose] = m;
    if (close) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  expect(body.replace(/<[^>]*>/g, '')).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#\d+;)/);
}

describe('binary and multilabel models', () => {
  const n = 300, L = 3;
  const random = rng(11);
  const z = Float32Array.from({ length: n * L }, () => (random() - 0.5) * 6);
  const y = Int32Array.from(z, (x) => (x + (random() - 0.5) * 3 > 0 ? 1 : 0));
  const soft = Float32Array.from(y, (t) => Math.fround(0.1 + 0.8 * t * random()));
  const figures = (r: ReturnType<ReturnType<typeof xentropy.binaryScorer>['result']>) => ({
    count: r.count, positives: r.positives, logLoss: r.logLoss, brier: r.brier, accuracy: r.accuracy, precision: r.precision,
    recall: r.recall, f1: r.f1, rocAuc: r.rocAuc, averagePrecision: r.averagePrecision, ece: r.ece, mce: r.mce, rmsce: r.rmsce,
    confusion: r.confusion,
  });
  let xentropy: Awaited<ReturnType<typeof init>>;
  beforeAll(async () => {
    xentropy = await init();
  });

  it('logits [N] or [N, 1] with labels [N] are a binary model: the figures are binaryScorer\'s on the same values', async () => {
    const scores = z.subarray(0, n), labels = y.subarray(0, n);
    const want = xentropy.binaryScorer({ threshold: 0.3 }).update(scores, labels).result();
    for (const [logitsFile, labelsFile] of [
      [write('<f4', [n], scores), write('<i4', [n], labels)],
      [write('<f4', [n, 1], scores), write('|u1', [n], labels)],
      [write('<f4', [n], scores), write('<i8', [n], labels)],
    ]) {
      const { code, out, err } = await run(['score', '--json', '--logits', logitsFile, '--labels', labelsFile, '--threshold', '0.3'], { chunkRows: 70 });
      expect(err).toBe('');
      expect(code).toBe(0);
      const json = JSON.parse(out);
      expect(json.task).toBe('binary');
      expect(json.threshold).toBe(0.3);
      expect({ ...json, task: undefined, n: undefined, threshold: undefined, bins: undefined }).toEqual({ ...figures(want), task: undefined, n: undefined, threshold: undefined, bins: undefined });
      expect(json.bins.map((b: { count: number }) => b.count)).toEqual(want.bins.map((b) => b.count));
    }
    // Soft float labels and probabilities (--probs); float16 scores are the float16 values' figures.
    const probs = Float32Array.from(scores, (x) => 1 / (1 + Math.exp(-x)));
    const softWant = xentropy.binaryScorer({ from: 'probs' }).update(probs, soft.subarray(0, n)).result();
    const r = await run(['score', '--json', '--probs', '--logits', write('<f4', [n], probs), '--labels', write('<f4', [n], soft.subarray(0, n))]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).logLoss).toBe(softWant.logLoss);
    expect(JSON.parse(r.out).brier).toBe(softWant.brier);
    const halfFile = write('<f2', [n], scores);
    // readNpy gives a float16 file's values as float32 (exactly: every half is a float32).
    const widened = readNpy(halfFile).data as Float32Array;
    expect(widened).not.toEqual(scores);
    const half = await run(['score', '--json', '--logits', halfFile, '--labels', write('<i4', [n], labels)]);
    expect(JSON.parse(half.out).logLoss).toBe(xentropy.binaryScorer().update(widened, labels).result().logLoss);
  });

  it('logits [N, L] with labels [N, L] are a multilabel model: multilabelScorer\'s figures, per label and averaged', async () => {
    const want = xentropy.multilabelScorer({ labels: L }).update(z, y).result();
    const { code, out } = await run(['score', '--json', '--logits', write('<f4', [n, L], z), '--labels', write('|u1', [n, L], y)], { chunkRows: 41 });
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.task).toBe('multilabel');
    expect(json.labels).toBe(L);
    expect(json.macro).toEqual(want.macro);
    expect(json.weighted).toEqual(want.weighted);
    expect(json.micro).toEqual(figures(want.micro));
    expect(json.perLabel).toEqual(want.perLabel.map(figures));
    const text = await run(['score', '--logits', write('<f4', [n, L], z), '--labels', write('|u1', [n, L], y)]);
    expect(text.out).toContain(`labels (L)    ${L}`);
    expect(text.out).toContain(`ROC AUC       ${want.macro.rocAuc.toFixed(6)}`);
  });

  it('--report draws the binary report with its ROC and precision-recall curves; --plot the reliability diagram', async () => {
    const htmlPath = join(dir, 'binary.html'), svgPath = join(dir, 'binary.svg');
    const logitsFile = write('<f4', [n], z.subarray(0, n)), labelsFile = write('<i4', [n], y.subarray(0, n));
    const { code, out } = await run(['score', '--json', '--logits', logitsFile, '--labels', labelsFile, '--report', htmlPath, '--plot', svgPath]);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    const html = readFileSync(htmlPath, 'utf8');
    expect(html).toContain('ROC curve');
    expect(html).toContain('Precision-recall curve');
    expect(html).toContain(`data-value="${json.rocAuc}"`);
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/<script|https?:|src=|url\(/i);
    expect(readFileSync(svgPath, 'utf8')).toContain('<rect class="bar"');
    const multi = await run(['score', '--logits', write('<f4', [n, L], z), '--labels', write('<i4', [n, L], y), '--report', htmlPath]);
    expect(multi.code).toBe(0);
    expect(readFileSync(htmlPath, 'utf8')).toContain(`data-value="${xentropy.multilabelScorer({ labels: L }).update(z, y).result().macro.f1}"`);
  });

  it('refuses flags of the other kind of model and labels that are not targets, naming them', async () => {
    const logitsFile = write('<f4', [n], z.subarray(0, n)), labelsFile = write('<i4', [n], y.subarray(0, n));
    for (const [flags, message] of [
      [['--top-k', '1'], '--top-k is for multiclass models'],
      [['--ignore-index', '-100'], '--ignore-index is for multiclass models'],
      [['--log-probs'], '--log-probs is for multiclass models'],
      [['--shift'], '--shift is for multiclass models'],
    ] as [string[], string][]) {
      const r = await run(['score', '--logits', logitsFile, '--labels', labelsFile, ...flags]);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.err).toContain(message);
    }
    const r = await run(['score', '--threshold', '0.4']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--threshold is for binary and multilabel models');
    for (const bad of ['1.5', '-0.1', 'x', '']) {
      const t = await run(['score', '--logits', logitsFile, '--labels', labelsFile, `--threshold=${bad}`]);
      expect(t.code, bad).toBe(2);
      expect(t.err).toContain(bad === '' ? '--threshold needs a value' : `--threshold needs a probability in [0, 1] (like 0.5), got "${bad}"`);
    }
    const two = write('<i4', [n], Int32Array.from(y.subarray(0, n), (t, i) => (i === 7 ? 2 : t)));
    const twoRun = await run(['score', '--logits', logitsFile, '--labels', two]);
    expect(twoRun.code).toBe(2);
    expect(twoRun.err).toContain(`labels file ${two}: label 2 at index 7 is not 0 or 1`);
    const over = write('<f4', [n], Float32Array.from(soft.subarray(0, n), (t, i) => (i === 5 ? 1.25 : t)));
    const overRun = await run(['score', '--logits', logitsFile, '--labels', over]);
    expect(overRun.code).toBe(2);
    expect(overRun.err).toContain(`labels file ${over}: value 1.25 at index 5 is not a target in [0, 1]`);
    const probs = write('<f4', [n], Float32Array.from(z.subarray(0, n), (x, i) => (i === 250 ? 1.5 : 1 / (1 + Math.exp(-x)))));
    const probsRun = await run(['score', '--probs', '--logits', probs, '--labels', labelsFile], { chunkRows: 100 });
    expect(probsRun.code).toBe(2);
    expect(probsRun.err).toContain(`logits file ${probs}: value 1.5 at row 250 is not a probability in [0, 1]`);
    // Probabilities given as logits: warned about, as for a multiclass model.
    const inRange = write('<f4', [n], Float32Array.from(z.subarray(0, n), (x) => 1 / (1 + Math.exp(-x))));
    const warned = await run(['score', '--logits', inRange, '--labels', labelsFile]);
    expect(warned.code).toBe(0);
    expect(warned.err).toContain('these look like probabilities, not logits');
  });
});
