// Turning measurements into tables: statistics, number formatting, machine description, RESULTS.md.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

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
 * The results table of one operation, one row per workload and contender, in run order.
 * Speed-up is the plain loop's median divided by the contender's median on the same workload and
 * operation (above 1: faster than the plain loop).
 * @param {Array<{ workload: string, rows: number, classes: number, op: string, contender: string,
 *   sampleMs: number[], lossRelErr: number, gradMaxAbsErr?: number }>} results all cells of the run
 * @param {'loss' | 'grad'} op which operation to tabulate
 * @param {string} plainName the contender every row is compared against
 * @returns {string} a markdown table
 */
export function resultsTable(results, op, plainName) {
  const cells = results.filter((r) => r.op === op);
  const rows = cells.map((cell) => {
    const mid = median(cell.sampleMs);
    const plain = cells.find((c) => c.workload === cell.workload && c.contender === plainName);
    const row = [
      `${cell.workload} ${cell.rows}×${cell.classes}`,
      cell.contender,
      ms(mid),
      `${ms(Math.min(...cell.sampleMs))}–${ms(Math.max(...cell.sampleMs))}`,
      ((cell.rows * cell.classes) / (mid * 1e6)).toFixed(3),
      plain ? `${(median(plain.sampleMs) / mid).toFixed(2)}×` : '—',
      err(cell.lossRelErr),
    ];
    if (op === 'grad') row.push(err(cell.gradMaxAbsErr));
    row.push(String(cell.sampleMs.length));
    return row;
  });
  const header = ['workload N×C', 'contender', 'median ms', 'min–max ms', 'G elem/s', 'speed-up vs plain', 'loss rel. err'];
  if (op === 'grad') header.push('grad max abs err');
  header.push('samples');
  return table(header, rows);
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
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: fileURLToPath(repoUrl), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
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
