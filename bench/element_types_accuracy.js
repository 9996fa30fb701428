// What each element type gives against float64 on the element type's own values (prints, writes
// nothing): per-row cross-entropy losses ('none'), the 'mean' loss and logSumExp of float16, bfloat16
// and float64 logits through the SIMD build, against a float64 computation on the same values (the
// halves widened exactly; the float64 values as they are, not narrowed). Prints the largest relative
// error of each over seeded random batches, in float32 ulps (2^-24) as well, and the row losses'
// largest absolute error (a loss near 0 keeps only absolute precision, as docs/accuracy.md says).
//
//   npm run build && node bench/element_types_accuracy.js      (a few seconds)

import { init } from '../dist/index.js';
import { mulberry32 } from './data.js';

const xe = await init({ build: 'simd' });
const ULP = 2 ** -24;

/** float16 bits, round to nearest even, of a float64 (enough for data: no NaN input). */
function toHalf(x) {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  const e = Math.floor(Math.log2(a));
  let m = Math.round((a / 2 ** e - 1) * 1024);
  let ee = e;
  if (m === 1024) { m = 0; ee++; }
  return sign | ((ee + 15) << 10) | m;
}
function halfValue(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
  return s * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
}
const bfloat = (x) => new Uint32Array(Float32Array.of(x).buffer)[0] >>> 16;
const bfloatValue = (h) => new Float32Array(Uint32Array.of(h << 16).buffer)[0];

/** float64 loss of row z with label y, and its log-sum-exp. */
function rowLoss(z, y) {
  let m = -Infinity;
  for (const v of z) m = Math.max(m, v);
  let s = 0;
  for (const v of z) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return { loss: lse - z[y], lse };
}

const kinds = {
  float16: { make: (x) => toHalf(x), value: halfValue, Array: Uint16Array, options: { dtype: 'float16' } },
  bfloat16: { make: bfloat, value: bfloatValue, Array: Uint16Array, options: { dtype: 'bfloat16' } },
  float64: { make: (x) => x, value: (x) => x, Array: Float64Array, options: {} },
};

console.log(`# element types against float64 on their own values, ${new Date().toISOString()}, Node ${process.version}`);
console.log('| element type | logits sd | row losses: max abs error (nats) | row losses: max rel error | mean loss: max rel error | logSumExp: max rel error |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [name, kind] of Object.entries(kinds)) {
  for (const sd of [1, 3, 10]) {
    let rowErr = 0, rowAbs = 0, meanErr = 0, lseErr = 0;
    const random = mulberry32(sd * 977 + name.length);
    for (const [rows, classes] of [[64, 1000], [8, 32000], [256, 10]]) {
      for (let rep = 0; rep < 4; rep++) {
        const raw = new kind.Array(rows * classes), values = new Float64Array(rows * classes);
        for (let i = 0; i < raw.length; i++) {
          const u = random(), v = random();
          const x = sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
          raw[i] = kind.make(x);
          values[i] = kind.value(raw[i]);
        }
        const y = Int32Array.from({ length: rows }, () => Math.floor(random() * classes));
        const none = xe.crossEntropy(raw, y, { classes, reduction: 'none', ...kind.options });
        const mean = xe.crossEntropy(raw, y, { classes, ...kind.options });
        const lse = xe.logSumExp(raw, classes, undefined, kind.options);
        let total = 0;
        for (let r = 0; r < rows; r++) {
          const want = rowLoss(values.subarray(r * classes, (r + 1) * classes), y[r]);
          total += want.loss;
          rowAbs = Math.max(rowAbs, Math.abs(none[r] - want.loss));
          rowErr = Math.max(rowErr, Math.abs(none[r] - want.loss) / Math.abs(want.loss));
          lseErr = Math.max(lseErr, Math.abs(lse[r] - want.lse) / Math.abs(want.lse));
        }
        meanErr = Math.max(meanErr, Math.abs(mean - total / rows) / Math.abs(total / rows));
      }
    }
    const f = (e) => `${e.toExponential(2)} (${(e / ULP).toFixed(1)} ulp)`;
    console.log(`| ${name} | ${sd} | ${rowAbs.toExponential(2)} | ${f(rowErr)} | ${f(meanErr)} | ${f(lseErr)} |`);
  }
}
