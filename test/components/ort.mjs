// onnxruntime's tensors, as a session really returns them: the classifier of onnx.mjs run by
// onnxruntime-node (native CPU) or onnxruntime-web (its WebAssembly backend, in Node), and every output
// tensor passed to xentropy as it comes, against the float32 path (the same values as a plain
// Float32Array with classes given) bit for bit.
//   node test/components/ort.mjs node|web      (run.mjs runs both)

import {
  announce, check, classifierCases, expect, expectSame, expectThrows, Float16View, halfBits, labels, languageModelCases, normals,
  raggedMask, rng, toFloat16, widenFloat16, xe,
} from './common.mjs';
import { classifierModel } from './onnx.mjs';

const which = process.argv[2];
if (which !== 'node' && which !== 'web') throw new Error('usage: node ort.mjs node|web');
const ort = which === 'node' ? await import('onnxruntime-node') : await import('onnxruntime-web');
// One thread: the WebAssembly backend would otherwise start workers, which this test does not need.
if (which === 'web') ort.env.wasm.numThreads = 1;
const suite = `onnxruntime-${which}`;
announce(suite, ort.env.versions[which]);

const F = 16, V = 97;
const random = rng(25);
const session = await ort.InferenceSession.create(classifierModel(normals(random, F * V, 0.75), normals(random, V), F, V));
const int64 = (values, dims) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);

// A short batch, and one of several kernel blocks whose last sequence is all padding.
for (const [B, T] of [[2, 3], [4, 64]]) {
  const N = B * T;
  const mask = raggedMask(B, T, B > 2);
  const maskTensor = int64(mask, [B, T]);
  const X = new ort.Tensor('float32', normals(random, N * F), [N, F]);
  const out = await session.run({ X, shape: int64([B, T, V], [3]), mask: maskTensor });
  const shape = `[${N}, ${V}]`, lmShape = `[${B}, ${T}, ${V}]`;

  await check(suite, `${lmShape}: the outputs are the tensors these cases assume`, '', () => {
    const want = {
      logits: ['float32', Float32Array, [N, V]],
      logits_f16: ['float16', Float16View, [N, V]],
      logits_f64: ['float64', Float64Array, [N, V]],
      widened: ['float32', Float32Array, [N, V]],
      predicted: ['int64', BigInt64Array, [N]],
      lm_logits: ['float32', Float32Array, [B, T, V]],
      lm_logits_f16: ['float16', Float16View, [B, T, V]],
      mask_bool: ['bool', Uint8Array, [B, T]],
    };
    for (const [name, [type, View, dims]] of Object.entries(want)) {
      const t = out[name];
      expect(t instanceof ort.Tensor, `${name} is not an ort.Tensor`);
      expect(t.type === type && t.data instanceof View && t.dims.join() === dims.join(),
        `${name} is ${t.type} ${t.data?.constructor.name} [${t.dims}], expected ${type} ${View.name} [${dims}]`);
    }
  });

  // The float16 path's expected values come from the test's own conversions: onnxruntime's Cast checks them.
  await check(suite, `${shape}: the test's float16 rounding and widening agree with onnxruntime's Cast`, '', () => {
    expectSame(toFloat16(out.logits.data), halfBits(out.logits_f16.data), 'float32 -> float16');
    expectSame(widenFloat16(halfBits(out.logits_f16.data)), out.widened.data, 'float16 -> float32');
  });

  const values = Float32Array.from(out.logits.data);
  const target = labels(random, N, V, 7);
  const labelTensor = int64(target, [N]);
  await classifierCases(suite, `${shape} float32 logits, int64 labels`, out.logits, labelTensor, values, target, V, '');
  await check(suite, `${shape} float32 logits, ArgMax's int64 output as labels`, '', () => {
    const predicted = Int32Array.from(out.predicted.data, Number);
    const expected = xe.crossEntropyWithGrad(values, predicted, { classes: V });
    expectSame(xe.crossEntropyWithGrad(out.logits, out.predicted), expected);
  });
  await check(suite, `${shape} float32 logits, an int64 label outside the int32 range is a RangeError naming it`, '', () => {
    const bad = BigInt64Array.from(target, BigInt);
    bad[N - 1] = 2n ** 40n;
    const message = new RegExp(`target\\[${N - 1}\\] = ${2n ** 40n}n`);
    expectThrows(() => xe.crossEntropy(out.logits, new ort.Tensor('int64', bad, [N])), RangeError, message);
  });
  const widened = widenFloat16(halfBits(out.logits_f16.data));
  await classifierCases(suite, `${shape} float16 logits (Cast)`, out.logits_f16, labelTensor, widened, target, V, 'HALF');
  // float64 narrowed to float32, rounding to nearest: what Float32Array.from does.
  const narrowed = Float32Array.from(out.logits_f64.data);
  await classifierCases(suite, `${shape} float64 logits (Cast)`, out.logits_f64, labelTensor, narrowed, target, V, 'HALF');

  const idValues = labels(random, N, V);
  const ids = int64(idValues, [B, T]);
  await languageModelCases(suite, `${lmShape} float32 logits, int64 ids, int64 mask`, out.lm_logits, ids, maskTensor, values, idValues, mask, B, T, V, '');
  await languageModelCases(suite, `${lmShape} float32 logits, int64 ids, bool mask (Cast)`, out.lm_logits, ids, out.mask_bool,
    values, idValues, mask, B, T, V, '');
  await languageModelCases(suite, `${lmShape} float16 logits (Cast), int64 ids, int64 mask`, out.lm_logits_f16, ids, maskTensor,
    widenFloat16(halfBits(out.lm_logits_f16.data)), idValues, mask, B, T, V, 'HALF');

  await check(suite, `${lmShape}: every tensor is left as it was`, '', () => {
    expectSame(out.logits.data, values, 'logits');
    expectSame(out.lm_logits.data, values, 'lm_logits');
    expectSame(labelTensor.data, BigInt64Array.from(target, BigInt), 'labels');
    expectSame(maskTensor.data, BigInt64Array.from(mask, BigInt), 'mask');
  });
}
await session.release();
