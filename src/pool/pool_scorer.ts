// The pool's scorer (`pool.scorer`): xe.scorer's evaluation with each update's rows folded on the
// pool's workers, ending with the state one thread would have had, bit for bit. The fold groups that
// make that possible are described in engine/score_groups.ts; the staging and the workers' runs are
// the pool's (pool.ts, #scoreUpdate). Everything else (options, checks, state, results, merge) is the
// one-thread Scorer's, which this class holds.

import type { Driver, Resident } from '../engine/driver.js';
import {
  binaryDataOf, binaryGroupRows, foldUpdate as foldBinaryUpdate, multilabelDataOf, readBinaryUpdate, type BinaryData, type BinaryLabels,
  type BinaryScorer, type BinaryScoreResult, type BinaryScorerState, type BinaryUpdate, type BinaryUpdateOptions,
  type MultilabelScoreResult, type MultilabelScorer, type MultilabelScorerState,
} from '../ops/binary_scorer.js';
import type { IndexTarget, FloatValues, TensorLike } from '../ops/common.js';
import {
  checkUpdateOf, dataOf, foldUpdate, type Scorer, type ScoreResult, type ScorerData, type ScorerState, type ScorerUpdate,
  type ScorerUpdateOptions,
} from '../ops/scorer.js';

/** @internal What a PoolScorer needs of its pool. */
export interface ScorerHost {
  driver: Driver;
  inlineBelow: number;
  /** Throws when the pool is closed. */
  checkOpen(): void;
  /** Folds a checked update into s on the workers; s is changed only once every worker has succeeded. */
  score(s: ScorerData, u: ScorerUpdate): Promise<void>;
  /** The same for a binary (one state) or multilabel (one per label) scorer's update. */
  scoreBinary(states: BinaryData[], u: BinaryUpdate): Promise<void>;
}

/** The message of an update, merge or reset refused while an update is in flight. */
function busyError(what: string): Error {
  return new Error(
    `this pool scorer is still running an update: await it before calling ${what} (the updates of one scorer run one at a time)`,
  );
}

/**
 * A scorer whose updates run on a pool's workers (`pool.scorer(options)`): the metrics, state, merge
 * and options of `xe.scorer`, and after the same updates the same `state()`, bit for bit, as a
 * one-thread scorer of the SIMD build (see docs/evaluation.md). `update` returns a Promise; everything
 * else is synchronous.
 *
 * One update at a time: an update called while another of the same scorer is in flight rejects (await
 * each update before the next), and so do `merge` and `reset` (they throw). `result()`, `state()` and
 * `count` may be read meanwhile: they show the rows of the updates that have settled.
 */
export class PoolScorer {
  readonly #scorer: Scorer;
  readonly #host: ScorerHost;
  #busy = false;

  /** @internal Use `pool.scorer(options)` or `pool.scorerFromState(state)`. */
  constructor(scorer: Scorer, host: ScorerHost) {
    this.#scorer = scorer;
    this.#host = host;
  }

  /** Rebuilds a pool scorer from `state()` (of a Scorer or a PoolScorer); same as `pool.scorerFromState(state)`. */
  static fromState(pool: { scorerFromState(state: ScorerState): PoolScorer }, state: ScorerState): PoolScorer {
    return pool.scorerFromState(state);
  }

  /** Rows counted so far. */
  get count(): number {
    return this.#scorer.count;
  }

  /**
   * Adds rows, as `Scorer.update` (same arguments, checks and errors), folded on the pool's workers.
   * Plain arrays are copied into the pool's shared memory; resident buffers of this pool (`pool.alloc`,
   * `pool.tensor`) are read where they lie, and must not change until the promise settles. Updates of
   * fewer than the pool's inlineBelow elements run on the calling thread, with the same result.
   * @returns a Promise of this scorer, once its state holds the rows
   * @throws (rejects with) TypeError / RangeError for a bad argument, and Error while another update
   *   of this scorer is in flight, before anything is changed; Error when a worker fails or the pool
   *   is closed, leaving the state as it was
   */
  async update(
    logits: FloatValues | TensorLike, labels: IndexTarget | TensorLike, bytesOrOptions?: number | ScorerUpdateOptions,
  ): Promise<this> {
    this.#host.checkOpen();
    this.#checkIdle('update');
    const host = this.#host, s = dataOf(this.#scorer);
    const u = checkUpdateOf(host.driver, s, logits, labels, bytesOrOptions, '; use pool.alloc or pool.tensor');
    if (u.rows * s.classes < host.inlineBelow) {
      foldUpdate(host.driver, s, u);
      return this;
    }
    this.#busy = true;
    try {
      await host.score(s, u);
    } finally {
      this.#busy = false;
    }
    return this;
  }

  /** The metrics of every row added (and merged) so far; see ScoreResult. */
  result(): ScoreResult {
    return this.#scorer.result();
  }

  /** A plain, versioned, JSON-serialisable copy of the state, as `Scorer.state`. */
  state(): ScorerState {
    return this.#scorer.state();
  }

  /**
   * Adds another scorer's rows (a PoolScorer, a Scorer, or a state from `state()`), as `Scorer.merge`.
   * @throws as Scorer.merge; Error while an update of this scorer is in flight
   */
  merge(other: PoolScorer | Scorer | ScorerState): this {
    this.#checkIdle('merge');
    // Only a genuine PoolScorer is read as one; anything else goes to Scorer.merge as it is.
    const isPool = typeof other === 'object' && other !== null && #scorer in other;
    this.#scorer.merge(isPool ? (other as PoolScorer).#scorer : other as Scorer | ScorerState);
    return this;
  }

  /**
   * Empties the scorer, keeping its options.
   * @throws Error while an update of this scorer is in flight
   */
  reset(): this {
    this.#checkIdle('reset');
    this.#scorer.reset();
    return this;
  }

  #checkIdle(what: string): void {
    if (this.#busy) throw busyError(what);
  }
}

/**
 * A binary or multilabel update on a pool: checked as the one-thread scorer checks it (before anything
 * changes), then folded on this thread below inlineBelow elements, else on the workers.
 */
async function binaryUpdate(
  host: ScorerHost, states: BinaryData[], scores: unknown, labels: unknown, options: unknown, busy: (on: boolean) => void,
): Promise<void> {
  const L = states.length;
  const u = readBinaryUpdate(states[0].config, L, scores, labels, options);
  if (!Number.isSafeInteger(states[0].count + u.rows * L)) throw new RangeError(`scores would make the count pass 2^53 - 1`);
  // An update of one fold group (binaryGroupRows) has nothing to share: it runs here too.
  if (u.rows * L < host.inlineBelow || u.rows <= binaryGroupRows(states[0].config, L)) {
    foldBinaryUpdate(states, u);
    return;
  }
  busy(true);
  try {
    await host.scoreBinary(states, u);
  } finally {
    busy(false);
  }
}

/**
 * A binary scorer whose updates run on a pool's workers (`pool.binaryScorer(options)`): `xe.binaryScorer`'s
 * options, checks, metrics and state, and after the same updates the same `state()` bit for bit. `update`
 * returns a Promise; one update at a time, as PoolScorer.
 */
export class PoolBinaryScorer {
  readonly #scorer: BinaryScorer;
  readonly #host: ScorerHost;
  #busy = false;

  /** @internal Use `pool.binaryScorer(options)` or `pool.binaryScorerFromState(state)`. */
  constructor(scorer: BinaryScorer, host: ScorerHost) {
    this.#scorer = scorer;
    this.#host = host;
  }

  /** Rebuilds a pool binary scorer from `state()`; same as `pool.binaryScorerFromState(state)`. */
  static fromState(pool: { binaryScorerFromState(state: BinaryScorerState): PoolBinaryScorer }, state: BinaryScorerState): PoolBinaryScorer {
    return pool.binaryScorerFromState(state);
  }

  /** Rows counted so far. */
  get count(): number {
    return this.#scorer.count;
  }

  /**
   * Adds rows, as `BinaryScorer.update` (same arguments, checks and errors), folded on the pool's workers
   * (on the calling thread below the pool's inlineBelow elements).
   * @throws (rejects with) as BinaryScorer.update, and Error while another update of this scorer is in
   *   flight, before anything is changed; Error when a worker fails or the pool is closed, leaving the
   *   state as it was
   */
  async update(scores: Float32Array | Resident | TensorLike, labels: BinaryLabels, options?: BinaryUpdateOptions): Promise<this> {
    this.#host.checkOpen();
    if (this.#busy) throw busyError('update');
    await binaryUpdate(this.#host, binaryDataOf(this.#scorer), scores, labels, options, (on) => { this.#busy = on; });
    return this;
  }

  /** The metrics of every row added (and merged) so far. */
  result(): BinaryScoreResult {
    return this.#scorer.result();
  }

  /** A plain, versioned, JSON-serialisable copy of the state, as `BinaryScorer.state`. */
  state(): BinaryScorerState {
    return this.#scorer.state();
  }

  /** Adds another scorer's rows (a PoolBinaryScorer, a BinaryScorer or a state). @throws as BinaryScorer.merge; Error during an update */
  merge(other: PoolBinaryScorer | BinaryScorer | BinaryScorerState): this {
    if (this.#busy) throw busyError('merge');
    const isPool = typeof other === 'object' && other !== null && #scorer in other;
    this.#scorer.merge(isPool ? (other as PoolBinaryScorer).#scorer : other as BinaryScorer | BinaryScorerState);
    return this;
  }

  /** Forgets every row (the options stay). @throws Error during an update */
  reset(): this {
    if (this.#busy) throw busyError('reset');
    this.#scorer.reset();
    return this;
  }
}

/**
 * A multilabel scorer whose updates run on a pool's workers (`pool.multilabelScorer(options)`), as
 * PoolBinaryScorer is to the binary one.
 */
export class PoolMultilabelScorer {
  readonly #scorer: MultilabelScorer;
  readonly #host: ScorerHost;
  #busy = false;

  /** @internal Use `pool.multilabelScorer(options)` or `pool.multilabelScorerFromState(state)`. */
  constructor(scorer: MultilabelScorer, host: ScorerHost) {
    this.#scorer = scorer;
    this.#host = host;
  }

  /** Rebuilds a pool multilabel scorer from `state()`; same as `pool.multilabelScorerFromState(state)`. */
  static fromState(
    pool: { multilabelScorerFromState(state: MultilabelScorerState): PoolMultilabelScorer }, state: MultilabelScorerState,
  ): PoolMultilabelScorer {
    return pool.multilabelScorerFromState(state);
  }

  /** The number of labels L. */
  get labels(): number {
    return this.#scorer.labels;
  }

  /** Rows counted so far. */
  get count(): number {
    return this.#scorer.count;
  }

  /** Adds rows, as `MultilabelScorer.update`, on the pool's workers. @throws as PoolBinaryScorer.update */
  async update(scores: Float32Array | Resident | TensorLike, labels: BinaryLabels, options?: BinaryUpdateOptions): Promise<this> {
    this.#host.checkOpen();
    if (this.#busy) throw busyError('update');
    await binaryUpdate(this.#host, multilabelDataOf(this.#scorer), scores, labels, options, (on) => { this.#busy = on; });
    return this;
  }

  /** Per-label metrics and their averages. */
  result(): MultilabelScoreResult {
    return this.#scorer.result();
  }

  /** A plain, versioned, JSON-serialisable copy of the state, as `MultilabelScorer.state`. */
  state(): MultilabelScorerState {
    return this.#scorer.state();
  }

  /** Adds another multilabel scorer's rows (pool or not), or a state's. @throws as MultilabelScorer.merge; Error during an update */
  merge(other: PoolMultilabelScorer | MultilabelScorer | MultilabelScorerState): this {
    if (this.#busy) throw busyError('merge');
    const isPool = typeof other === 'object' && other !== null && #scorer in other;
    this.#scorer.merge(isPool ? (other as PoolMultilabelScorer).#scorer : other as MultilabelScorer | MultilabelScorerState);
    return this;
  }

  /** Forgets every row. @throws Error during an update */
  reset(): this {
    if (this.#busy) throw busyError('reset');
    this.#scorer.reset();
    return this;
  }
}
