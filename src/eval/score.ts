// Scoring saved arrays, as `xentropy score` does, in any runtime: the logits read a chunk at a time
// from an ArrayReader (src/arrays/), each chunk handed to a scorer, the labels (and an attention mask)
// read whole. The result is the same object the command line prints with --json (scoreJson) and draws
// with --report (scoreReportHtml), number for number: a browser page (examples/browser-eval/) gives the
// same figures as the command line on the same files.
//
// The scorer comes from the caller (`xe`, an initialised instance, or anything with the same
// `scorer(options)`), so this module loads no WebAssembly of its own and imports the library's types only.

import type { ArrayReader, ElementType, FloatData } from '../arrays/reader.js';
import { ELEMENT_SIZE, elementCount, floatAt, floatInput, floatView, intData, isFloat, shapeText } from '../arrays/reader.js';
import { describeValue, printable } from '../arrays/npy.js';
import type { CalibrationBin, ScoreResult, Scorer, ScorerInput, ScorerOptions } from '../ops/scorer.js';
import { renderReport } from '../report/html.js';

/** Bytes of the logits read per chunk when no chunkRows is given (as the command line). */
export const CHUNK_BYTES = 16 * 1024 * 1024;
/** The top-k accuracies reported without options.topK (those below the number of classes). */
const DEFAULT_TOP_K = [1, 5];
/** @internal Most rows scored: the labels are held in memory whole, as int32 (4 bytes a row). */
export const MAX_ROWS = 2 ** 31 - 1;
/** @internal Most classes: the scorer's limit (a row must fit in wasm32 memory). */
export const MAX_CLASSES = 2 ** 28;
/** The scorer's limit for confusion counts (ops/common.ts MAX_CONFUSION_CLASSES; a type-only import cannot give the value). */
const MAX_CONFUSION_CLASSES = 1024;
/** Tolerance of the probability check: softmax outputs in float32 sum to 1 within far less. */
const PROBABILITY_SUM_TOLERANCE = 1e-3;

/** What scoreArrays needs of a scorer: `xe.scorer(options)`'s update and result (result may be asynchronous). */
export interface ScorerLike {
  update(...args: Parameters<Scorer['update']>): unknown;
  result(): ScoreResult | PromiseLike<ScoreResult>;
}

/** Where scoreArrays gets its scorer: an initialised instance (`await init()`), or anything with its `scorer`. */
export interface ScorerFactory {
  scorer(options: ScorerOptions): ScorerLike;
}

/** The arrays of one run, opened (openArray): logits [N, C] or [B, T, V], labels [N] or [B, T], and a [B, T] mask. */
export interface ScoreInputs {
  logits: ArrayReader;
  labels: ArrayReader;
  mask?: ArrayReader;
}

/** Options of scoreArrays: those of `xentropy score` (--top-k, --bins, --ignore-index, --probs, --shift, ...). */
export interface ScoreArraysOptions {
  /** Top-k accuracies to compute, each below the number of classes (default: 1 and 5, those below it). */
  topK?: number[];
  /** Calibration bins (default 15). */
  bins?: number;
  /** Rows with this label are skipped; without it every label must be a class. */
  ignoreIndex?: number;
  /** What the logits array holds (default 'logits'). */
  from?: ScorerInput;
  /** [B, T, V] logits: position t is scored against label t + 1 of its sequence (a causal language model). */
  shift?: boolean;
  /** [B, T, V] logits: report per-sequence loss, perplexity and tokens. */
  perSequence?: boolean;
  /** Logits rows (sequences for [B, T, V]) per chunk; default: as many as fit in CHUNK_BYTES (at least 1). */
  chunkRows?: number;
  /**
   * Called after each chunk with the rows done so far and N; a promise it returns is awaited before the
   * next chunk (a page can let the browser paint its progress bar).
   */
  onProgress?: (done: number, total: number) => void | PromiseLike<void>;
  /**
   * Also count the confusion matrix, for the report's heat map (`xentropy score --report` does), when C
   * is at most MAX_CONFUSION_CLASSES (1024); above it the counts are not kept and the report has none.
   */
  confusion?: boolean;
}

/** What scoreArrays reports: the `--json` figures (see scoreJson) and what was read. */
export interface ScoreReport {
  /** Rows N (B × T for [B, T, V] logits). */
  n: number;
  /** Classes C. */
  classes: number;
  /** Mean cross-entropy per counted row in nats; in bits; exp(lossNats). */
  lossNats: number;
  lossBits: number;
  perplexity: number;
  /** Fraction of counted rows whose arg-max logit (first on ties) is the label. */
  accuracy: number;
  /** Rows counted: N less those ignored, masked or (with shift) not predicting. */
  count: number;
  /** Top-k accuracy by k. */
  topK: Record<string, number>;
  brier: number;
  ece: number;
  mce: number;
  bins: CalibrationBin[];
  /** [B, T, V] logits: B and T. */
  sequences?: number;
  sequenceLength?: number;
  /** With perSequence: per-sequence results (plain arrays). */
  perSequence?: { lossNats: number[]; perplexity: number[]; tokens: number[] };
  logitsDtype: ElementType;
  labelsDtype: ElementType;
  maskDtype?: ElementType;
  /** Shape of the logits: [N, C] or [B, T, V]. */
  shape: number[];
  /** The arrays read, as named in messages (a file, and :NAME for a member). */
  names: { logits: string; labels: string; mask?: string };
  /** Whether shift was applied. */
  shifted: boolean;
  /** Rows the arg-max picked the label for. */
  correct: number;
  /** Chunks the logits were read in. */
  chunks: number;
  /** With from 'logits': every row lies in [0, 1] and sums to 1 within 1e-3 (they look like probabilities). */
  looksLikeProbabilities: boolean;
  /** The scorer's per-class figures, for the report (not part of the JSON). */
  classMetrics: Pick<ScoreResult, 'perClass' | 'macro' | 'micro' | 'weighted' | 'balancedAccuracy' | 'rmsce' | 'confusion'>;
}

/** An array for messages: its label, control characters escaped, length bounded. */
function shown(label: string): string {
  return printable(label, 1000);
}

/**
 * @internal The scorer's options for logits of `classes` classes in sequences of T positions (1 for
 * [N, C]), as scoreArrays and the command line give them, and whether updates go by sequence (with
 * shift, a mask or per-sequence results; [B, T, V] without them is T rows per sequence). `options`
 * are read as scoreArrays takes them; labels are checked against classes before, so the scorer's
 * default ignoreIndex (-100, which must be an int32) cannot collide with one.
 */
export function arrayScorerOptions(
  classes: number, T: number,
  options: Pick<ScoreArraysOptions, 'topK' | 'bins' | 'from' | 'ignoreIndex' | 'confusion' | 'shift' | 'perSequence'>, masked: boolean,
): { scorerOptions: ScorerOptions; bySequence: boolean } {
  const shift = options.shift === true, perSequence = options.perSequence === true;
  const scorerOptions: Record<string, unknown> = {
    classes, topK: options.topK ?? DEFAULT_TOP_K.filter((k) => k < classes), bins: options.bins, from: options.from,
    ignoreIndex: options.ignoreIndex ?? -100,
    // The report's heat map; beyond MAX_CONFUSION_CLASSES its C x C counts are not kept.
    ...(options.confusion === true && classes <= MAX_CONFUSION_CLASSES && { confusion: true }),
  };
  const bySequence = shift || masked || perSequence;
  if (bySequence) Object.assign(scorerOptions, { sequenceLength: T, ...(shift && { shift }), ...(perSequence && { perSequence }) });
  return { scorerOptions: scorerOptions as unknown as ScorerOptions, bySequence };
}

/**
 * @internal How the checks of scored arrays name things and fail: scoreArrays names arrays and options
 * (`logits x.npy`, `options.shift`) and throws TypeError / RangeError; the command line names files
 * and flags (`logits file x.npy`, `--shift`) and throws its own error, which sets its exit status.
 */
export interface ArrayWording {
  /** An array's label as a message shows it (control characters escaped, length bounded). */
  shown(label: string): string;
  /** What precedes an array's label: 'logits' or 'logits file' (likewise labels and mask). */
  noun(what: 'logits' | 'labels' | 'mask'): string;
  /** A setting's name: 'options.shift' or '--shift', and so on. */
  setting(which: 'shift' | 'mask' | 'perSequence' | 'topK'): string;
  /** The error to throw; `usage` marks a mistake in the settings rather than in the arrays. */
  error(kind: 'type' | 'range', message: string, usage?: boolean): Error;
  /** What to tell a caller whose logits have one class. */
  oneClass(inputs: ScoreInputs): string;
  /** Reads `count` elements of a labels or mask array whole. */
  readWhole(input: ArrayReader, count: number, what: 'labels' | 'mask'): Promise<Uint8Array>;
}

/** scoreArrays' wording. */
const ARRAYS: ArrayWording = {
  shown,
  noun: (what) => what,
  setting: (which) => (which === 'mask' ? 'inputs.mask' : `options.${which}`),
  error: (kind, message) => (kind === 'type' ? new TypeError(message) : new RangeError(message)),
  oneClass: () => "save a binary classifier's logit z as the two columns [0, z] (their softmax is [1 - sigmoid(z), sigmoid(z)])",
  readWhole: (input, count) => input.read(count),
};

/** @internal What checkArrayShape finds in the logits' shape. */
export interface ArrayShape {
  /** C, the last dimension. */
  classes: number;
  /** Positions per sequence: T of [B, T, V], 1 for [N, C]. */
  T: number;
  /** Rows: N, or B * T. */
  n: number;
  /** Units a chunk holds whole: sequences for [B, T, V], else rows. */
  units: number;
  /** Whether the logits are [B, T, V]. */
  sequences: boolean;
  /** The shape of the labels (and the mask): the logits' without its last dimension. */
  positions: number[];
}

/**
 * @internal The checks of scored logits before anything is read: a float type, [N, C] or [B, T, V]
 * (the latter for shift, a mask or per-sequence results), C in [2, 2^28], every requested top-k
 * below C, at most 2^31 - 1 rows. Shared by scoreArrays and the command line.
 */
export function checkArrayShape(
  inputs: ScoreInputs, options: { shift: boolean; perSequence: boolean; topK?: unknown }, wording: ArrayWording,
): ArrayShape {
  const { logits, mask } = inputs;
  const w = wording, named = `${w.noun('logits')} ${w.shown(logits.label)}`;
  if (!isFloat(logits.type)) {
    throw w.error('type', `${named} has dtype ${logits.type}; expected float32, float64, float16 or bfloat16`);
  }
  const dims = logits.shape;
  if (dims.length !== 2 && dims.length !== 3) {
    throw w.error('type', `${named} has shape ${shapeText(dims)}; expected 2 dimensions [N, C], or 3 [B, T, V] for sequences`);
  }
  const sequences = dims.length === 3;
  const { shift } = options;
  if (!sequences && (shift || mask !== undefined || options.perSequence)) {
    const what = w.setting(shift ? 'shift' : mask !== undefined ? 'mask' : 'perSequence');
    throw w.error('type', `${what} needs logits of shape [B, T, V]; ${named} has shape ${shapeText(dims)}`);
  }
  const classes = dims[dims.length - 1];
  if (classes < 1) throw w.error('range', `${named} has shape ${shapeText(dims)}; C must be at least 1`);
  if (classes === 1) {
    throw w.error('range', `${named} has shape ${shapeText(dims)}: a softmax over one class is always 1, so there is nothing to score; ${w.oneClass(inputs)}`);
  }
  // Every row would be a top-k hit: a k asked for is refused (the default list drops such k).
  const tooLarge = Array.isArray(options.topK) ? options.topK.find((k) => typeof k === 'number' && k >= classes) : undefined;
  if (tooLarge !== undefined) {
    throw w.error('range', `${w.setting('topK')} ${tooLarge} is not below the ${classes} classes of ${named}: every row would be a top-${tooLarge} hit`, true);
  }
  // Refused before anything is allocated: beyond these the labels or a row cannot be held in memory.
  if (classes > MAX_CLASSES) throw w.error('range', `${named} has ${classes} classes; at most ${MAX_CLASSES} (2^28) are supported`);
  const T = sequences ? dims[1] : 1;
  const n = sequences ? dims[0] * T : dims[0];
  if (n > MAX_ROWS) throw w.error('range', `${named} has ${n} rows; at most ${MAX_ROWS} (2^31 - 1) can be scored, as the labels are held in memory`);
  return { classes, T, n, units: sequences ? dims[0] : n, sequences, positions: dims.slice(0, -1) };
}

/**
 * @internal The labels and the mask, read whole after their type and shape are checked, and every
 * label that is scored checked to be a class: with shift the first position of each sequence is no
 * target, and a masked position's id may be padding. Checked here rather than left to the scorer so
 * that the message names the array, and so that a label equal to the scorer's default ignoreIndex
 * (-100) is an error instead of a silently skipped row. Without ignoreIndex no label is ignored.
 */
export async function readArrayLabels(
  inputs: ScoreInputs, shape: ArrayShape, options: { shift: boolean; ignoreIndex?: number }, wording: ArrayWording,
): Promise<{ labels: Int32Array; mask: Int32Array | undefined }> {
  const { logits, labels, mask } = inputs;
  const y = await readIndices(labels, 'labels', logits, shape.positions, wording);
  const m = mask === undefined ? undefined : await readIndices(mask, 'mask', logits, shape.positions, wording);
  const { n, T, classes } = shape;
  if (n === 0) throw wording.error('range', `${wording.noun('logits')} ${wording.shown(logits.label)} has no rows to score`);
  // -2^31 - 1 is no int32.
  const ignoreIndex = options.ignoreIndex ?? -(2 ** 31) - 1;
  const { shift } = options;
  for (let r = 0; r < n; r++) {
    if ((shift && r % T === 0) || (m !== undefined && m[r] === 0)) continue;
    if ((y[r] < 0 || y[r] >= classes) && y[r] !== ignoreIndex) {
      throw wording.error('range', `${wording.noun('labels')} ${wording.shown(labels.label)}: label ${y[r]} at index ${r} is not a class in [0, ${classes})`);
    }
  }
  return { labels: y, mask: m };
}

/**
 * Scores logits against labels as `xentropy score` does, reading the logits a chunk at a time (of rows,
 * or of whole sequences for [B, T, V] logits) and the labels and mask whole. Does not close the readers.
 * @param xe an initialised instance (`await init()`), or anything with its `scorer(options)`
 * @throws TypeError for arrays of the wrong kind (float labels, integer logits, logits that are neither
 *   2-D nor 3-D, shift / mask / perSequence with 2-D logits); RangeError for shapes that do not match,
 *   too many rows or classes, a label that is not a class, a topK not below the classes, an out-of-range
 *   probability; the scorer's own TypeError / RangeError for bad options; NpyFormatError (ArrayFileError)
 *   for a file whose data are damaged or end early
 */
export async function scoreArrays(xe: ScorerFactory, inputs: ScoreInputs, options: ScoreArraysOptions = {}): Promise<ScoreReport> {
  if (xe === null || typeof xe !== 'object' || typeof (xe as Partial<ScorerFactory>).scorer !== 'function') {
    throw new TypeError(`xe must be an initialised instance (await init()), got ${describeValue(xe)}`);
  }
  if (inputs === null || typeof inputs !== 'object') throw new TypeError(`inputs must be { logits, labels, mask? } of opened arrays, got ${describeValue(inputs)}`);
  for (const key of ['logits', 'labels', 'mask'] as const) {
    const reader = inputs[key];
    if ((reader !== undefined || key !== 'mask') && (reader === null || typeof reader !== 'object' || typeof (reader as Partial<ArrayReader>).read !== 'function')) {
      throw new TypeError(`inputs.${key} must be an opened array (openArray), got ${describeValue(reader)}`);
    }
  }
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object, got ${describeValue(options)}`);
  const { logits, labels, mask } = inputs;
  const logitsName = shown(logits.label);
  const dims = logits.shape;
  const shift = options.shift === true, perSequence = options.perSequence === true;
  const shape = checkArrayShape(inputs, { shift, perSequence, topK: options.topK }, ARRAYS);
  const { classes, T, n, units, sequences } = shape;
  const per = chunkUnits(options.chunkRows, units, T * classes * ELEMENT_SIZE[logits.type]);
  const { labels: y, mask: m } = await readArrayLabels(inputs, shape, { shift, ignoreIndex: options.ignoreIndex }, ARRAYS);

  // A chunk holds whole sequences (units of T rows): the scorer shifts within a sequence.
  const chunkElements = per * T * classes;
  const bytes = new Uint8Array(chunkElements * ELEMENT_SIZE[logits.type]);
  const { scorerOptions, bySequence } = arrayScorerOptions(classes, T, options, m !== undefined);
  const scorer = xe.scorer(scorerOptions);
  let looksLikeProbabilities = (options.from ?? 'logits') === 'logits';
  let chunks = 0;
  for (let u0 = 0; u0 < units; u0 += per) {
    const u1 = Math.min(units, u0 + per);
    const r0 = u0 * T, r1 = u1 * T;
    const count = (r1 - r0) * classes;
    const raw = floatView(await logits.read(count, bytes.subarray(0, count * ELEMENT_SIZE[logits.type])), logits.type);
    if (looksLikeProbabilities) looksLikeProbabilities = rowsLookLikeProbabilities(raw, logits.type, classes);
    const z = floatInput(raw, sequences ? [u1 - u0, T, classes] : [r1 - r0, classes], logits.type);
    try {
      if (bySequence) {
        const b = u1 - u0;
        await scorer.update(
          z, { data: y.subarray(r0, r1), dims: [b, T] },
          m === undefined ? undefined : { attentionMask: { data: m.subarray(r0, r1), dims: [b, T] } },
        );
      } else {
        await scorer.update(z, y.subarray(r0, r1));
      }
    } catch (e) {
      // Probabilities out of range: name the array and the row in it rather than in the chunk.
      const match = e instanceof RangeError ? /^logits\[(\d+)\] = (\S+) (.*)$/.exec(e.message) : null;
      if (!match) throw e;
      const i = r0 * classes + Number(match[1]);
      throw new RangeError(`logits ${logitsName}: value ${match[2]} at row ${Math.floor(i / classes)}, class ${i % classes} ${match[3]}`);
    }
    chunks++;
    await options.onProgress?.(r1, n);
  }
  await logits.finish();
  const r = await scorer.result();
  const report: ScoreReport = {
    n, classes, lossNats: r.lossNats, lossBits: r.lossBits, perplexity: r.perplexity,
    accuracy: r.accuracy, count: r.count, topK: r.topK, brier: r.brier, ece: r.ece, mce: r.mce, bins: r.bins,
    logitsDtype: logits.type, labelsDtype: labels.type, maskDtype: mask?.type, shape: [...dims], shifted: shift,
    names: { logits: logits.label, labels: labels.label, mask: mask?.label },
    // accuracy is correct / count, exactly rounded: correct is recovered exactly below 2^52 rows.
    correct: r.count === 0 ? 0 : Math.round(r.accuracy * r.count), chunks, looksLikeProbabilities,
    classMetrics: {
      perClass: r.perClass, macro: r.macro, micro: r.micro, weighted: r.weighted, balancedAccuracy: r.balancedAccuracy, rmsce: r.rmsce,
      confusion: r.confusion,
    },
  };
  if (sequences) Object.assign(report, { sequences: dims[0], sequenceLength: T });
  if (perSequence) {
    const p = r.perSequence;
    if (p === undefined) throw new Error('the scorer gave no perSequence results');
    report.perSequence = { lossNats: Array.from(p.lossNats), perplexity: Array.from(p.perplexity), tokens: Array.from(p.tokens) };
  }
  return report;
}

/**
 * The figures `xentropy score --json` prints, in its order: { n, classes, lossNats, lossBits,
 * perplexity, accuracy, count, topK, brier, ece, mce, bins } and, for [B, T, V] logits, sequences and
 * sequenceLength, and perSequence when asked for. JSON.stringify of it is the command line's line.
 */
export function scoreJson(report: ScoreReport): Record<string, unknown> {
  const { n, classes, lossNats, lossBits, perplexity, accuracy, count, topK, brier, ece, mce, bins } = report;
  const json: Record<string, unknown> = { n, classes, lossNats, lossBits, perplexity, accuracy, count, topK, brier, ece, mce, bins };
  if (report.sequences !== undefined) Object.assign(json, { sequences: report.sequences, sequenceLength: report.sequenceLength });
  if (report.perSequence !== undefined) json.perSequence = report.perSequence;
  return json;
}

/**
 * The self-contained HTML report of a run, as `xentropy score --report` writes it (renderReport with
 * the arrays read as details): no script, no request.
 * @param title the page's title (default 'xentropy score')
 */
export function scoreReportHtml(report: ScoreReport, title = 'xentropy score'): string {
  const { count, lossNats, lossBits, perplexity, accuracy, topK, brier, ece, mce, bins, classes } = report;
  const details: [string, string][] = [
    ['logits', `${report.names.logits} (${report.logitsDtype} [${report.shape.join(', ')}])`],
    ['labels', `${report.names.labels} (${report.labelsDtype})`],
  ];
  if (report.names.mask !== undefined) details.push(['mask', `${report.names.mask} (${report.maskDtype})`]);
  if (report.shifted) details.push(['shift', 'position t predicts token t + 1']);
  return renderReport({
    title,
    details,
    multiclass: { count, lossNats, lossBits, perplexity, accuracy, topK, brier, ece, mce, bins, classes, ...report.classMetrics },
  });
}

/**
 * @internal Whether every row lies in [0, 1] and sums to 1 within PROBABILITY_SUM_TOLERANCE (stops at
 * the first that does not); the command line's check too.
 */
export function rowsLookLikeProbabilities(data: FloatData, type: ElementType, classes: number): boolean {
  for (let start = 0; start < data.length; start += classes) {
    let sum = 0;
    for (let i = start; i < start + classes; i++) {
      const v = floatAt(data, type, i);
      if (!(v >= 0 && v <= 1)) return false;
      sum += v;
    }
    if (!(Math.abs(sum - 1) <= PROBABILITY_SUM_TOLERANCE)) return false;
  }
  return true;
}

/** Reads labels or a mask whole, after checking their type and shape against the logits'. */
async function readIndices(
  input: ArrayReader, what: 'labels' | 'mask', logits: ArrayReader, want: readonly number[], w: ArrayWording,
): Promise<Int32Array> {
  const named = `${w.noun(what)} ${w.shown(input.label)}`;
  if (isFloat(input.type)) {
    const expected = what === 'labels' ? 'an integer type (int8 to int64, uint8 to uint64)' : 'an integer or bool type';
    throw w.error('type', `${named} has dtype ${input.type}; expected ${expected}`);
  }
  const shape = input.shape;
  if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
    throw w.error('range',
      `shape mismatch: ${named} has shape ${shapeText(shape)}, ${w.noun('logits')} ${w.shown(logits.label)} has shape ${shapeText(logits.shape)}; expected ${what} of shape ${shapeText(want)}`,
    );
  }
  const count = elementCount(want);
  const data = intData(await w.readWhole(input, count, what), input.type, input.label, 0, what === 'mask');
  await input.finish();
  return data;
}

/** Units (rows, or sequences of `unitBytes`) per chunk: chunkRows given, else CHUNK_BYTES of the file. */
function chunkUnits(chunkRows: unknown, units: number, unitBytes: number): number {
  if (chunkRows !== undefined) {
    if (!(typeof chunkRows === 'number' && Number.isSafeInteger(chunkRows) && chunkRows >= 1)) {
      throw new RangeError(`options.chunkRows must be a positive integer, got ${describeValue(chunkRows)}`);
    }
    return Math.min(chunkRows, Math.max(1, units));
  }
  return Math.max(1, Math.min(units, Math.floor(CHUNK_BYTES / unitBytes)));
}
