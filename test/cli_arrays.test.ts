// `xentropy score` on the arrays language models hand over (issue 25, CLI): .npz archives (stored and
// deflated members, ZIP64 records, numpy's own files), .safetensors in each dtype, FILE:NAME, a .npy
// streamed from standard input, [B, T, V] logits with --shift, --mask and --per-sequence (checked
// against the library's own perplexity), --version, and the warning for probabilities given as logits.
// Malformed files are in cli_arrays_hostile.test.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main, scoreNpy, type CliIO } from '../src/cli/cli.js';
import { floatInput, intData, openArray, parseArraySpec } from '../src/cli/arrays.js';
import { encodeNpy, type NpyDtype } from '../src/cli/npy.js';
import { init, reference } from '../src/index.js';
import { bytesOf, safetensors, zip } from './array-files.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'xentropy.js');
const NODE_FLAGS = process.execArgv.filter((flag) => flag.startsWith('--experimental-wasm'));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xentropy-arrays-'));
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
const npy = (dtype: NpyDtype, shape: number[], data: ArrayLike<number>, name = 'a.npy') => file(encodeNpy(dtype, shape, data), name);

/** Runs main in-process, capturing its output. */
async function run(argv: string[], extra: Omit<CliIO, 'stdout' | 'stderr'> = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, { ...extra, stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

async function json(argv: string[], extra: Omit<CliIO, 'stdout' | 'stderr'> = {}) {
  const r = await run([...argv, '--json'], extra);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
}

/** |a - b| <= rel·|b| + abs. */
function expectClose(actual: number, wanted: number, rel: number, abs = 0): void {
  expect(Math.abs(actual - wanted), `${actual} vs ${wanted}`).toBeLessThanOrEqual(rel * Math.abs(wanted) + abs);
}

/** Seeded xorshift32 in [0, 1). */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * A causal LM's outputs: logits [B, T, V] (multiples of 1/8 in [-4, 4), exact in float16 and bfloat16),
 * token ids [B, T], and a right-padded attention mask [B, T] with ragged lengths, one sequence all masked.
 */
function lmData(B: number, T: number, V: number, seed: number) {
  const random = rng(seed);
  const logits = Float32Array.from({ length: B * T * V }, () => Math.floor(random() * 64 - 32) / 8);
  const ids = Int32Array.from({ length: B * T }, () => Math.floor(random() * V));
  const mask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const length = b === 1 ? 0 : b === 0 ? T : 1 + Math.floor(random() * T);
    for (let t = 0; t < length; t++) mask[b * T + t] = 1;
  }
  return { logits, ids, mask };
}

describe('FILE:NAME', () => {
  const has = (...paths: string[]) => (p: string) => paths.includes(p);
  it('takes a path that exists whole, even with colons in it', () => {
    expect(parseArraySpec('a:b.npz', has('a:b.npz'))).toEqual({ path: 'a:b.npz' });
    expect(parseArraySpec('C:\\data\\lm.npz', has('C:\\data\\lm.npz'))).toEqual({ path: 'C:\\data\\lm.npz' });
  });
  it('else splits at the last colon whose prefix exists', () => {
    expect(parseArraySpec('C:\\data\\lm.npz:logits', has('C:\\data\\lm.npz'))).toEqual({ path: 'C:\\data\\lm.npz', name: 'logits' });
    expect(parseArraySpec('a:b.npz:x:y', has('a:b.npz'))).toEqual({ path: 'a:b.npz', name: 'x:y' });
    expect(parseArraySpec('lm.safetensors:model.embed', has('lm.safetensors'))).toEqual({ path: 'lm.safetensors', name: 'model.embed' });
  });
  it("leaves a path that does not exist whole (so the open reports it), and '-' as standard input", () => {
    expect(parseArraySpec('missing.npz:logits', has())).toEqual({ path: 'missing.npz:logits' });
    expect(parseArraySpec('-', has())).toEqual({ path: '-' });
  });
  it('finds a real file whose name has a colon, and a member of it', async () => {
    const { logits, ids } = lmData(2, 3, 4, 1);
    const archive = file(zip([
      { name: 'logits.npy', data: encodeNpy('<f4', [2, 3, 4], logits) },
      { name: 'ids.npy', data: encodeNpy('<i4', [2, 3], ids) },
    ]), 'with:colon.npz');
    const whole = npy('<f4', [2, 3, 4], logits, 'time:12:00.npy');
    const a = await json(['score', '--logits', `${archive}:logits`, '--labels', `${archive}:ids`]);
    const b = await json(['score', '--logits', whole, '--labels', `${archive}:ids`]);
    expect(a).toEqual(b);
    expect(a.sequences).toBe(2);
  });
});

describe('.npz archives', () => {
  // Written by numpy 1.24: np.savez(f, logits=z, input_ids=ids, attention_mask=m) and np.savez_compressed,
  // z = float32 [2, 3, 4], ids = int64 [[1, 3, 0], [2, 2, 1]], m = bool [[1, 1, 1], [1, 1, 0]].
  // numpy writes ZIP64 extra fields in every local header (force_zip64).
  const NUMPY_SAVEZ = 'UEsDBBQAAAAAAAAAIQDXPS0T4AAAAOAAAAAKABQAbG9naXRzLm5weQEAEADgAAAAAAAAAOAAAAAAAAAAk05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMsIDQpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAIC/rkchv7gehb6wR+E9kML1PpqZWT8Urke/gOvRvgDXI73A9ag+NDMzP3gUbr8oXA+/YI9CvgBSOD7QzAw/IIVrP5DCNb+AFK6+AMP1PNDMzD64HkU/8Chcv0Dh+r5QSwMEFAAAAAAAAAAhAGZaqKuwAAAAsAAAAA0AFABpbnB1dF9pZHMubnB5AQAQALAAAAAAAAAAsAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgEAAAAAAAAAAwAAAAAAAAAAAAAAAAAAAAIAAAAAAAAAAgAAAAAAAAABAAAAAAAAAFBLAwQUAAAAAAAAACEAXqkuJIYAAACGAAAAEgAUAGF0dGVudGlvbl9tYXNrLm5weQEAEACGAAAAAAAAAIYAAAAAAAAAk05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAQEBAQBQSwECFAMUAAAAAAAAACEA1z0tE+AAAADgAAAACgAAAAAAAAAAAAAAgAEAAAAAbG9naXRzLm5weVBLAQIUAxQAAAAAAAAAIQBmWqirsAAAALAAAAANAAAAAAAAAAAAAACAARwBAABpbnB1dF9pZHMubnB5UEsBAhQDFAAAAAAAAAAhAF6pLiSGAAAAhgAAABIAAAAAAAAAAAAAAIABCwIAAGF0dGVudGlvbl9tYXNrLm5weVBLBQYAAAAAAwADALMAAADVAgAAAAA=';
  const NUMPY_SAVEZ_COMPRESSED = 'UEsDBBQAAAAIAAAAIQDXPS0TrwAAAOAAAAAKABQAbG9naXRzLm5weQEAEADgAAAAAAAAAK8AAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNmoq6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkaRjoKxjoKJpo6CrUK5AEuBoaG/evcFffvkGvdt8H9oe2EQ1/tZs2MtBdZ576/4fXFfQzXlfce+LrCzsTY2L5CJG+/Rgz//oR+p30MQRZ2F87w2Cu0ZttPOGS6v0Fk3T6Gw19tLpw5Y7dDztX+g0bMfoeHv/YBAFBLAwQUAAAACAAAACEAZlqoq1IAAACwAAAADQAUAGlucHV0X2lkcy5ucHkBABAAsAAAAAAAAABSAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TaaGuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6CsaaOgq1CmQDLkYGCGBmQAVMaDRMHQBQSwMEFAAAAAgAAAAhAF6pLiRKAAAAhgAAABIAFABhdHRlbnRpb25fbWFzay5ucHkBABAAhgAAAAAAAABKAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loF6TZKiuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6CsaaOgq1CmQDLkYQYAAAUEsBAhQDFAAAAAgAAAAhANc9LROvAAAA4AAAAAoAAAAAAAAAAAAAAIABAAAAAGxvZ2l0cy5ucHlQSwECFAMUAAAACAAAACEAZlqoq1IAAACwAAAADQAAAAAAAAAAAAAAgAHrAAAAaW5wdXRfaWRzLm5weVBLAQIUAxQAAAAIAAAAIQBeqS4kSgAAAIYAAAASAAAAAAAAAAAAAACAAXwBAABhdHRlbnRpb25fbWFzay5ucHlQSwUGAAAAAAMAAwCzAAAACgIAAAAA';
  // z.tolist() as numpy printed it.
  const Z = [-1.0, -0.6299999952316284, -0.25999999046325684, 0.11000001430511475, 0.48000001907348633, 0.8500000238418579,
    -0.7799999713897705, -0.4099998474121094, -0.039999961853027344, 0.3299999237060547, 0.7000000476837158, -0.929999828338623,
    -0.559999942779541, -0.19000005722045898, 0.18000030517578125, 0.5500001907348633, 0.9200000762939453, -0.7100000381469727,
    -0.3400001525878906, 0.03000020980834961, 0.40000009536743164, 0.7699999809265137, -0.8599996566772461, -0.48999977111816406];
  const IDS = [1, 3, 0, 2, 2, 1];

  it("reads numpy's np.savez and np.savez_compressed files, member by name, as the same arrays in .npy", async () => {
    const fromNpy = await json(['score', '--logits', npy('<f4', [2, 3, 4], Z), '--labels', npy('<i8', [2, 3], IDS)]);
    expect(fromNpy.lossNats).toBeCloseTo(reference.crossEntropy(Float32Array.from(Z), Int32Array.from(IDS), { classes: 4 }) as number, 6);
    for (const b64 of [NUMPY_SAVEZ, NUMPY_SAVEZ_COMPRESSED]) {
      const archive = file(new Uint8Array(Buffer.from(b64, 'base64')), 'numpy.npz');
      const got = await json(['score', '--logits', `${archive}:logits`, '--labels', `${archive}:input_ids`]);
      expect(got).toEqual(fromNpy);
      // The member's own name ('logits.npy') works too.
      expect(await json(['score', '--logits', `${archive}:logits.npy`, '--labels', `${archive}:input_ids`])).toEqual(fromNpy);
      const text = await run(['score', '--logits', `${archive}:logits`, '--labels', `${archive}:input_ids`]);
      expect(text.out).toContain(`  logits      ${archive}:logits  (float32 [2, 3, 4])\n  labels      ${archive}:input_ids  (int64 [2, 3])\n`);
      const mask = await openArray(parseArraySpec(`${archive}:attention_mask`, existsSync), () => { throw new Error('no stdin'); });
      try {
        expect([mask.type, mask.shape, mask.label]).toEqual(['bool', [2, 3], `${archive}:attention_mask`]);
        expect(Array.from(intData(await mask.read(6), mask.type, mask.label))).toEqual([1, 1, 1, 1, 1, 0]);
      } finally {
        mask.close();
      }
    }
  });

  it('reads stored and deflated members, with and without ZIP64 records and an archive comment', async () => {
    const { logits, ids } = lmData(3, 5, 6, 2);
    const want = await json(['score', '--logits', npy('<f4', [3, 5, 6], logits), '--labels', npy('<i4', [3, 5], ids)]);
    for (const method of [0, 8] as const) {
      for (const zip64 of [false, true]) {
        const archive = file(zip([
          { name: 'logits.npy', data: encodeNpy('<f4', [3, 5, 6], logits), method },
          { name: 'ids.npy', data: encodeNpy('<i8', [3, 5], ids), method },
        ], { zip64, comment: zip64 ? 'a comment after the end record' : '' }), 'a.npz');
        expect(await json(['score', '--logits', `${archive}:logits`, '--labels', `${archive}:ids`])).toEqual(want);
      }
    }
  });

  it('streams a deflated member in chunks: the result does not depend on the chunk size', async () => {
    const { logits, ids } = lmData(40, 8, 16, 3);
    const archive = file(zip([{ name: 'logits.npy', data: encodeNpy('<f4', [40, 8, 16], logits), method: 8 }]), 'one.npz');
    const labels = npy('<i4', [40, 8], ids);
    const xe = await init();
    const one = await scoreNpy(xe, archive, labels, { chunkRows: 40 });
    const many = await scoreNpy(xe, archive, labels, { chunkRows: 3 });
    expect(one.chunks).toBe(1);
    expect(many.chunks).toBe(14);
    expectClose(many.lossNats, one.lossNats, 1e-12);
    expectClose(one.lossNats, reference.crossEntropy(logits, ids, { classes: 16 }) as number, 1e-6);
  });

  it('needs no name for an archive of one array; names the arrays when one is missing or several are held', async () => {
    const { logits, ids } = lmData(2, 3, 4, 4);
    const single = file(zip([{ name: 'arr_0.npy', data: encodeNpy('<f4', [2, 3, 4], logits), method: 8 }]), 'single.npz');
    const labels = npy('<i4', [2, 3], ids);
    expect((await json(['score', '--logits', single, '--labels', labels])).n).toBe(6);
    const several = file(zip([
      { name: 'logits.npy', data: encodeNpy('<f4', [2, 3, 4], logits) },
      { name: 'input_ids.npy', data: encodeNpy('<i4', [2, 3], ids) },
    ]), 'several.npz');
    for (const [arg, message] of [
      [several, `${several}: the archive holds 2 arrays: choose one as FILE:NAME, one of "logits", "input_ids"`],
      [`${several}:ids`, `${several}: no array named "ids"; the archive holds "logits", "input_ids"`],
      [`${single}:logits`, `${single}: no array named "logits"; the archive holds "arr_0"`],
    ]) {
      const r = await run(['score', '--logits', arg, '--labels', labels]);
      expect(r).toEqual({ code: 2, out: '', err: `xentropy: ${message}\n` });
    }
  });
});

describe('.safetensors', () => {
  const B = 2, T = 4, V = 5;
  const { logits, ids, mask } = lmData(B, T, V, 5);

  for (const dtype of ['F32', 'F16', 'BF16', 'F64']) {
    it(`reads ${dtype} logits exactly (values exact in every type)`, async () => {
      const path = file(safetensors({
        logits: { dtype, shape: [B, T, V], data: bytesOf(dtype, logits) },
        input_ids: { dtype: 'I64', shape: [B, T], data: bytesOf('I64', ids) },
      }, { format: 'pt' }), 'model.safetensors');
      const got = await json(['score', '--logits', `${path}:logits`, '--labels', `${path}:input_ids`]);
      expect(got.n).toBe(B * T);
      expectClose(got.lossNats, reference.crossEntropy(logits, ids, { classes: V }) as number, 1e-6);
    });
  }

  for (const dtype of ['I64', 'U64', 'I32', 'U32', 'I16', 'U16', 'I8', 'U8']) {
    it(`reads ${dtype} labels`, async () => {
      const path = file(safetensors({ ids: { dtype, shape: [B, T], data: bytesOf(dtype, ids) } }), 'ids.safetensors');
      const got = await json(['score', '--logits', npy('<f4', [B, T, V], logits), '--labels', path]);
      expectClose(got.lossNats, reference.crossEntropy(logits, ids, { classes: V }) as number, 1e-6);
    });
  }

  it('reads BOOL and U8 masks and an F32 logits tensor beside them in one file (needs the scorer\'s attentionMask)', async () => {
    const xe = await init();
    const want = xe.perplexity({ data: logits, dims: [B, T, V] }, { data: ids, dims: [B, T] }, { attentionMask: { data: mask, dims: [B, T] } });
    for (const maskType of ['BOOL', 'U8', 'I64']) {
      const path = file(safetensors({
        logits: { dtype: 'F32', shape: [B, T, V], data: bytesOf('F32', logits) },
        ids: { dtype: 'I32', shape: [B, T], data: bytesOf('I32', ids) },
        mask: { dtype: maskType, shape: [B, T], data: bytesOf(maskType, mask) },
      }), 'lm.safetensors');
      const got = await json(['score', '--logits', `${path}:logits`, '--labels', `${path}:ids`, '--mask', `${path}:mask`]);
      expect(got.count).toBe(want.tokens);
      expectClose(got.lossNats, want.lossNats, 1e-6);
    }
  });

  it('reads a mask of any integer or bool type as 0 and 1 (any nonzero value counts), labels only within int32', async () => {
    const values = [0n, 1n, 2n, 255n, 2n ** 31n, 2n ** 40n, 2n ** 63n - 1n];
    const masks: [string, (bigint | number)[]][] = [
      ['BOOL', [0, 1, 1]], ['U8', [0, 1, 2, 255]], ['I8', [0, -1, 127]], ['I16', [0, -300, 300]], ['U16', [0, 65535]],
      ['I32', [0, -1, 2 ** 31 - 1]], ['U32', [0, 2 ** 32 - 1]], ['I64', [0n, -1n, 2n ** 40n]], ['U64', values],
    ];
    for (const [type, data] of masks) {
      const path = file(safetensors({ m: { dtype: type, shape: [data.length], data: bytesOf(type, data) } }), 'mask.safetensors');
      const reader = await openArray(parseArraySpec(path, existsSync), () => { throw new Error('no stdin'); });
      try {
        const bytes = await reader.read(data.length);
        expect(Array.from(intData(bytes, reader.type, reader.label, 0, true)), type).toEqual(data.map((v) => (BigInt(v) === 0n ? 0 : 1)));
        const bad = data.findIndex((v) => BigInt(v) > 2n ** 31n - 1n);
        if (bad >= 0) {
          expect(() => intData(bytes, reader.type, reader.label)).toThrow(`${path}:m: ${reader.type} value ${BigInt(data[bad])} at flat index ${bad} does not fit in int32`);
        }
      } finally {
        reader.close();
      }
    }
  });

  it('names the tensors when the one asked for is missing, and refuses unsupported dtypes by name', async () => {
    const path = file(safetensors({
      a: { dtype: 'F32', shape: [2, 2], data: bytesOf('F32', [1, 2, 3, 4]) },
      b: { dtype: 'C64', shape: [1], data: new Uint8Array(8) },
    }, { format: 'pt' }), 'two.safetensors');
    const labels = npy('<i4', [2], [0, 1]);
    expect(await run(['score', '--logits', `${path}:c`, '--labels', labels]))
      .toEqual({ code: 2, out: '', err: `xentropy: ${path}: no tensor named "c"; the file holds "a", "b"\n` });
    expect(await run(['score', '--logits', path, '--labels', labels]))
      .toEqual({ code: 2, out: '', err: `xentropy: ${path}: the file holds 2 tensors: choose one as FILE:NAME, one of "a", "b"\n` });
    const r = await run(['score', '--logits', `${path}:b`, '--labels', labels]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${path}:b: unsupported dtype "C64"; supported: F16, BF16, F32, F64`);
  });
});

describe('half precision and float64 reach the scorer through floatInput', () => {
  it('as a tensor of the file\'s own element type and memory: no float32 copy in JavaScript', () => {
    for (const [type, data] of [
      ['float16', new Uint16Array([0x3c00, 0xc000])], ['bfloat16', new Uint16Array([0x3f80, 0xc040])],
      ['float64', new Float64Array([0.1, 1e300])], ['float32', new Float32Array([1, 2])],
    ] as const) {
      const t = floatInput(data, [2, 1], type);
      expect(t.data).toBe(data);
      expect(t).toEqual({ data, dims: [2, 1], type });
    }
    expect(() => floatInput(new Uint16Array(2), [2], 'int16' as 'float16')).toThrow(TypeError);
  });
});

describe('standard input', () => {
  const n = 600, c = 9;
  const random = rng(6);
  const logits = Float32Array.from({ length: n * c }, () => random() * 8 - 4);
  const labels = Int32Array.from({ length: n }, () => Math.floor(random() * c));
  const bytes = encodeNpy('<f4', [n, c], logits);
  let yp: string;
  let lp: string;
  beforeAll(() => {
    yp = npy('<i4', [n], labels);
    lp = file(bytes, 'logits.npy');
  });

  /** A stream that hands out `piece` bytes per read and counts what has been taken. */
  function trickle(data: Uint8Array, piece: number) {
    const state = { pulled: 0 };
    const stream = new Readable({
      highWaterMark: piece,
      read() {
        const next = data.subarray(state.pulled, state.pulled + piece);
        state.pulled += next.length;
        this.push(next.length > 0 ? Buffer.from(next) : null);
      },
    });
    return { stream, state };
  }

  it('- reads a .npy from standard input, in chunks as it arrives (not slurped whole)', async () => {
    const xe = await init();
    const { stream, state } = trickle(bytes, 1000);
    const pulledAtFirstChunk: number[] = [];
    const report = await scoreNpy(xe, '-', yp, { stdin: stream, chunkRows: 50, onProgress: () => pulledAtFirstChunk.push(state.pulled) });
    expect(report.chunks).toBe(12);
    // The first chunk is scored while most of the stream is still unread.
    expect(pulledAtFirstChunk[0]).toBeLessThan(bytes.length / 2);
    expect(report.names.logits).toBe('<standard input>');
    const fromFile = await scoreNpy(xe, lp, yp);
    expectClose(report.lossNats, fromFile.lossNats, 1e-12);
    expect(report.correct).toBe(fromFile.correct);
  });

  it('labels or a mask may come from standard input too, but only one of the three', async () => {
    const { stream } = trickle(encodeNpy('<i8', [n], labels), 7);
    expect(await json(['score', '--logits', lp, '--labels', '-'], { stdin: stream })).toEqual(await json(['score', '--logits', lp, '--labels', yp]));
    const r = await run(['score', '--logits', '-', '--labels', '-']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('standard input (-) can be read once; given for --logits and --labels');
  });

  it('the installed command reads a shell pipe', () => {
    expect(existsSync(join(ROOT, 'dist', 'cli', 'cli.cjs')), 'dist/cli/cli.cjs is missing: run `npm run build`').toBe(true);
    const piped = spawnSync('sh', ['-c', `cat "$1" | "${process.execPath}" ${NODE_FLAGS.join(' ')} "${BIN}" score --logits - --labels "$2" --json`, 'sh', lp, yp], { encoding: 'utf8', timeout: 20_000 });
    const direct = spawnSync(process.execPath, [...NODE_FLAGS, BIN, 'score', '--logits', lp, '--labels', yp, '--json'], { encoding: 'utf8', timeout: 20_000 });
    expect(piped.stderr).toBe('');
    expect(piped.status).toBe(0);
    expect(JSON.parse(piped.stdout)).toEqual(JSON.parse(direct.stdout));
  });
});

describe('[B, T, V] logits', () => {
  const B = 5, T = 7, V = 11;
  const { logits, ids, mask } = lmData(B, T, V, 8);
  let lp: string, yp: string, mp: string;
  beforeAll(() => {
    lp = npy('<f4', [B, T, V], logits);
    yp = npy('<i8', [B, T], ids);
    mp = npy('|b1', [B, T], mask);
  });
  const tensors = () => ({ z: { data: logits, dims: [B, T, V] }, y: { data: ids, dims: [B, T] }, m: { data: mask, dims: [B, T] } });

  it('without --shift or --mask, each position is a row (token classification), as the [B·T, V] file', async () => {
    const got = await json(['score', '--logits', lp, '--labels', yp]);
    const flat = await json(['score', '--logits', npy('<f4', [B * T, V], logits), '--labels', npy('<i4', [B * T], ids)]);
    expect({ ...got, sequences: undefined, sequenceLength: undefined }).toEqual({ ...flat, sequences: undefined, sequenceLength: undefined });
    expect([got.sequences, got.sequenceLength, got.n]).toEqual([B, T, B * T]);
    const text = await run(['score', '--logits', lp, '--labels', yp]);
    expect(text.out).toContain(`  logits      ${lp}  (float32 [5, 7, 11])\n  labels      ${yp}  (int64 [5, 7])\nsequences (B) 5\nlength (T)    7\nclasses (V)   11\ntokens        35\n`);
  });

  it('hands the scorer whole sequences as [b, T, V] tensors with their labels and mask (the scorer contract)', async () => {
    // A scorer that keeps what it is given and scores each chunk with xe.perplexity: the CLI's
    // chunking and arguments must add up to xe.perplexity over the whole batch.
    const xe = await init();
    const { z, y, m } = tensors();
    const want = xe.perplexity(z, y, { shift: true, attentionMask: m });
    for (const chunkRows of [1, 2, B]) {
      const calls: { options: Record<string, unknown>; dims: number[][] }[] = [];
      let nll = 0, tokens = 0;
      const per: { lossNats: number[]; perplexity: number[]; tokens: number[] } = { lossNats: [], perplexity: [], tokens: [] };
      const recording = {
        scorer(options: Record<string, unknown>) {
          const call = { options, dims: [] as number[][] };
          calls.push(call);
          return {
            update(input: { data: Float32Array; dims: number[] }, labels: { data: Int32Array; dims: number[] }, extra: { attentionMask: { data: Int32Array; dims: number[] } }) {
              call.dims.push(input.dims, labels.dims, extra.attentionMask.dims);
              const r = xe.perplexity(input, labels, { shift: options.shift as boolean, attentionMask: extra.attentionMask });
              nll += r.tokens === 0 ? 0 : r.lossNats * r.tokens;
              tokens += r.tokens;
              per.lossNats.push(...r.perSequence.lossNats);
              per.perplexity.push(...r.perSequence.perplexity);
              per.tokens.push(...r.perSequence.tokens);
            },
            result: () => ({
              lossNats: nll / tokens, lossBits: nll / tokens / Math.LN2, perplexity: Math.exp(nll / tokens), count: tokens,
              accuracy: 0, topK: {}, brier: 0, ece: 0, mce: 0, bins: [], perSequence: per,
            }),
            state: () => ({ correct: 0 }),
          };
        },
      };
      const report = await scoreNpy(recording as never, lp, yp, { mask: mp, shift: true, perSequence: true, chunkRows });
      expect(calls).toHaveLength(1);
      expect(calls[0].options).toMatchObject({ classes: V, shift: true, sequenceLength: T, perSequence: true });
      const sizes = Array.from({ length: Math.ceil(B / chunkRows) }, (_, k) => Math.min(chunkRows, B - k * chunkRows));
      expect(calls[0].dims).toEqual(sizes.flatMap((b) => [[b, T, V], [b, T], [b, T]]));
      expect(report.count).toBe(want.tokens);
      expectClose(report.lossNats, want.lossNats, 1e-12);
      expect(report.perSequence?.tokens).toEqual(Array.from(want.perSequence.tokens));
    }
  });

  it('--shift scores position t against token t + 1, as xe.perplexity with shift (needs the scorer\'s shift)', async () => {
    const xe = await init();
    const { z, y } = tensors();
    const want = xe.perplexity(z, y, { shift: true });
    const got = await json(['score', '--logits', lp, '--labels', yp, '--shift']);
    expect(got.count).toBe(B * (T - 1));
    expectClose(got.lossNats, want.lossNats, 1e-6);
    expectClose(got.perplexity, want.perplexity, 1e-6);
  });

  it('--mask leaves positions with mask 0 uncounted, as xe.perplexity with attentionMask (needs the scorer\'s attentionMask)', async () => {
    const xe = await init();
    const { z, y, m } = tensors();
    for (const shift of [false, true]) {
      const want = xe.perplexity(z, y, { shift, attentionMask: m });
      const got = await json(['score', '--logits', lp, '--labels', yp, '--mask', mp, ...(shift ? ['--shift'] : [])]);
      expect(got.count).toBe(want.tokens);
      expectClose(got.lossNats, want.lossNats, 1e-6);
    }
  });

  it('--per-sequence adds each sequence\'s loss, perplexity and tokens, in chunks or not (needs the scorer\'s perSequence)', async () => {
    const xe = await init();
    const { z, y, m } = tensors();
    const want = xe.perplexity(z, y, { shift: true, attentionMask: m });
    for (const chunkRows of [1, 2, B]) {
      const got = await json(['score', '--logits', lp, '--labels', yp, '--mask', mp, '--shift', '--per-sequence'], { chunkRows });
      expect(got.perSequence.tokens).toEqual(Array.from(want.perSequence.tokens));
      for (let b = 0; b < B; b++) {
        const [loss, ppl] = [got.perSequence.lossNats[b], got.perSequence.perplexity[b]];
        if (want.perSequence.tokens[b] === 0) {
          // JSON has no NaN: a sequence with no counted token is null.
          expect([loss, ppl]).toEqual([null, null]);
        } else {
          expectClose(loss, want.perSequence.lossNats[b], 1e-6);
          expectClose(ppl, want.perSequence.perplexity[b], 1e-6);
        }
      }
    }
  });

  it('float16 logits give the loss of the float16 values', async () => {
    const half = npy('<f2', [B, T, V], logits);
    const got = await json(['score', '--logits', half, '--labels', yp]);
    expectClose(got.lossNats, reference.crossEntropy(logits, ids, { classes: V }) as number, 1e-6);
  });

  it('refuses sequence flags without [B, T, V] logits, and a mask of another shape or type', async () => {
    const flat = npy('<f4', [B * T, V], logits);
    const flatIds = npy('<i4', [B * T], ids);
    const cases: [string[], string][] = [
      [['--logits', flat, '--labels', flatIds, '--shift'], `--shift needs logits of shape [B, T, V]; logits file ${flat} has shape [35, 11]`],
      [['--logits', flat, '--labels', flatIds, '--mask', mp], `--mask needs logits of shape [B, T, V]; logits file ${flat} has shape [35, 11]`],
      [['--logits', lp, '--labels', yp, '--per-sequence'], '--per-sequence adds to the --json output; give --json too'],
      [['--shift'], '--shift needs --logits and --labels'],
      [['--logits', lp, '--labels', yp, '--mask', flatIds], `shape mismatch: mask file ${flatIds} has shape [35], logits file ${lp} has shape [5, 7, 11]; expected mask of shape [5, 7]`],
      [['--logits', lp, '--labels', yp, '--mask', npy('<f4', [B, T], mask)], 'has dtype float32; expected an integer or bool type'],
      [['--logits', lp, '--labels', flatIds], `shape mismatch: labels file ${flatIds} has shape [35]`],
    ];
    for (const [argv, message] of cases) {
      const r = await run(['score', ...argv]);
      expect(r.out).toBe('');
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
    }
  });

  it('with --shift, a sequence\'s first id and masked ids are not checked against the vocabulary', async () => {
    // Padding ids outside [0, V) where nothing is scored must not be refused; one that is scored is.
    const padded = Int32Array.from(ids);
    for (let b = 0; b < B; b++) padded[b * T] = -1;
    for (let i = 0; i < B * T; i++) if (mask[i] === 0) padded[i] = 50000;
    const paddedPath = npy('<i4', [B, T], padded);
    const checked = await run(['score', '--logits', lp, '--labels', paddedPath]);
    expect(checked.code).toBe(2);
    expect(checked.err).toContain(`labels file ${paddedPath}: label -1 at index 0 is not a class in [0, 11)`);
    const r = await run(['score', '--logits', lp, '--labels', paddedPath, '--mask', mp, '--shift', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('--version', () => {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  it('prints the package version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });
  it('the installed command prints it too', () => {
    const child = spawnSync(process.execPath, [...NODE_FLAGS, BIN, '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect([child.status, child.stdout, child.stderr]).toEqual([0, `${version}\n`, '']);
  });
});

describe('probabilities given as logits', () => {
  const n = 50, c = 4;
  const random = rng(9);
  const logits = Float32Array.from({ length: n * c }, () => random() * 6 - 3);
  const labels = Int32Array.from({ length: n }, () => Math.floor(random() * c));
  const probs = new Float32Array(n * c);
  for (let r = 0; r < n; r++) {
    const row = logits.subarray(r * c, (r + 1) * c);
    const sum = row.reduce((a, v) => a + Math.exp(v), 0);
    for (let k = 0; k < c; k++) probs[r * c + k] = Math.exp(row[k]) / sum;
  }
  const warning = (path: string) => `xentropy: warning: every row of ${path} lies in [0, 1] and sums to 1 (within 1e-3): these look like probabilities, not logits; if they are, score them with --probs\n`;

  it('warns on stderr, naming --probs, and still scores (exit 0)', async () => {
    const yp = npy('<i4', [n], labels);
    for (const dtype of ['<f4', '<f2', '<f8'] as const) {
      const pp = npy(dtype, [n, c], probs);
      const r = await run(['score', '--logits', pp, '--labels', yp, '--json'], { chunkRows: 7 });
      expect(r.code).toBe(0);
      expect(r.err).toBe(warning(pp));
      expect(JSON.parse(r.out).count).toBe(n);
    }
  });

  it('stays quiet for real logits, for --probs, and when a single row does not sum to 1', async () => {
    const yp = npy('<i4', [n], labels);
    const pp = npy('<f4', [n, c], probs);
    for (const argv of [
      ['--logits', npy('<f4', [n, c], logits), '--labels', yp],
      ['--logits', pp, '--labels', yp, '--probs'],
      ['--logits', npy('<f4', [n, c], probs.map((p, i) => (i === (n - 1) * c ? p + 2e-3 : p))), '--labels', yp],
      ['--logits', npy('<f4', [n, c], probs.map((p, i) => (i === 5 ? -0 - 1e-9 : p))), '--labels', yp],
    ]) {
      const r = await run(['score', ...argv, '--json'], { chunkRows: 7 });
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
    }
  });
});
