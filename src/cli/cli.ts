// The `xentropy` command: scores a classifier's saved logits against labels (.npy files) with the
// WebAssembly scorer (loss, accuracy, top-k, Brier, calibration; ops/scorer.ts). The logits are streamed in row chunks, so memory stays bounded by one
// chunk plus the labels however large the file is.

import {
  type BigIntStats, closeSync, constants, existsSync, fstatSync, ftruncateSync, openSync, statSync, writeSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';
import { init, type Xentropy } from '../node.js';
import type { CalibrationBin, ScorerInput } from '../ops/scorer.js';
import { reliabilitySvg } from './calibration_svg.js';
import {
  MAX_PATH_SHOWN, NpyFormatError, dtypeName, openNpyFile, printable, quoted, readNpyHeader, readNpyRows,
  type NpyDtype, type NpyHeader, type OpenedFile,
} from './npy.js';

/** Bytes of the logits file read per chunk when no chunkRows is given. */
export const CHUNK_BYTES = 16 * 1024 * 1024;

/** Most rows scored: the labels are held in memory whole, as int32 (4 bytes a row). */
export const MAX_ROWS = 2 ** 31 - 1;
/** Most classes: the scorer's limit (a row must fit in wasm32 memory). */
export const MAX_CLASSES = 2 ** 28;
/** Most values in --top-k: each one is counted for every row. */
export const MAX_TOP_K = 100;

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
  xentropy score [--logits LOGITS.npy --labels LABELS.npy] [--json]
                 [--top-k 1,5] [--bins 15] [--ignore-index N] [--probs | --log-probs] [--plot FILE.svg]
  xentropy --help

Scores a classifier: mean cross-entropy of the logits against the labels, perplexity, accuracy,
top-k accuracy, Brier score and calibration errors (ECE, MCE).

  --logits FILE      .npy of shape [N, C], float32, float64 or float16: one row of raw scores per example
  --labels FILE      .npy of shape [N], int32, int64, uint8 or uint16: the true class of each row, in [0, C)
  --json             print one JSON object {n, classes, lossNats, lossBits, perplexity, accuracy, count,
                     topK, brier, ece, mce, bins}
  --top-k K,K,...    top-k accuracies to report, positive integers (default 1,5)
  --bins B           equal-width confidence bins for ECE, MCE and the plot (default 15)
  --ignore-index N   rows labelled N are skipped (not counted)
  --probs            the logits file holds probabilities (softmax outputs), not logits
  --log-probs        the logits file holds log-probabilities (log-softmax outputs)
  --plot FILE        write a reliability diagram (accuracy vs confidence per bin) as SVG
  -h, --help         print this help

Without --logits and --labels it scores the sample in the repository (data/sample-*.npy;
not in the installed package). Inputs must be regular files (not pipes, FIFOs, devices or
directories), of at most ${MAX_ROWS} rows and ${MAX_CLASSES} classes; --top-k takes at most
${MAX_TOP_K} values; --plot must not name an input file.

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
   * Default: process.stdout, each write awaited so that its error is reported.
   */
  stdout?: (text: string) => void | Promise<void>;
  /** Receives error text. Default: process.stderr. */
  stderr?: (text: string) => void;
  /** Logits rows per chunk. Default: as many as fit in CHUNK_BYTES of the file (at least 1). */
  chunkRows?: number;
  /** Whether stderr is a terminal (a progress bar is drawn only then). Default: process.stderr.isTTY. */
  stderrIsTTY?: boolean;
  /** Clock in ms for the progress bar. Default: performance.now. */
  now?: () => number;
}

/** A progress bar appears only on a terminal, and only once a run has taken this long (ms). */
export const PROGRESS_AFTER_MS = 500;

/** Scores of one logits/labels pair. */
export interface Score {
  /** Rows N. */
  n: number;
  /** Classes C. */
  classes: number;
  /** Mean cross-entropy per row in nats. */
  lossNats: number;
  /** The same in bits: lossNats / ln 2. */
  lossBits: number;
  /** exp(lossNats). */
  perplexity: number;
  /** Fraction of rows whose arg-max logit (first on ties) is the label. */
  accuracy: number;
  /** Rows counted: N less the rows labelled --ignore-index. Means are over these. */
  count: number;
  /** Top-k accuracy by k: fewer than k classes score strictly above the label. */
  topK: Record<string, number>;
  /** Mean over rows of sum_c (p_c - [c = y])^2. */
  brier: number;
  /** Expected and maximum calibration error of the top-label confidence. */
  ece: number;
  mce: number;
  /** The calibration bins. */
  bins: CalibrationBin[];
}

/** Options of scoreNpy. */
export interface ScoreNpyOptions {
  /** Logits rows per chunk (default: CHUNK_BYTES of the file). */
  chunkRows?: number;
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
}

/** A Score with what was read, for messages and tests. */
export interface ScoreReport extends Score {
  logitsDtype: string;
  labelsDtype: string;
  /** Rows the arg-max picked the label for. */
  correct: number;
  /** Chunks the logits were read in. */
  chunks: number;
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

/** An input file opened for scoring. */
interface Input extends OpenedFile {
  path: string;
}

/** Opens an input (refusing non-regular files, see openNpyFile), and closes it after `use`. */
function withInputs<T>(logitsPath: string, labelsPath: string, use: (logits: Input, labels: Input) => T): T {
  const logits = { path: logitsPath, ...openNpyFile(logitsPath) };
  try {
    const labels = { path: labelsPath, ...openNpyFile(labelsPath) };
    try {
      return use(logits, labels);
    } finally {
      closeSync(labels.fd);
    }
  } finally {
    closeSync(logits.fd);
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

/**
 * Scores logits against labels, streaming the logits file in chunks of `chunkRows` rows.
 * @param xe an initialised instance (from `init`)
 * @throws CliError for shapes, dtypes or labels that do not fit, sizes beyond MAX_ROWS / MAX_CLASSES,
 *   and (status 1) memory that cannot be allocated; NpyFormatError for a malformed file or one that is
 *   not a regular file (a FIFO, device, directory...); Node's system errors for an unreadable one
 */
export function scoreNpy(
  xe: Xentropy, logitsPath: string, labelsPath: string, options: ScoreNpyOptions = {},
): ScoreReport {
  return withInputs(logitsPath, labelsPath, (logits, labels) => scoreInputs(xe, logits, labels, options));
}

function scoreInputs(xe: Xentropy, logits: Input, labels: Input, options: ScoreNpyOptions): ScoreReport {
  const { fd } = logits;
  const logitsPath = shown(logits.path);
  const header = readNpyHeader(fd, logits.path);
  if (header.dtype !== '<f4' && header.dtype !== '<f8' && header.dtype !== '<f2') {
    throw new CliError(
      `logits file ${logitsPath} has dtype ${dtypeName(header.dtype)} ('${header.dtype}'); expected float32 or float64 (or float16)`,
    );
  }
  if (header.shape.length !== 2) {
    throw new CliError(`logits file ${logitsPath} has shape ${shapeText(header.shape)}; expected 2 dimensions [N, C]`);
  }
  const [n, classes] = header.shape;
  if (classes < 1) throw new CliError(`logits file ${logitsPath} has shape ${shapeText(header.shape)}; C must be at least 1`);
  // Refused before anything is allocated: beyond these the labels or a row cannot be held in memory.
  if (classes > MAX_CLASSES) {
    throw new CliError(`logits file ${logitsPath} has ${classes} classes; at most ${MAX_CLASSES} (2^28) are supported`);
  }
  if (n > MAX_ROWS) {
    throw new CliError(
      `logits file ${logitsPath} has ${n} rows; at most ${MAX_ROWS} (2^31 - 1) can be scored, as the labels are held in memory`,
    );
  }

  const { dtype: labelsDtype, data: y } = readLabels(labels, logits.path, header);
  if (n === 0) throw new CliError(`logits file ${logitsPath} has no rows to score`);
  // Without --ignore-index no label is ignored: -2^31 - 1 is no int32.
  const ignoreIndex = options.ignoreIndex ?? -(2 ** 31) - 1;
  for (let r = 0; r < n; r++) {
    // Checked here rather than left to the scorer so the message names the file, and so that a
    // label equal to the library's ignoreIndex (-100) is an error instead of a silently skipped row.
    if ((y[r] < 0 || y[r] >= classes) && y[r] !== ignoreIndex) {
      throw new CliError(`labels file ${shown(labels.path)}: label ${y[r]} at index ${r} is not a class in [0, ${classes})`);
    }
  }

  const per = chooseChunkRows(options.chunkRows, header);
  const buffer = allocate(`a chunk of ${per} logits rows of ${classes} classes`, () => new Float32Array(per * classes));
  // The scorer's own ignoreIndex must be an int32; labels were checked above, so -100 cannot collide.
  const scorer = xe.scorer({
    classes, topK: options.topK, bins: options.bins, from: options.from,
    ignoreIndex: options.ignoreIndex ?? -100,
  });
  let chunks = 0;
  for (let r0 = 0; r0 < n; r0 += per) {
    const r1 = Math.min(n, r0 + per);
    const z = readNpyRows(fd, header, r0, r1, logits.path, buffer) as Float32Array;
    try {
      scorer.update(z, y.subarray(r0, r1));
    } catch (e) {
      // Probabilities out of range: name the file and the row in it rather than in the chunk.
      const m = e instanceof RangeError ? /^logits\[(\d+)\] = (\S+) (.*)$/.exec(e.message) : null;
      if (!m) throw e;
      const i = r0 * classes + Number(m[1]);
      throw new CliError(`logits file ${logitsPath}: value ${m[2]} at row ${Math.floor(i / classes)}, class ${i % classes} ${m[3]}`);
    }
    chunks++;
    options.onProgress?.(r1, n);
  }
  const r = scorer.result();
  return {
    n, classes, lossNats: r.lossNats, lossBits: r.lossBits, perplexity: r.perplexity,
    accuracy: r.accuracy, count: r.count, topK: r.topK, brier: r.brier, ece: r.ece, mce: r.mce, bins: r.bins,
    logitsDtype: dtypeName(header.dtype), labelsDtype: dtypeName(labelsDtype),
    correct: scorer.state().correct, chunks,
  };
}

/**
 * Reads the labels whole: they are small next to the logits (one integer per row). The header is
 * checked first, so a mismatched file is refused before its data is read.
 */
function readLabels(labels: Input, logitsPath: string, logits: NpyHeader): { dtype: NpyDtype; data: Int32Array } {
  const labelsPath = labels.path;
  const header = readNpyHeader(labels.fd, labelsPath);
  if (header.dtype === '<f4' || header.dtype === '<f8' || header.dtype === '<f2') {
    throw new CliError(
      `labels file ${shown(labelsPath)} has dtype ${dtypeName(header.dtype)} ('${header.dtype}'); expected int32, int64, uint8 or uint16`,
    );
  }
  const n = logits.shape[0];
  if (header.shape.length !== 1 || header.shape[0] !== n) {
    throw new CliError(
      `shape mismatch: labels file ${shown(labelsPath)} has shape ${shapeText(header.shape)}, logits file ${shown(logitsPath)} has shape ${shapeText(logits.shape)}; expected labels of shape [${n}]`,
    );
  }
  const data = allocate(`the ${n} labels of ${shown(labelsPath)}`, () => readNpyRows(labels.fd, header, 0, n, labelsPath));
  return { dtype: header.dtype, data: data as Int32Array };
}

function chooseChunkRows(chunkRows: number | undefined, header: NpyHeader): number {
  if (chunkRows !== undefined) {
    if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) {
      throw new RangeError(`chunkRows must be a positive integer, got ${chunkRows}`);
    }
    return Math.min(chunkRows, Math.max(1, header.shape[0]));
  }
  const rowBytes = header.shape[1] * header.itemSize;
  return Math.max(1, Math.min(header.shape[0], Math.floor(CHUNK_BYTES / rowBytes)));
}

/** A shape for messages: '[20, 4]'; cut short for a crafted header with very many dimensions. */
function shapeText(shape: readonly number[]): string {
  const text = `[${shape.slice(0, 20).join(', ')}`;
  return shape.length > 20 ? `${text}, … (${shape.length} dimensions)]` : `${text}]`;
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
}

/** Flags that take a value, and the ScoreArgs key each fills. */
const VALUE_FLAGS = {
  '--logits': 'logits', '--labels': 'labels', '--top-k': 'topK', '--bins': 'bins',
  '--ignore-index': 'ignoreIndex', '--plot': 'plot',
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
  const out: ScoreArgs = { json: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-h' || arg === '--help') return 'help';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    if (flag === '--json') {
      if (eq >= 0) throw new CliError(`--json takes no value, got ${quoted(arg)}`, true);
      out.json = true;
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
        // (A negative --ignore-index such as -100 starts with a single dash, so it is still taken.)
        if (value !== undefined && value.startsWith('--')) value = undefined;
        else i++;
      }
      const f = flag as ValueFlag;
      if (!value) {
        const what = f === '--logits' || f === '--labels' ? 'a file: ' + f + ' FILE.npy' : f === '--plot' ? 'a file: --plot FILE.svg' : 'a value';
        throw new CliError(`${flag} needs ${what}`, true);
      }
      // Node throws a TypeError for a path with a NUL byte (which no shell can pass, but main can be called).
      if ((f === '--logits' || f === '--labels' || f === '--plot') && value.includes('\0')) {
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
  return out;
}

function formatReport(report: ScoreReport, logits: string, labels: string, sample: boolean): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(6) : String(x));
  const lines = [
    sample ? 'Scored the bundled sample:' : 'Scored:',
    `  logits      ${shown(logits)}  (${report.logitsDtype} [${report.n}, ${report.classes}])`,
    `  labels      ${shown(labels)}  (${report.labelsDtype} [${report.n}])`,
    `rows (N)      ${report.n}`,
    `classes (C)   ${report.classes}`,
    `loss          ${f(report.lossNats)} nats`,
    `              ${f(report.lossBits)} bits`,
    `perplexity    ${f(report.perplexity)}`,
    `accuracy      ${f(report.accuracy)}  (${report.correct} / ${report.count})`,
    ...Object.entries(report.topK).map(([k, v]) => `${`top-${k} acc.`.padEnd(14)}${f(v)}`),
    `brier         ${f(report.brier)}`,
    `ECE           ${f(report.ece)}  (${report.bins.length} bins)`,
    `MCE           ${f(report.mce)}`,
  ];
  if (report.count !== report.n) lines.splice(5, 0, `counted       ${report.count}  (${report.n - report.count} ignored)`);
  return lines.join('\n') + '\n';
}

/**
 * Runs the command line `argv` (without node and the script: process.argv.slice(2)).
 * Never throws: errors are written to io.stderr and reflected in the exit status.
 * @returns the exit status (EXIT): 0 success, 2 usage error or invalid input, 1 an output that could
 *   not be written or an internal error, 141 standard output closed early (nothing printed)
 */
export async function main(argv: string[], io: CliIO = {}): Promise<number> {
  const stdout = io.stdout ?? streamWriter(process.stdout);
  const stderr = io.stderr ?? ((text: string) => void process.stderr.write(text));
  if (io.stderr === undefined) ignoreStreamErrors(process.stderr);
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
    const xe = await init();
    const { report, inputs } = withInputs(logitsPath, labelsPath, (logits, labels) => {
      // Refused before the (possibly long) run; checked again on the opened plot file when writing.
      if (args.plot !== undefined) checkNotInput(args.plot, statIfAny(args.plot), [logits, labels]);
      const progress = progressBar(stderr, io.stderrIsTTY ?? process.stderr.isTTY === true, io.now ?? (() => performance.now()));
      try {
        const report = scoreInputs(xe, logits, labels, {
          chunkRows: io.chunkRows, topK: args.topK, bins: args.bins, ignoreIndex: args.ignoreIndex, from: args.from,
          onProgress: progress.update,
        });
        return { report, inputs: [logits, labels] };
      } finally {
        progress.done();
      }
    });
    if (args.plot !== undefined) {
      const { count, ece, mce, bins } = report;
      writePlot(args.plot, reliabilitySvg({ count, ece, mce, bins }), inputs);
    }
    if (args.json) {
      const { n, classes, lossNats, lossBits, perplexity, accuracy, count, topK, brier, ece, mce, bins } = report;
      await out(JSON.stringify({ n, classes, lossNats, lossBits, perplexity, accuracy, count, topK, brier, ece, mce, bins }) + '\n');
    } else {
      await out(formatReport(report, logitsPath, labelsPath, sample) + (args.plot !== undefined ? `plot          ${shown(args.plot)}\n` : ''));
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

/** Refuses a --plot file that is one of the inputs, however it is spelled (symlink, hard link, ./x). */
function checkNotInput(plot: string, stats: BigIntStats | undefined, inputs: readonly Input[]): void {
  if (stats === undefined) return;
  const same = inputs.find((input) => input.stats.dev === stats.dev && input.stats.ino === stats.ino);
  if (same !== undefined) {
    throw new CliError(`--plot ${shown(plot)} is the input file ${shown(same.path)}; refusing to overwrite it`);
  }
}

/** O_WRONLY | O_CREAT without O_TRUNC: the file is checked before anything in it is replaced. */
const OPEN_PLOT = constants.O_WRONLY | constants.O_CREAT;

/**
 * Writes the SVG to `path`, refusing (exit 2) a path that is one of the inputs: the file is opened
 * without truncation, its identity checked by fstat, and only then truncated and written.
 * @throws CliError, status 2 when the path cannot be opened or is an input, status 1 when the writing
 *   fails (ENOSPC, EIO...)
 */
function writePlot(path: string, svg: string, inputs: readonly Input[]): void {
  let fd: number;
  try {
    fd = openSync(path, OPEN_PLOT, 0o666);
  } catch (e) {
    throw new CliError(`cannot write the plot ${shown(path)}: ${errnoText(e)}`);
  }
  try {
    const stats = fstatSync(fd, { bigint: true });
    checkNotInput(path, stats, inputs);
    const bytes = Buffer.from(svg, 'utf8');
    try {
      if (stats.isFile()) ftruncateSync(fd, 0);
      // In pieces of at most 1 GiB: Node refuses single writes of 2^31 bytes and more.
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 2 ** 30));
    } catch (e) {
      throw new CliError(`cannot write the plot ${shown(path)}: ${errnoText(e)}`, false, EXIT.failure);
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

/** Writes to a stream, resolving once the text is handed to the system and rejecting with its error. */
function streamWriter(stream: NodeJS.WritableStream): (text: string) => Promise<void> {
  ignoreStreamErrors(stream);
  return (text) => new Promise((resolve, reject) => {
    stream.write(text, (e) => (e ? reject(e) : resolve()));
  });
}

/**
 * A progress bar on stderr, drawn only on a terminal and only once the run has taken PROGRESS_AFTER_MS,
 * redrawn at most every 100 ms, and erased when done (so stderr ends as it began).
 */
function progressBar(write: (text: string) => void, tty: boolean, now: () => number) {
  const start = now();
  let drawn = false;
  let last = -Infinity;
  return {
    update: (done: number, total: number): void => {
      if (!tty) return;
      const t = now();
      if (t - start < PROGRESS_AFTER_MS || (t - last < 100 && done < total)) return;
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
