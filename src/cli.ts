// The `xentropy` command: scores a classifier's saved logits against labels (.npy files) with the
// WebAssembly cross-entropy. The logits are streamed in row chunks, so memory stays bounded by one
// chunk plus the labels however large the file is.

import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init, type Xentropy } from './index.js';
import {
  NpyFormatError, dtypeName, readNpyHeader, readNpyRows,
  type NpyDtype, type NpyHeader,
} from './npy.js';

/** Bytes of the logits file read per chunk when no chunkRows is given. */
export const CHUNK_BYTES = 16 * 1024 * 1024;

/** The bundled sample scored by `xentropy score` without files (src/ and dist/ are both one level down). */
export const SAMPLE_LOGITS = fileURLToPath(new URL('../data/sample-logits.npy', import.meta.url));
/** Labels of the bundled sample. */
export const SAMPLE_LABELS = fileURLToPath(new URL('../data/sample-labels.npy', import.meta.url));

/** The help text printed by `xentropy --help`. */
export const USAGE = `Usage:
  xentropy score [--logits LOGITS.npy --labels LABELS.npy] [--json]
  xentropy --help

Scores a classifier: mean cross-entropy of the logits against the labels, perplexity and accuracy.

  --logits FILE   .npy of shape [N, C], float32 or float64: one row of raw scores per example
  --labels FILE   .npy of shape [N], int32, int64, uint8 or uint16: the true class of each row, in [0, C)
  --json          print one JSON object {n, classes, lossNats, lossBits, perplexity, accuracy}
  -h, --help      print this help

Without --logits and --labels it scores the bundled sample (data/sample-*.npy).
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
}

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
  xe: Xentropy, logitsPath: string, labelsPath: string, options: { chunkRows?: number } = {},
): ScoreReport {
  const fd = openSync(logitsPath, 'r');
  try {
    const header = readNpyHeader(fd, logitsPath);
    if (header.dtype !== '<f4' && header.dtype !== '<f8') {
      throw new CliError(
        `logits file ${logitsPath} has dtype ${dtypeName(header.dtype)} ('${header.dtype}'); expected float32 or float64`,
      );
    }
    if (header.shape.length !== 2) {
      throw new CliError(`logits file ${logitsPath} has shape ${shapeText(header.shape)}; expected 2 dimensions [N, C]`);
    }
    const [n, classes] = header.shape;
    if (classes < 1) throw new CliError(`logits file ${logitsPath} has shape ${shapeText(header.shape)}; C must be at least 1`);

    const { dtype: labelsDtype, data: y } = readLabels(labelsPath, logitsPath, header);
    if (n === 0) throw new CliError(`logits file ${logitsPath} has no rows to score`);
    for (let r = 0; r < n; r++) {
      // Checked here rather than left to crossEntropy so the message names the file, and so that a
      // label equal to the library's ignoreIndex (-100) is an error instead of a silently skipped row.
      if (y[r] < 0 || y[r] >= classes) {
        throw new CliError(`labels file ${labelsPath}: label ${y[r]} at index ${r} is not a class in [0, ${classes})`);
      }
    }

    const per = chooseChunkRows(options.chunkRows, header);
    const buffer = new Float32Array(per * classes);
    let sum = 0;
    let correct = 0;
    let chunks = 0;
    for (let r0 = 0; r0 < n; r0 += per) {
      const r1 = Math.min(n, r0 + per);
      const z = readNpyRows(fd, header, r0, r1, logitsPath, buffer) as Float32Array;
      const t = y.subarray(r0, r1);
      // 'sum' per chunk, divided once at the end, so the mean does not depend on the chunking.
      sum += xe.crossEntropy(z, t, { classes, reduction: 'sum' });
      correct += countCorrect(z, t, classes);
      chunks++;
    }
    const lossNats = sum / n;
    return {
      n, classes, lossNats, lossBits: lossNats / Math.LN2, perplexity: Math.exp(lossNats),
      accuracy: correct / n, logitsDtype: dtypeName(header.dtype), labelsDtype: dtypeName(labelsDtype),
      correct, chunks,
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
    if (header.dtype === '<f4' || header.dtype === '<f8') {
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

/** Rows whose arg-max (first maximum; NaN counts as the maximum, as numpy.argmax) equals the label. */
function countCorrect(z: Float32Array, labels: Int32Array, classes: number): number {
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    const o = r * classes;
    let best = 0;
    let max = z[o];
    if (max === max) {
      for (let c = 1; c < classes; c++) {
        const v = z[o + c];
        if (v !== v) { best = c; break; }
        if (v > max) { max = v; best = c; }
      }
    }
    if (best === labels[r]) correct++;
  }
  return correct;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

interface ScoreArgs {
  logits?: string;
  labels?: string;
  json: boolean;
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
    } else if (flag === '--logits' || flag === '--labels') {
      let value: string | undefined;
      if (eq >= 0) value = arg.slice(eq + 1);
      else {
        value = args[i + 1];
        // A following flag means the value was forgotten; a path starting with -- can use --flag=PATH.
        if (value !== undefined && value.startsWith('--')) value = undefined;
        else i++;
      }
      if (!value) throw new CliError(`${flag} needs a file: ${flag} FILE.npy`, true);
      const key = flag === '--logits' ? 'logits' : 'labels';
      if (out[key] !== undefined) throw new CliError(`${flag} given more than once`, true);
      out[key] = value;
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
    `accuracy      ${f(report.accuracy)}  (${report.correct} / ${report.n})`,
  ];
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
    const logits = args.logits ?? SAMPLE_LOGITS;
    const labels = args.labels ?? SAMPLE_LABELS;
    const xe = await init();
    const report = scoreNpy(xe, logits, labels, { chunkRows: io.chunkRows });
    if (args.json) {
      const { n, classes, lossNats, lossBits, perplexity, accuracy } = report;
      stdout(JSON.stringify({ n, classes, lossNats, lossBits, perplexity, accuracy }) + '\n');
    } else {
      stdout(formatReport(report, logits, labels, sample));
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

/** Node's errors for a missing or unreadable file (they carry an errno code and name the path). */
function isFileError(e: unknown): boolean {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string'
    && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}
