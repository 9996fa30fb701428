// The `xentropy` command: scores a classifier's saved logits against labels (.npy files) with the
// WebAssembly scorer (loss, accuracy, top-k, Brier, calibration; ops/scorer.ts). The logits are streamed in row chunks, so memory stays bounded by one
// chunk plus the labels however large the file is.

import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init, type Xentropy } from '../node.js';
import type { CalibrationBin, ScorerInput } from '../ops/scorer.js';
import { reliabilitySvg } from './calibration_svg.js';
import {
  NpyFormatError, dtypeName, readNpyHeader, readNpyRows,
  type NpyDtype, type NpyHeader,
} from './npy.js';

/** Bytes of the logits file read per chunk when no chunkRows is given. */
export const CHUNK_BYTES = 16 * 1024 * 1024;

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
not in the installed package).
Exit status: 0 on success, 2 for a usage error or invalid input files, 1 for an internal error.
`;

/** Where main writes, and knobs for tests. */
export interface CliIO {
  /** Receives standard output text. Default: process.stdout. */
  stdout?: (text: string) => void;
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

/** A problem with the command line or the input files: reported without a stack trace, exit status 2. */
export class CliError extends Error {
  /** True when the usage text helps (a command-line mistake rather than a bad file). */
  readonly usage: boolean;

  constructor(message: string, usage = false) {
    super(message);
    this.name = 'CliError';
    this.usage = usage;
  }
}

/**
 * Scores logits against labels, streaming the logits file in chunks of `chunkRows` rows.
 * @param xe an initialised instance (from `init`)
 * @throws CliError for shapes, dtypes or labels that do not fit; NpyFormatError for a malformed file;
 *   Node's system errors for an unreadable one
 */
export function scoreNpy(
  xe: Xentropy, logitsPath: string, labelsPath: string, options: ScoreNpyOptions = {},
): ScoreReport {
  const fd = openSync(logitsPath, 'r');
  try {
    const header = readNpyHeader(fd, logitsPath);
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

    const { dtype: labelsDtype, data: y } = readLabels(labelsPath, logitsPath, header);
    if (n === 0) throw new CliError(`logits file ${logitsPath} has no rows to score`);
    // Without --ignore-index no label is ignored: -2^31 - 1 is no int32.
    const ignoreIndex = options.ignoreIndex ?? -(2 ** 31) - 1;
    for (let r = 0; r < n; r++) {
      // Checked here rather than left to the scorer so the message names the file, and so that a
      // label equal to the library's ignoreIndex (-100) is an error instead of a silently skipped row.
      if ((y[r] < 0 || y[r] >= classes) && y[r] !== ignoreIndex) {
        throw new CliError(`labels file ${labelsPath}: label ${y[r]} at index ${r} is not a class in [0, ${classes})`);
      }
    }

    const per = chooseChunkRows(options.chunkRows, header);
    const buffer = new Float32Array(per * classes);
    // The scorer's own ignoreIndex must be an int32; labels were checked above, so -100 cannot collide.
    const scorer = xe.scorer({
      classes, topK: options.topK, bins: options.bins, from: options.from,
      ignoreIndex: options.ignoreIndex ?? -100,
    });
    let chunks = 0;
    for (let r0 = 0; r0 < n; r0 += per) {
      const r1 = Math.min(n, r0 + per);
      const z = readNpyRows(fd, header, r0, r1, logitsPath, buffer) as Float32Array;
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
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the labels whole: they are small next to the logits (one integer per row). The header is
 * checked first, so a mismatched file is refused before its data is read.
 */
function readLabels(labelsPath: string, logitsPath: string, logits: NpyHeader): { dtype: NpyDtype; data: Int32Array } {
  const fd = openSync(labelsPath, 'r');
  try {
    const header = readNpyHeader(fd, labelsPath);
    if (header.dtype === '<f4' || header.dtype === '<f8' || header.dtype === '<f2') {
      throw new CliError(
        `labels file ${labelsPath} has dtype ${dtypeName(header.dtype)} ('${header.dtype}'); expected int32, int64, uint8 or uint16`,
      );
    }
    const n = logits.shape[0];
    if (header.shape.length !== 1 || header.shape[0] !== n) {
      throw new CliError(
        `shape mismatch: labels file ${labelsPath} has shape ${shapeText(header.shape)}, logits file ${logitsPath} has shape ${shapeText(logits.shape)}; expected labels of shape [${n}]`,
      );
    }
    return { dtype: header.dtype, data: readNpyRows(fd, header, 0, n, labelsPath) as Int32Array };
  } finally {
    closeSync(fd);
  }
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

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
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
    throw new CliError(`${flag} needs ${what}, got ${JSON.stringify(value)}`, true);
  };
  switch (flag) {
    case '--top-k': {
      const ks = value.split(',').map((part) => {
        const k = Number(part.trim());
        if (!INTEGER.test(part.trim()) || !(k >= 1 && k <= 2 ** 31 - 1)) bad('a comma-separated list of positive integers (like 1,5)');
        return k;
      });
      if (new Set(ks).size !== ks.length) bad('distinct values');
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
      if (eq >= 0) throw new CliError(`--json takes no value, got ${JSON.stringify(arg)}`, true);
      out.json = true;
    } else if (flag === '--probs' || flag === '--log-probs') {
      if (eq >= 0) throw new CliError(`${flag} takes no value, got ${JSON.stringify(arg)}`, true);
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
      const key = VALUE_FLAGS[f];
      if (out[key] !== undefined) throw new CliError(`${flag} given more than once`, true);
      (out as unknown as Record<string, unknown>)[key] = parseFlagValue(f, value);
    } else if (arg.startsWith('-')) {
      throw new CliError(`unknown option ${JSON.stringify(flag)} for 'score'`, true);
    } else {
      throw new CliError(`unexpected argument ${JSON.stringify(arg)}; files are given with --logits and --labels`, true);
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
    `  logits      ${logits}  (${report.logitsDtype} [${report.n}, ${report.classes}])`,
    `  labels      ${labels}  (${report.labelsDtype} [${report.n}])`,
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
 * @returns the exit status: 0 success, 2 usage error or invalid input, 1 internal error
 */
export async function main(argv: string[], io: CliIO = {}): Promise<number> {
  const stdout = io.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => void process.stderr.write(text));
  try {
    const [command, ...rest] = argv;
    if (command === '-h' || command === '--help' || command === 'help') {
      stdout(USAGE);
      return 0;
    }
    if (command === undefined) throw new CliError('missing command', true);
    if (command !== 'score') throw new CliError(`unknown command ${JSON.stringify(command)}`, true);
    const args = parseScoreArgs(rest);
    if (args === 'help') {
      stdout(USAGE);
      return 0;
    }
    const sample = args.logits === undefined;
    if (sample && !(existsSync(SAMPLE_LOGITS) && existsSync(SAMPLE_LABELS))) {
      throw new CliError(
        'the sample data is not installed with the package (it lives in the xentropy repository, data/sample-*.npy); '
          + 'score your own files with --logits LOGITS.npy --labels LABELS.npy',
        true,
      );
    }
    const logits = args.logits ?? SAMPLE_LOGITS;
    const labels = args.labels ?? SAMPLE_LABELS;
    const xe = await init();
    const progress = progressBar(stderr, io.stderrIsTTY ?? process.stderr.isTTY === true, io.now ?? (() => performance.now()));
    let report: ScoreReport;
    try {
      report = scoreNpy(xe, logits, labels, {
        chunkRows: io.chunkRows, topK: args.topK, bins: args.bins, ignoreIndex: args.ignoreIndex, from: args.from,
        onProgress: progress.update,
      });
    } finally {
      progress.done();
    }
    if (args.plot !== undefined) {
      const { count, ece, mce, bins } = report;
      writeFileSync(args.plot, reliabilitySvg({ count, ece, mce, bins }));
    }
    if (args.json) {
      const { n, classes, lossNats, lossBits, perplexity, accuracy, count, topK, brier, ece, mce, bins } = report;
      stdout(JSON.stringify({ n, classes, lossNats, lossBits, perplexity, accuracy, count, topK, brier, ece, mce, bins }) + '\n');
    } else {
      stdout(formatReport(report, logits, labels, sample) + (args.plot !== undefined ? `plot          ${args.plot}\n` : ''));
    }
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      stderr(`xentropy: ${e.message}\n`);
      if (e.usage) stderr(`Run 'xentropy --help' for usage.\n`);
      return 2;
    }
    if (e instanceof NpyFormatError || isFileError(e)) {
      stderr(`xentropy: ${(e as Error).message}\n`);
      return 2;
    }
    stderr(`xentropy: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return 1;
  }
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
