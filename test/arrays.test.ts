// The readers of xentropy/eval (src/arrays/bytes.ts: a Uint8Array, an ArrayBuffer or a Blob) against the
// command line's file readers (src/cli/arrays.ts) on the same files: the same type, shape, label and
// bytes for .npy, .npz (stored, deflated through DecompressionStream, ZIP64) and .safetensors; the same
// errors for malformed files; listArrays and readArray; scoreArrays, scoreJson and scoreReportHtml
// against `xentropy score --json` and `--report`; and bad arguments (TypeError / RangeError naming them).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { listArrays, openArray, readArray } from '../src/arrays/bytes.js';
import { crc32, type ArrayReader } from '../src/arrays/reader.js';
import { openArray as openFile } from '../src/cli/arrays.js';
import { main } from '../src/cli/cli.js';
import { encodeNpy } from '../src/cli/npy.js';
import { scoreArrays, scoreJson, scoreReportHtml } from '../src/eval/score.js';
import { MAX_CONFUSION_CLASSES } from '../src/index.js';
import { init } from '../src/index.js';
import { bytesOf, concat, safetensors, zip } from './array-files.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xentropy-bytes-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(bytes: Uint8Array, name: string): string {
  const path = join(dir, `${counter++}-${name}`);
  writeFileSync(path, bytes);
  return path;
}

/** Seeded values: floats that float16 and bfloat16 hold exactly, and labels in [0, c). */
function data(n: number, c: number, seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const logits = Array.from({ length: n * c }, () => Math.round((next() * 8 - 4) * 16) / 16);
  const labels = Array.from({ length: n }, () => Math.floor(next() * c));
  return { logits, labels };
}

/** Everything a reader hands out: its fields and all its bytes (read in chunks of `chunk` elements). */
async function drain(reader: ArrayReader, chunk = 7) {
  const total = reader.shape.reduce((a, b) => a * b, 1);
  const parts: Uint8Array[] = [];
  for (let done = 0; done < total; done += chunk) parts.push((await reader.read(Math.min(chunk, total - done))).slice());
  await reader.finish();
  reader.close();
  return { label: reader.label, format: reader.format, type: reader.type, shape: reader.shape, bytes: concat(parts) };
}

/** The same array through the file reader and each bytes source (Uint8Array, ArrayBuffer, Blob). */
async function bothWays(bytes: Uint8Array, name: string, member?: string) {
  const path = file(bytes, name);
  const fromFile = await drain(await openFile({ path, name: member }, () => { throw new Error('no stdin'); }));
  const options = { label: path, ...(member === undefined ? {} : { name: member }) };
  const fromBytes = await Promise.all([
    openArray(bytes, options), openArray(bytes.slice().buffer, options), openArray(new Blob([bytes as Uint8Array<ArrayBuffer>]), options),
  ].map(async (r) => drain(await r)));
  return { fromFile, fromBytes };
}

describe('openArray from bytes, an ArrayBuffer or a Blob', () => {
  const { logits, labels } = data(23, 5, 7);
  const npyLogits = encodeNpy('<f4', [23, 5], logits);
  const npyHalf = encodeNpy('<f2', [23, 5], logits);
  const npyLabels = encodeNpy('<i8', [23], labels);

  it.each([
    ['a float32 .npy', npyLogits, 'logits.npy', undefined],
    ['a float16 .npy', npyHalf, 'half.npy', undefined],
    ['an int64 .npy', npyLabels, 'labels.npy', undefined],
    ['a stored .npz member', zip([{ name: 'logits.npy', data: npyLogits }, { name: 'labels.npy', data: npyLabels }]), 'a.npz', 'logits'],
    ['a deflated .npz member (DecompressionStream)', zip([{ name: 'logits.npy', data: npyLogits, method: 8 }, { name: 'labels.npy', data: npyLabels, method: 8 }]), 'b.npz', 'labels'],
    ['a deflated float16 member', zip([{ name: 'half.npy', data: npyHalf, method: 8 }]), 'c.npz', undefined],
    ['a ZIP64 .npz member', zip([{ name: 'x.npy', data: npyLogits, method: 8 }, { name: 'y.npy', data: npyLabels }], { zip64: true, comment: 'hi' }), 'd.npz', 'x'],
    ['a BF16 tensor', safetensors({ w: { dtype: 'BF16', shape: [23, 5], data: bytesOf('BF16', logits) }, y: { dtype: 'U8', shape: [23], data: bytesOf('U8', labels) } }), 'e.safetensors', 'w'],
    ['a BOOL tensor', safetensors({ m: { dtype: 'BOOL', shape: [23], data: bytesOf('BOOL', labels.map((y) => y % 2)) } }, { format: 'pt' }), 'f.safetensors', undefined],
  ])('reads %s as the file reader does', async (_what, bytes, name, member) => {
    const { fromFile, fromBytes } = await bothWays(bytes, name, member);
    for (const got of fromBytes) expect(got).toEqual(fromFile);
    expect(fromFile.bytes.length).toBeGreaterThan(0);
  });

  it('names a Blob that is a File by its name, and bytes as <bytes>', async () => {
    const f = new File([npyLogits as Uint8Array<ArrayBuffer>], 'my logits.npy');
    expect((await openArray(f)).label).toBe('my logits.npy');
    expect((await openArray(npyLogits)).label).toBe('<bytes>');
    expect((await openArray(f, { label: 'x' })).label).toBe('x');
  });

  it('reads a Blob a slice at a time', async () => {
    const blob = new Blob([npyLogits as Uint8Array<ArrayBuffer>]);
    const sizes: number[] = [];
    const slice = blob.slice.bind(blob);
    blob.slice = (start?: number, end?: number) => {
      sizes.push((end ?? blob.size) - (start ?? 0));
      return slice(start, end);
    };
    const reader = await openArray(blob);
    await reader.read(5);
    await reader.read(5);
    expect(Math.max(...sizes)).toBeLessThan(npyLogits.length);
    expect(sizes.at(-1)).toBe(20);
  });

  it('gives the file reader\'s errors for malformed files', async () => {
    const text = new TextEncoder().encode('a,b\n1,2\n');
    const cases: [Uint8Array, string, string?][] = [
      [text, 'bad.npy'],
      [text, 'bad.npz'],
      [text, 'bad.safetensors'],
      [new Uint8Array(0), 'empty.npy'],
      [npyLogits.subarray(0, 100), 'cut.npy'],
      [zip([{ name: 'a.npy', data: npyLogits }, { name: 'b.npy', data: npyLabels }]), 'two.npz'],
      [zip([{ name: 'a.npy', data: npyLogits }]), 'one.npz', 'nope'],
      [npyLogits, 'named.npy', 'x'],
      [safetensors({ a: { dtype: 'C64', shape: [1], data: new Uint8Array(8) } }), 'c64.safetensors'],
    ];
    for (const [bytes, name, member] of cases) {
      const path = file(bytes, name);
      const fileError = await openFile({ path, name: member }, () => { throw new Error('no stdin'); }).then(() => undefined, (e: Error) => e);
      const bytesError = await openArray(bytes, { label: path, name: member }).then(() => undefined, (e: Error) => e);
      expect(fileError, name).toBeInstanceOf(Error);
      expect(bytesError?.name, name).toBe(fileError?.name);
      expect(bytesError?.message, name).toBe(fileError?.message);
    }
  });

  it('checks a deflated member\'s size and CRC-32 at the end, as the file reader does', async () => {
    const good = zip([{ name: 'a.npy', data: npyLogits, method: 8 }]);
    // The CRC-32 field of the central directory entry: 16 bytes into it.
    const central = good.length - 22 - (46 + 'a.npy'.length);
    const damaged = good.slice();
    damaged[central + 16] ^= 0xff;
    const path = file(damaged, 'crc.npz');
    for (const reader of [await openArray(damaged, { label: path }), await openFile({ path }, () => { throw new Error('no stdin'); })]) {
      await reader.read(reader.shape[0] * reader.shape[1]);
      await expect(reader.finish()).rejects.toThrow(`${path}:a: CRC-32 mismatch: the member is damaged`);
      reader.close();
    }
    // Garbage in place of the deflate data.
    const garbage = good.slice();
    garbage.fill(0xff, 30 + 'a.npy'.length, 30 + 'a.npy'.length + 40);
    await expect(openArray(garbage, { label: 'g.npz' }).then((r) => drain(r, 1000))).rejects.toThrow(/^g\.npz:a: damaged deflate data: /);
  });

  it('computes CRC-32 as zlib does', () => {
    const bytes = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) & 255);
    expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    expect(crc32(bytes.subarray(1000), crc32(bytes.subarray(0, 1000)))).toBe(zlibCrc32(bytes));
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('refuses what is not a source, and options of the wrong type, naming them', async () => {
    for (const bad of [42, 'logits.npy', null, undefined, [1, 2], new Float32Array(4), new DataView(new ArrayBuffer(4))]) {
      await expect(openArray(bad as never)).rejects.toThrow(TypeError);
      await expect(openArray(bad as never)).rejects.toThrow(/^source must be a Uint8Array, an ArrayBuffer or a Blob \(a File\), got /);
      await expect(listArrays(bad as never)).rejects.toThrow(TypeError);
    }
    await expect(openArray(new Uint8Array(4), { name: 3 as never })).rejects.toThrow('options.name must be a string, got 3');
    await expect(openArray(new Uint8Array(4), { label: {} as never })).rejects.toThrow('options.label must be a string, got an object');
    await expect(openArray(new Uint8Array(4), null as never)).rejects.toThrow('options must be an object, got null');
    await expect(readArray(new Uint8Array(4), 'x' as never)).rejects.toThrow(TypeError);
  });
});

describe('listArrays and readArray', () => {
  const { logits, labels } = data(6, 4, 3);
  const npyLogits = encodeNpy('<f4', [6, 4], logits);
  const npyLabels = encodeNpy('<i8', [6], labels);

  it('lists the arrays of each format, with a member that cannot be read marked rather than failing the list', async () => {
    expect(await listArrays(npyLogits)).toEqual([{ format: 'npy', type: 'float32', shape: [6, 4] }]);
    const header = "\x93NUMPY\x01\x00v\x00{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }".padEnd(127, ' ') + '\n';
    const complex = Uint8Array.from(header, (ch) => ch.charCodeAt(0));
    const npz = zip([{ name: 'logits.npy', data: npyLogits, method: 8 }, { name: 'labels.npy', data: npyLabels }, { name: 'z.npy', data: concat([complex, new Uint8Array(16)]) }]);
    const listed = await listArrays(new Blob([npz as Uint8Array<ArrayBuffer>]), { label: 'x.npz' });
    expect(listed.slice(0, 2)).toEqual([
      { name: 'logits', format: 'npz', type: 'float32', shape: [6, 4] },
      { name: 'labels', format: 'npz', type: 'int64', shape: [6] },
    ]);
    expect(listed[2]).toEqual({ name: 'z', format: 'npz', error: expect.stringMatching(/^x\.npz:z: unsupported dtype '<c8'/) });
    const st = safetensors({ a: { dtype: 'F16', shape: [2, 2], data: bytesOf('F16', [1, 2, 3, 4]) }, b: { dtype: 'I32', shape: [3], data: bytesOf('I32', [1, 2, 3]) } }, { k: 'v' });
    expect(await listArrays(st)).toEqual([
      { name: 'a', format: 'safetensors', type: 'float16', shape: [2, 2] },
      { name: 'b', format: 'safetensors', type: 'int32', shape: [3] },
    ]);
    await expect(listArrays(new TextEncoder().encode('hello'), { label: 'h.npy' })).rejects.toThrow(/^h\.npy: not a \.npy file/);
  });

  it('reads a whole array into a typed array of its own type, without converting it', async () => {
    const f = await readArray(npyLogits);
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f.data as Float32Array)).toEqual(logits);
    const y = await readArray(npyLabels);
    expect(y.type).toBe('int64');
    expect(y.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(y.data as BigInt64Array, Number)).toEqual(labels);
    const st = safetensors({ h: { dtype: 'F16', shape: [4], data: bytesOf('F16', [1, -2, 0.5, 0]) }, u: { dtype: 'U64', shape: [1], data: bytesOf('U64', [2n ** 63n]) } });
    const h = await readArray(st, { name: 'h' });
    expect(h).toEqual({ label: '<bytes>:h', type: 'float16', shape: [4], data: new Uint16Array([0x3c00, 0xc000, 0x3800, 0]) });
    expect((await readArray(st, { name: 'u' })).data).toEqual(new BigUint64Array([2n ** 63n]));
    const deflated = zip([{ name: 'logits.npy', data: npyLogits, method: 8 }]);
    expect(Array.from((await readArray(deflated)).data as Float32Array)).toEqual(logits);
  });
});

describe('scoreArrays', () => {
  /** `xentropy score --json ARGS --report FILE`: the printed JSON and the report. */
  async function cli(args: string[]) {
    const report = join(dir, `report-${counter++}.html`);
    let out = '';
    let err = '';
    const code = await main(['score', '--json', ...args, '--report', report], { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
    expect(err).toBe('');
    expect(code).toBe(0);
    return { json: JSON.parse(out), html: readFileSync(report, 'utf8') };
  }

  it('gives the numbers and the report of xentropy score for a classifier (a deflated .npz), in chunks', async () => {
    const { logits, labels } = data(300, 9, 11);
    const path = file(zip([{ name: 'logits.npy', data: encodeNpy('<f4', [300, 9], logits), method: 8 }, { name: 'labels.npy', data: encodeNpy('<i8', [300], labels) }]), 'cls.npz');
    const want = await cli(['--logits', `${path}:logits`, '--labels', `${path}:labels`, '--top-k', '1,3', '--bins', '10']);
    const blob = new Blob([readFileSync(path)]);
    const xe = await init({ build: 'simd' }); // the build xentropy score runs (src/cli/cli.ts), for the same bits
    const inputs = { logits: await openArray(blob, { label: path, name: 'logits' }), labels: await openArray(blob, { label: path, name: 'labels' }) };
    const progress: number[] = [];
    const report = await scoreArrays(xe, inputs, { topK: [1, 3], bins: 10, confusion: true, onProgress: (done, total) => { progress.push(done / total); } });
    expect(JSON.parse(JSON.stringify(scoreJson(report)))).toEqual(want.json);
    expect(scoreReportHtml(report)).toBe(want.html);
    expect(report.chunks).toBe(1);
    expect(progress).toEqual([1]);
    // Chunks of 64 rows: the progress of each, and the same counts (sums may differ in the last bits).
    const chunked = await scoreArrays(xe, { logits: await openArray(blob, { name: 'logits' }), labels: await openArray(blob, { name: 'labels' }) }, { chunkRows: 64, onProgress: async (done) => { progress.push(done); } });
    expect(chunked.chunks).toBe(5);
    expect(progress.slice(1)).toEqual([64, 128, 192, 256, 300]);
    expect(chunked.correct).toBe(report.correct);
    expect(Math.abs(chunked.lossNats - report.lossNats)).toBeLessThan(1e-12);
  });

  it('gives the numbers and the report of xentropy score --shift --mask --per-sequence for a language model (.safetensors)', async () => {
    const path = join(import.meta.dirname, '..', 'data', 'sample-lm.safetensors');
    const want = await cli(['--logits', `${path}:logits`, '--labels', `${path}:input_ids`, '--mask', `${path}:attention_mask`, '--shift', '--per-sequence']);
    const bytes = new Uint8Array(readFileSync(path));
    const open = (name: string) => openArray(bytes, { label: path, name });
    const report = await scoreArrays(await init({ build: 'simd' }), { logits: await open('logits'), labels: await open('input_ids'), mask: await open('attention_mask') }, { shift: true, perSequence: true, confusion: true });
    expect(JSON.parse(JSON.stringify(scoreJson(report)))).toEqual(want.json);
    expect(scoreReportHtml(report)).toBe(want.html);
    expect(report).toMatchObject({ logitsDtype: 'float16', labelsDtype: 'int64', maskDtype: 'int64', shifted: true, sequences: 4, sequenceLength: 16 });
  });

  it('keeps the confusion counts up to the scorer\'s MAX_CONFUSION_CLASSES classes, and leaves them out above', async () => {
    const xe = await init();
    for (const C of [MAX_CONFUSION_CLASSES, MAX_CONFUSION_CLASSES + 1]) {
      const z = openArray(encodeNpy('<f4', [2, C], new Float32Array(2 * C)), { label: 'z.npy' });
      const y = openArray(encodeNpy('<i4', [2], [0, C - 1]), { label: 'y.npy' });
      const report = await scoreArrays(xe, { logits: await z, labels: await y }, { confusion: true });
      expect(report.classMetrics.confusion?.length, `C = ${C}`).toBe(C <= MAX_CONFUSION_CLASSES ? C * C : undefined);
    }
  });

  it('refuses arrays and options that do not fit, naming them', async () => {
    const xe = await init();
    const { logits, labels } = data(4, 3, 5);
    const z = () => openArray(encodeNpy('<f4', [4, 3], logits), { label: 'z.npy' });
    const y = () => openArray(encodeNpy('<i4', [4], labels), { label: 'y.npy' });
    await expect(scoreArrays(null as never, { logits: await z(), labels: await y() })).rejects.toThrow(/^xe must be an initialised instance \(await init\(\)\), got null$/);
    await expect(scoreArrays(xe, { logits: await z() } as never)).rejects.toThrow('inputs.labels must be an opened array (openArray), got undefined');
    await expect(scoreArrays(xe, { logits: await z(), labels: await y() }, { chunkRows: 0 })).rejects.toThrow(new RangeError('options.chunkRows must be a positive integer, got 0'));
    await expect(scoreArrays(xe, { logits: await z(), labels: await y() }, { topK: [3] })).rejects.toThrow(RangeError);
    await expect(scoreArrays(xe, { logits: await z(), labels: await y() }, { shift: true })).rejects.toThrow(new TypeError('options.shift needs logits of shape [B, T, V]; logits z.npy has shape [4, 3]'));
    await expect(scoreArrays(xe, { logits: await y(), labels: await y() })).rejects.toThrow(new TypeError('logits y.npy has dtype int32; expected float32, float64, float16 or bfloat16'));
    await expect(scoreArrays(xe, { logits: await z(), labels: await z() })).rejects.toThrow(TypeError);
    const short = await openArray(encodeNpy('<i4', [3], [0, 1, 2]), { label: 's.npy' });
    await expect(scoreArrays(xe, { logits: await z(), labels: short })).rejects.toThrow(/^shape mismatch: labels s\.npy has shape \[3\]/);
    const bad = await openArray(encodeNpy('<i4', [4], [0, 1, 7, 2]), { label: 'b.npy' });
    await expect(scoreArrays(xe, { logits: await z(), labels: bad })).rejects.toThrow(new RangeError('labels b.npy: label 7 at index 2 is not a class in [0, 3)'));
    await expect(scoreArrays(xe, { logits: await z(), labels: await y() }, { bins: 0 })).rejects.toThrow(/bins/);
  });

  it('refuses the arrays xentropy score refuses, with its message worded for arrays and options', async () => {
    // One check for both (src/eval/score.ts, checkArrayShape and readArrayLabels): each case's message
    // from the command line, with its files and flags named as scoreArrays names arrays and options.
    const xe = await init();
    const f4 = (shape: number[], values: number[]) => encodeNpy('<f4', shape, values);
    const i4 = (shape: number[], values: number[]) => encodeNpy('<i4', shape, values);
    const zeros = (n: number) => new Array<number>(n).fill(0);
    const cases: { what: string; logits: Uint8Array; labels: Uint8Array; mask?: Uint8Array; flags?: string[]; options?: Record<string, unknown>; error: string }[] = [
      { what: 'integer logits', logits: i4([2, 3], zeros(6)), labels: i4([2], [0, 1]), error: 'TypeError' },
      { what: '4-D logits', logits: f4([1, 1, 2, 3], zeros(6)), labels: i4([1, 1, 2], zeros(2)), error: 'TypeError' },
      { what: 'a mask with [N, C]', logits: f4([2, 3], zeros(6)), labels: i4([2], [0, 1]), mask: i4([2], [1, 1]), error: 'TypeError' },
      { what: 'per-sequence with [N, C]', logits: f4([2, 3], zeros(6)), labels: i4([2], [0, 1]), flags: ['--per-sequence', '--json'], options: { perSequence: true }, error: 'TypeError' },
      { what: 'no classes', logits: f4([2, 0], []), labels: i4([2], [0, 0]), error: 'RangeError' },
      // Each says its own way out (the command line scores [N] or [N, 1] logits as a binary model): the text before it is compared.
      { what: 'one class', logits: f4([1, 2, 1], [0, 0]), labels: i4([1, 2], [0, 0]), error: 'RangeError' },
      { what: 'a top-k of every class', logits: f4([2, 3], zeros(6)), labels: i4([2], [0, 1]), flags: ['--top-k', '1,3'], options: { topK: [1, 3] }, error: 'RangeError' },
      { what: 'no rows', logits: f4([0, 3], []), labels: i4([0], []), error: 'RangeError' },
      { what: 'float labels', logits: f4([2, 3], zeros(6)), labels: f4([2], [0, 1]), error: 'TypeError' },
      { what: 'a float mask', logits: f4([1, 2, 3], zeros(6)), labels: i4([1, 2], [0, 1]), mask: f4([1, 2], [1, 1]), error: 'TypeError' },
      { what: 'labels of another shape', logits: f4([2, 3], zeros(6)), labels: i4([3], [0, 1, 2]), error: 'RangeError' },
      { what: 'a label that is not a class', logits: f4([2, 3], zeros(6)), labels: i4([2], [0, 3]), error: 'RangeError' },
      { what: 'a negative label, ignored elsewhere', logits: f4([2, 3], zeros(6)), labels: i4([2], [-1, 1]), flags: ['--ignore-index', '-2'], options: { ignoreIndex: -2 }, error: 'RangeError' },
    ];
    const toArrays = (message: string) => message
      .replace(/\b(logits|labels|mask) file /g, '$1 ')
      .replace('--per-sequence', 'options.perSequence').replace('--top-k', 'options.topK').replace('--mask', 'inputs.mask');
    for (const c of cases) {
      const names = { logits: file(c.logits, 'z.npy'), labels: file(c.labels, 'y.npy'), mask: c.mask ? file(c.mask, 'm.npy') : undefined };
      let err = '';
      const argv = ['score', '--logits', names.logits, '--labels', names.labels, ...(names.mask ? ['--mask', names.mask] : []), ...(c.flags ?? [])];
      const code = await main(argv, { stdout: () => undefined, stderr: (t) => { err += t; } });
      expect(code, c.what).toBe(2);
      const cliMessage = /^xentropy: (.*)$/m.exec(err)?.[1];
      expect(cliMessage, `${c.what}: ${err}`).toBeDefined();
      const inputs = {
        logits: await openArray(c.logits, { label: names.logits }), labels: await openArray(c.labels, { label: names.labels }),
        ...(c.mask ? { mask: await openArray(c.mask, { label: names.mask }) } : {}),
      };
      const thrown = await scoreArrays(xe, inputs, c.options).then(() => null, (e: unknown) => e as Error);
      expect(thrown?.name, c.what).toBe(c.error);
      const ownWayOut = c.what === 'one class' ? (m: string) => m.split('; ')[0] : (m: string) => m;
      expect(ownWayOut(thrown?.message ?? ''), c.what).toBe(ownWayOut(toArrays(cliMessage!)));
    }
  });
});
