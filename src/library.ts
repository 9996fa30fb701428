// What every entry point exports besides its own init, initSync and createPool and the parts (src/parts.ts:
// the scorers, the pool, the float64 reference), which an entry point exports either as they are
// (index.ts and the entry points built on it) or as stand-ins that load them on first use (node.ts).
// The scorers' and the pool's classes are types here; each entry point exports their values.

export { Xentropy } from './api.js';
export type { PoolOptions, XentropyPool } from './pool/pool.js';
export type { PoolBinaryScorer, PoolMultilabelScorer, PoolScorer } from './pool/pool_scorer.js';
export type { Build, Features } from './engine/builds.js';
export type { ModuleSource } from './engine/driver.js';
export { Resident } from './engine/driver.js';
export type { ResidentArray, ResidentDtype } from './engine/driver.js';
export type {
  DistributionForm, FloatArrayInput, FloatValues, Float16ArrayLike, FocalOptions, HalfDtype, IndexTarget, LossAndGrad,
  ReducedLoss, Reduction, ResidentOptions, TensorLike, TensorOptions, Unit,
} from './ops/common.js';
export type { RowOptions } from './ops/row_ops.js';
export type {
  CrossEntropyBatch, CrossEntropyGradOptions, CrossEntropyInput, CrossEntropyOptions, CrossEntropyOverOptions,
  PerplexityOptions, PerplexityResult,
} from './ops/cross_entropy.js';
export type {
  BinaryCrossEntropyGradOptions, BinaryCrossEntropyOptions, BinaryInputForm, BinaryTarget, BinaryTargetInput,
} from './ops/binary_cross_entropy.js';
export type { EntropyOptions, EntropyReduction } from './ops/entropy.js';
export type {
  KlDivergenceOptions, KlDivergenceGradOptions, JsDivergenceOptions, KlInput, DivergenceReduction,
} from './ops/kl_divergence.js';
export { MAX_CONFUSION_CLASSES, QUANTILE_SLOTS } from './ops/common.js';
export type { Scorer } from './ops/scorer.js';
export type {
  ScorerOptions, ScorerInput, ScorerNumber, ScorerState, ScoreResult, CalibrationBin, PerClassResult, AveragedResult, Binning,
} from './ops/scorer.js';
export type { BinaryScorer, MultilabelScorer } from './ops/binary_scorer.js';
export type {
  BinaryCalibrationBin, BinaryConfusion, BinaryLabels, BinaryScoreResult, BinaryScorerInput, BinaryScorerOptions,
  BinaryScorerState, BinaryUpdateOptions, CalibrationBinning, LabelAverages, MultilabelScoreResult, MultilabelScorerOptions,
  MultilabelScorerState, PrecisionRecallCurve, RocCurve, StateNumber,
} from './ops/binary_scorer.js';
export type { InitOptions, InitSyncOptions } from './load/init.js';
