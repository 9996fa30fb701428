// The pool's protocol: what the main thread and a worker send each other, and errors as plain data
// (Error objects lose their class in a structured clone on some runtimes).

import type { BlockJob } from '../engine/blocks.js';
import type { ScoreJob } from '../engine/score_groups.js';
import type { BinaryScoreJob } from '../ops/binary_scorer.js';

/** Test-only: how a test makes a worker fail on its next job. */
export type FailMode = 'throw' | 'trap' | 'crash' | 'exit';

/** @internal Messages to a worker. */
export type ToWorker =
  | { type: 'init'; module: WebAssembly.Module; memory: WebAssembly.Memory }
  | { type: 'run'; id: number; job: BlockJob; b0: number; b1: number; steal: number }
  /**
   * Fold groups [g0, g1) of a scorer update (or, with `steal` != 0, groups taken one at a time from the
   * counter there until g1), with the count areas of worker slot `slot`. Answered by 'done' with the
   * rows counted as its one sum.
   */
  | { type: 'score'; id: number; job: ScoreJob; g0: number; g1: number; steal: number; slot: number }
  /**
   * A binary or multilabel scorer's update: fold groups taken from the counter at `steal` until none is
   * left. Answered by 'done' with each group's index and partials (ops/binary_scorer.ts, foldBinaryJob).
   */
  | { type: 'binary-score'; id: number; job: BinaryScoreJob; steal: number }
  | { type: 'fail'; how: FailMode };

/** @internal Plain-data error sent back by a worker. */
export interface PlainError { name: string; message: string; stack?: string }

/** @internal Messages from a worker. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: PlainError }
  | { type: 'done'; id: number; sums: Float64Array }
  | { type: 'error'; id: number; error: PlainError };

/** @internal An error as plain data, for a message. */
export function toPlain(error: unknown): PlainError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

/** @internal An Error rebuilt from a worker's plain-data error, keeping its name and the worker's stack. */
export function revive(plain: PlainError): Error {
  const error = new Error(plain.message);
  error.name = plain.name;
  if (plain.stack) error.stack = plain.stack;
  return error;
}
