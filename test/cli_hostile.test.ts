// `xentropy score` under hostile or careless input (issue 24, defect 6): inputs that are not regular
// files, crafted headers whose text would reach the terminal, sizes beyond what can be held, write
// errors on the outputs, --plot aimed at an input, and a --top-k list that is far too long. Every case
// must end in a one-line message and the documented exit status (USAGE), never a hang or a stack trace.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync, existsSync, ftruncateSync, linkSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync,
  writeFileSync, writeSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, main, type CliIO } from '../src/cli/cli.js';
import { encodeNpy, writeNpy } from '../src/cli/npy.js';

// The documented limits and statuses (USAGE), written out so that the tests pin them.
const MAX_ROWS = 2 ** 31 - 1;
const MAX_CLASSES = 2 ** 28;
const MAX_TOP_K = 100;
const BROKEN_PIPE = 141;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'xentropy.js');
/** The same wasm features as this process (vitest enables relaxed SIMD), so children load the same build. */
const NODE_FLAGS = process.execArgv.filter((flag) => flag.startsWith('--experimental-wasm'));

let dir: string;
let lp: string;
let yp: string;
const N = 30, C = 4;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xentropy-hostile-'));
  lp = join(dir, 'logits.npy');
  yp = join(dir, 'labels.npy');
  writeNpy(lp, '<f4', [N, C], Array.from({ length: N * C }, (_, i) => Math.sin(i)));
  writeNpy(yp, '<i4', [N], Array.from({ length: N }, (_, i) => i % C));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs main in-process, capturing its output. */
async function run(argv: string[], extra: Omit<CliIO, 'stderr'> = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => { out += t; }, ...extra, stderr: (t) => { err += t; } });
  return { code, out, err };
}

/** C0 controls but newline, DEL, C1 controls, zero-width and bidi characters: none may reach the terminal. */
function rawControl(text: string): string | undefined {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f) || (c >= 0x200b && c <= 0x200f)
      || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return `U+${c.toString(16)}`;
  }
  return undefined;
}

/** A failure: the status, nothing on stdout, a short message without control characters or a stack trace. */
function expectCleanFailure(result: { code: number; out: string; err: string }, code: number, ...fragments: string[]) {
  expect(result.code, result.err).toBe(code);
  expect(result.out).toBe('');
  expect(result.err).not.toContain('internal error');
  expect(result.err).not.toMatch(/\n\s+at /);
  expect(rawControl(result.err), result.err.slice(0, 300)).toBeUndefined();
  expect(result.err.length).toBeLessThan(2000);
  for (const f of fragments) expect(result.err).toContain(f);
}

/** A .npy file with an arbitrary header text (latin-1, or UTF-8 in version 3; padded as numpy does). */
function rawNpy(header: string, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const text = version === 3 ? new TextEncoder().encode(header) : Uint8Array.from(header, (ch) => ch.charCodeAt(0) & 0xff);
  const len = Math.ceil((prefix + text.length + 1) / 64) * 64 - prefix;
  const out = new Uint8Array(prefix + len).fill(0x20);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, len, true);
  else view.setUint32(8, len, true);
  out.set(text, prefix);
  out[prefix + len - 1] = 0x0a;
  return out;
}

let counter = 0;
function temp(bytes: Uint8Array | string, name = 'x.npy'): string {
  const path = join(dir, `${counter++}-${name}`);
  writeFileSync(path, bytes);
  return path;
}

/** A sparse .npy file: a real header claiming `shape`, and holes for data (nothing is written). */
function sparseNpy(descr: string, shape: number[], itemSize: number): string {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const header = rawNpy(`{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`);
  const path = join(dir, `${counter++}-sparse.npy`);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    ftruncateSync(fd, header.length + shape.reduce((a, b) => a * b, 1) * itemSize);
  } finally {
    closeSync(fd);
  }
  return path;
}

function mkfifo(name: string): string {
  const path = join(dir, name);
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
  return path;
}

/** Runs bin/xentropy.js (dist/, built by `npm run build:ts`). */
function runBin(args: string[], options: Parameters<typeof spawnSync>[2] = {}) {
  expect(existsSync(join(ROOT, 'dist', 'cli', 'cli.cjs')), 'dist/cli/cli.cjs is missing: run `npm run build`').toBe(true);
  const child = spawnSync(process.execPath, [...NODE_FLAGS, BIN, ...args], { encoding: 'utf8', timeout: 20_000, ...options });
  return { code: child.status, signal: child.signal, out: String(child.stdout ?? ''), err: String(child.stderr ?? '') };
}

describe('1. inputs that are not regular files are refused, without blocking', () => {
  it('a FIFO (with a writer: the old code read it as "an empty file")', async () => {
    const fifo = mkfifo('with-writer.fifo');
    // O_RDWR on a FIFO does not block on Linux and counts as a writer.
    const writer = openSync(fifo, 'r+');
    try {
      expectCleanFailure(await run(['score', '--logits', fifo, '--labels', yp]), 2, `${fifo}: is a FIFO, not a regular file`);
      expectCleanFailure(await run(['score', '--logits', lp, '--labels', fifo]), 2, `${fifo}: is a FIFO, not a regular file`);
    } finally {
      closeSync(writer);
    }
  });

  it('a FIFO without a writer does not hang the command', () => {
    const fifo = mkfifo('no-writer.fifo');
    const started = Date.now();
    const result = runBin(['score', '--logits', fifo, '--labels', yp]);
    expect(result.signal, 'killed after 20 s: the open blocked').toBeNull();
    expectCleanFailure(result as { code: number; out: string; err: string }, 2, `${fifo}: is a FIFO, not a regular file`);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it('/dev/stdin fed by a shell pipe is a FIFO, not "an empty file"', () => {
    expect(existsSync(join(ROOT, 'dist', 'cli', 'cli.cjs')), 'dist/cli/cli.cjs is missing: run `npm run build`').toBe(true);
    // sh -c 'cat LOGITS | node bin/xentropy.js score --logits /dev/stdin --labels LABELS'
    const child = spawnSync('/bin/sh', ['-c', 'cat "$0" | "$@"', lp, process.execPath, ...NODE_FLAGS, BIN,
      'score', '--logits', '/dev/stdin', '--labels', yp], { encoding: 'utf8', timeout: 20_000 });
    expectCleanFailure({ code: child.status!, out: child.stdout, err: child.stderr }, 2, '/dev/stdin: is a FIFO, not a regular file');
  }, 30_000);

  it('/dev/stdin on a socket (how Node connects a child\'s stdin) is a socket', () => {
    const result = runBin(['score', '--logits', '/dev/stdin', '--labels', yp], { input: readFileSync(lp) });
    expectCleanFailure(result as { code: number; out: string; err: string }, 2, '/dev/stdin: is a socket, not a regular file');
  }, 30_000);

  it('character devices: /dev/zero and /dev/null', async () => {
    for (const device of ['/dev/zero', '/dev/null']) {
      expectCleanFailure(await run(['score', '--logits', device, '--labels', yp]), 2, `${device}: is a character device, not a regular file`);
    }
  });

  it('a directory', async () => {
    expectCleanFailure(await run(['score', '--logits', dir, '--labels', yp]), 2, `${dir}: is a directory, not a regular file`);
  });

  it('a socket', async () => {
    const path = join(dir, 's.sock');
    const server: Server = await new Promise((resolve) => {
      const s = createServer();
      s.listen(path, () => resolve(s));
    });
    try {
      expectCleanFailure(await run(['score', '--logits', lp, '--labels', path]), 2, `${path}: is a socket, not a regular file`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a symlink to a regular file is still read', async () => {
    const link = join(dir, 'link-to-logits.npy');
    symlinkSync(lp, link);
    const result = await run(['score', '--json', '--logits', link, '--labels', yp]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out).n).toBe(N);
  });
});

describe('2. text from files and arguments is escaped and bounded in messages', () => {
  const ESCAPES = '\x1b]0;pwned\x07\x1b[2J\x9b31m';

  it('a crafted dtype string: escape sequences are shown as \\xNN, never written raw', async () => {
    const path = temp(rawNpy(`{'descr': '${ESCAPES}', 'fortran_order': False, 'shape': (${N}, ${C}), }`));
    const result = await run(['score', '--logits', path, '--labels', yp]);
    expectCleanFailure(result, 2, 'unsupported dtype', `'\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m'`);
    // A version 3 (UTF-8) header can also carry bidi overrides and zero-width characters.
    const utf8 = temp(rawNpy(`{'descr': 'a\u202eb\u200bc\u2028d', 'fortran_order': False, 'shape': (${N}, ${C}), }`, 3));
    expectCleanFailure(await run(['score', '--logits', utf8, '--labels', yp]), 2, `'a\\u202eb\\u200bc\\u2028d'`);
  });

  it('crafted keys, values and unparsable headers', async () => {
    const headers = [
      `{'descr': '<f4', 'fortran_order': False, 'shape': (${N}, ${C}), '${ESCAPES}': 1, }`,
      `{'descr': '<f4', 'fortran_order': '${ESCAPES}', 'shape': (${N}, ${C}), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': ('${ESCAPES}',), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (${N}, ${C}), }${ESCAPES}`,
      `${ESCAPES}`,
    ];
    for (const header of headers) {
      const result = await run(['score', '--logits', temp(rawNpy(header)), '--labels', yp]);
      expectCleanFailure(result, 2, '\\x1b');
    }
  });

  it('a 900 kB header value gives a message of bounded length', async () => {
    const big = 'A'.repeat(900_000);
    const cases = [
      `{'descr': '${big}', 'fortran_order': False, 'shape': (${N}, ${C}), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (${N}, ${C}), '${big}': 1, }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (${'9'.repeat(900_000)}, ${C}), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (${'1, '.repeat(300_000)}), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': ${'['.repeat(200_000)}, }`,
    ];
    for (const header of cases) {
      const result = await run(['score', '--logits', temp(rawNpy(header, 2)), '--labels', yp]);
      expectCleanFailure(result, 2);
      expect(result.err.length).toBeLessThan(1000);
    }
  });

  it('a file name with control characters is escaped', async () => {
    const missing = join(dir, 'evil\x1b[31m.npy');
    expectCleanFailure(await run(['score', '--logits', missing, '--labels', yp]), 2, 'evil\\x1b[31m.npy');
    const bad = temp('not npy at all', 'evil\x1b[2J.npy');
    expectCleanFailure(await run(['score', '--logits', bad, '--labels', yp]), 2, 'evil\\x1b[2J.npy: not a .npy file');
  });

  it('command-line values with control characters are escaped and bounded', async () => {
    expectCleanFailure(await run(['score', '--bogus\x9b2J']), 2, '"--bogus\\x9b2J"');
    expectCleanFailure(await run(['score', '--bins', `\x1b[2J${'9'.repeat(100_000)}`]), 2, '"\\x1b[2J99', '…"');
    // A NUL byte (only possible through main, not a shell) made Node's open throw a TypeError: "internal error".
    expectCleanFailure(await run(['score', '--logits', 'a\0b.npy', '--labels', yp]), 2, '--logits needs a file name without NUL bytes, got "a\\x00b.npy"');
  });
});

describe('3. sizes beyond what can be processed are refused up front', () => {
  it(`a 2^33-row pair (sparse files) is refused with exit 2, not an internal error`, async () => {
    const logits = sparseNpy('<f2', [2 ** 33, 2], 2);
    const labels = sparseNpy('|u1', [2 ** 33], 1);
    const result = await run(['score', '--logits', logits, '--labels', labels]);
    expectCleanFailure(result, 2, `logits file ${logits} has 8589934592 rows; at most ${MAX_ROWS}`);
  });

  it(`more than ${MAX_CLASSES} classes is refused with exit 2`, async () => {
    const logits = sparseNpy('<f2', [1, MAX_CLASSES + 1], 2);
    const labels = temp(encodeNpy('<i4', [1], [0]));
    expectCleanFailure(await run(['score', '--logits', logits, '--labels', labels]), 2, `has ${MAX_CLASSES + 1} classes; at most ${MAX_CLASSES}`);
  });

  it('a tiny file whose header claims a huge shape is a truncated file, with exact byte counts', async () => {
    const logits = temp(rawNpy(`{'descr': '<f4', 'fortran_order': False, 'shape': (${2 ** 40}, ${2 ** 10}), }`));
    expectCleanFailure(await run(['score', '--logits', logits, '--labels', yp]), 2, 'truncated file', `needs ${2 ** 52} data bytes`);
    // 3 * 3002399751580331 = 2^53 + 1 bytes: beyond exact doubles, refused with the exact size.
    const over = temp(rawNpy(`{'descr': '|u1', 'fortran_order': False, 'shape': (3, 3002399751580331), }`));
    expectCleanFailure(await run(['score', '--logits', over, '--labels', yp]), 2, 'is too large: 9007199254740993 data bytes');
  });
});

describe('4. write errors are reported cleanly', () => {
  const errno = (code: string, errnoValue: number, syscall = 'write') =>
    Object.assign(new Error(`${code}: simulated, ${syscall}`), { code, errno: errnoValue, syscall });

  it('EPIPE on stdout: quiet, exit 141 (as a tool stopped by SIGPIPE)', async () => {
    const result = await run(['score', '--logits', lp, '--labels', yp], { stdout: () => { throw errno('EPIPE', -32); } });
    expect(result).toEqual({ code: BROKEN_PIPE, out: '', err: '' });
  });

  it('ENOSPC on stdout: one line naming standard output, exit 1', async () => {
    const result = await run(['score', '--json', '--logits', lp, '--labels', yp], {
      stdout: async () => { throw errno('ENOSPC', -28); },
    });
    expectCleanFailure(result, 1);
    expect(result.err).toBe('xentropy: cannot write to standard output: no space left on device (ENOSPC)\n');
  });

  it('--plot to a full disk (/dev/full): one line naming the path, exit 1', async () => {
    const result = await run(['score', '--logits', lp, '--labels', yp, '--plot', '/dev/full']);
    expectCleanFailure(result, 1);
    expect(result.err).toBe('xentropy: cannot write the plot /dev/full: no space left on device (ENOSPC)\n');
  });

  it('--plot into a missing directory: exit 2, naming the path', async () => {
    const path = join(dir, 'no-such-dir', 'plot.svg');
    expectCleanFailure(await run(['score', '--logits', lp, '--labels', yp, '--plot', path]), 2,
      `cannot write the plot ${path}: no such file or directory (ENOENT)`);
  });

  it('the installed command: stdout closed early exits 141 quietly', async () => {
    expect(existsSync(join(ROOT, 'dist', 'cli', 'cli.cjs')), 'dist/cli/cli.cjs is missing: run `npm run build`').toBe(true);
    for (const args of [['score', '--logits', lp, '--labels', yp], ['--help']]) {
      const child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // The reader goes away before anything is written: the write fails with EPIPE.
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
        child.on('close', (c, s) => resolve([c, s]));
      });
      expect({ code, signal, err }).toEqual({ code: BROKEN_PIPE, signal: null, err: '' });
    }
  }, 30_000);

  it('the installed command: stdout on a full disk exits 1 with one line, no stack trace', () => {
    const full = openSync('/dev/full', 'w');
    try {
      for (const args of [['score', '--json', '--logits', lp, '--labels', yp], ['--help']]) {
        const result = runBin(args, { stdio: ['ignore', full, 'pipe'] });
        expect(result.code).toBe(1);
        expect(result.err).toBe('xentropy: cannot write to standard output: no space left on device (ENOSPC)\n');
      }
    } finally {
      closeSync(full);
    }
  }, 30_000);

  it('the installed command: stderr on a full disk still gives the exit status, no crash', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const result = runBin(['score', '--bogus'], { stdio: ['ignore', 'pipe', full] });
      expect(result.code).toBe(2);
    } finally {
      closeSync(full);
    }
  }, 30_000);

  it('USAGE documents the exit statuses', () => {
    for (const line of [/^ {2}0 {4}success$/m, /^ {2}2 {4}usage error or invalid input/m, /^ {2}1 {4}an output could not be written/m, /^ {2}141 {2}standard output was closed early/m]) {
      expect(USAGE).toMatch(line);
    }
  });
});

describe('5. --plot never overwrites an input', () => {
  it('refuses the logits or labels path, another spelling, a symlink or a hard link, and leaves it intact', async () => {
    const logits = join(dir, 'keep-logits.npy');
    const labels = join(dir, 'keep-labels.npy');
    writeFileSync(logits, readFileSync(lp));
    writeFileSync(labels, readFileSync(yp));
    const symlink = join(dir, 'keep-symlink.svg');
    symlinkSync(logits, symlink);
    const hardlink = join(dir, 'keep-hardlink.svg');
    linkSync(labels, hardlink);
    const spellings = [logits, labels, join(dir, '.', 'keep-logits.npy'), relative(process.cwd(), labels), symlink, hardlink];
    for (const plot of spellings) {
      const result = await run(['score', '--logits', logits, '--labels', labels, '--plot', plot]);
      expectCleanFailure(result, 2, `--plot ${plot} is the input file`, 'refusing to overwrite it');
    }
    expect(readFileSync(logits)).toEqual(readFileSync(lp));
    expect(readFileSync(labels)).toEqual(readFileSync(yp));
  });

  it('still writes (and replaces) any other file', async () => {
    const plot = join(dir, 'fine.svg');
    writeFileSync(plot, 'x'.repeat(100_000));
    const result = await run(['score', '--logits', lp, '--labels', yp, '--plot', plot]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const svg = readFileSync(plot, 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg.endsWith('</svg>\n')).toBe(true);
  });
});

describe('6. --top-k is bounded and checked in linear time', () => {
  it(`refuses more than ${MAX_TOP_K} values, at once even for a huge list`, async () => {
    const many = Array.from({ length: MAX_TOP_K + 1 }, (_, i) => i + 1).join(',');
    expectCleanFailure(await run(['score', '--logits', lp, '--labels', yp, '--top-k', many]), 2,
      `--top-k needs at most ${MAX_TOP_K} values, got "1,2,3,`);
    const huge = Array.from({ length: 20_000 }, (_, i) => i + 1).join(',');
    const started = performance.now();
    const result = await run(['score', '--logits', lp, '--labels', yp, '--top-k', huge]);
    expectCleanFailure(result, 2, `at most ${MAX_TOP_K} values`);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it(`accepts ${MAX_TOP_K} distinct values, and still refuses repeats`, async () => {
    const ks = Array.from({ length: MAX_TOP_K }, (_, i) => i + 1);
    // Each k must be below the number of classes.
    const wide = join(dir, 'wide.npy');
    writeNpy(wide, '<f4', [N, MAX_TOP_K + 1], Array.from({ length: N * (MAX_TOP_K + 1) }, (_, i) => Math.sin(i)));
    const result = await run(['score', '--json', '--logits', wide, '--labels', yp, '--top-k', ks.join(',')]);
    expect(result.code).toBe(0);
    expect(Object.keys(JSON.parse(result.out).topK)).toHaveLength(MAX_TOP_K);
    expectCleanFailure(await run(['score', '--logits', lp, '--labels', yp, '--top-k', '1,2,1']), 2, '--top-k needs distinct values');
  });
});
