// Turning measurements into tables: a per-call timer, statistics, number formatting, machine
// description, bench/results/RESULTS.md.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * Mean ms per call over `calls` back-to-back calls of `call` (sync or async: each result is awaited).
 * @param {() => unknown} call
 * @param {number} calls
 * @returns {Promise<number>}
 */
export async function perCall(call, calls) {
  const t = performance.now();
  for (let i = 0; i < calls; i++) await call();
  return (performance.now() - t) / calls;
}

/**
 * Median of a non-empty list of numbers (mean of the middle two for an even count).
 * @param {number[]} values
 * @returns {number}
 */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * A distribution-free confidence interval of the median: the order statistics x(k) and x(n + 1 - k)
 * (1-based) with k the largest rank such that P(X < k) <= (1 - confidence) / 2 for X ~ Binomial(n, 1/2),
 * which cover the true median with probability at least `confidence` for any continuous distribution
 * (Conover, Practical Nonparametric Statistics, 3rd ed., section 3.2). [-Infinity, Infinity] when n is
 * too small for any such k (n < 6 at 95 %).
 * @param {number[]} values
 * @param {number} [confidence]
 * @returns {[number, number]}
 */
export function medianInterval(values, confidence = 0.95) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const tail = (1 - confidence) / 2;
  // P(X <= i) summed up from P(X = 0) = 2^-n, each term from the one before.
  let pmf = 2 ** -n, below = 0, k = 0;
  for (let i = 0; i < n; i++) {
    below += pmf; // P(X <= i) = P(X < i + 1)
    if (below > tail) break;
    k = i + 1;
    pmf *= (n - i) / (i + 1);
  }
  return k === 0 ? [-Infinity, Infinity] : [sorted[k - 1], sorted[n - k]];
}

/** Milliseconds with about three significant digits. */
function ms(value) {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** An error magnitude; exact agreement prints as 0. */
function err(value) {
  if (value === undefined) return '—';
  return value === 0 ? '0' : value.toExponential(1);
}

/** A markdown table with columns padded so it also reads well on a terminal. */
function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/**
 * The results table of one operation, one row per workload and contender, in run order. Cells that
 * were not timed (not applicable, skipped, or an error) keep their row, with the reason in the last
 * column. Speed-up is the plain loop's median divided by the contender's median on the same workload
 * and operation (above 1: faster than the plain loop).
 * @param {Array<{ workload: string, label: string, elements: number, op: string, contender: string,
 *   status: string, note?: string, sampleMs?: number[], lossRelErr?: number, gradMaxAbsErr?: number }>} results
 *   all cells of the run
 * @param {'loss' | 'grad'} op which operation to tabulate
 * @param {string} plainName the contender every row is compared against
 * @returns {string} a markdown table
 */
export function resultsTable(results, op, plainName) {
  const cells = results.filter((r) => r.op === op);
  const rows = cells.map((cell) => {
    if (cell.status !== 'ok') {
      const row = [cell.label, cell.contender, '—', '—', '—', '—', '—'];
      if (op === 'grad') row.push('—');
      row.push('0', cell.note);
      return row;
    }
    const mid = median(cell.sampleMs);
    const plain = cells.find((c) => c.workload === cell.workload && c.contender === plainName && c.status === 'ok');
    const row = [
      cell.label,
      cell.contender,
      ms(mid),
      `${ms(Math.min(...cell.sampleMs))}–${ms(Math.max(...cell.sampleMs))}`,
      (cell.elements / (mid * 1e6)).toFixed(3),
      plain ? `${(median(plain.sampleMs) / mid).toFixed(2)}×` : '—',
      err(cell.lossRelErr),
    ];
    if (op === 'grad') row.push(err(cell.gradMaxAbsErr));
    row.push(String(cell.sampleMs.length), '');
    return row;
  });
  const header = ['workload', 'contender', 'median ms', 'min–max ms', 'G elem/s', 'speed-up vs plain', 'loss rel. err'];
  if (op === 'grad') header.push('grad max abs err');
  header.push('samples', 'note');
  return table(header, rows);
}

/**
 * The targets of issue #4 against this run: one row per target with what each cell reached and
 * whether all of them meet it ("not measured" when a contender it needs did not run).
 * @param {object[]} results all cells of the run (as resultsTable)
 * @param {{ initMs: number[] }} initTimes start-up times of fresh processes
 * @param {{ resident: string, relaxed: string, copying: string, pool: string, plain: string, ort: string, tfjs: string[] }} names
 * @returns {string} a markdown table
 */
export function targetsTable(results, initTimes, names) {
  const cellOf = (workload, op, contender) => results.find((r) => r.workload === workload && r.op === op && r.contender === contender && r.status === 'ok');
  const medianOf = (workload, op, contender) => {
    const cell = cellOf(workload, op, contender);
    return cell ? median(cell.sampleMs) : null;
  };
  const rate = (workload, op, contender) => {
    const cell = cellOf(workload, op, contender);
    return cell ? cell.elements / (median(cell.sampleMs) * 1e6) : null;
  };
  /** The fastest tfjs variant's median, so the ratio against tfjs is the conservative one. */
  const tfjsMedian = (workload, op) => {
    const times = names.tfjs.map((n) => medianOf(workload, op, n)).filter((t) => t !== null);
    return times.length ? Math.min(...times) : null;
  };
  const softmax = ['W1', 'W2', 'W3'];
  const rows = [];
  /** A target row: values per workload (null: not measured), compared with `goal` (at least). */
  const target = (what, values, goal, format) => {
    const measured = values.filter(([, v]) => v !== null);
    const reached = values.map(([w, v]) => `${w} ${v === null ? 'not measured' : format(v)}`).join(', ');
    let met;
    if (measured.length === 0) met = 'not measured';
    else if (measured.every(([, v]) => v >= goal)) met = measured.length === values.length ? 'yes' : 'yes where measured';
    else met = 'no';
    rows.push([what, reached, met]);
  };
  const gs = (v) => `${v.toFixed(2)} G el/s`;
  const times = (v) => `${v.toFixed(1)}×`;
  /** Per workload, how many times faster `top` is than `bottom` (a name, or a function giving a median). */
  const ratio = (workloads, op, top, bottom) => workloads.map((w) => {
    const a = medianOf(w, op, top);
    const b = typeof bottom === 'function' ? bottom(w, op) : medianOf(w, op, bottom);
    return [w, a === null || b === null ? null : b / a];
  });
  target('(a) loss ≥ 1.0 G el/s, W1–W3 (resident)', softmax.map((w) => [w, rate(w, 'loss', names.resident)]), 1.0, gs);
  target('(a) ≥ 11× the plain loop (resident)', ratio(softmax, 'loss', names.resident, names.plain), 11, times);
  target('(a) ≥ 3× onnxruntime-web (resident)', ratio(softmax, 'loss', names.resident, names.ort), 3, times);
  target('(a) ≥ 10× tfjs-wasm, its faster variant (resident)', ratio(softmax, 'loss', names.resident, tfjsMedian), 10, times);
  target('(b) loss + grad ≥ 0.8 G el/s, W1–W3 (resident)', softmax.map((w) => [w, rate(w, 'grad', names.resident)]), 0.8, gs);
  // The FMA build, where this Node validates it: what a plain init() loads on Node ≥ 22, Deno, Bun and
  // Chromium (see the header). Its rows say so; the rows above stay the SIMD build every runtime has.
  if (softmax.some((w) => cellOf(w, 'loss', names.relaxed))) {
    target('(a) loss ≥ 1.0 G el/s, W1–W3 (relaxed SIMD, resident)', softmax.map((w) => [w, rate(w, 'loss', names.relaxed)]), 1.0, gs);
    target('(a) ≥ 11× the plain loop (relaxed SIMD)', ratio(softmax, 'loss', names.relaxed, names.plain), 11, times);
    target('(a) ≥ 3× onnxruntime-web (relaxed SIMD)', ratio(softmax, 'loss', names.relaxed, names.ort), 3, times);
    target('(a) ≥ 10× tfjs-wasm, its faster variant (relaxed SIMD)', ratio(softmax, 'loss', names.relaxed, tfjsMedian), 10, times);
    target('(b) loss + grad ≥ 0.8 G el/s, W1–W3 (relaxed SIMD, resident)', softmax.map((w) => [w, rate(w, 'grad', names.relaxed)]), 0.8, gs);
  }
  for (const op of ['loss', 'grad']) {
    // W4 counts the resident path when the build takes resident buffers for it, else the copying one.
    const contender = cellOf('W4', op, names.resident) ? names.resident : names.copying;
    target(`W4 ${op === 'loss' ? '(a)' : '(b)'} ≥ 0.5 G el/s (${contender.replace('xentropy ', '')})`, [['W4', rate('W4', op, contender)]], 0.5, gs);
  }
  for (const op of ['loss', 'grad']) {
    // The copying path's throughput as a fraction of the resident path's: resident median / copying median.
    target(`copying ≥ 0.8× resident throughput, ${op === 'loss' ? '(a)' : '(b)'}`, ratio([...softmax, 'W4'], op, names.copying, names.resident), 0.8, (v) => `${v.toFixed(2)}×`);
  }
  for (const op of ['loss', 'grad']) {
    target(`pool ≥ 1.8× one thread (resident), W1 ${op === 'loss' ? '(a)' : '(b)'}`, ratio(['W1'], op, names.pool, names.resident), 1.8, times);
  }
  const init = median(initTimes.initMs);
  rows.push(['`init()` in a fresh process ≤ 5 ms (median)', `${ms(init)} ms`, init <= 5 ? 'yes' : 'no']);
  return table(['target', 'reached', 'met'], rows);
}

/**
 * The start-up table: import of dist/index.js, first init() and a second init() per fresh process.
 * @param {{ importMs: number[], initMs: number[], reinitMs: number[] }} times one value per process
 * @returns {string} a markdown table
 */
export function initTable(times) {
  const row = (label, values) => [label, ms(median(values)), `${ms(Math.min(...values))}–${ms(Math.max(...values))}`];
  return table(['step (fresh process)', 'median ms', 'min–max ms'], [
    row('`import` dist/index.js', times.importMs),
    row('first `await init()`', times.initMs),
    row('second `await init()` (module cached)', times.reinitMs),
  ]);
}

/**
 * Describes the machine and software the run used.
 * @param {URL} repoUrl file URL of the repository root (for the commit)
 * @returns {{ cpu: string, cores: number, memory: string, os: string, node: string, v8: string, commit: string, date: string }}
 */
export function machineInfo(repoUrl) {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    // /proc/cpuinfo sometimes names the CPU more fully than os.cpus().
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpu = match[1].trim();
  } catch { /* not Linux */ }
  let commit = 'unknown';
  try {
    // '-dirty' when the tree timed has changes that no commit holds yet.
    commit = execFileSync('git', ['describe', '--always', '--abbrev=7', '--dirty'], { cwd: fileURLToPath(repoUrl), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch { /* not a git checkout */ }
  return {
    cpu,
    cores: os.cpus().length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    commit,
    date: new Date().toISOString(),
  };
}
