// Where the copying path's time goes, and why its windows reach 1 MiB: prints (writes nothing)
//  1. bare copies of W1's 16 MB into a WebAssembly memory and back out to a cold Float32Array, piece by
//     piece, for several piece sizes (in, out, and both), and
//  2. W1 (b) on the copying path's own pattern (copy a window in, crossEntropySparse on each 256 KiB
//     block of it with the gradient in place, copy the window out), each phase timed on its own, for
//     windows of 1 to 8 blocks.
// Medians of interleaved rounds (ROUNDS, default 30). glibc's memmove on AMD switches from `rep movsb`
// to a vector loop at its `rep_movsb_stop_threshold`, the L2 size it reads from the CPU (1 MiB on this
// VM, `getconf LEVEL2_CACHE_SIZE`); the machine, Node, glibc and that size are printed first.
//
//   npm run build && node bench/copy-windows.js      (about 1 minute)

import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { init } from '../dist/index.js';
import { chunkRows } from '../dist/engine/staging.js';
import { WORKLOADS, makeInputs } from './data.js';
import { median } from './report.js';

const ROUNDS = Number(process.env.ROUNDS ?? 30);
const KiB = 1024;

function glibc() {
  try {
    const version = execFileSync('getconf', ['GNU_LIBC_VERSION'], { encoding: 'utf8' }).trim();
    const l2 = Number(execFileSync('getconf', ['LEVEL2_CACHE_SIZE'], { encoding: 'utf8' }));
    return `${version}, L2 ${l2 / KiB} KiB as glibc reads it`;
  } catch {
    return 'glibc not found';
  }
}

const w1 = WORKLOADS.find((w) => w.name === 'W1');
const { logits, labels } = makeInputs(w1);
const C = w1.classes, N = w1.rows;
console.log(`# copy windows, ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} logical cores), Node ${process.version}, ${glibc()}`);
console.log(`W1 ${N}×${C} (${(logits.length * 4 / 1e6).toFixed(1)} MB), ${ROUNDS} interleaved rounds, medians in ms\n`);

// 1. Bare copies.
const memory = new WebAssembly.Memory({ initial: 160 });
const out = new Float32Array(logits.length);
function bareCopy(bytes, mode) {
  const per = bytes / 4;
  const t0 = performance.now();
  for (let a = 0; a < logits.length; a += per) {
    const b = Math.min(logits.length, a + per);
    const view = new Float32Array(memory.buffer, 0, b - a);
    if (mode !== 'out') view.set(logits.subarray(a, b));
    if (mode !== 'in') out.set(view, a);
  }
  return performance.now() - t0;
}
const pieces = [256 * KiB, 512 * KiB, 1000 * KiB, 1024 * KiB, 2048 * KiB];
const modes = ['in', 'out', 'both'];
const bare = new Map();
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of modes) for (const bytes of pieces) {
    const key = `${mode} ${bytes}`;
    if (!bare.has(key)) bare.set(key, []);
    bare.get(key).push(bareCopy(bytes, mode));
  }
}
console.log('| piece | copy in | copy out | both |');
console.log('|---|---|---|---|');
for (const bytes of pieces) {
  console.log(`| ${bytes / KiB} KiB | ${modes.map((m) => median(bare.get(`${m} ${bytes}`)).toFixed(2)).join(' | ')} |`);
}

// 2. The copying path's pattern, phase by phase.
const xe = await init({ build: 'simd' });
const d = xe.driver, k = d.kernels;
const per = chunkRows(C);
const windows = [1, 2, 4, 5, 8];
const [zBuf, yBuf] = d.reserve(Math.max(...windows) * per * C * 4, N * 4);
d.i32(yBuf, N).set(labels);
const grad = new Float32Array(logits.length);
function pipeline(blocks) {
  const span = blocks * per;
  let tin = 0, tkernel = 0, tout = 0;
  for (let w0 = 0; w0 < N; w0 += span) {
    const n = Math.min(span, N - w0);
    const t0 = performance.now();
    d.f32(zBuf, n * C).set(logits.subarray(w0 * C, (w0 + n) * C));
    const t1 = performance.now();
    for (let r = 0; r < n; r += per) {
      const z = zBuf + r * C * 4;
      k.crossEntropySparse(z, yBuf + (w0 + r) * 4, Math.min(per, n - r), C, 0, -100, 0, 0, 0, 0, z, 1 / N, 0);
    }
    const t2 = performance.now();
    grad.set(d.f32(zBuf, n * C), w0 * C);
    tin += t1 - t0; tkernel += t2 - t1; tout += performance.now() - t2;
  }
  return [tin, tkernel, tout];
}
const phases = windows.map(() => [[], [], []]);
for (let r = 0; r < ROUNDS; r++) {
  windows.forEach((blocks, i) => pipeline(blocks).forEach((t, j) => phases[i][j].push(t)));
}
console.log(`\nW1 (b), copying pattern, blocks of ${per} rows (${(per * C * 4 / KiB).toFixed(0)} KiB):\n`);
console.log('| window | copy in | kernel | copy out | total |');
console.log('|---|---|---|---|---|');
windows.forEach((blocks, i) => {
  const [a, b, c] = phases[i].map(median);
  console.log(`| ${blocks} blocks (${(blocks * per * C * 4 / KiB).toFixed(0)} KiB) | ${a.toFixed(2)} | ${b.toFixed(2)} | ${c.toFixed(2)} | ${(a + b + c).toFixed(2)} |`);
});
