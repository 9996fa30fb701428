// The `xentropy` command: scores a model's saved logits against labels (.npy, .npz or .safetensors
// arrays, or a .npy on standard input) with the WebAssembly scorer (loss, accuracy, top-k, Brier,
// calibration, per-sequence perplexity; ops/scorer.ts). The logits are streamed in chunks, so memory
// stays bounded by one chunk plus the labels however large the file is.

import {
  type BigIntStats, closeSync, constants, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, statSync, writeSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';
import type { PoolScorer, Resident, Xentropy, XentropyPool } from '../node.js';
import { type Build, bestBuild } from '../engine/builds.js';
import { loadDriverSync } from '../engine/driver.js';
import { GROUP_ELEMENTS } from '../engine/score_groups.js';
import { ownBuildUrl } from '../load/init.js';
import type { BinaryScoreResult, MultilabelScoreResult } from '../ops/binary_scorer.js';
import { Scorer, type ScorerInput } from '../ops/scorer.js';
import {
  type ArrayReader, ELEMENT_SIZE, type StdinSource, elementCount, floatInput, floatView,
  openArray, parseArraySpec, shapeText,
} from './arrays.js';
import { type BinaryRun, type BinaryScorers, binaryFigures, scoreBinaryInputs, taskOf } from './score_binary.js';
import {
  type ArrayWording, type ScoreReport as ArraysReport, arrayScorerOptions, CHUNK_BYTES, checkArrayShape, MAX_CLASSES, MAX_ROWS,
  readArrayLabels, rowsLookLikeProbabilities, scoreJson,
} from '../eval/score.js';
import { MAX_PATH_SHOWN, NpyFormatError, type OpenedFile, printable, quoted } from './npy.js';

// The chunk size and the limits of scored arrays are xentropy/eval's, whose checks these runs share.
export { CHUNK_BYTES };

/** Most values in --top-k: each one is counted for every row. */
export const MAX_TOP_K = 100;
/** Most --threads: the pool's limit. */
export const MAX_THREADS = 256;
/**
 * Logits elements (2^25, 128 MiB of float32) from which `score` starts a pool of workers when --threads
 * is above 1. Starting the pool in a fresh process (module, workers) costs about 40-60 ms of wall time
 * on the bench's 2 vCPUs, which two workers win back only from about 32-50 million elements
 * (docs/performance.md): below, one thread finishes first. The bundled sample (2000 x 10) never starts one.
 */
export const POOL_FROM_ELEMENTS = 2 ** 25;
/** Most bytes of a chunk when a pool scores: chunks grow with the workers (two fold groups each), to this. */
const MAX_POOL_CHUNK_BYTES = 256 * 1024 * 1024;

/** Exit statuses of main (see USAGE). */
export const EXIT = {
  ok: 0,
  /** An output could not be written (disk full, I/O error), or an internal error. */
  failure: 1,
  /** A usage error or invalid input. */
  usage: 2,
  /** Standard output was closed before everything was written (`xentropy score | head`): 128 + SIGPIPE. */
  brokenPipe: 141,
} as const;

/**
 * The sample scored by `xentropy score` without files (src/ and dist/ are both one level down). It is
 * in the repository (`npm start`), not in the published package, which keeps under its size budget.
 */
export const SAMPLE_LOGITS = fileURLToPath(new URL('../../data/sample-logits.npy', import.meta.url));
/** Labels of the bundled sample. */
export const SAMPLE_LABELS = fileURLToPath(new URL('../../data/sample-labels.npy', import.meta.url));

/** The help text printed by `xentropy --help`. */
export const USAGE = `Usage:
  xentropy score [--logits LOGITS --labels LABELS [--mask MASK]] [--shift] [--json [--per-sequence]]
                 [--top-k 1,5] [--bins 15] [--ignore-index N] [--probs | --log-probs] [--threads N]
                 [--plot FILE.svg] [--report FILE.html]
  xentropy score --logits LOGITS --labels LABELS [--threshold 0.5] [--probs] [--bins 15] [--json]
                 [--threads N] [--plot ...] [--report ...]
  xentropy --help | --version

Scores a classifier or a language model: mean cross-entropy of the logits against the labels,
perplexity, accuracy, top-k accuracy, Brier score and calibration errors (ECE, MCE).

Binary and multilabel models are told by their shapes: logits [N] (or [N, 1]) with labels [N] score
one positive class (p = sigmoid(logit)); logits [N, L] with labels [N, L] score L labels each on its
own. Labels are 0/1 (integer or bool) or soft targets in [0, 1] (float). They report log loss, Brier
score, accuracy, precision, recall and F1 at --threshold, ROC AUC, average precision and calibration
errors (per label, and their macro, weighted and micro averages); --report adds the ROC and
precision-recall curves.

  --logits ARRAY     [N, C]: one row of raw scores per example; or [B, T, V]: B sequences of T
                     positions over a vocabulary of V. float32, float64, float16 or bfloat16
  --labels ARRAY     [N] (or [B, T]), any integer type: the true class of each row, in [0, C)
  --mask ARRAY       [B, T] attention mask, integer or bool: positions with 0 are not counted
  --shift            causal language model: position t is scored against token t + 1 of --labels
                     (the input ids); the last position of each sequence predicts nothing
  --json             print one JSON object {n, classes, lossNats, lossBits, perplexity, accuracy, count,
                     topK, brier, ece, mce, bins} (and sequences, sequenceLength for [B, T, V])
  --per-sequence     with --json: add perSequence {lossNats, perplexity, tokens}, one value per sequence
  --top-k K,K,...    top-k accuracies to report, positive integers below C (default 1,5)
  --bins B           equal-width confidence bins for ECE, MCE and the plot (default 15)
  --ignore-index N   rows labelled N are skipped (not counted)
  --threshold T      binary and multilabel: a row is predicted positive when p >= T (default 0.5)
  --probs            the logits file holds probabilities (softmax outputs), not logits
  --log-probs        the logits file holds log-probabilities (log-softmax outputs)
  --threads N        threads that score (default: the available parallelism); 1 scores on this
                     thread alone. Logits of 2^25 elements or more are scored by a pool of up to N
                     workers, with results identical to one thread's, bit for bit
  --plot FILE        write a reliability diagram (accuracy vs confidence per bin) as SVG
  --report FILE      write a self-contained HTML report (summary, reliability diagram, per-class table;
                     ROC and precision-recall curves for binary and multilabel models; no script)
  -h, --help         print this help
  --version          print the version

An ARRAY is FILE.npy, FILE.npz or FILE.safetensors holding one array, FILE:NAME for one of
several (a path that exists is taken whole, so it may contain ':'), or - for a .npy read from
standard input (one of the three at most), streamed.

Without --logits and --labels it scores the sample in the repository (data/sample-*.npy;
not in the installed package). Named inputs must be regular files (not pipes, FIFOs, devices
or directories: pipe through - instead), of at most ${MAX_ROWS} rows and ${MAX_CLASSES}
classes; --top-k takes at most ${MAX_TOP_K} values; --plot and --report must not name an input file.

Exit status:
  0    success
  2    usage error or invalid input: a bad flag, an input that is missing, unreadable, not a
       regular file, malformed or too large, or a --plot path that cannot be opened or is an input
  1    an output could not be written (disk full, I/O error; the message names it), or an
       internal error
  141  standard output was closed early (as in 'xentropy score | head'); nothing is printed,
       as for a tool stopped by SIGPIPE
`;

/** Where main writes, and knobs for tests. */
export interface CliIO {
  /**
   * Receives standard output text; may throw (or reject) with Node's write error (EPIPE, ENOSPC...).
   * Default: file descriptor 1 (fdWriter), each write finished so that its error is reported.
   */
  stdout?: (text: string) => void | Promise<void>;
  /** Receives error text. Default: file descriptor 2 (fdWriter), its errors ignored. */
  stderr?: (text: string) => void;
  /** Logits rows (sequences for [B, T, V]) per chunk. Default: as many as fit in CHUNK_BYTES of the file (at least 1). */
  chunkRows?: number;
  /** What '-' reads. Default: process.stdin. */
  stdin?: StdinSource;
  /** Whether stderr is a terminal (a progress bar is drawn only then). Default: process.stderr.isTTY. */
  stderrIsTTY?: boolean;
  /** Clock in ms for the progress bar. Default: Date.now (performance.now would load perf_hooks). */
  now?: () => number;
  /** Called when a pool of workers is started, with its number of threads (for tests). */
  onPool?: (threads: number) => void;
  /** Logits elements from which a pool is started (for tests). Default POOL_FROM_ELEMENTS. */
  poolFrom?: number;
}

/** A progress bar appears only on a terminal, and only once a run has taken this long (ms). */
export const PROGRESS_AFTER_MS = 500;

/** Options of scoreNpy. */
export interface ScoreNpyOptions {
  /** Logits rows (sequences for [B, T, V] logits) per chunk (default: CHUNK_BYTES of the file). */
  chunkRows?: number;
  /** [B, T, V] logits: position t is scored against label t + 1 of its sequence. */
  shift?: boolean;
  /** A [B, T] attention mask array (as --mask): positions with 0 are not counted. */
  mask?: string;
  /** [B, T, V] logits: report per-sequence loss, perplexity and tokens. */
  perSequence?: boolean;
  /** What '-' reads (default process.stdin). */
  stdin?: StdinSource;
  /** Top-k accuracies to compute (default [1, 5]). */
  topK?: number[];
  /** Calibration bins (default 15). */
  bins?: number;
  /** Rows with this label are skipped; without it every label must be a class. */
  ignoreIndex?: number;
  /** What the logits file holds (default 'logits'). */
  from?: ScorerInput;
  /** Called after each chunk with the rows done so far and N. */
  onProgress?: (done: number, total: number) => void;
  /** Also count the confusion matrix (for --report), when C is at most MAX_CONFUSION_CLASSES. */
  confusion?: boolean;
  /**
   * Threads that score (default 1: this thread). Above 1, logits of at least `poolFrom` elements are
   * scored by a pool of up to that many workers (createPool; no more than the file has fold groups of
   * about 2^20 elements), closed before this returns; the results are the same bits.
   */
  threads?: number;
  /** Logits elements from which a pool is started. Default POOL_FROM_ELEMENTS. */
  poolFrom?: number;
  /** Called when a pool is started, with its number of threads. */
  onPool?: (threads: number) => void;
}

/** What scoreNpy reports: xentropy/eval's report of the same arrays (scoreArrays), and the threads that scored. */
export interface ScoreReport extends ArraysReport {
  /** Threads that scored: 1 (the calling thread), or the workers of the pool that was started. */
  threads: number;
}

/**
 * A problem reported without a stack trace: with the command line or the input files (exit status 2),
 * or an output that could not be written (status 1). Messages escape file- and user-derived text.
 */
export class CliError extends Error {
  /** True when the usage text helps (a command-line mistake rather than a bad file). */
  readonly usage: boolean;
  /** The exit status main returns for it. */
  readonly status: number;

  constructor(message: string, usage = false, status: number = EXIT.usage) {
    super(message);
    this.name = 'CliError';
    this.usage = usage;
    this.status = status;
  }
}

/** Standard output is closed (EPIPE): main stops quietly with EXIT.brokenPipe. */
class BrokenPipe extends Error {}

/** A path for messages: control characters escaped, length bounded. */
function shown(path: string): string {
  return printable(path, MAX_PATH_SHOWN);
}

/** How xentropy/eval's checks of scored arrays word them here: files and flags, and CliError (exit status 2). */
const FILES: ArrayWording = {
  shown,
  noun: (what) => `${what} file`,
  setting: (which) => ({ shift: '--shift', mask: '--mask', perSequence: '--per-sequence', topK: '--top-k' })[which],
  error: (_kind, message, usage) => new CliError(message, usage),
  oneClass: (inputs) => "a binary model's logits [N] or [N, 1] with labels [N] are scored as one "
    + `(labels file ${shown(inputs.labels.label)} has shape ${shapeText(inputs.labels.shape)})`,
  // Labels and masks are read whole: an allocation that fails says which.
  readWhole: (input, count, what) => allocateAsync(`the ${count} ${what} of ${shown(input.label)}`, () => input.read(count)),
};

/** The arrays of one run, opened. */
interface Inputs {
  logits: ArrayReader;
  labels: ArrayReader;
  mask?: ArrayReader;
}

/** The arrays a run reads: FILE, FILE:NAME (a member of a .npz or .safetensors file) or '-' (standard input). */
export interface ArrayArgs {
  logits: string;
  labels: string;
  mask?: string;
}

/**
 * Opens the arrays (closing those already open when one fails) and closes them after `use`.
 * Named files must be regular files (see openNpyFile); '-' is standard input.
 */
async function withInputs<T>(args: ArrayArgs, stdin: () => StdinSource, use: (inputs: Inputs) => Promise<T>): Promise<T> {
  const open: ArrayReader[] = [];
  try {
    const get = async (arg: string) => {
      const reader = await openArray(parseArraySpec(arg, isFile), stdin);
      open.push(reader);
      return reader;
    };
    const logits = await get(args.logits);
    const labels = await get(args.labels);
    const mask = args.mask === undefined ? undefined : await get(args.mask);
    return await use({ logits, labels, mask });
  } finally {
    for (const reader of open) reader.close();
  }
}

/** Whether a path names an existing file (for FILE:NAME: a path that exists is taken whole). */
function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

/** Runs an allocation; failing for want of memory is a clean error (status 1), not an internal one. */
function allocate<T>(what: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof RangeError && /allocation failed|Invalid typed array length|Array buffer/i.test(e.message)) {
      throw new CliError(`not enough memory for ${what}`, false, EXIT.failure);
    }
    throw e;
  }
}

/** What the command line scores multiclass logits with: an instance's scorer (an Xentropy's, or ownScorer's). */
export type Scorers = Pick<Xentropy, 'scorer'>;

/**
 * The scorer over the package's own build, read from disk: without the Xentropy facade, whose every
 * operation a fresh process would otherwise compile on each start of the command line.
 */
function ownScorer(build: Build): Scorers {
  const driver = loadDriverSync(readFileSync(ownBuildUrl(build)));
  return { scorer: (options) => Scorer.create(driver, options) };
}

/**
 * The binary and multilabel scorers (plain JavaScript, no kernels): the library's, imported only for
 * such a model, so that the command line's bundle does not carry a second copy of them.
 */
async function binaryScorers(): Promise<BinaryScorers> {
  const { BinaryScorer, MultilabelScorer } = await import('../parts.js');
  return { binaryScorer: (options) => BinaryScorer.create(options), multilabelScorer: (options) => MultilabelScorer.create(options) };
}

/**
 * A pool of `workers` for a binary or multilabel model, as scoreInputs starts one for multiclass logits;
 * null where the runtime cannot start workers (no shared memory, no worker_threads): it scores on this thread.
 */
async function binaryPool(workers: number, onPool: ((threads: number) => void) | undefined): Promise<XentropyPool | null> {
  onPool?.(workers);
  const { createPool } = await import('../parts.js');
  return createPool({ threads: workers }).catch(() => null);
}

/**
 * Scores logits against labels, streaming the logits in chunks (of rows, or of whole sequences for
 * [B, T, V] logits). Arrays are FILE (.npy, or a .npz / .safetensors holding one array), FILE:NAME, or
 * '-' for a .npy on `options.stdin`.
 * @param xe an initialised instance (from `init`), or its scorers
 * @throws CliError for shapes, dtypes or labels that do not fit, sizes beyond MAX_ROWS / MAX_CLASSES,
 *   and (status 1) memory that cannot be allocated; NpyFormatError (ArrayFileError) for a malformed file
 *   or one that is not a regular file (a FIFO, device, directory...); Node's system errors for an
 *   unreadable one
 */
export async function scoreNpy(
  xe: Scorers, logitsPath: string, labelsPath: string, options: ScoreNpyOptions = {},
): Promise<ScoreReport> {
  const stdin = () => options.stdin ?? process.stdin;
  return withInputs({ logits: logitsPath, labels: labelsPath, mask: options.mask }, stdin, (inputs) => scoreInputs(xe, inputs, options));
}

async function scoreInputs(xe: Scorers, inputs: Inputs, options: ScoreNpyOptions): Promise<ScoreReport> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(`threads must be an integer in [1, ${MAX_THREADS}], got ${threads}`);
  }
  // Started as soon as the shape shows the logits are large enough, so that the workers start while
  // the labels are read; closed (its workers terminated) however the scoring ends.
  let starting: Promise<XentropyPool> | undefined;
  const startPool = (workers: number): Promise<XentropyPool> => {
    options.onPool?.(workers);
    // The library's module, loaded only here: the pool is for inputs that take seconds to score.
    starting = import('../parts.js').then(({ createPool }) => createPool({ threads: workers }));
    // Awaited below unless an error comes first; then the finally block closes it.
    starting.catch(() => undefined);
    return starting;
  };
  try {
    return await scoreWith(xe, inputs, options, threads > 1 ? startPool : null);
  } finally {
    if (starting) await (await starting.catch(() => undefined))?.close();
  }
}

async function scoreWith(
  xe: Scorers, inputs: Inputs, options: ScoreNpyOptions, startPool: ((workers: number) => Promise<XentropyPool>) | null,
): Promise<ScoreReport> {
  const { logits, labels, mask } = inputs;
  const logitsName = shown(logits.label);
  const dims = logits.shape;
  const shift = options.shift === true, perSequence = options.perSequence === true;
  const shape = checkArrayShape(inputs, { shift, perSequence, topK: options.topK }, FILES);
  const { classes, T, n, units, sequences } = shape;
  // No more workers than the file has fold groups (engine/score_groups.ts): each takes whole groups.
  const workers = Math.min(options.threads ?? 1, Math.ceil((n * classes) / GROUP_ELEMENTS));
  const starting = startPool && workers > 1 && n * classes >= (options.poolFrom ?? POOL_FROM_ELEMENTS) ? startPool(workers) : null;
  const { labels: y, mask: m } = await readArrayLabels(inputs, shape, { shift, ignoreIndex: options.ignoreIndex }, FILES);

  // A chunk holds whole sequences (units of T rows): the scorer shifts within a sequence.
  // With a pool, a chunk holds two fold groups per worker (at least CHUNK_BYTES), so that every worker
  // has groups to take from each update.
  const chunkBytes = starting
    ? Math.min(MAX_POOL_CHUNK_BYTES, Math.max(CHUNK_BYTES, 2 * workers * GROUP_ELEMENTS * ELEMENT_SIZE[logits.type])) : CHUNK_BYTES;
  const per = chooseChunkUnits(options.chunkRows, units, T * classes * ELEMENT_SIZE[logits.type], chunkBytes);
  const chunkElements = per * T * classes;
  const size = ELEMENT_SIZE[logits.type];
  // xentropy/eval's options for the same arrays: the same figures as a page that scores them.
  const { scorerOptions, bySequence } = arrayScorerOptions(classes, T, options, m !== undefined);
  // A runtime that cannot start workers (no shared memory, no worker_threads) scores on this thread.
  const pool = starting ? await starting.catch(() => null) : null;
  const scorer: Scorer | PoolScorer = pool
    ? pool.scorer(scorerOptions) : xe.scorer(scorerOptions);
  // With a pool, chunk k + 1 is read while the workers score chunk k, into the other of two buffers:
  // resident buffers of the pool when it can hold the file's type (the workers read the rows where
  // they lie), else plain ones (the pool copies them).
  const residentType = logits.type === 'float32' || logits.type === 'float16' || logits.type === 'bfloat16' ? logits.type : null;
  const buffers: (Uint8Array | Resident<'float32' | 'float16' | 'bfloat16'>)[] = [];
  const what = `a chunk of ${per * T} logits rows of ${classes} classes`;
  /** The update in flight and its rows; the pool's scorer takes one at a time. */
  let pending: { done: Promise<unknown>; r0: number; r1: number } | null = null;
  try {
    for (let i = 0; i < (pool ? 2 : 1); i++) {
      buffers.push(pool && residentType
        ? allocate(what, () => pool.alloc(chunkElements, { dtype: residentType }))
        : allocate(what, () => new Uint8Array(chunkElements * size)));
    }
    let looksLikeProbabilities = (options.from ?? 'logits') === 'logits';
    let chunks = 0;
    const settle = async (): Promise<void> => {
      if (!pending) return;
      const { done, r0, r1 } = pending;
      pending = null;
      try {
        await done;
      } catch (e) {
        // Probabilities out of range: name the file and the row in it rather than in the chunk.
        const match = e instanceof RangeError ? /^logits\[(\d+)\] = (\S+) (.*)$/.exec(e.message) : null;
        if (!match) throw e;
        const i = r0 * classes + Number(match[1]);
        throw new CliError(`logits file ${logitsName}: value ${match[2]} at row ${Math.floor(i / classes)}, class ${i % classes} ${match[3]}`);
      }
      chunks++;
      options.onProgress?.(r1, n);
    };
    for (let u0 = 0, k = 0; u0 < units; u0 += per, k++) {
      const u1 = Math.min(units, u0 + per);
      const r0 = u0 * T, r1 = u1 * T;
      const count = (r1 - r0) * classes;
      const buffer = buffers[k % buffers.length];
      let into: Uint8Array;
      if (buffer instanceof Uint8Array) into = buffer.subarray(0, count * size);
      else {
        const a = buffer.array;
        into = new Uint8Array(a.buffer, a.byteOffset, count * size);
      }
      const raw = floatView(await logits.read(count, into), logits.type);
      if (looksLikeProbabilities) looksLikeProbabilities = rowsLookLikeProbabilities(raw, logits.type, classes);
      const chunkDims = sequences ? [u1 - u0, T, classes] : [r1 - r0, classes];
      // A whole resident buffer is passed as it is (the labels' dims give T); a shorter last chunk as a view.
      const z = !(buffer instanceof Uint8Array) && count === chunkElements ? buffer : floatInput(raw, chunkDims, logits.type);
      await settle();
      let done: Promise<unknown>;
      try {
        const b = u1 - u0;
        const labelsOf = bySequence ? { data: y.subarray(r0, r1), dims: [b, T] } : y.subarray(r0, r1);
        const third = bySequence && m !== undefined ? { attentionMask: { data: m.subarray(r0, r1), dims: [b, T] } } : undefined;
        done = Promise.resolve(scorer.update(z as never, labelsOf, third));
      } catch (e) {
        done = Promise.reject(e);
      }
      // Handled by settle; until then the next chunk is read.
      done.catch(() => undefined);
      pending = { done, r0, r1 };
    }
    await settle();
    await logits.finish();
    return reportOf(scorer, {
      n, classes, dims, sequences, perSequence, shift, logits, labels, mask, chunks, looksLikeProbabilities,
      threads: pool ? pool.threads : 1,
    });
  } finally {
    // An error while reading may leave an update in flight: its workers read the buffers until it settles.
    if (pending) await (pending as { done: Promise<unknown> }).done.catch(() => undefined);
    for (const buffer of buffers) if (!(buffer instanceof Uint8Array)) buffer.free();
  }
}

/** The report of a scorer that has read every chunk. */
function reportOf(
  scorer: Scorer | PoolScorer,
  c: {
    n: number; classes: number; dims: number[]; sequences: boolean; perSequence: boolean; shift: boolean;
    logits: ArrayReader; labels: ArrayReader; mask: ArrayReader | undefined; chunks: number; looksLikeProbabilities: boolean;
    threads: number;
  },
): ScoreReport {
  const { n, classes, dims, sequences, perSequence, shift, logits, labels, mask, chunks, looksLikeProbabilities } = c;
  const r = scorer.result();
  const report: ScoreReport = {
    n, classes, lossNats: r.lossNats, lossBits: r.lossBits, perplexity: r.perplexity,
    accuracy: r.accuracy, count: r.count, topK: r.topK, brier: r.brier, ece: r.ece, mce: r.mce, bins: r.bins,
    logitsDtype: logits.type, labelsDtype: labels.type, maskDtype: mask?.type, shape: dims, shifted: shift,
    names: { logits: logits.label, labels: labels.label, mask: mask?.label },
    correct: scorer.state().correct, chunks, looksLikeProbabilities, threads: c.threads,
    classMetrics: {
      perClass: r.perClass, macro: r.macro, micro: r.micro, weighted: r.weighted, balancedAccuracy: r.balancedAccuracy, rmsce: r.rmsce,
      confusion: r.confusion,
    },
  };
  if (sequences) Object.assign(report, { sequences: dims[0], sequenceLength: dims[1] });
  if (perSequence) {
    const p = r.perSequence;
    if (p === undefined) throw new Error('the scorer gave no perSequence results');
    report.perSequence = { lossNats: Array.from(p.lossNats), perplexity: Array.from(p.perplexity), tokens: Array.from(p.tokens) };
  }
  return report;
}

async function allocateAsync<T>(what: string, make: () => Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (e) {
    return allocate(what, () => {
      throw e;
    });
  }
}

/** Units (rows, or sequences of `unitBytes`) per chunk: chunkRows given, else `chunkBytes` of the file. */
function chooseChunkUnits(chunkRows: number | undefined, units: number, unitBytes: number, chunkBytes: number): number {
  if (chunkRows !== undefined) {
    if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) {
      throw new RangeError(`chunkRows must be a positive integer, got ${chunkRows}`);
    }
    return Math.min(chunkRows, Math.max(1, units));
  }
  return Math.max(1, Math.min(units, Math.floor(chunkBytes / unitBytes)));
}

interface ScoreArgs {
  logits?: string;
  labels?: string;
  json: boolean;
  topK?: number[];
  bins?: number;
  ignoreIndex?: number;
  from?: ScorerInput;
  plot?: string;
  /** --report FILE.html: the HTML report. */
  report?: string;
  mask?: string;
  shift: boolean;
  perSequence: boolean;
  /** --threshold T: binary and multilabel models' decision threshold. */
  threshold?: number;
  /** --threads N. */
  threads?: number;
}

/** Flags without a value, and the ScoreArgs key each sets. */
const SWITCHES = { '--json': 'json', '--shift': 'shift', '--per-sequence': 'perSequence' } as const;

/** Flags that take a value, and the ScoreArgs key each fills. */
const VALUE_FLAGS = {
  '--logits': 'logits', '--labels': 'labels', '--top-k': 'topK', '--bins': 'bins',
  '--ignore-index': 'ignoreIndex', '--plot': 'plot', '--report': 'report', '--mask': 'mask', '--threshold': 'threshold', '--threads': 'threads',
} as const;
type ValueFlag = keyof typeof VALUE_FLAGS;

const INTEGER = /^[+-]?\d+$/;

/** Parses a flag's value, or throws a CliError naming the flag and the value. */
function parseFlagValue(flag: ValueFlag, value: string): string | number | number[] {
  const bad = (what: string): never => {
    throw new CliError(`${flag} needs ${what}, got ${quoted(value)}`, true);
  };
  switch (flag) {
    case '--top-k': {
      // Bounded before anything else is done with it: every k costs work on every row.
      const parts = value.split(',', MAX_TOP_K + 1);
      if (parts.length > MAX_TOP_K) bad(`at most ${MAX_TOP_K} values`);
      const seen = new Set<number>();
      const ks = parts.map((part) => {
        const k = Number(part.trim());
        if (!INTEGER.test(part.trim()) || !(k >= 1 && k <= 2 ** 31 - 1)) bad('a comma-separated list of positive integers (like 1,5)');
        seen.add(k);
        return k;
      });
      if (seen.size !== ks.length) bad('distinct values');
      return ks;
    }
    case '--bins': {
      const b = Number(value);
      if (!INTEGER.test(value) || !(b >= 1 && b <= 1_000_000)) bad('a positive integer of at most 1000000 (like 15)');
      return b;
    }
    case '--threshold': {
      const t = Number(value);
      if (value.trim() === '' || !(t >= 0 && t <= 1)) bad('a probability in [0, 1] (like 0.5)');
      return t;
    }
    case '--threads': {
      const t = Number(value);
      if (!INTEGER.test(value) || !(t >= 1 && t <= MAX_THREADS)) bad(`an integer in [1, ${MAX_THREADS}] (like 2; 1 scores on one thread)`);
      return t;
    }
    case '--ignore-index': {
      const i = Number(value);
      if (!INTEGER.test(value) || !(i >= -(2 ** 31) && i < 2 ** 31)) bad('an integer (like -100)');
      return i;
    }
    default:
      return value;
  }
}

/** Parses the arguments after `score`. */
function parseScoreArgs(args: string[]): ScoreArgs | 'help' {
  const out: ScoreArgs = { json: false, shift: false, perSequence: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-h' || arg === '--help') return 'help';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    if (Object.prototype.hasOwnProperty.call(SWITCHES, flag)) {
      if (eq >= 0) throw new CliError(`${flag} takes no value, got ${quoted(arg)}`, true);
      out[SWITCHES[flag as keyof typeof SWITCHES]] = true;
    } else if (flag === '--probs' || flag === '--log-probs') {
      if (eq >= 0) throw new CliError(`${flag} takes no value, got ${quoted(arg)}`, true);
      const from: ScorerInput = flag === '--probs' ? 'probs' : 'logProbs';
      if (out.from !== undefined && out.from !== from) throw new CliError('--probs and --log-probs cannot be combined', true);
      out.from = from;
    } else if (Object.prototype.hasOwnProperty.call(VALUE_FLAGS, flag)) {
      let value: string | undefined;
      if (eq >= 0) value = arg.slice(eq + 1);
      else {
        value = args[i + 1];
        // A following flag means the value was forgotten; a path starting with -- can use --flag=PATH.
        // (A negative --ignore-index such as -100 starts with a single dash, so it is still taken, as is '-'.)
        if (value !== undefined && value.startsWith('--')) value = undefined;
        else i++;
      }
      const f = flag as ValueFlag;
      if (!value) {
        const what = f === '--logits' || f === '--labels' || f === '--mask' ? 'a file: ' + f + ' FILE.npy' : f === '--plot' ? 'a file: --plot FILE.svg' : f === '--report' ? 'a file: --report FILE.html' : 'a value';
        throw new CliError(`${flag} needs ${what}`, true);
      }
      // Node throws a TypeError for a path with a NUL byte (which no shell can pass, but main can be called).
      if ((f === '--logits' || f === '--labels' || f === '--mask' || f === '--plot' || f === '--report') && value.includes('\0')) {
        throw new CliError(`${flag} needs a file name without NUL bytes, got ${quoted(value)}`, true);
      }
      const key = VALUE_FLAGS[f];
      if (out[key] !== undefined) throw new CliError(`${flag} given more than once`, true);
      (out as unknown as Record<string, unknown>)[key] = parseFlagValue(f, value);
    } else if (arg.startsWith('-')) {
      throw new CliError(`unknown option ${quoted(flag)} for 'score'`, true);
    } else {
      throw new CliError(`unexpected argument ${quoted(arg)}; files are given with --logits and --labels`, true);
    }
  }
  if ((out.logits === undefined) !== (out.labels === undefined)) {
    const [given, missing] = out.logits === undefined ? ['--labels', '--logits'] : ['--logits', '--labels'];
    throw new CliError(`${given} was given without ${missing}; give both, or neither to score the bundled sample`, true);
  }
  if (out.logits === undefined) {
    const flag = out.mask !== undefined ? '--mask' : out.shift ? '--shift' : out.perSequence ? '--per-sequence' : undefined;
    if (flag !== undefined) throw new CliError(`${flag} needs --logits and --labels (the bundled sample is [N, C])`, true);
  }
  if (out.perSequence && !out.json) throw new CliError('--per-sequence adds to the --json output; give --json too', true);
  const fromStdin = (['logits', 'labels', 'mask'] as const).filter((k) => out[k] === '-');
  if (fromStdin.length > 1) throw new CliError(`standard input (-) can be read once; given for ${fromStdin.map((k) => `--${k}`).join(' and ')}`, true);
  if (out.plot === '-') throw new CliError('--plot needs a file name; - (standard output) is not supported', true);
  if (out.report === '-') throw new CliError('--report needs a file name; - (standard output) is not supported', true);
  if (out.plot !== undefined && out.plot === out.report) throw new CliError('--plot and --report name the same file', true);
  return out;
}

function formatReport(report: ScoreReport, sample: boolean): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(6) : String(x));
  const { names, shape } = report;
  const positions = shapeText(shape.slice(0, -1));
  const lines = [
    sample ? 'Scored the bundled sample:' : 'Scored:',
    `  logits      ${shown(names.logits)}  (${report.logitsDtype} ${shapeText(shape)})`,
    `  labels      ${shown(names.labels)}  (${report.labelsDtype} ${positions})`,
  ];
  if (names.mask !== undefined) lines.push(`  mask        ${shown(names.mask)}  (${report.maskDtype} ${positions})`);
  if (report.sequences === undefined) {
    lines.push(`rows (N)      ${report.n}`, `classes (C)   ${report.classes}`);
    if (report.count !== report.n) lines.push(`counted       ${report.count}  (${report.n - report.count} ignored)`);
  } else {
    lines.push(
      `sequences (B) ${report.sequences}`, `length (T)    ${report.sequenceLength}`, `classes (V)   ${report.classes}`,
      `tokens        ${report.count}${report.shifted ? '  (shifted: position t is scored against token t + 1)' : ''}`,
    );
  }
  lines.push(
    `loss          ${f(report.lossNats)} nats`,
    `              ${f(report.lossBits)} bits`,
    `perplexity    ${f(report.perplexity)}`,
    `accuracy      ${f(report.accuracy)}  (${report.correct} / ${report.count})`,
    ...Object.entries(report.topK).map(([k, v]) => `${`top-${k} acc.`.padEnd(14)}${f(v)}`),
    `brier         ${f(report.brier)}`,
    `ECE           ${f(report.ece)}  (${report.bins.length} bins)`,
    `MCE           ${f(report.mce)}`,
  );
  return lines.join('\n') + '\n';
}

/** Flags of one kind of model refused for another, before anything is read. */
function checkTaskFlags(args: ScoreArgs, task: 'multiclass' | 'binary' | 'multilabel', logits: ArrayReader): void {
  if (task === 'multiclass') {
    if (args.threshold !== undefined) {
      throw new CliError(`--threshold is for binary and multilabel models (logits [N] or [N, L] with labels of the same shape); logits file ${shown(logits.label)} has shape ${shapeText(logits.shape)}`, true);
    }
    return;
  }
  const flag = args.topK !== undefined ? '--top-k' : args.ignoreIndex !== undefined ? '--ignore-index' : args.shift ? '--shift'
    : args.mask !== undefined ? '--mask' : args.perSequence ? '--per-sequence' : args.from === 'logProbs' ? '--log-probs' : undefined;
  if (flag !== undefined) {
    throw new CliError(`${flag} is for multiclass models; logits file ${shown(logits.label)} of shape ${shapeText(logits.shape)} with labels of its shape is scored as a ${task} model`, true);
  }
}

/** A binary or multilabel run's output: --plot, --report, then --json or the text report. */
async function writeBinaryRun(
  run: BinaryRun, args: ScoreArgs, inputs: readonly ArrayReader[], out: (text: string) => Promise<void>, stderr: (text: string) => void,
): Promise<void> {
  const [logits, labels] = inputs;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(6) : String(x));
  const threshold = args.threshold ?? 0.5;
  // The micro average pools every (row, label) pair: one reliability diagram for a multilabel model.
  const pooled = run.binary ?? run.multilabel!.micro;
  if (run.looksLikeProbabilities) {
    stderr(
      `xentropy: warning: every value of ${shown(logits.label)} lies in [0, 1]: these look like probabilities, not logits; `
        + 'if they are, score them with --probs\n',
    );
  }
  const { reliabilitySvg, renderReport } = args.plot !== undefined || args.report !== undefined ? await drawing() : {} as Drawing;
  if (args.plot !== undefined) {
    const { count, ece, mce, bins } = pooled;
    writeOutput('--plot', args.plot, reliabilitySvg({ count, ece, mce, bins }, run.task === 'binary' ? 'Reliability diagram' : 'Reliability diagram (every label pooled)'), inputs);
  }
  if (args.report !== undefined) {
    const details: [string, string][] = [
      ['logits', `${logits.label} (${logits.type} [${logits.shape.join(', ')}])`],
      ['labels', `${labels.label} (${labels.type} [${labels.shape.join(', ')}])`],
    ];
    const page = run.binary !== undefined
      ? renderReport({ title: 'xentropy score', details, binary: { ...run.binary, threshold } })
      : renderReport({
        title: 'xentropy score', details,
        multilabel: {
          perLabel: run.multilabel!.perLabel.map((r) => ({ ...r, threshold })), macro: run.multilabel!.macro,
          weighted: run.multilabel!.weighted, micro: { ...run.multilabel!.micro, threshold },
        },
      });
    writeOutput('--report', args.report, page, inputs);
  }
  if (args.json) {
    const json: Record<string, unknown> = { task: run.task, n: run.n };
    if (run.binary !== undefined) Object.assign(json, { threshold, ...binaryFigures(run.binary), bins: run.binary.bins });
    else {
      const m = run.multilabel!;
      Object.assign(json, {
        labels: run.labels, threshold, count: m.count, macro: m.macro, weighted: m.weighted, micro: binaryFigures(m.micro),
        perLabel: m.perLabel.map(binaryFigures),
      });
    }
    await out(JSON.stringify(json) + '\n');
    return;
  }
  const lines = [
    'Scored:',
    `  logits      ${shown(logits.label)}  (${logits.type} ${shapeText(logits.shape)})`,
    `  labels      ${shown(labels.label)}  (${labels.type} ${shapeText(labels.shape)})`,
    `rows (N)      ${run.n}`,
  ];
  const figures = (r: BinaryScoreResult | MultilabelScoreResult['macro'], prefix = '') => [
    `${prefix}log loss      ${f(r.logLoss)} nats`,
    `${prefix}brier         ${f(r.brier)}`,
    `${prefix}accuracy      ${f(r.accuracy)}  (threshold ${threshold})`,
    `${prefix}precision     ${f(r.precision)}`,
    `${prefix}recall        ${f(r.recall)}`,
    `${prefix}F1            ${f(r.f1)}`,
    `${prefix}ROC AUC       ${f(r.rocAuc)}`,
    `${prefix}avg precision ${f(r.averagePrecision)}`,
    `${prefix}ECE           ${f(r.ece)}`,
  ];
  if (run.binary !== undefined) {
    lines.push(`task          binary (${run.binary.positives} positive)`, ...figures(run.binary), `MCE           ${f(run.binary.mce)}`);
  } else {
    lines.push(`labels (L)    ${run.labels}`, 'task          multilabel; the mean over labels (macro):', ...figures(run.multilabel!.macro));
    lines.push(`micro F1      ${f(run.multilabel!.micro.f1)}`, `micro ROC AUC ${f(run.multilabel!.micro.rocAuc)}`);
  }
  if (args.plot !== undefined) lines.push(`plot          ${shown(args.plot)}`);
  if (args.report !== undefined) lines.push(`report        ${shown(args.report)}`);
  await out(lines.join('\n') + '\n');
}

/** --threads without the flag: the available parallelism (at most MAX_THREADS). */
function defaultThreads(): number {
  return Math.min(MAX_THREADS, Math.max(1, availableParallelism()));
}

/** The package's version, from its package.json (two levels up from src/cli/ and dist/cli/). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('package.json has no version');
  return pkg.version;
}

/**
 * Runs the command line `argv` (without node and the script: process.argv.slice(2)).
 * Never throws: errors are written to io.stderr and reflected in the exit status.
 * @returns the exit status (EXIT): 0 success, 2 usage error or invalid input, 1 an output that could
 *   not be written or an internal error, 141 standard output closed early (nothing printed)
 */
export async function main(argv: string[], io: CliIO = {}): Promise<number> {
  const stdout = io.stdout ?? fdWriter(1, () => process.stdout);
  const stderr = io.stderr ?? quiet(fdWriter(2, () => process.stderr));
  /** Writes to standard output; a failed write becomes BrokenPipe or a CliError naming the output. */
  const out = async (text: string): Promise<void> => {
    try {
      await stdout(text);
    } catch (e) {
      throw writeFailure('standard output', e);
    }
  };
  try {
    const [command, ...rest] = argv;
    if (command === '-h' || command === '--help' || command === 'help') {
      await out(USAGE);
      return EXIT.ok;
    }
    if (command === '--version') {
      await out(`${packageVersion()}\n`);
      return EXIT.ok;
    }
    if (command === undefined) throw new CliError('missing command', true);
    if (command !== 'score') throw new CliError(`unknown command ${quoted(command)}`, true);
    const args = parseScoreArgs(rest);
    if (args === 'help') {
      await out(USAGE);
      return EXIT.ok;
    }
    const sample = args.logits === undefined;
    if (sample && !(existsSync(SAMPLE_LOGITS) && existsSync(SAMPLE_LABELS))) {
      throw new CliError(
        'the sample data is not installed with the package (it lives in the xentropy repository, data/sample-*.npy); '
          + 'score your own files with --logits LOGITS.npy --labels LABELS.npy',
        true,
      );
    }
    const logitsPath = args.logits ?? SAMPLE_LOGITS;
    const labelsPath = args.labels ?? SAMPLE_LABELS;
    const arrays = { logits: logitsPath, labels: labelsPath, mask: args.mask };
    const { report, binaryRun, inputs } = await withInputs(arrays, () => io.stdin ?? process.stdin, async (opened) => {
      const inputs = [opened.logits, opened.labels, ...(opened.mask ? [opened.mask] : [])];
      // Refused before the (possibly long) run; checked again on the opened plot file when writing.
      if (args.plot !== undefined) checkNotInput('--plot', args.plot, statIfAny(args.plot), inputs);
      if (args.report !== undefined) checkNotInput('--report', args.report, statIfAny(args.report), inputs);
      const task = taskOf(opened.logits.shape, opened.labels.shape);
      checkTaskFlags(args, task, opened.logits);
      const progress = progressBar(stderr, () => io.stderrIsTTY ?? process.stderr.isTTY === true, io.now ?? Date.now);
      if (task !== 'multiclass') {
        // A pool from POOL_FROM_ELEMENTS logits, as for multiclass ones; its scorers give the same state, bit for bit.
        const elements = elementCount(opened.logits.shape);
        const workers = Math.min(args.threads ?? defaultThreads(), Math.ceil(elements / GROUP_ELEMENTS));
        const pool = workers > 1 && elements >= (io.poolFrom ?? POOL_FROM_ELEMENTS) ? await binaryPool(workers, io.onPool) : null;
        try {
          const run = await scoreBinaryInputs(pool ?? await binaryScorers(), task, opened.logits, opened.labels, {
            from: args.from === 'probs' ? 'probs' : 'logits', threshold: args.threshold, bins: args.bins,
            chunkRows: io.chunkRows, chunkBytes: CHUNK_BYTES, onProgress: progress.update,
          }, (reader) => shown(reader.label), (message) => {
            throw new CliError(message);
          });
          return { report: undefined, binaryRun: run, inputs };
        } finally {
          progress.done();
          await pool?.close();
        }
      }
      try {
        // The SIMD build, which the pool's workers run, rather than the best one (relaxed SIMD where the
        // runtime has it, whose last bits differ): --threads never changes the output.
        const xe = ownScorer(bestBuild() === 'scalar' ? 'scalar' : 'simd');
        const report = await scoreInputs(xe, opened, {
          chunkRows: io.chunkRows, topK: args.topK, bins: args.bins, ignoreIndex: args.ignoreIndex, from: args.from,
          shift: args.shift, perSequence: args.perSequence, onProgress: progress.update, confusion: args.report !== undefined,
          threads: args.threads ?? defaultThreads(), onPool: io.onPool, poolFrom: io.poolFrom,
        });
        return { report, binaryRun: undefined, inputs };
      } finally {
        progress.done();
      }
    });
    if (binaryRun !== undefined) {
      await writeBinaryRun(binaryRun, args, inputs, out, stderr);
      return EXIT.ok;
    }
    if (report === undefined) throw new Error('the run gave no report');
    if (report.looksLikeProbabilities) {
      stderr(
        `xentropy: warning: every row of ${shown(report.names.logits)} lies in [0, 1] and sums to 1 (within 1e-3): `
          + 'these look like probabilities, not logits; if they are, score them with --probs\n',
      );
    }
    const { reliabilitySvg, scoreReportHtml } = args.plot !== undefined || args.report !== undefined ? await drawing() : {} as Drawing;
    if (args.plot !== undefined) {
      const { count, ece, mce, bins } = report;
      writeOutput('--plot', args.plot, reliabilitySvg({ count, ece, mce, bins }), inputs);
    }
    // The JSON and the report are xentropy/eval's (a page that scores the same files gives the same bytes).
    if (args.report !== undefined) writeOutput('--report', args.report, scoreReportHtml(report), inputs);
    if (args.json) {
      await out(JSON.stringify(scoreJson(report)) + '\n');
    } else {
      await out(formatReport(report, sample) + (args.plot !== undefined ? `plot          ${shown(args.plot)}\n` : '')
        + (args.report !== undefined ? `report        ${shown(args.report)}\n` : ''));
    }
    return EXIT.ok;
  } catch (e) {
    if (e instanceof BrokenPipe) return EXIT.brokenPipe;
    if (e instanceof CliError) {
      stderr(`xentropy: ${e.message}\n`);
      if (e.usage) stderr(`Run 'xentropy --help' for usage.\n`);
      return e.status;
    }
    if (e instanceof NpyFormatError || isFileError(e)) {
      // Node's messages quote the path as given: escape it like every other path.
      stderr(`xentropy: ${printable((e as Error).message, 2 * MAX_PATH_SHOWN)}\n`);
      return EXIT.usage;
    }
    const text = e instanceof Error ? e.stack ?? e.message : String(e);
    stderr(`xentropy: internal error: ${text.split('\n').map((line) => printable(line, 2 * MAX_PATH_SHOWN)).join('\n')}\n`);
    return EXIT.failure;
  }
}

/** stat of a path that may not exist yet (bigint: inode numbers may exceed 2^53). */
function statIfAny(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined; // Unreachable or not a directory on the way: the open reports it.
  }
}

/** An input as --plot's check sees it: its name, and the regular file behind it (none for standard input). */
interface InputFile {
  path: string;
  file?: OpenedFile;
}

/** Refuses an output file (--plot, --report) that is one of the inputs, however it is spelled (symlink, hard link, ./x). */
function checkNotInput(flag: string, plot: string, stats: BigIntStats | undefined, inputs: readonly InputFile[]): void {
  if (stats === undefined) return;
  const same = inputs.find(({ file }) => file !== undefined && file.stats.dev === stats.dev && file.stats.ino === stats.ino);
  if (same !== undefined) {
    throw new CliError(`${flag} ${shown(plot)} is the input file ${shown(same.path)}; refusing to overwrite it`);
  }
}

/** O_WRONLY | O_CREAT without O_TRUNC: the file is checked before anything in it is replaced. */
const OPEN_PLOT = constants.O_WRONLY | constants.O_CREAT;

/**
 * Writes an output file (--plot's SVG, --report's HTML) to `path`, refusing (exit 2) a path that is one of the inputs: the file is opened
 * without truncation, its identity checked by fstat, and only then truncated and written.
 * @throws CliError, status 2 when the path cannot be opened or is an input, status 1 when the writing
 *   fails (ENOSPC, EIO...)
 */
function writeOutput(flag: string, path: string, text: string, inputs: readonly InputFile[]): void {
  let fd: number;
  try {
    fd = openSync(path, OPEN_PLOT, 0o666);
  } catch (e) {
    throw new CliError(`cannot write the ${flag === '--plot' ? 'plot' : 'report'} ${shown(path)}: ${errnoText(e)}`);
  }
  try {
    const stats = fstatSync(fd, { bigint: true });
    checkNotInput(flag, path, stats, inputs);
    const bytes = Buffer.from(text, 'utf8');
    try {
      if (stats.isFile()) ftruncateSync(fd, 0);
      // In pieces of at most 1 GiB: Node refuses single writes of 2^31 bytes and more.
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 2 ** 30));
    } catch (e) {
      throw new CliError(`cannot write the ${flag === '--plot' ? 'plot' : 'report'} ${shown(path)}: ${errnoText(e)}`, false, EXIT.failure);
    }
  } finally {
    closeSync(fd);
  }
}

/** The error for a failed write to `what`: BrokenPipe for EPIPE, else a CliError with status 1. */
function writeFailure(what: string, e: unknown): Error {
  if ((e as NodeJS.ErrnoException | null)?.code === 'EPIPE') return new BrokenPipe();
  return new CliError(`cannot write to ${what}: ${errnoText(e)}`, false, EXIT.failure);
}

/** 'no space left on device (ENOSPC)' for a system error, else its escaped message. */
function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException | null;
  if (err !== null && typeof err === 'object' && typeof err.code === 'string') {
    const description = typeof err.errno === 'number' ? getSystemErrorMap().get(err.errno)?.[1] : undefined;
    if (description !== undefined) return `${description} (${err.code})`;
  }
  return printable(e instanceof Error ? e.message : String(e), MAX_PATH_SHOWN);
}

const quietStreams = new WeakSet<NodeJS.WritableStream>();

/**
 * Keeps a stream's write errors from becoming an uncaught 'error' event (a stack trace and exit 1):
 * stdout's are reported through each write's callback instead, stderr's cannot be reported anywhere.
 */
function ignoreStreamErrors(stream: NodeJS.WritableStream): void {
  if (quietStreams.has(stream)) return;
  quietStreams.add(stream);
  stream.on('error', () => {});
}

/** Writes to a stream, resolving once the bytes are handed to the system and rejecting with its error. */
function streamWrite(stream: NodeJS.WritableStream, bytes: Uint8Array): Promise<void> {
  ignoreStreamErrors(stream);
  return new Promise((resolve, reject) => {
    stream.write(bytes, (e) => (e ? reject(e) : resolve()));
  });
}

/** A write to a file descriptor as fs.writeSync makes it: the bytes written, or Node's error thrown. */
export type FdWrite = (fd: number, bytes: Uint8Array, offset: number, length: number) => number;

/**
 * Writes text to this process's file descriptor `fd` (1 or 2) with writeSync: process.stdout and
 * process.stderr, on first use, load Node's streams, a few ms of a run that prints a few lines. A
 * descriptor that is non-blocking (EAGAIN: a pipe another process set so) hands what is left, and
 * every later write, to the stream, which waits until it can write. Errors (EPIPE, ENOSPC...) reject.
 */
export function fdWriter(fd: number, stream: () => NodeJS.WritableStream, write: FdWrite = writeSync): (text: string) => Promise<void> {
  let viaStream = false;
  return async (text) => {
    let bytes = Buffer.from(text, 'utf8');
    if (!viaStream) {
      let done = 0;
      try {
        // In pieces of at most 1 GiB: Node refuses single writes of 2^31 bytes and more.
        while (done < bytes.length) done += write(fd, bytes, done, Math.min(bytes.length - done, 2 ** 30));
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException | null)?.code !== 'EAGAIN') throw e;
        viaStream = true;
        bytes = bytes.subarray(done);
      }
    }
    await streamWrite(stream(), bytes);
  };
}

/** A writer whose errors are dropped: stderr's cannot be reported anywhere. */
function quiet(write: (text: string) => Promise<void>): (text: string) => void {
  return (text) => void write(text).catch(() => undefined);
}

/** The drawing code (--plot, --report), loaded only when one is asked for: src/cli/report.ts. */
type Drawing = typeof import('./report.js');

/** Loads the drawing code: in the package, an ES module of its own beside the command line's bundle. */
function drawing(): Promise<Drawing> {
  return import('./report.js');
}

/**
 * A progress bar on stderr, drawn only on a terminal and only once the run has taken PROGRESS_AFTER_MS,
 * redrawn at most every 100 ms, and erased when done (so stderr ends as it began).
 */
function progressBar(write: (text: string) => void, isTTY: () => boolean, now: () => number) {
  const start = now();
  // Asked only once the run has taken PROGRESS_AFTER_MS: process.stderr.isTTY builds the stream.
  let tty: boolean | undefined;
  let drawn = false;
  let last = -Infinity;
  return {
    update: (done: number, total: number): void => {
      if (tty === false) return;
      const t = now();
      if (t - start < PROGRESS_AFTER_MS || (t - last < 100 && done < total)) return;
      tty ??= isTTY();
      if (!tty) return;
      last = t;
      const width = 30;
      const filled = Math.round((done / total) * width);
      write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${Math.floor((done / total) * 100)}%  ${done} / ${total} rows`);
      drawn = true;
    },
    done: (): void => {
      if (drawn) write('\r\x1b[K');
    },
  };
}

/** Node's errors for a missing or unreadable file (they carry an errno code and name the path). */
function isFileError(e: unknown): boolean {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string'
    && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}
