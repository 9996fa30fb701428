// `xentropy score` on damaged and crafted .npz, .safetensors and standard-input arrays (issue 25): every
// truncation and every corrupted byte of small files, sizes and offsets that point outside the file,
// members that inflate to more than they claim, unsupported zip features. Each must end in one line on
// stderr naming the file, the documented exit status 2, and nothing on stdout: never a stack trace, an
// internal error, a hang, or an allocation sized by a crafted header.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main, type CliIO } from '../src/cli/cli.js';
import { encodeNpy } from '../src/cli/npy.js';
import { bytesOf, safetensors, zip } from './array-files.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xentropy-arrays-hostile-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function file(bytes: Uint8Array, name: string): string {
  const path = join(dir, `${counter++}-${name}`);
  writeFileSync(path, bytes);
  return path;
}

async function run(argv: string[], extra: Omit<CliIO, 'stdout' | 'stderr'> = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, { ...extra, stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

/** One line on stderr starting with 'xentropy: ' and containing each fragment, exit 2, no stdout. */
function expectCleanFailure(result: { code: number; out: string; err: string }, ...fragments: string[]): void {
  expect(result.err).not.toContain('internal error');
  expect(result.err).toMatch(/^xentropy: [^\n]*\n$/);
  expect(result.out).toBe('');
  expect(result.code).toBe(2);
  for (const f of fragments) expect(result.err).toContain(f);
}

/** Descriptors open in this process (Linux). */
function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

const B = 2, T = 3, V = 4;
const LOGITS = Float32Array.from({ length: B * T * V }, (_, i) => Math.sin(i));
const IDS = [1, 3, 0, 2, 2, 1];
let labels: string;
beforeAll(() => {
  labels = file(encodeNpy('<i4', [B, T], IDS), 'ids.npy');
});

const archives = () => ({
  'stored .npz': zip([{ name: 'logits.npy', data: encodeNpy('<f4', [B, T, V], LOGITS) }]),
  'deflated .npz': zip([{ name: 'logits.npy', data: encodeNpy('<f4', [B, T, V], LOGITS), method: 8 }]),
  'ZIP64 .npz': zip([{ name: 'logits.npy', data: encodeNpy('<f4', [B, T, V], LOGITS), method: 8 }], { zip64: true }),
  '.safetensors': safetensors({ logits: { dtype: 'F32', shape: [B, T, V], data: bytesOf('F32', LOGITS) } }, { format: 'pt' }),
});

describe('1. every truncation and every corrupted byte ends cleanly', () => {
  for (const [kind, bytes] of Object.entries(archives())) {
    it(`${kind}: each of its ${bytes.length} truncations is exit 2 with one line naming the file`, async () => {
      const ok = await run(['score', '--logits', file(bytes, 'whole'), '--labels', labels]);
      expect(ok.code).toBe(0);
      const descriptors = openDescriptors();
      for (let length = 0; length < bytes.length; length++) {
        const path = file(bytes.subarray(0, length), 'cut');
        expectCleanFailure(await run(['score', '--logits', path, '--labels', labels]), path);
      }
      // Every file opened was closed, once (a second close could hit a descriptor reused meanwhile).
      expect(openDescriptors()).toBe(descriptors);
    });

    it(`${kind}: each corrupted byte scores or is exit 2, never an internal error`, async () => {
      const statuses = new Set<number>();
      for (let at = 0; at < bytes.length; at++) {
        const damaged = Uint8Array.from(bytes);
        damaged[at] ^= 0xa5;
        const r = await run(['score', '--logits', file(damaged, 'flip'), '--labels', labels, '--json']);
        statuses.add(r.code);
        if (r.code !== 0) expectCleanFailure(r);
        else expect(JSON.parse(r.out).n).toBe(B * T);
      }
      // Both outcomes occur: data bytes still score, structure bytes are refused.
      expect([...statuses].sort()).toEqual([0, 2]);
    }, 120_000);
  }
});

describe('2. crafted .npz archives', () => {
  const member = encodeNpy('<f4', [B, T, V], LOGITS);

  it('a member that inflates to more than its recorded size is cut off there (no zip bomb)', async () => {
    const big = encodeNpy('<f4', [B, T, V], LOGITS);
    const bytes = zip([{ name: 'logits.npy', data: big, method: 8 }]);
    // Rewrite the recorded uncompressed size (central directory) to 100 bytes.
    const central = Buffer.from(bytes).lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    new DataView(bytes.buffer).setUint32(central + 24, 100, true);
    const path = file(bytes, 'bomb.npz');
    expectCleanFailure(await run(['score', '--logits', path, '--labels', labels]), `${path}:logits: `);
  });

  it('a header that claims more data than the member holds is refused before its data is read', async () => {
    const claim = encodeNpy('<f4', [B, T, V], LOGITS);
    const text = Buffer.from(claim).toString('latin1').replace('(2, 3, 4)', '(2, 3, 9)');
    const path = file(zip([{ name: 'logits.npy', data: new Uint8Array(Buffer.from(text, 'latin1')), method: 8 }]), 'claim.npz');
    const r = await run(['score', '--logits', path, '--labels', labels]);
    expectCleanFailure(r, `${path}:logits: truncated file: shape [2, 3, 9] of float32 needs 216 data bytes`);
  });

  it('a central directory or member that lies beyond the end of the file', async () => {
    const bytes = zip([{ name: 'logits.npy', data: member }]);
    const view = new DataView(bytes.buffer);
    const end = bytes.length - 22;
    const farDirectory = Uint8Array.from(bytes);
    new DataView(farDirectory.buffer).setUint32(end + 16, 0x7fffffff, true);
    let path = file(farDirectory, 'far.npz');
    expectCleanFailure(await run(['score', '--logits', path, '--labels', labels]), `${path}: not a readable .npz (zip) file: the central directory`);
    const central = view.getUint32(end + 16, true);
    const farMember = Uint8Array.from(bytes);
    new DataView(farMember.buffer).setUint32(central + 20, 0x7fffffff, true);
    new DataView(farMember.buffer).setUint32(central + 24, 0x7fffffff, true);
    path = file(farMember, 'far-member.npz');
    expectCleanFailure(await run(['score', '--logits', path, '--labels', labels]), `${path}:logits: truncated archive`);
  });

  it('ZIP64 sizes beyond 2^53 are refused, not rounded', async () => {
    const bytes = zip([{ name: 'logits.npy', data: member }], { zip64: true });
    // The ZIP64 end record's directory offset (its field at +48).
    const record = Buffer.from(bytes).lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]));
    new DataView(bytes.buffer).setBigUint64(record + 48, 2n ** 60n, true);
    const path = file(bytes, 'zip64.npz');
    expectCleanFailure(await run(['score', '--logits', path, '--labels', labels]), 'a size or offset of 1152921504606846976 bytes');
  });

  it('encrypted members, other compression methods, multi-disk archives', async () => {
    const cases: [string, (v: DataView, central: number, end: number) => void, string][] = [
      ['encrypted', (v, c) => v.setUint16(c + 8, 1, true), 'the member is encrypted'],
      ['bzip2', (v, c) => v.setUint16(c + 10, 12, true), 'compression method 12 is not supported (only stored and deflated members)'],
      ['multi-disk', (v, _c, e) => v.setUint16(e + 4, 1, true), 'multi-disk archives are not supported'],
    ];
    for (const [name, damage, message] of cases) {
      const bytes = zip([{ name: 'logits.npy', data: member }]);
      const v = new DataView(bytes.buffer);
      const end = bytes.length - 22;
      damage(v, v.getUint32(end + 16, true), end);
      const path = file(bytes, `${name}.npz`);
      expectCleanFailure(await run(['score', '--logits', path, '--labels', labels]), message);
    }
  });

  it('a CRC-32 mismatch in the logits or the labels, and data that are not deflate', async () => {
    /** The archive with the CRC of central directory entry `k` flipped. */
    const withBadCrc = (members: Parameters<typeof zip>[0], k: number) => {
      const bytes = zip(members);
      const v = new DataView(bytes.buffer);
      let at = v.getUint32(bytes.length - 22 + 16, true);
      for (let i = 0; i < k; i++) at += 46 + v.getUint16(at + 28, true) + v.getUint16(at + 30, true);
      v.setUint32(at + 16, v.getUint32(at + 16, true) ^ 1, true);
      return bytes;
    };
    const members = [
      { name: 'logits.npy', data: member, method: 8 as const },
      { name: 'ids.npy', data: encodeNpy('<i4', [B, T], IDS), method: 8 as const },
    ];
    for (const [k, name] of [[0, 'logits'], [1, 'ids']] as const) {
      const path = file(withBadCrc(members, k), 'crc.npz');
      expectCleanFailure(await run(['score', '--logits', `${path}:logits`, '--labels', `${path}:ids`]), `${path}:${name}: CRC-32 mismatch`);
    }
    // A stored member relabelled as deflated: its bytes are not deflate data.
    const stored = zip([{ name: 'logits.npy', data: member }]);
    const v = new DataView(stored.buffer);
    v.setUint16(v.getUint32(stored.length - 22 + 16, true) + 10, 8, true);
    const path = file(stored, 'not-deflate.npz');
    expectCleanFailure(await run(['score', '--logits', path, '--labels', labels]), `${path}:logits: `);
  });

  it('an archive whose only member is not a .npy, and an empty archive', async () => {
    const text = file(zip([{ name: 'readme.txt', data: new TextEncoder().encode('hello') }]), 'text.npz');
    expectCleanFailure(await run(['score', '--logits', text, '--labels', labels]), `${text}:readme.txt: not a .npy file`);
    const empty = file(zip([]), 'empty.npz');
    expectCleanFailure(await run(['score', '--logits', empty, '--labels', labels]), `${empty}: the archive holds no arrays`);
  });
});

describe('3. crafted .safetensors files', () => {
  const tensor = { dtype: 'F32', shape: [B, T, V], data: bytesOf('F32', LOGITS) };
  const header = (entry: unknown) => safetensors({ logits: tensor }, undefined, JSON.stringify({ logits: entry }));

  it('header lengths beyond the file or the format\'s limit, and headers that are not JSON objects', async () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    const cases: [Uint8Array, string][] = [
      [huge, 'not a .npy, .npz or .safetensors file'],
      [safetensors({ logits: tensor }).subarray(0, 40), 'truncated .safetensors file'],
      [safetensors({}, undefined, '{"logits": '), 'malformed .safetensors header'],
      [safetensors({}, undefined, '[1, 2]'), 'malformed .safetensors header: not a JSON object'],
      [safetensors({}, undefined, '{}'), 'the file holds no tensors'],
      [new Uint8Array([1, 2, 3]), 'not a .npy, .npz or .safetensors file: only 3 bytes'],
    ];
    for (const [bytes, message] of cases) {
      const path = file(bytes, 'bad.safetensors');
      expectCleanFailure(await run(['score', '--logits', path, '--labels', labels]), `${path}: ${message}`);
    }
  });

  it('entries with wrong types, shapes and offsets, each named', async () => {
    const cases: [unknown, string][] = [
      [[1], 'malformed .safetensors entry: not an object'],
      [{ ...tensorEntry(), dtype: 7 }, 'dtype "7" is not a string'],
      [{ ...tensorEntry(), dtype: 'F8_E4M3' }, 'unsupported dtype "F8_E4M3"'],
      [{ ...tensorEntry(), dtype: 'toString' }, 'unsupported dtype "toString"'],
      [{ ...tensorEntry(), shape: [2, -3, 4] }, 'shape must be a list of non-negative integers'],
      [{ ...tensorEntry(), shape: 'big' }, 'shape must be a list of non-negative integers'],
      [{ ...tensorEntry(), data_offsets: [8, 4] }, 'data_offsets must be [begin, end] with 0 <= begin <= end'],
      [{ ...tensorEntry(), data_offsets: [0, 95] }, 'shape [2, 3, 4] of F32 needs 96 bytes, data_offsets [0, 95] hold 95'],
      [{ ...tensorEntry(), shape: [2 ** 40, 2 ** 40], data_offsets: [0, 96] }, 'needs 4835703278458516698824704 bytes'],
      [{ ...tensorEntry(), data_offsets: [96, 192] }, 'truncated file: the tensor\'s bytes'],
    ];
    for (const [entry, message] of cases) {
      const path = file(header(entry), 'entry.safetensors');
      const r = await run(['score', '--logits', path, '--labels', labels]);
      expectCleanFailure(r, message);
      expect(r.err).toContain(`${path}:logits: `);
    }
  });

  it('control characters in tensor names and dtypes are escaped in messages', async () => {
    const path = file(safetensors({ 'a\x1b[31m': tensor, b: tensor }), 'names.safetensors');
    const r = await run(['score', '--logits', `${path}:c`, '--labels', labels]);
    expectCleanFailure(r, '"a\\x1b[31m"');
  });
});

function tensorEntry() {
  return { dtype: 'F32', shape: [B, T, V], data_offsets: [0, B * T * V * 4] };
}

describe('4. standard input', () => {
  const stream = (...pieces: Uint8Array[]) => Readable.from(pieces.map((p) => Buffer.from(p)));
  const whole = encodeNpy('<f4', [B, T, V], LOGITS);

  it('an empty stream, a stream that is not .npy, a stream cut in its header or its data', async () => {
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(0), '<standard input>: not a .npy file'],
      [new TextEncoder().encode('PK\x03\x04 a zip file'), '<standard input>: not a .npy file'],
      [whole.subarray(0, 7), '<standard input>: truncated header'],
      [whole.subarray(0, 40), '<standard input>: truncated data'],
      [whole.subarray(0, whole.length - 1), '<standard input>: truncated data: expected 96 bytes at offset 128 of the data stream, it ended after 95'],
    ];
    for (const [bytes, message] of cases) {
      expectCleanFailure(await run(['score', '--logits', '-', '--labels', labels], { stdin: stream(bytes) }), message);
    }
  });

  it('a header length beyond the limit is refused before it is read', async () => {
    const prefix = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0, 0, 0, 0x40]);
    expectCleanFailure(await run(['score', '--logits', '-', '--labels', labels], { stdin: stream(prefix) }), 'exceeds 1048576');
  });

  it('a name after - is refused', async () => {
    expectCleanFailure(await run(['score', '--logits', '-:logits', '--labels', labels], { stdin: stream(whole) }));
  });

  it('a stream that fails midway is reported, not thrown', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.from(whole.subarray(0, 100)));
        this.destroy(new Error('connection reset'));
      },
    });
    const r = await run(['score', '--logits', '-', '--labels', labels], { stdin: failing });
    expect(r.out).toBe('');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/^xentropy: [^\n]*connection reset[^\n]*\n$/);
  });
});
