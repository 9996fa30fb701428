// The kernel ABI: what assembly/index.ts exports, as TypeScript sees it. Every kernel takes byte
// addresses and sizes only and imports nothing; the driver (driver.ts) owns the memory they point into.

/** Raw kernel exports: pointers and sizes only (see assembly/index.ts). */
export interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  buildFeatures(): number;
  logSumExp(src: number, dst: number, rows: number, cols: number): void;
  logSoftmax(src: number, dst: number, rows: number, cols: number): void;
  softmax(src: number, dst: number, rows: number, cols: number): void;
  crossEntropySparse(
    logits: number, labels: number, rows: number, cols: number,
    weight: number, ignoreIndex: number, smoothing: number, sampleWeight: number, zLoss: number,
    lossOut: number, gradOut: number, gradScale: number,
    /** What logits holds: 0 float32, 1 float16 or 2 bfloat16 bits (then gradOut must be 0). */
    kind: number,
  ): number;
  crossEntropySoft(
    logits: number, target: number, rows: number, cols: number,
    weight: number, smoothing: number, sampleWeight: number, zLoss: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  crossEntropyProbsSparse(
    input: number, labels: number, rows: number, cols: number,
    weight: number, ignoreIndex: number, smoothing: number, sampleWeight: number, probs: number, eps: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  crossEntropyProbsSoft(
    input: number, target: number, rows: number, cols: number,
    weight: number, smoothing: number, sampleWeight: number, probs: number, eps: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  binaryCrossEntropyLogits(
    input: number, target: number, n: number, cols: number, weight: number, posWeight: number,
    smoothing: number, lossOut: number, lossScale: number, gradOut: number, gradScale: number, scratch: number,
  ): number;
  /** Bytes of scratch binaryCrossEntropyLogits needs (16-byte aligned, its own). */
  binaryScratchBytes(): number;
  /** Index of the first of n floats at p outside [lo, hi] (NaN included), or -1. */
  firstOutside(p: number, n: number, lo: number, hi: number): number;
  binaryCrossEntropyProbs(
    input: number, target: number, n: number, cols: number, weight: number, lo: number, hi: number,
    smoothing: number, lossOut: number, lossScale: number, gradOut: number, gradScale: number,
  ): number;
  binaryFocal(
    input: number, target: number, n: number, cols: number, weight: number, probs: number, lo: number, hi: number,
    smoothing: number, gamma: number, alpha: number, lossOut: number, lossScale: number, gradOut: number, gradScale: number,
  ): number;
  entropy(src: number, rows: number, cols: number, fromLogits: number, lossOut: number, unit: number): number;
  klDivergence(
    target: number, q: number, rows: number, cols: number,
    form: number, logTarget: number, eps: number,
    lossOut: number, gradOut: number, gradScale: number, unit: number,
  ): number;
  jsDivergence(p: number, q: number, rows: number, cols: number, fromLogits: number, lossOut: number, unit: number): number;
  focalSparse(
    logits: number, labels: number, rows: number, cols: number,
    weight: number, ignoreIndex: number, smoothing: number, sampleWeight: number, gamma: number, alpha: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  focalSoft(
    logits: number, target: number, rows: number, cols: number,
    weight: number, smoothing: number, sampleWeight: number, gamma: number, alpha: number,
    lossOut: number, gradOut: number, gradScale: number,
  ): number;
  softcapForward(src: number, dst: number, n: number, cap: number): void;
  softcapBackward(capped: number, grad: number, n: number, cap: number): void;
  /**
   * dst[i] = float32 of element i of src for n elements: kind 1 float16 bits, 2 bfloat16 bits (u16
   * each; exact), 3 float64 (rounded to nearest even). dst and src do not overlap.
   */
  widen(src: number, dst: number, n: number, kind: number): void;
  scoreRows(
    input: number, labels: number, rows: number, cols: number, ignoreIndex: number, from: number, eps: number,
    state: number, topK: number, bins: number, losses: number, classCounts?: number, confusion?: number,
  ): number;
}
