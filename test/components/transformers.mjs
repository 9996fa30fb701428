// transformers.js's tensors: its `Tensor` class (a Proxy over an onnxruntime tensor), as its own
// matmul returns it and as `new Tensor(type, data, dims)` builds it, passed to xentropy as they are,
// against the float32 path (the same values as a plain Float32Array with classes given) bit for bit.
// No model is downloaded: the logits are X·W computed by transformers.js's matmul.
//   node test/components/transformers.mjs

import { env, matmul, Tensor } from '@huggingface/transformers';
import {
  announce, check, classifierCases, expect, expectSame, expectThrows, Float16View, halfBits, labels, languageModelCases, normals, raggedMask, rng, toFloat16,
  widenFloat16, xe,
} from './common.mjs';

const suite = 'transformers.js';
announce(suite, env.version);

const F = 16, V = 97;
const random = rng(2025);
const W = new Tensor('float32', normals(random, F * V, 0.75), [F, V]);
const int64 = (values, dims) => new Tensor('int64', BigInt64Array.from(values, BigInt), dims);

for (const [B, T] of [[2, 3], [4, 64]]) {
  const N = B * T;
  const logits = await matmul(new Tensor('float32', normals(random, N * F), [N, F]), W);
  const shape = `[${N}, ${V}]`, lmShape = `[${B}, ${T}, ${V}]`;
  await check(suite, `${shape}: matmul returns a float32 Tensor [N, V]`, '', () => {
    expect(logits instanceof Tensor && logits.type === 'float32' && logits.data instanceof Float32Array && logits.dims.join() === `${N},${V}`,
      `got ${logits.type} ${logits.data?.constructor.name} [${logits.dims}]`);
  });
  const values = Float32Array.from(logits.data);
  const target = labels(random, N, V, 7);
  const labelTensor = int64(target, [N]);
  await classifierCases(suite, `${shape} float32 logits (matmul), int64 labels`, logits, labelTensor, values, target, V, '');
  await classifierCases(suite, `${shape} float32 logits (new Tensor), int64 labels`, new Tensor('float32', values.slice(), [N, V]), labelTensor, values, target, V, '');

  await check(suite, `${shape} float32 logits, an int64 label outside the int32 range is a RangeError naming it`, '', () => {
    const bad = BigInt64Array.from(target, BigInt);
    bad[0] = -(2n ** 33n);
    expectThrows(() => xe.crossEntropy(logits, new Tensor('int64', bad, [N])), RangeError, new RegExp(`target\\[0\\] = ${-(2n ** 33n)}n`));
  });

  // new Tensor('float16', bits): transformers.js keeps float16 bits in a Uint16Array where the runtime has
  // no Float16Array (Node before 24). Its Tensor.to('float16') is not used: without Float16Array it
  // converts the values to integers, not to float16 bits.
  const f16 = toFloat16(values);
  const half = new Tensor('float16', Float16View === Uint16Array ? f16 : new Float16View(f16.buffer), [N, V]);
  await classifierCases(suite, `${shape} float16 logits (new Tensor), int64 labels`, half, labelTensor, widenFloat16(f16), target, V, 'HALF');
  await classifierCases(suite, `${shape} float64 logits (Tensor.to), int64 labels`, logits.to('float64'), labelTensor, values, target, V, 'HALF');

  const mask = raggedMask(B, T, B > 2);
  const idValues = labels(random, N, V);
  const ids = int64(idValues, [B, T]);
  const lm = logits.view(B, T, V);
  await languageModelCases(suite, `${lmShape} float32 logits (view), int64 ids, int64 mask`, lm, ids, int64(mask, [B, T]), values, idValues, mask, B, T, V, '');
  await languageModelCases(suite, `${lmShape} float32 logits (view), int64 ids, bool mask`, lm, ids, new Tensor('bool', Uint8Array.from(mask), [B, T]),
    values, idValues, mask, B, T, V, '');
  await languageModelCases(suite, `${lmShape} float16 logits (new Tensor), int64 ids, int64 mask`, new Tensor(half.type, half.data, [B, T, V]), ids,
    int64(mask, [B, T]), widenFloat16(f16), idValues, mask, B, T, V, 'HALF');

  await check(suite, `${lmShape}: every tensor is left as it was`, '', () => {
    expectSame(logits.data, values, 'logits');
    expectSame(halfBits(half.data), f16, 'float16 logits');
    expectSame(ids.data, BigInt64Array.from(idValues, BigInt), 'ids');
  });
}
