// xentropy/eval: evaluation outside the command line, in any runtime (browsers included; no node: import
// and no WebAssembly of its own). Reading .npy, .npz and .safetensors arrays from bytes or a Blob,
// scoring them as `xentropy score` does with a scorer of the library's (`xe` from `init()`), and the
// self-contained HTML report. A plain `import 'xentropy'` does not load it (docs/evaluation.md, "In the
// browser"; examples/browser-eval/).

export {
  type ArrayData, type ArrayInfo, type ArraySource, type OpenArrayOptions, listArrays, openArray, readArray,
} from './arrays/bytes.js';
export { ArrayFileError, type ArrayReader, type ElementType } from './arrays/reader.js';
export { NpyFormatError } from './arrays/npy.js';
export {
  type ScoreArraysOptions, type ScoreInputs, type ScoreReport, type ScorerFactory, type ScorerLike, scoreArrays, scoreJson,
  scoreReportHtml,
} from './eval/score.js';
export {
  type AverageMetrics, type BinaryReport, type ClassMetrics, type MulticlassReport, type MultilabelReport, type PrCurve,
  type ReportInput, type ReportOptions, type RocCurve, renderReport,
} from './report/html.js';
