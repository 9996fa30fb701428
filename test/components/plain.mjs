// Half precision and float64 without a library: a Uint16Array of float16 or bfloat16 bits with
// `dtype`, a `{ type: 'bfloat16', data, dims }` tensor object (no library above has a bfloat16 tensor
// class), a Float64Array, and a Float16Array where the runtime has one (Node 24 does: run.mjs runs it),
// against the float32 path on the same values widened (or, for float64, rounded to float32) bit for
// bit. This is the contract the library suites' float16 and float64 cases also rely on.
//   node test/components/plain.mjs

import {
  announce, classifierCases, Float16View, labels, languageModelCases, normals, raggedMask, rng, toBfloat16, toFloat16, widenBfloat16,
  widenFloat16,
} from './common.mjs';

const suite = 'typed arrays';
announce(suite, '-');

const V = 97;
const random = rng(16);
for (const [B, T] of [[2, 3], [4, 64]]) {
  const N = B * T;
  const shape = `[${N}, ${V}]`, lmShape = `[${B}, ${T}, ${V}]`;
  const logits = normals(random, N * V, 3);
  const target = labels(random, N, V, 7);
  const f16 = toFloat16(logits), bf16 = toBfloat16(logits);
  await classifierCases(suite, `${shape} Uint16Array, dtype float16`, f16, target, widenFloat16(f16), target, V, 'HALF', { classes: V, dtype: 'float16' });
  await classifierCases(suite, `${shape} Uint16Array, dtype bfloat16`, bf16, target, widenBfloat16(bf16), target, V, 'HALF', { classes: V, dtype: 'bfloat16' });
  await classifierCases(suite, `${shape} { type: 'bfloat16' } tensor object`, { type: 'bfloat16', data: bf16, dims: [N, V] }, target,
    widenBfloat16(bf16), target, V, 'HALF');
  if (Float16View !== Uint16Array) {
    await classifierCases(suite, `${shape} Float16Array`, new Float16View(f16.buffer), target, widenFloat16(f16), target, V, 'HALF', { classes: V });
  }
  const f64 = Float64Array.from(logits, (x, i) => x + (i % 5) * 2 ** -30);
  await classifierCases(suite, `${shape} Float64Array`, f64, target, Float32Array.from(f64), target, V, 'HALF', { classes: V });

  const mask = raggedMask(B, T, B > 2);
  const ids = labels(random, N, V);
  await languageModelCases(suite, `${lmShape} Uint16Array, dtype bfloat16, flat`, bf16, ids, mask, widenBfloat16(bf16), ids, mask, B, T, V, 'HALF',
    { classes: V, sequenceLength: T, dtype: 'bfloat16' });
  await languageModelCases(suite, `${lmShape} { type: 'bfloat16' } tensor object`, { type: 'bfloat16', data: bf16, dims: [B, T, V] },
    { data: ids, dims: [B, T] }, mask, widenBfloat16(bf16), ids, mask, B, T, V, 'HALF');
}
