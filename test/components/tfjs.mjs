// TensorFlow.js's tensors (tfjs-core on its cpu backend): logits computed by tf.matMul and tf.add,
// int32 labels and a bool mask as tf.tensor makes them, passed to xentropy as they are (it reads them
// with dataSync()), against the float32 path (the same values as a plain Float32Array with classes
// given) bit for bit. TensorFlow.js has no float16 or float64 tensors, so float32 is the whole story.
//   node test/components/tfjs.mjs

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { announce, check, classifierCases, expect, expectSame, labels, languageModelCases, normals, raggedMask, rng } from './common.mjs';

await tf.setBackend('cpu');
const suite = 'tfjs-core (cpu)';
announce(suite, tf.version_core);

const F = 16, V = 97;
const random = rng(4);
const W = tf.tensor2d(normals(random, F * V, 0.75), [F, V]);
const b = tf.tensor1d(normals(random, V));

for (const [B, T] of [[2, 3], [4, 64]]) {
  const N = B * T;
  const logits = tf.add(tf.matMul(tf.tensor2d(normals(random, N * F), [N, F]), W), b);
  const shape = `[${N}, ${V}]`, lmShape = `[${B}, ${T}, ${V}]`;
  await check(suite, `${shape}: matMul and add give a float32 tensor [N, V]`, '', () => {
    expect(logits instanceof tf.Tensor && logits.dtype === 'float32' && logits.shape.join() === `${N},${V}`, `got ${logits.dtype} [${logits.shape}]`);
  });
  const values = Float32Array.from(logits.dataSync());
  const target = labels(random, N, V, 7);
  const labelTensor = tf.tensor1d(target, 'int32');
  await classifierCases(suite, `${shape} float32 logits, int32 labels`, logits, labelTensor, values, target, V, '');

  const mask = raggedMask(B, T, B > 2);
  const idValues = labels(random, N, V);
  const ids = tf.tensor2d(idValues, [B, T], 'int32');
  const lm = tf.reshape(logits, [B, T, V]);
  await languageModelCases(suite, `${lmShape} float32 logits (reshape), int32 ids, bool mask`, lm, ids, tf.tensor2d(mask, [B, T], 'bool'),
    values, idValues, mask, B, T, V, '');
  await languageModelCases(suite, `${lmShape} float32 logits (reshape), int32 ids, int32 mask`, lm, ids, tf.tensor2d(mask, [B, T], 'int32'),
    values, idValues, mask, B, T, V, '');

  await check(suite, `${lmShape}: every tensor is left as it was`, '', () => {
    expectSame(logits.dataSync(), values, 'logits');
    expectSame(lm.dataSync(), values, 'reshaped logits');
    expectSame(ids.dataSync(), idValues, 'ids');
  });
}
