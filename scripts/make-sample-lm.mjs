// Writes the causal language model sample of docs/evaluation.md: data/sample-lm.safetensors, with
// logits (F16 [4, 16, 32]), input_ids (I64 [4, 16]) and attention_mask (I64 [4, 16]), as a Hugging
// Face model and tokenizer hand them over: right-padded sequences of ragged lengths.
//
// The "model" is made up: token sequences are drawn from a random bigram distribution, and the logits
// at each position are that distribution's log-probabilities for the next token plus noise (an
// imperfect model of it). Padded positions hold token 0 and logits like any other.
//
// Deterministic: a seeded PRNG, so re-running reproduces the committed file byte for byte.
// Uses the package's float16 rounding, so run `npm run build` first (dist/ is not committed).
//
//   node scripts/make-sample-lm.mjs

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from './mulberry32.mjs';

const B = 4;
const T = 16;
const V = 32;
const LENGTHS = [16, 11, 16, 7];
const SEED = 0x1a2b3c4d;

let floatToHalf;
try {
  ({ floatToHalf } = await import('../dist/cli/npy.js'));
} catch (e) {
  console.error(`make-sample-lm: cannot load dist/cli/npy.js (${e.message}); run 'npm run build' first`);
  process.exit(1);
}

const random = mulberry32(SEED);
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

// Bigram log-probabilities: row a is log P(next | a).
const logP = new Float64Array(V * V);
for (let a = 0; a < V; a++) {
  const row = Array.from({ length: V }, () => 2.5 * gaussian());
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  for (let b = 0; b < V; b++) logP[a * V + b] = row[b] - lse;
}

const ids = new BigInt64Array(B * T);
const mask = new BigInt64Array(B * T);
const logits = new Uint16Array(B * T * V);
for (let s = 0; s < B; s++) {
  let token = 1 + Math.floor(random() * (V - 1));
  for (let t = 0; t < T; t++) {
    const at = s * T + t;
    if (t < LENGTHS[s]) {
      ids[at] = BigInt(token);
      mask[at] = 1n;
    }
    const current = t < LENGTHS[s] ? token : 0;
    for (let v = 0; v < V; v++) logits[at * V + v] = floatToHalf(logP[current * V + v] + 0.8 * gaussian() + 3);
    // Draw the next token from the bigram distribution.
    let u = random();
    let next = V - 1;
    for (let v = 0; v < V; v++) {
      u -= Math.exp(logP[token * V + v]);
      if (u < 0) {
        next = v;
        break;
      }
    }
    token = next;
  }
}

const tensors = {
  logits: { dtype: 'F16', shape: [B, T, V], data: new Uint8Array(logits.buffer) },
  input_ids: { dtype: 'I64', shape: [B, T], data: new Uint8Array(ids.buffer) },
  attention_mask: { dtype: 'I64', shape: [B, T], data: new Uint8Array(mask.buffer) },
};
const header = { __metadata__: { format: 'pt' } };
let offset = 0;
for (const [name, t] of Object.entries(tensors)) {
  header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
  offset += t.data.length;
}
// The format pads the header with spaces so that the data start 8-byte aligned.
let json = JSON.stringify(header);
json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
const size = new DataView(new ArrayBuffer(8));
size.setBigUint64(0, BigInt(json.length), true);
const parts = [new Uint8Array(size.buffer), new TextEncoder().encode(json), ...Object.values(tensors).map((t) => t.data)];

const dataDir = fileURLToPath(new URL('../data/', import.meta.url));
mkdirSync(dataDir, { recursive: true });
writeFileSync(`${dataDir}sample-lm.safetensors`, Buffer.concat(parts));
console.log(`wrote ${dataDir}sample-lm.safetensors (logits F16 [${B}, ${T}, ${V}], input_ids and attention_mask I64 [${B}, ${T}])`);
