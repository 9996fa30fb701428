// The evaluation report as one self-contained HTML file (`xentropy score --report`, and the browser
// page later): inline CSS and SVG only, no script, no request of any kind (a Content-Security-Policy
// of default-src 'none' says so to the browser too). Runs in any runtime: it imports only types.
//
// The input is read and checked completely (own properties, each once) before any markup is built,
// so a bad input throws and nothing is returned half-made. Every string that reaches the page goes
// through escapeText: titles, details and class names come from users.

import type { CalibrationBin, ScoreResult } from '../ops/scorer.js';
import {
  type Drawing, SERIES_CLASSES, type Series, curveDrawing, escapeText, heatmapDrawing, inlineSvg,
  reliabilityDrawing, shorten,
} from './svg.js';

/** Per-class metrics, one entry per class (Float64Array(C) each, or plain arrays). */
export interface ClassMetrics {
  precision: ArrayLike<number>;
  recall: ArrayLike<number>;
  f1: ArrayLike<number>;
  /** Rows whose label is the class (a weight sum when rows are weighted). */
  support: ArrayLike<number>;
}

/** An average of per-class (or per-label) metrics. */
export interface AverageMetrics {
  precision?: number;
  recall?: number;
  f1?: number;
}

/**
 * A multiclass result: a `ScoreResult` (only `count` is required; what is absent is not shown), plus
 * the optional parts of a scorer that computes them.
 */
export interface MulticlassReport
  extends Pick<ScoreResult, 'count'>,
    Partial<Pick<ScoreResult,
      'lossNats' | 'lossBits' | 'perplexity' | 'accuracy' | 'topK' | 'brier' | 'ece' | 'mce' | 'bins' | 'bitsPerByte'>> {
  /** C, when not implied by `perClass` or `confusion`. */
  classes?: number;
  balancedAccuracy?: number;
  /** L2 calibration error. */
  rmsce?: number;
  perClass?: ClassMetrics;
  macro?: AverageMetrics;
  micro?: AverageMetrics;
  weighted?: AverageMetrics;
  /** C x C counts, true class x predicted class: row-major (length C²) or C rows of C. */
  confusion?: ArrayLike<number> | readonly ArrayLike<number>[];
}

/** A ROC curve: points, or the parallel arrays sklearn's `roc_curve` returns. */
export type RocCurve = readonly { fpr: number; tpr: number }[] | { fpr: ArrayLike<number>; tpr: ArrayLike<number> };
/** A precision-recall curve: points, or parallel arrays. */
export type PrCurve =
  | readonly { recall: number; precision: number }[]
  | { recall: ArrayLike<number>; precision: ArrayLike<number> };

/** A binary result (or one label of a multilabel result). Every field is optional; what is absent is not shown. */
export interface BinaryReport {
  count?: number;
  /** Rows whose label is positive (a weight sum when rows are weighted). */
  positives?: number;
  /** The decision threshold of accuracy, precision, recall and F1. */
  threshold?: number;
  /** Mean log loss in nats; else `logLoss` or `loss`, in `unit` (nats when absent). */
  lossNats?: number;
  logLoss?: number;
  loss?: number;
  unit?: 'nats' | 'bits';
  /** Total sample weight, when rows are weighted. */
  weight?: number;
  brier?: number;
  accuracy?: number;
  precision?: number;
  recall?: number;
  f1?: number;
  rocAuc?: number;
  averagePrecision?: number;
  /** Bounds on the error of a binned rocAuc and averagePrecision (0 or absent when exact). */
  rocAucErrorBound?: number;
  averagePrecisionErrorBound?: number;
  /** Counts (weights) at the threshold. */
  confusion?: { tp: number; fp: number; fn: number; tn: number };
  ece?: number;
  mce?: number;
  rmsce?: number;
  /** Calibration bins of the positive-class probability: a reliability diagram is drawn when given. */
  bins?: readonly CalibrationBin[];
  roc?: RocCurve;
  pr?: PrCurve;
}

/** A multilabel result: the binary result of each label, and their averages. */
export interface MultilabelReport {
  perLabel?: readonly BinaryReport[];
  /** Names of the labels, by index (else the report's `labels`, else indices). */
  names?: readonly string[];
  macro?: BinaryReport;
  weighted?: BinaryReport;
  micro?: BinaryReport;
}

/** How the report is laid out. */
export interface ReportOptions {
  /** The confusion heat map shows at most this many classes (default 20, 2 to 100). */
  confusionClasses?: number;
  /** The per-class and per-label tables show at most this many rows (default 100, at least 1). */
  tableRows?: number;
  /** Per-class table order: `'support'` (largest first, the default) or `'f1'` (lowest first). */
  classOrder?: 'support' | 'f1';
}

/**
 * What `renderReport` draws. Give any of `multiclass`, `binary` and `multilabel` (at least one); each
 * part is shown when present and left out when absent.
 */
export interface ReportInput {
  /** The page's title (default "Evaluation report"). */
  title?: string;
  /** Name and value pairs shown under the title (input files, shapes, model, date). */
  details?: readonly (readonly [string, string])[];
  /** Names of the classes (multiclass) and of the labels (multilabel, unless it has its own), by index; else indices. */
  labels?: readonly string[];
  multiclass?: MulticlassReport;
  binary?: BinaryReport;
  multilabel?: MultilabelReport;
  options?: ReportOptions;
}

const INPUT_KEYS = ['title', 'details', 'labels', 'multiclass', 'binary', 'multilabel', 'options'];
const OPTION_KEYS = ['confusionClasses', 'tableRows', 'classOrder'];
const BINARY_NUMBERS = [
  'count', 'weight', 'positives', 'threshold', 'lossNats', 'logLoss', 'loss', 'brier', 'accuracy', 'precision', 'recall',
  'f1', 'rocAuc', 'averagePrecision', 'rocAucErrorBound', 'averagePrecisionErrorBound', 'ece', 'mce', 'rmsce',
] as const;
const MULTI_NUMBERS = [
  'count', 'classes', 'lossNats', 'lossBits', 'perplexity', 'accuracy', 'balancedAccuracy', 'brier', 'ece', 'mce',
  'rmsce',
] as const;

// ---------------------------------------------------------------------------------------------------
// Reading the input: every field checked and copied once, into the plain shapes below.

type Obj = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value)}`;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** The own enumerable-or-not properties `keys` of an object, each read once. */
function snapshot(value: unknown, name: string, keys: readonly string[], strict = false): Obj {
  if (!isObject(value) || Array.isArray(value)) throw new TypeError(`${name} must be an object, got ${describe(value)}`);
  if (strict) {
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) throw new TypeError(`${name} has no field ${JSON.stringify(key)}; known fields: ${keys.join(', ')}`);
    }
  }
  const out: Obj = Object.create(null);
  for (const key of keys) if (Object.prototype.hasOwnProperty.call(value, key)) out[key] = (value as Obj)[key];
  return out;
}

/**
 * A number field. `null` reads as NaN, which is what JSON makes of NaN (`xentropy score --json`
 * writes a mean over no rows as null); `bitsPerByte`, whose null means "not measured", is the exception.
 */
function optNumber(o: Obj, key: string, name: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (v === null) return key === 'bitsPerByte' ? undefined : Number.NaN;
  if (typeof v !== 'number') throw new TypeError(`${name}.${key} must be a number, got ${describe(v)}`);
  return v;
}

function optCount(o: Obj, key: string, name: string): number | undefined {
  const v = optNumber(o, key, name);
  if (v !== undefined && !(v >= 0 && v < Number.POSITIVE_INFINITY)) {
    throw new RangeError(`${name}.${key} must be a finite number ≥ 0, got ${v}`);
  }
  return v;
}

function optString(o: Obj, key: string, name: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new TypeError(`${name}.${key} must be a string, got ${describe(v)}`);
  return v;
}

/** A numeric array (an Array of numbers or a typed array other than BigInt's), copied. */
function numbers(value: unknown, name: string): Float64Array {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
      throw new TypeError(`${name} must hold numbers, got a ${value.constructor.name}`);
    }
    return Float64Array.from(value as unknown as ArrayLike<number>);
  }
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of numbers or a typed array, got ${describe(value)}`);
  const out = new Float64Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'number') throw new TypeError(`${name}[${i}] must be a number, got ${describe(v)}`);
    out[i] = v;
  }
  return out;
}

function checkCounts(values: Float64Array, name: string): Float64Array {
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] >= 0 && values[i] < Number.POSITIVE_INFINITY)) {
      throw new RangeError(`${name}[${i}] must be a finite number ≥ 0, got ${values[i]}`);
    }
  }
  return values;
}

interface Bins {
  count: number;
  ece: number;
  mce: number;
  bins: CalibrationBin[];
}

function readBins(value: unknown, name: string): CalibrationBin[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of bins, got ${describe(value)}`);
  return value.map((bin, i) => {
    const n = `${name}[${i}]`;
    const o = snapshot(bin, n, ['lower', 'upper', 'count', 'confidence', 'accuracy']);
    const out = {} as CalibrationBin;
    for (const key of ['lower', 'upper', 'confidence', 'accuracy'] as const) {
      const v = optNumber(o, key, n);
      if (v === undefined) throw new TypeError(`${n}.${key} must be a number, got undefined`);
      out[key] = v;
    }
    const count = optCount(o, 'count', n);
    if (count === undefined) throw new TypeError(`${n}.count must be a number, got undefined`);
    out.count = count;
    return out;
  });
}

/** A curve as two arrays, from points ({ [xKey], [yKey] }[]) or parallel arrays. */
function readCurve(value: unknown, name: string, xKey: string, yKey: string): { xs: Float64Array; ys: Float64Array } {
  if (Array.isArray(value)) {
    const xs = new Float64Array(value.length), ys = new Float64Array(value.length);
    value.forEach((point, i) => {
      const o = snapshot(point, `${name}[${i}]`, [xKey, yKey]);
      const x = optNumber(o, xKey, `${name}[${i}]`), y = optNumber(o, yKey, `${name}[${i}]`);
      if (x === undefined || y === undefined) throw new TypeError(`${name}[${i}] must have numbers ${xKey} and ${yKey}`);
      xs[i] = x;
      ys[i] = y;
    });
    return { xs, ys };
  }
  const o = snapshot(value, name, [xKey, yKey]);
  const xs = numbers(o[xKey], `${name}.${xKey}`), ys = numbers(o[yKey], `${name}.${yKey}`);
  if (xs.length !== ys.length) {
    throw new RangeError(`${name}.${xKey} and ${yKey} must have the same length, got ${xs.length} and ${ys.length}`);
  }
  return { xs, ys };
}

interface Binary {
  numbers: Partial<Record<(typeof BINARY_NUMBERS)[number], number>>;
  unit: 'nats' | 'bits';
  confusion?: { tp: number; fp: number; fn: number; tn: number };
  calibration?: Bins;
  roc?: { xs: Float64Array; ys: Float64Array };
  pr?: { xs: Float64Array; ys: Float64Array };
}

/** A binary result; `defaultUnit` is the loss's unit when the result names none (a multilabel average). */
function readBinary(value: unknown, name: string, defaultUnit: 'nats' | 'bits' = 'nats'): Binary {
  const o = snapshot(value, name, [...BINARY_NUMBERS, 'unit', 'bins', 'roc', 'pr', 'confusion']);
  const numbersRead: Binary['numbers'] = {};
  for (const key of BINARY_NUMBERS) {
    const v = key === 'count' || key === 'positives' || key === 'weight' ? optCount(o, key, name) : optNumber(o, key, name);
    if (v !== undefined) numbersRead[key] = v;
  }
  const unit = optString(o, 'unit', name) ?? defaultUnit;
  if (unit !== 'nats' && unit !== 'bits') throw new RangeError(`${name}.unit must be 'nats' or 'bits', got ${describe(unit)}`);
  const inUnit = numbersRead.logLoss ?? numbersRead.loss;
  if (numbersRead.lossNats === undefined && inUnit !== undefined) {
    numbersRead.lossNats = unit === 'bits' ? inUnit * Math.LN2 : inUnit;
  }
  delete numbersRead.loss;
  delete numbersRead.logLoss;
  const out: Binary = { numbers: numbersRead, unit };
  if (o.confusion !== undefined) {
    const c = snapshot(o.confusion, `${name}.confusion`, ['tp', 'fp', 'fn', 'tn']);
    const counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
    for (const key of ['tp', 'fp', 'fn', 'tn'] as const) {
      const v = optCount(c, key, `${name}.confusion`);
      if (v === undefined) throw new TypeError(`${name}.confusion.${key} must be a number, got undefined`);
      counts[key] = v;
    }
    out.confusion = counts;
  }
  if (o.bins !== undefined) {
    const bins = readBins(o.bins, `${name}.bins`);
    out.calibration = {
      count: numbersRead.count ?? bins.reduce((sum, bin) => sum + bin.count, 0),
      ece: numbersRead.ece ?? Number.NaN,
      mce: numbersRead.mce ?? Number.NaN,
      bins,
    };
  }
  if (o.roc !== undefined) out.roc = readCurve(o.roc, `${name}.roc`, 'fpr', 'tpr');
  if (o.pr !== undefined) out.pr = readCurve(o.pr, `${name}.pr`, 'recall', 'precision');
  return out;
}

interface Multiclass {
  numbers: Partial<Record<(typeof MULTI_NUMBERS)[number], number>>;
  count: number;
  bitsPerByte?: number;
  topK: [string, number][];
  calibration?: Bins;
  classes?: number;
  perClass?: { precision: Float64Array; recall: Float64Array; f1: Float64Array; support: Float64Array };
  averages: [string, { precision?: number; recall?: number; f1?: number }][];
  confusion?: Float64Array;
}

function readMulticlass(value: unknown, name: string): Multiclass {
  const o = snapshot(value, name, [...MULTI_NUMBERS, 'topK', 'bins', 'bitsPerByte', 'perClass', 'macro', 'micro', 'weighted', 'confusion']);
  const nums: Multiclass['numbers'] = {};
  for (const key of MULTI_NUMBERS) {
    const v = key === 'count' || key === 'classes' ? optCount(o, key, name) : optNumber(o, key, name);
    if (v !== undefined) nums[key] = v;
  }
  if (nums.count === undefined) throw new TypeError(`${name}.count must be a number, got undefined`);
  const out: Multiclass = { numbers: nums, count: nums.count, topK: [], averages: [] };
  const bpb = optNumber(o, 'bitsPerByte', name);
  if (bpb !== undefined) out.bitsPerByte = bpb;
  if (o.topK !== undefined) {
    const topK = o.topK;
    if (!isObject(topK) || Array.isArray(topK)) throw new TypeError(`${name}.topK must be an object, got ${describe(topK)}`);
    for (const k of Object.keys(topK)) {
      const v = (topK as Obj)[k] ?? Number.NaN;
      if (typeof v !== 'number') throw new TypeError(`${name}.topK[${JSON.stringify(k)}] must be a number, got ${describe(v)}`);
      out.topK.push([k, v]);
    }
  }
  if (o.bins !== undefined) {
    out.calibration = { count: nums.count, ece: nums.ece ?? Number.NaN, mce: nums.mce ?? Number.NaN, bins: readBins(o.bins, `${name}.bins`) };
  }
  let C = nums.classes, source = `${name}.classes`;
  const agree = (n: number, what: string) => {
    if (n < 1) throw new RangeError(`${what} implies no classes; a report needs at least one`);
    if (C !== undefined && n !== C) throw new RangeError(`${what} implies ${n} classes, but ${source} implies ${C}`);
    C = n;
    source = what;
  };
  if (C !== undefined && !(Number.isInteger(C) && C >= 1)) throw new RangeError(`${name}.classes must be an integer ≥ 1, got ${C}`);
  if (o.perClass !== undefined) {
    const n = `${name}.perClass`;
    const p = snapshot(o.perClass, n, ['precision', 'recall', 'f1', 'support']);
    const perClass = {
      precision: numbers(p.precision, `${n}.precision`),
      recall: numbers(p.recall, `${n}.recall`),
      f1: numbers(p.f1, `${n}.f1`),
      support: checkCounts(numbers(p.support, `${n}.support`), `${n}.support`),
    };
    for (const key of ['precision', 'recall', 'f1', 'support'] as const) agree(perClass[key].length, `${n}.${key}'s length`);
    out.perClass = perClass;
  }
  for (const kind of ['macro', 'micro', 'weighted'] as const) {
    if (o[kind] === undefined) continue;
    const a = snapshot(o[kind], `${name}.${kind}`, ['precision', 'recall', 'f1']);
    const avg: AverageMetrics = {};
    for (const key of ['precision', 'recall', 'f1'] as const) {
      const v = optNumber(a, key, `${name}.${kind}`);
      if (v !== undefined) avg[key] = v;
    }
    out.averages.push([kind, avg]);
  }
  if (o.confusion !== undefined) {
    const n = `${name}.confusion`;
    let flat: Float64Array;
    // A plain array is copied first, so that each entry is read once whichever form it turns out to be.
    const raw: unknown = Array.isArray(o.confusion) ? Array.from(o.confusion as unknown[]) : o.confusion;
    if (Array.isArray(raw) && raw.length > 0 && typeof raw[0] !== 'number') {
      const rows = raw;
      agree(rows.length, `${n}'s number of rows`);
      flat = new Float64Array(rows.length * rows.length);
      rows.forEach((row, t) => {
        const r = numbers(row, `${n}[${t}]`);
        if (r.length !== rows.length) throw new RangeError(`${n}[${t}] must have ${rows.length} entries, got ${r.length}`);
        flat.set(r, t * rows.length);
      });
    } else {
      flat = numbers(raw, n);
      const side = Math.round(Math.sqrt(flat.length));
      if (side * side !== flat.length) throw new RangeError(`${n} must hold C x C counts, got ${flat.length} values`);
      agree(side, `${n}'s length`);
    }
    out.confusion = checkCounts(flat, n);
  }
  if (C !== undefined) out.classes = C;
  return out;
}

interface Multilabel {
  perLabel: Binary[];
  names?: string[];
  averages: [string, Binary][];
}

function readMultilabel(value: unknown, name: string): Multilabel {
  const o = snapshot(value, name, ['perLabel', 'names', 'macro', 'weighted', 'micro']);
  const out: Multilabel = { perLabel: [], averages: [] };
  if (o.names !== undefined) out.names = readNames(o.names, `${name}.names`);
  if (o.perLabel !== undefined) {
    if (!Array.isArray(o.perLabel)) throw new TypeError(`${name}.perLabel must be an array, got ${describe(o.perLabel)}`);
    out.perLabel = (o.perLabel as unknown[]).map((label, i) => readBinary(label, `${name}.perLabel[${i}]`));
  }
  // Averages carry no unit of their own: theirs is the labels'.
  const unit = out.perLabel[0]?.unit ?? 'nats';
  for (const kind of ['macro', 'weighted', 'micro'] as const) {
    if (o[kind] !== undefined) out.averages.push([kind, readBinary(o[kind], `${name}.${kind}`, unit)]);
  }
  return out;
}

function readNames(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of strings, got ${describe(value)}`);
  return (value as unknown[]).map((label, i) => {
    if (typeof label !== 'string') throw new TypeError(`${name}[${i}] must be a string, got ${describe(label)}`);
    return label;
  });
}

function readInteger(o: Obj, key: string, name: string, lo: number, hi: number, fallback: number): number {
  const v = optNumber(o, key, name);
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${name}.${key} must be an integer in [${lo}, ${hi}], got ${v}`);
  return v;
}

interface Read {
  title: string;
  details: [string, string][];
  labels?: string[];
  multiclass?: Multiclass;
  binary?: Binary;
  multilabel?: Multilabel;
  confusionClasses: number;
  tableRows: number;
  classOrder: 'support' | 'f1';
}

function readInput(input: unknown): Read {
  const name = 'renderReport: input';
  const o = snapshot(input, name, INPUT_KEYS, true);
  const title = optString(o, 'title', name) ?? 'Evaluation report';
  const details: [string, string][] = [];
  if (o.details !== undefined) {
    if (!Array.isArray(o.details)) throw new TypeError(`${name}.details must be an array of [name, value] pairs, got ${describe(o.details)}`);
    (o.details as unknown[]).forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new TypeError(`${name}.details[${i}] must be a [name, value] pair of strings, got ${describe(pair)}`);
      }
      details.push([pair[0], pair[1]]);
    });
  }
  const labels = o.labels === undefined ? undefined : readNames(o.labels, `${name}.labels`);
  const options = o.options === undefined ? Object.create(null) as Obj : snapshot(o.options, `${name}.options`, OPTION_KEYS, true);
  const confusionClasses = readInteger(options, 'confusionClasses', `${name}.options`, 2, 100, 20);
  const tableRows = readInteger(options, 'tableRows', `${name}.options`, 1, Number.MAX_SAFE_INTEGER, 100);
  const classOrder = optString(options, 'classOrder', `${name}.options`) ?? 'support';
  if (classOrder !== 'support' && classOrder !== 'f1') {
    throw new RangeError(`${name}.options.classOrder must be 'support' or 'f1', got ${describe(classOrder)}`);
  }
  const read: Read = { title, details, confusionClasses, tableRows, classOrder };
  if (labels !== undefined) read.labels = labels;
  if (o.multiclass !== undefined) read.multiclass = readMulticlass(o.multiclass, `${name}.multiclass`);
  if (o.binary !== undefined) read.binary = readBinary(o.binary, `${name}.binary`);
  if (o.multilabel !== undefined) read.multilabel = readMultilabel(o.multilabel, `${name}.multilabel`);
  if (!read.multiclass && !read.binary && !read.multilabel) {
    throw new TypeError(`${name} must have a multiclass, binary or multilabel result`);
  }
  const C = read.multiclass?.classes;
  if (labels !== undefined && C !== undefined && labels.length !== C) {
    throw new RangeError(`${name}.labels must name each of the ${C} classes, got ${labels.length} names`);
  }
  const m = read.multilabel;
  if (m) {
    m.names ??= labels;
    if (m.names !== undefined && m.perLabel.length > 0 && m.names.length !== m.perLabel.length) {
      const which = m.names === labels ? `${name}.labels` : `${name}.multilabel.names`;
      throw new RangeError(`${which} must name each of the ${m.perLabel.length} labels, got ${m.names.length} names`);
    }
  }
  return read;
}

// ---------------------------------------------------------------------------------------------------
// Formatting: every number shown carries its exact value in data-value, for readers and tests.

/** A metric as shown: 6 decimals, or 4 significant digits in exponent form when very large or small. */
export function formatMetric(x: number, decimals = 6): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  const a = Math.abs(x);
  if (a >= 1e6 || (a > 0 && a < 10 ** -(decimals - 2))) return x.toExponential(3);
  return x.toFixed(decimals);
}

/** A count as shown: an integer with thousands separated by commas; a weighted count with 2 decimals. */
export function formatCount(x: number): string {
  if (!Number.isFinite(x)) return formatMetric(x);
  const s = Number.isInteger(x) ? String(x) : x.toFixed(2);
  const [whole, frac] = s.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

function value(metric: string, x: number, shown: string): string {
  return `<span class="num" data-metric="${escapeText(metric)}" data-value="${escapeText(String(x))}">${escapeText(shown)}</span>`;
}

function card(label: string, metric: string, x: number, shown: string, sub = ''): string {
  return `<div class="card"><div class="k">${escapeText(label)}</div><div class="v">${value(metric, x, shown)}</div>${sub ? `<div class="sub">${sub}</div>` : ''}</div>`;
}

function figure(drawing: Drawing, label: string, caption: string): string {
  return `<figure>${inlineSvg(drawing, label)}<figcaption>${caption}</figcaption></figure>`;
}

function className(read: Read, c: number): string {
  return read.labels?.[c] ?? String(c);
}

function labelName(m: Multilabel, i: number): string {
  return m.names?.[i] ?? String(i);
}

// ---------------------------------------------------------------------------------------------------
// The sections.

function multiclassSection(read: Read, m: Multiclass): string {
  const n = m.numbers;
  const out: string[] = ['<section id="multiclass">', '<h2>Multiclass classification</h2>', '<div class="cards">'];
  out.push(card('Rows (N)', 'count', m.count, formatCount(m.count)));
  if (m.classes !== undefined) out.push(card('Classes (C)', 'classes', m.classes, formatCount(m.classes)));
  if (n.lossNats !== undefined) {
    const bits = n.lossBits ?? n.lossNats / Math.LN2;
    out.push(card('Loss (nats)', 'lossNats', n.lossNats, formatMetric(n.lossNats), `${value('lossBits', bits, formatMetric(bits))} bits`));
  }
  if (n.perplexity !== undefined) out.push(card('Perplexity', 'perplexity', n.perplexity, formatMetric(n.perplexity)));
  if (n.accuracy !== undefined) {
    const sub = n.balancedAccuracy !== undefined
      ? `balanced ${value('balancedAccuracy', n.balancedAccuracy, formatMetric(n.balancedAccuracy))}` : '';
    out.push(card('Accuracy', 'accuracy', n.accuracy, formatMetric(n.accuracy), sub));
  }
  for (const [k, v] of m.topK) out.push(card(`Top-${k} accuracy`, `topK.${k}`, v, formatMetric(v)));
  if (n.brier !== undefined) out.push(card('Brier score', 'brier', n.brier, formatMetric(n.brier)));
  if (n.ece !== undefined) {
    const sub = m.calibration ? `${m.calibration.bins.length} equal-width bins` : '';
    out.push(card('ECE', 'ece', n.ece, formatMetric(n.ece), sub));
  }
  if (n.mce !== undefined) out.push(card('MCE', 'mce', n.mce, formatMetric(n.mce)));
  if (n.rmsce !== undefined) out.push(card('RMSCE', 'rmsce', n.rmsce, formatMetric(n.rmsce)));
  if (m.bitsPerByte !== undefined) out.push(card('Bits per byte', 'bitsPerByte', m.bitsPerByte, formatMetric(m.bitsPerByte)));
  out.push('</div>');

  if (m.calibration) {
    out.push('<h3 id="multiclass-calibration">Calibration</h3>');
    out.push(figure(reliabilityDrawing(m.calibration, 'Reliability diagram'), 'Reliability diagram',
      'Per bin of top-label confidence: the accuracy of its rows (bar) against the diagonal of perfect calibration; '
      + 'the dashed outline is the gap to the bin\'s mean confidence. Below, the rows in each bin.'));
  }
  if (m.averages.length > 0) {
    out.push('<h3 id="multiclass-averages">Averages</h3>');
    out.push('<table class="metrics"><thead><tr><th>average</th><th>precision</th><th>recall</th><th>F1</th></tr></thead><tbody>');
    for (const [kind, avg] of m.averages) {
      const cells = (['precision', 'recall', 'f1'] as const).map((key) => {
        const v = avg[key];
        return v === undefined ? '<td>—</td>' : `<td>${value(`${kind}.${key}`, v, formatMetric(v, 4))}</td>`;
      });
      out.push(`<tr><th>${kind}</th>${cells.join('')}</tr>`);
    }
    out.push('</tbody></table>');
  }
  if (m.perClass) out.push(perClassTable(read, m.perClass));
  if (m.confusion && m.classes !== undefined) out.push(confusionFigure(read, m.confusion, m.classes));
  out.push('</section>');
  return out.join('\n');
}

function perClassTable(read: Read, p: NonNullable<Multiclass['perClass']>): string {
  const C = p.support.length;
  const order = Array.from({ length: C }, (_, c) => c);
  // NaN F1 (a class never predicted nor present) sorts last either way.
  const key = (c: number) => (Number.isNaN(p.f1[c]) ? Number.POSITIVE_INFINITY : p.f1[c]);
  if (read.classOrder === 'support') order.sort((a, b) => p.support[b] - p.support[a] || a - b);
  else order.sort((a, b) => key(a) - key(b) || a - b);
  const shown = order.slice(0, read.tableRows);
  const rule = read.classOrder === 'support' ? 'by support, largest first' : 'by F1, lowest first';
  const out = ['<h3 id="per-class">Per class</h3>'];
  out.push(`<p class="note">Ordered ${rule}${shown.length < C ? `; the first ${formatCount(shown.length)} of ${formatCount(C)} classes` : ''}.</p>`);
  out.push('<table class="metrics per-class"><thead><tr><th>#</th><th class="name">class</th><th>support</th><th>precision</th><th>recall</th><th>F1</th></tr></thead><tbody>');
  for (const c of shown) {
    const f1 = p.f1[c];
    const width = Number.isFinite(f1) ? Math.max(0, Math.min(1, f1)) * 100 : 0;
    out.push(`<tr data-class="${c}"><td>${c}</td><td class="name" title="${escapeText(className(read, c))}">${escapeText(shorten(className(read, c), 60))}</td>`
      + `<td>${value('support', p.support[c], formatCount(p.support[c]))}</td>`
      + `<td>${value('precision', p.precision[c], formatMetric(p.precision[c], 4))}</td>`
      + `<td>${value('recall', p.recall[c], formatMetric(p.recall[c], 4))}</td>`
      + `<td class="f1"><span class="meter"><span style="width:${width.toFixed(1)}%"></span></span>${value('f1', f1, formatMetric(f1, 4))}</td></tr>`);
  }
  out.push('</tbody></table>');
  return out.join('\n');
}

/**
 * The classes a heat map of at most k classes shows: all of them when C ≤ k, otherwise the k with the
 * most errors (rows of the class predicted as another, plus rows of other classes predicted as it),
 * ties to the lower index, most confused first.
 */
export function mostConfused(confusion: ArrayLike<number>, C: number, k: number): number[] {
  if (C <= k) return Array.from({ length: C }, (_, c) => c);
  const errors = new Float64Array(C);
  for (let t = 0; t < C; t++) {
    for (let p = 0; p < C; p++) {
      if (t === p) continue;
      const n = confusion[t * C + p];
      errors[t] += n;
      errors[p] += n;
    }
  }
  const order = Array.from({ length: C }, (_, c) => c);
  order.sort((a, b) => errors[b] - errors[a] || a - b);
  return order.slice(0, k);
}

function confusionFigure(read: Read, confusion: Float64Array, C: number): string {
  const order = mostConfused(confusion, C, read.confusionClasses);
  const rowTotals = new Float64Array(C);
  for (let t = 0; t < C; t++) for (let p = 0; p < C; p++) rowTotals[t] += confusion[t * C + p];
  const drawing = heatmapDrawing({
    order, counts: (t, p) => confusion[t * C + p], rowTotals: (t) => rowTotals[t],
    names: (c) => className(read, c), formatCount,
  });
  const note = order.length < C
    ? `The ${order.length} of ${formatCount(C)} classes with the most errors (rows of the class predicted as another, plus rows `
      + 'of other classes predicted as it), most confused first; the other classes\' rows and columns are left out.'
    : 'Every class, in index order.';
  return ['<h3 id="confusion">Confusion matrix</h3>',
    figure(drawing, 'Confusion matrix',
      `Rows: true class; columns: predicted class. A cell's shade is its share of the true class's rows. ${escapeText(note)}`),
  ].join('\n');
}

const BINARY_CARDS: [keyof Binary['numbers'], string, 'count' | 'metric'][] = [
  ['count', 'Rows (N)', 'count'], ['weight', 'Total weight', 'count'], ['positives', 'Positives', 'count'], ['lossNats', 'Log loss (nats)', 'metric'],
  ['brier', 'Brier score', 'metric'], ['accuracy', 'Accuracy', 'metric'], ['precision', 'Precision', 'metric'],
  ['recall', 'Recall', 'metric'], ['f1', 'F1', 'metric'], ['rocAuc', 'ROC AUC', 'metric'],
  ['averagePrecision', 'Average precision', 'metric'], ['ece', 'ECE', 'metric'], ['mce', 'MCE', 'metric'],
  ['rmsce', 'RMSCE', 'metric'],
];

function curveFigures(rocs: Series[], prs: Series[], prBaseline: number | undefined, what: string): string {
  const out: string[] = [];
  if (rocs.length > 0) {
    out.push(figure(curveDrawing({
      title: 'ROC curve', xLabel: 'False positive rate', yLabel: 'True positive rate', series: rocs,
      reference: { kind: 'diagonal' },
    }), 'ROC curve', `True against false positive rate as the threshold falls${what}; the diagonal is chance.`));
  }
  if (prs.length > 0) {
    const reference = prBaseline === undefined ? undefined
      : { kind: 'horizontal' as const, y: prBaseline, label: `positive rate ${formatMetric(prBaseline, 4)}` };
    out.push(figure(curveDrawing({
      title: 'Precision-recall curve', xLabel: 'Recall', yLabel: 'Precision', series: prs,
      ...(reference ? { reference } : {}),
    }), 'Precision-recall curve', `Precision against recall as the threshold falls${what}${reference ? '; the dashed line is the precision of a random classifier' : ''}.`));
  }
  return out.length > 0 ? `<div class="figures">${out.join('\n')}</div>` : '';
}

function binarySection(b: Binary): string {
  const n = b.numbers;
  const out: string[] = ['<section id="binary">', '<h2>Binary classification</h2>'];
  if (n.threshold !== undefined) {
    out.push(`<p class="note">Accuracy, precision, recall and F1 at the threshold ${value('threshold', n.threshold, formatMetric(n.threshold, 4))}.</p>`);
  }
  out.push('<div class="cards">');
  // A binned AUC or AP comes with a bound on its error, shown under it.
  const bounds: Partial<Record<string, number>> = { rocAuc: n.rocAucErrorBound, averagePrecision: n.averagePrecisionErrorBound };
  for (const [key, label, kind] of BINARY_CARDS) {
    const v = n[key];
    if (v === undefined) continue;
    if (key === 'weight' && v === n.count) continue;
    const bound = bounds[key];
    const sub = bound !== undefined && bound > 0 ? `within ±${value(`${key}ErrorBound`, bound, formatMetric(bound))} (binned)` : '';
    out.push(card(label, key, v, kind === 'count' ? formatCount(v) : formatMetric(v), sub));
  }
  out.push('</div>');
  if (b.confusion) {
    const { tp, fp, fn, tn } = b.confusion;
    const cell = (key: string, x: number) => `<td>${value(`confusion.${key}`, x, formatCount(x))}</td>`;
    out.push('<h3 id="binary-confusion">Confusion at the threshold</h3>');
    out.push('<table class="metrics binary-confusion"><thead><tr><th>actual</th><th>predicted positive</th><th>predicted negative</th></tr></thead><tbody>'
      + `<tr><th>positive</th>${cell('tp', tp)}${cell('fn', fn)}</tr><tr><th>negative</th>${cell('fp', fp)}${cell('tn', tn)}</tr></tbody></table>`);
  }
  const auc = n.rocAuc !== undefined ? ` (AUC ${formatMetric(n.rocAuc, 4)})` : '';
  const ap = n.averagePrecision !== undefined ? ` (AP ${formatMetric(n.averagePrecision, 4)})` : '';
  // The precision of a classifier that guesses: the positives' share of the weight.
  const total = n.weight ?? n.count;
  const baseline = n.positives !== undefined && total !== undefined && total > 0 ? n.positives / total : undefined;
  if (b.roc || b.pr) {
    out.push('<h3 id="binary-curves">ROC and precision-recall</h3>');
    out.push(curveFigures(b.roc ? [{ name: `model${auc}`, ...b.roc }] : [], b.pr ? [{ name: `model${ap}`, ...b.pr }] : [], baseline, ''));
  }
  if (b.calibration) {
    out.push('<h3 id="binary-calibration">Calibration</h3>');
    const axes = { x: 'Predicted probability of the positive class', y: 'Fraction of positives', bars: 'positives per bin' };
    out.push(figure(reliabilityDrawing(b.calibration, 'Reliability diagram', axes), 'Reliability diagram',
      'Per bin of predicted probability: the fraction of its rows that are positive (bar) against the diagonal of perfect '
      + 'calibration; the dashed outline is the gap to the bin\'s mean probability. Below, the rows in each bin.'));
  }
  out.push('</section>');
  return out.join('\n');
}

const LABEL_COLUMNS: [keyof Binary['numbers'], string, 'count' | 'metric'][] = [
  ['positives', 'positives', 'count'], ['accuracy', 'accuracy', 'metric'], ['precision', 'precision', 'metric'], ['recall', 'recall', 'metric'],
  ['f1', 'F1', 'metric'], ['rocAuc', 'ROC AUC', 'metric'], ['averagePrecision', 'AP', 'metric'],
  ['lossNats', 'log loss', 'metric'], ['brier', 'Brier', 'metric'], ['ece', 'ECE', 'metric'],
];

function multilabelSection(read: Read, m: Multilabel): string {
  const out: string[] = ['<section id="multilabel">', '<h2>Multilabel classification</h2>'];
  const rows = [...m.averages.map(([kind, b]) => ({ head: `<th>${kind}</th>`, b })),
    ...m.perLabel.slice(0, read.tableRows).map((b, i) => ({
      head: `<td class="name" title="${escapeText(labelName(m, i))}">${escapeText(shorten(labelName(m, i), 60))}</td>`, b, i,
    }))];
  const columns = LABEL_COLUMNS.filter(([key]) => rows.some((r) => r.b.numbers[key] !== undefined));
  if (rows.length > 0 && columns.length > 0) {
    out.push('<h3 id="per-label">Averages and per label</h3>');
    if (m.perLabel.length > read.tableRows) {
      out.push(`<p class="note">The first ${formatCount(read.tableRows)} of ${formatCount(m.perLabel.length)} labels, in index order.</p>`);
    }
    out.push(`<table class="metrics per-label"><thead><tr><th class="name">label</th>${columns.map(([, h]) => `<th>${h}</th>`).join('')}</tr></thead><tbody>`);
    for (const r of rows) {
      const cells = columns.map(([key, , kind]) => {
        const v = r.b.numbers[key];
        if (v === undefined) return '<td>—</td>';
        return `<td>${value(key, v, kind === 'count' ? formatCount(v) : formatMetric(v, 4))}</td>`;
      });
      out.push(`<tr${'i' in r ? ` data-label="${r.i}"` : ''}>${r.head}${cells.join('')}</tr>`);
    }
    out.push('</tbody></table>');
  }
  const drawn = m.perLabel.slice(0, SERIES_CLASSES);
  const label = (i: number, extra: string) => `${shorten(labelName(m, i), 30)}${extra}`;
  const rocs: Series[] = [], prs: Series[] = [];
  drawn.forEach((b, i) => {
    if (b.roc) rocs.push({ name: label(i, b.numbers.rocAuc !== undefined ? ` (AUC ${formatMetric(b.numbers.rocAuc, 4)})` : ''), ...b.roc });
    if (b.pr) prs.push({ name: label(i, b.numbers.averagePrecision !== undefined ? ` (AP ${formatMetric(b.numbers.averagePrecision, 4)})` : ''), ...b.pr });
  });
  if (rocs.length + prs.length > 0) {
    out.push('<h3 id="multilabel-curves">ROC and precision-recall per label</h3>');
    if (m.perLabel.length > drawn.length) {
      out.push(`<p class="note">Curves of the first ${drawn.length} of ${formatCount(m.perLabel.length)} labels, in index order.</p>`);
    }
    out.push(curveFigures(rocs, prs, undefined, ', one curve per label'));
  }
  out.push('</section>');
  return out.join('\n');
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--grid:#eceff2;--card:#f6f8fa;
--bar:#4c78a8;--gap:#d62728;--count:#9ecae9;--heat:#2166ac;--accent:#4c78a8}
@media (prefers-color-scheme: dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--grid:#21262d;
--card:#151b23;--bar:#6b9bd1;--gap:#ff7b72;--count:#2f5d86;--heat:#58a6ff;--accent:#6b9bd1}svg.chart .s0{stroke:#6b9bd1}}
@media print{:root{color-scheme:light;--bg:#fff;--fg:#000;--muted:#444;--line:#bbb;--grid:#e5e5e5;--card:#f4f4f4;--bar:#4c78a8;
--gap:#d62728;--count:#9ecae9;--heat:#2166ac;--accent:#4c78a8}svg.chart .s0{stroke:#4c78a8}nav{display:none}section,figure,tr{break-inside:avoid}
body{max-width:none;padding:0}}
*{box-sizing:border-box}
html{background:var(--bg)}
body{margin:0 auto;max-width:1180px;padding:24px 28px 48px;background:var(--bg);color:var(--fg);
font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
h1{font-size:24px;margin:0 0 6px}h2{font-size:19px;margin:32px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:24px 0 8px}
.details{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0 0;color:var(--muted)}
.details dt{font-weight:600}.details dd{margin:0;overflow-wrap:anywhere}
nav{margin:16px 0 0;font-size:13px}nav a{color:var(--accent);margin-right:14px;text-decoration:none}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.card .k{font-size:12px;color:var(--muted)}.card .v{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}
.card .sub{font-size:12px;color:var(--muted)}
.note{color:var(--muted);margin:4px 0 8px}
figure{margin:8px 0 16px}figcaption{color:var(--muted);font-size:12px;max-width:620px}
.figures{display:flex;flex-wrap:wrap;align-items:flex-start;gap:8px 40px}.figures figure{max-width:380px}
svg.chart{max-width:100%;height:auto;font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg.chart text{fill:var(--fg)}svg.chart .title{font-weight:600}
.bar{fill:var(--bar)}.gap{fill:none;stroke:var(--gap);stroke-width:1.5;stroke-dasharray:3 2}.count-bar{fill:var(--count)}
.axis{fill:none;stroke:var(--muted)}.grid{stroke:var(--grid)}.diagonal{stroke:var(--muted);fill:none}
.legend-box{fill:var(--card);stroke:var(--line)}.curve{fill:none;stroke-width:2}
.s0{stroke:#4c78a8}.s1{stroke:#f58518}.s2{stroke:#54a24b}.s3{stroke:#e45756}.s4{stroke:#72b7b2}
.s5{stroke:#b279a2}.s6{stroke:#eeca3b}.s7{stroke:#ff9da6}.s8{stroke:#9d755d}.s9{stroke:#bab0ac}
.cell{fill:var(--heat)}.cell.diag{stroke:var(--fg);stroke-width:1}svg.chart .cell-text.dark{fill:#fff}
table.metrics{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px}
table.metrics th,table.metrics td{padding:3px 10px;border-bottom:1px solid var(--line);text-align:right}
table.metrics th{color:var(--muted);font-weight:600}table.metrics .name{text-align:left;max-width:320px;overflow-wrap:anywhere}
table.metrics th.name{max-width:none}
table.metrics tbody th{text-align:left}
.meter{display:inline-block;width:60px;height:8px;margin-right:8px;background:var(--grid);border-radius:4px;overflow:hidden;vertical-align:middle}
.meter>span{display:block;height:100%;background:var(--accent)}
footer{margin-top:40px;color:var(--muted);font-size:12px}
`;

/**
 * The evaluation report as one self-contained HTML document (UTF-8): the summary of each result given,
 * the reliability diagram, the averages and per-class table, the confusion matrix as a heat map (the
 * `options.confusionClasses` most confused classes when C is larger), and ROC and precision-recall
 * curves for binary and multilabel results. No script and no external resource: it opens from a file,
 * offline, and prints. Throws TypeError or RangeError, naming the field, for a bad input.
 */
export function renderReport(input: ReportInput): string {
  const read = readInput(input);
  const sections: string[] = [];
  const nav: string[] = [];
  if (read.multiclass) {
    sections.push(multiclassSection(read, read.multiclass));
    nav.push('<a href="#multiclass">Multiclass</a>');
    if (read.multiclass.calibration) nav.push('<a href="#multiclass-calibration">Calibration</a>');
    if (read.multiclass.perClass) nav.push('<a href="#per-class">Per class</a>');
    if (read.multiclass.confusion && read.multiclass.classes !== undefined) nav.push('<a href="#confusion">Confusion matrix</a>');
  }
  if (read.binary) {
    sections.push(binarySection(read.binary));
    nav.push('<a href="#binary">Binary</a>');
  }
  if (read.multilabel) {
    sections.push(multilabelSection(read, read.multilabel));
    nav.push('<a href="#multilabel">Multilabel</a>');
  }
  const details = read.details.length === 0 ? ''
    : `<dl class="details">${read.details.map(([k, v]) => `<dt>${escapeText(k)}</dt><dd>${escapeText(v)}</dd>`).join('')}</dl>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="xentropy">
<title>${escapeText(read.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeText(read.title)}</h1>
${details}
<nav>${nav.join('')}</nav>
</header>
<main>
${sections.join('\n')}
</main>
<footer>Made by xentropy. This file is self-contained: no script, no network.</footer>
</body>
</html>
`;
}
