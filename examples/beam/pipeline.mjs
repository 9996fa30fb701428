// Scores sharded .npy files with an Apache Beam pipeline: each shard is read into a batch of rows,
// and one CombineFn over xentropy's scorer state folds the batches, merges the partial states and
// extracts the result.
//
//   npm --prefix examples/beam test        (the test writes shards and checks the pipeline)
//
// See docs/evaluation.md ("On Apache Beam") for the same pipeline on Flink or Dataflow.

import { createRequire } from 'node:module';
import beam from 'apache-beam';

const require = createRequire(import.meta.url);
const { scorerCombineFn, readShard } = require('./scorer_combine.cjs');
const { outputs } = require('./local_sink.cjs');

/**
 * The pipeline over `shards` ([{ logits: path, labels: path }, ...]): a PCollection holding one
 * element, `{ score }`, the scorer's result over every row (or its state, with `{ output: 'state' }`).
 */
export function scorePipeline(shards, options, combineOptions) {
  const score = scorerCombineFn(options, combineOptions);
  return (root) =>
    root
      .apply(beam.create(shards))
      .map(readShard)
      .apply(beam.groupGlobally().combining((batch) => batch, score, 'score'));
}

/**
 * Runs the pipeline in this process (Beam's direct runner unless `runner` says otherwise) and
 * returns its one output.
 */
export async function scoreShards(shards, options, { runner = 'direct', output = 'result' } = {}) {
  const first = outputs.length;
  const pipeline = scorePipeline(shards, options, { output });
  const keep = (element) => {
    outputs.push(element.score);
  };
  keep.__closure = () => ({ outputs });
  await beam.createRunner({ runner }).run((root) => {
    pipeline(root).map(keep);
  });
  const produced = outputs.splice(first);
  if (produced.length !== 1) throw new Error(`the pipeline gave ${produced.length} outputs, expected one`);
  return produced[0];
}
