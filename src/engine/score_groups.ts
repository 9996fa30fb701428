// How the scorer folds an update's rows into its state, on one thread or on the pool's workers, so
// that both give the same bits.
//
// An update's rows are cut into fold groups of groupRows(classes) consecutive rows (whole staging
// chunks, about GROUP_ELEMENTS elements), fixed by (rows, classes) alone. Each group's rows fold in row
// order (the kernel scoreRows, assembly/score.ts) into a zeroed partial in the kernel's state layout;
// the partials then merge into the running state in group order (mergePartial), as the scorer's merge
// adds two states. An update of one group (or none) has nothing to split: its rows fold straight into
// the running state, which spares small updates the partial's cost (O(bins)). One thread merges each group as it ends; the pool's workers fold groups into one
// partial slot each, whichever worker runs them, and the main thread merges the slots in group order
// afterwards: the same operations on the same numbers in the same order. The per-class and confusion
// counts, exact integers in f64 whose sum does not depend on its order, accumulate in place (one
// thread) or per worker (the pool), and are added afterwards.

import type { Kernels } from './kernels.js';
import { chunkRows } from './staging.js';

/**
 * Elements per fold group: large enough that zeroing and merging a partial (O(bins), bins x 256
 * slots with quantile binning) costs well under 1% of scoring its rows, small enough that W1-sized
 * updates (10^8 elements) give the pool's workers ~100 groups to share.
 */
export const GROUP_ELEMENTS = 1 << 20;

/** @internal Rows per fold group: the whole staging chunks (chunkRows) that hold about GROUP_ELEMENTS elements, at least one. */
export function groupRows(classes: number): number {
  const per = chunkRows(classes);
  return per * Math.max(1, Math.round(GROUP_ELEMENTS / (per * classes)));
}

/** @internal f64s of the kernel's state layout for K top-k values and B bins (slots). */
export function stateLength(K: number, B: number): number {
  return 6 + 2 * K + 4 * B;
}

/** @internal Empties a partial in the kernel's layout: zero counts and sums, and the k of each top-k. */
export function zeroPartial(p: Float64Array, topK: readonly number[]): void {
  p.fill(0);
  for (let j = 0; j < topK.length; j++) p[6 + j] = topK[j];
}

/** Neumaier's compensated addition of x into m[i] (sum), m[c] (compensation), as the scorer's merge. */
function addAt(m: Float64Array, i: number, c: number, x: number): void {
  const s = m[i];
  const t = s + x;
  // An infinite sum has no rounding error to recover (and inf - inf would make the compensation NaN).
  if (Number.isFinite(t)) m[c] += Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s;
  m[i] = t;
}

/**
 * @internal
 * Merges a group's partial p into the running state m (both in the kernel's layout: K top-k values, B
 * bins), as the scorer's merge adds a state: counts add, and each compensated sum takes the partial's
 * compensation, then its sum by compensated addition. A bin no row of the group fell in (count 0, so
 * its sums are exactly 0) is skipped.
 */
export function mergePartial(m: Float64Array, p: Float64Array, K: number, B: number): void {
  m[0] += p[0];
  m[1] += p[1];
  for (let j = 0; j < K; j++) m[6 + K + j] += p[6 + K + j];
  m[3] += p[3];
  addAt(m, 2, 3, p[2]);
  m[5] += p[5];
  addAt(m, 4, 5, p[4]);
  const o = 6 + 2 * K;
  for (let b = o; b < o + B; b++) {
    if (p[b] === 0) continue;
    m[b] += p[b];
    m[b + B] += p[b + B];
    m[b + 3 * B] += p[b + 3 * B];
    addAt(m, b + 2 * B, b + 3 * B, p[b + 2 * B]);
  }
}

/**
 * @internal
 * One scorer update as the pool's workers run it: every address was reserved by the main thread, which
 * staged the rows and labels (and zeroed the count areas) before sending it.
 */
export interface ScoreJob {
  rows: number;
  classes: number;
  /** Rows per fold group (groupRows) and per staging chunk (chunkRows). */
  group: number;
  per: number;
  /** float32 rows [rows, classes]; with `widen`, written there from the raw rows chunk by chunk. */
  input: number;
  /** int32 labels, ignoreIndex on every row not counted. */
  labels: number;
  ignoreIndex: number;
  /** 0 logits, 1 probabilities, 2 log-probabilities (scoreRows' from). */
  from: number;
  epsilon: number;
  topK: number[];
  /** Bins of the kernel's layout (bins x QUANTILE_SLOTS with quantile binning). */
  slots: number;
  /** Group g's partial: stateLength(topK.length, slots) f64s at partials + 8 g stateLength. */
  partials: number;
  /** Per-row losses (f64, row r at losses + 8 r), or 0. */
  losses: number;
  /** Per-class counts of worker slot w at counts + 8 w countsLength (0: none), and confusion cells likewise. */
  counts: number;
  countsLength: number;
  cells: number;
  cellsLength: number;
  /** An input of another element type, staged raw at src (`bytes` an element), widened (kind `code`) into `input`. */
  widen: { src: number; bytes: number; code: number } | null;
  /** One group only: its slot holds the running state (written by the main thread), folded into as it is. */
  direct: boolean;
}

/**
 * @internal
 * Folds groups [g0, g1) of a job, each into its own partial, with worker slot `slot`'s count areas.
 * `f64` gives a view of the shared memory. Returns the rows counted.
 */
export function runScoreGroups(
  k: Kernels, f64: (ptr: number, length: number) => Float64Array, job: ScoreJob, g0: number, g1: number, slot: number,
): number {
  const { rows, classes: C, group, per, topK, slots } = job;
  const length = stateLength(topK.length, slots);
  const counts = job.counts ? job.counts + 8 * slot * job.countsLength : 0;
  const cells = job.cells ? job.cells + 8 * slot * job.cellsLength : 0;
  const w = job.widen;
  let counted = 0;
  for (let g = g0; g < g1; g++) {
    const partial = job.partials + 8 * g * length;
    if (!job.direct) zeroPartial(f64(partial, length), topK);
    const end = Math.min(rows, (g + 1) * group);
    // A chunk per call, as one thread scores them: another element type is widened a chunk at a time
    // (kept in cache for the kernel), and a fresh worker's engine moves the kernel to optimised code
    // between calls (WebAssembly has no on-stack replacement). The rows fold in order into the partial.
    for (let r0 = g * group; r0 < end; r0 += per) {
      const n = Math.min(per, end - r0);
      if (w) k.widen(w.src + r0 * C * w.bytes, job.input + r0 * C * 4, n * C, w.code);
      counted += k.scoreRows(
        job.input + r0 * C * 4, job.labels + r0 * 4, n, C, job.ignoreIndex, job.from, job.epsilon, partial, topK.length,
        slots, job.losses ? job.losses + r0 * 8 : 0, counts, cells,
      );
    }
  }
  return counted;
}
