// Types of examples/train-iris.mjs, for the TypeScript test that runs it (test/example.test.ts).

/** One epoch: training loss before its gradient step, held-out loss and accuracy after it (nats). */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  heldOutLoss: number;
  heldOutAccuracy: number;
}

export interface TrainOptions {
  /** Full-batch gradient steps; default 200. */
  epochs?: number;
  /** Step size; default 0.5. */
  learningRate?: number;
  /** Seed of the shuffle that picks the held-out rows; default 1. */
  seed?: number;
  /** Receives one line per epoch; default console.log, null for quiet. */
  log?: ((line: string) => void) | null;
}

/** Trains softmax regression on iris; resolves to the per-epoch history and the [5, 3] weights. */
export function train(options?: TrainOptions): Promise<{
  history: EpochRecord[];
  weights: Float64Array;
  trainRows: number;
  heldOutRows: number;
}>;
