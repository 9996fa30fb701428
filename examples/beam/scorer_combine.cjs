// An Apache Beam CombineFn over xentropy's scorer state, and the shard reader its pipeline maps with.
//
// The accumulator is the scorer's state (`scorer.state()`): a plain JSON object of O(bins + k)
// numbers, so any runner can encode it (Beam's default coder for JavaScript objects is BSON, which
// keeps every float64 and the strings a state uses for non-finite sums). Each method rebuilds a
// scorer from the state, works on it and hands back its new state; the WebAssembly instance is the
// one thing not serialised: each process makes its own, on first use.
//
// CommonJS, and registered with requireForSerialization under this package's name, because Beam
// ships functions to its workers by source and a remote worker `require`s the modules they name.

'use strict';

const { readFileSync } = require('node:fs');
const { initSync, Scorer } = require('xentropy');
const { requireForSerialization } = require('apache-beam/serialization');

let xe;
/** This process's xentropy instance (a Beam worker is a process of its own). */
function instance() {
  if (xe === undefined) xe = initSync();
  return xe;
}

/** The state of a scorer that has seen no rows. */
function emptyState(options) {
  return instance().scorer(options).state();
}

/** `state` with one batch of rows folded in: `{ logits, labels, bytes? }`, as `scorer.update` takes them. */
function addBatch(state, batch) {
  return Scorer.fromState(instance(), state).update(batch.logits, batch.labels, batch.bytes).state();
}

/**
 * One state holding the rows of all of `states`, merged in the order given into an empty one
 * (merging into an empty state copies the other's sums exactly).
 */
function mergeStates(options, states) {
  const scorer = instance().scorer(options);
  for (const s of states) scorer.merge(s);
  return scorer.state();
}

function resultOf(state) {
  return Scorer.fromState(instance(), state).result();
}

/**
 * A Beam CombineFn scoring batches of rows: each input is `{ logits, labels, bytes? }` (a Float32Array
 * [N, classes], N labels, optionally the bytes the rows stand for); the output is `scorer.result()`,
 * or with `{ output: 'state' }` the merged state itself.
 */
function scorerCombineFn(options, { output = 'result' } = {}) {
  if (output !== 'result' && output !== 'state') {
    throw new RangeError(`output must be 'result' or 'state', got ${JSON.stringify(output)}`);
  }
  emptyState(options); // checks the options here, where the pipeline is built, not on a worker
  // Beam serialises each function by its source and what `__closure` returns (what its TypeScript
  // transform writes for compiled code); the helpers are registered below, so they go by name.
  const createAccumulator = () => emptyState(options);
  createAccumulator.__closure = () => ({ emptyState, options });
  const addInput = (state, batch) => addBatch(state, batch);
  addInput.__closure = () => ({ addBatch });
  const mergeAccumulators = (states) => mergeStates(options, states);
  mergeAccumulators.__closure = () => ({ mergeStates, options });
  const extractOutput = output === 'state' ? (state) => state : (state) => resultOf(state);
  extractOutput.__closure = () => ({ resultOf });
  return { createAccumulator, addInput, mergeAccumulators, extractOutput };
}

/** A little-endian float32 or int32 array of a C-order .npy file (format version 1.0 to 3.0). */
function readNpy(path) {
  const bytes = readFileSync(path);
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new RangeError(`${path}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new RangeError(`${path}: Fortran order is not supported`);
  const Type = { '<f4': Float32Array, '<i4': Int32Array }[descr];
  if (Type === undefined || shape === undefined) {
    throw new RangeError(`${path}: dtype ${JSON.stringify(descr)} is not supported (float32 or int32, little-endian)`);
  }
  const dims = shape.split(',').filter((d) => d.trim() !== '').map(Number);
  const length = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  if (bytes.length !== offset + length * Type.BYTES_PER_ELEMENT) throw new RangeError(`${path}: truncated data`);
  // A copy, aligned for the typed array (the file's data starts at a multiple of 16, the Buffer may not).
  const array = new Type(length);
  new Uint8Array(array.buffer).set(bytes.subarray(offset));
  return { array, shape: dims };
}

/** Reads one shard `{ logits: path, labels: path }` into a batch for the CombineFn. */
function readShard(shard) {
  const logits = readNpy(shard.logits);
  const labels = readNpy(shard.labels);
  if (!(logits.array instanceof Float32Array) || !(labels.array instanceof Int32Array)) {
    throw new TypeError(`${shard.logits}, ${shard.labels}: logits must be float32 and labels int32`);
  }
  return { logits: logits.array, labels: labels.array };
}

module.exports = { scorerCombineFn, readShard, readNpy, emptyState, addBatch, mergeStates, resultOf };

// The workers of a portable runner require this module by the name below (package.json "exports").
requireForSerialization('xentropy-beam-example/scorer-combine', module.exports);
