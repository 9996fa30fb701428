// What the entry points that load the parts with the rest export besides their own init and initSync:
// the library (src/library.ts) and its parts (src/parts.ts), as they are. index.ts and the entry points
// of browsers, workers, workerd and edge-light re-export this module, not index.ts, whose own init
// would otherwise be bundled into a chunk they all load.

export * from './library.js';
export {
  BinaryScorer, createPool, MultilabelScorer, PoolBinaryScorer, PoolMultilabelScorer, PoolScorer, reference, Scorer, XentropyPool,
} from './parts.js';
