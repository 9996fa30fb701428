// A standalone SVG reliability diagram of a ScoreResult: per confidence bin, the accuracy as a bar
// against the diagonal of perfect calibration, and below it the number of rows in each bin.

import type { ScoreResult } from '../ops/scorer.js';

const W = 560;
const LEFT = 70, RIGHT = 20, TOP = 50;
const PLOT = W - LEFT - RIGHT; // square plot area for accuracy vs confidence
const COUNT_TOP = TOP + PLOT + 55, COUNT_H = 80;

function num(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 100) / 100) : '0';
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The reliability diagram of a result as an SVG document: one `<rect class="bar">` per non-empty bin
 * (height = accuracy, with a `<rect class="gap">` outline at the mean confidence), the diagonal, a
 * `<rect class="count-bar">` and a `<text class="count">` per non-empty bin in a count chart below,
 * axis labels, and the ECE and MCE in the title.
 */
export function reliabilitySvg(
  result: Pick<ScoreResult, 'count' | 'ece' | 'mce' | 'bins'>, title = 'Reliability diagram',
): string {
  const height = COUNT_TOP + COUNT_H + 50;
  const x = (v: number) => LEFT + v * PLOT;
  const y = (v: number) => TOP + (1 - v) * PLOT;
  const maxCount = Math.max(1, ...result.bins.map((b) => b.count));
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="12">`);
  out.push('<style>.bar{fill:#4c78a8}.gap{fill:none;stroke:#e45756;stroke-width:1.5;stroke-dasharray:3 2}.count-bar{fill:#9ecae9}.axis{stroke:#333;fill:none}.grid{stroke:#ddd}</style>');
  out.push(`<rect width="${W}" height="${height}" fill="white"/>`);
  const summary = `${title}: ECE ${result.ece.toFixed(4)}, MCE ${result.mce.toFixed(4)}, N = ${result.count}`;
  out.push(`<text class="title" x="${W / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(summary)}</text>`);
  for (let t = 0; t <= 10; t += 2) {
    const v = t / 10;
    out.push(`<line class="grid" x1="${num(x(0))}" y1="${num(y(v))}" x2="${num(x(1))}" y2="${num(y(v))}"/>`);
    out.push(`<text x="${LEFT - 6}" y="${num(y(v) + 4)}" text-anchor="end">${v.toFixed(1)}</text>`);
    out.push(`<text x="${num(x(v))}" y="${TOP + PLOT + 16}" text-anchor="middle">${v.toFixed(1)}</text>`);
  }
  result.bins.forEach((bin, i) => {
    if (bin.count === 0) return;
    const x0 = x(bin.lower) + 1, w = Math.max(1, x(bin.upper) - x(bin.lower) - 2);
    out.push(`<rect class="bar" data-bin="${i}" x="${num(x0)}" y="${num(y(bin.accuracy))}" width="${num(w)}" height="${num(bin.accuracy * PLOT)}"><title>confidence [${bin.lower.toFixed(3)}, ${bin.upper.toFixed(3)}): accuracy ${bin.accuracy.toFixed(4)}, mean confidence ${bin.confidence.toFixed(4)}, ${bin.count} rows</title></rect>`);
    const top = Math.max(bin.accuracy, bin.confidence), bottom = Math.min(bin.accuracy, bin.confidence);
    out.push(`<rect class="gap" data-bin="${i}" x="${num(x0)}" y="${num(y(top))}" width="${num(w)}" height="${num((top - bottom) * PLOT)}"/>`);
    const ch = (bin.count / maxCount) * COUNT_H;
    out.push(`<rect class="count-bar" data-bin="${i}" x="${num(x0)}" y="${num(COUNT_TOP + COUNT_H - ch)}" width="${num(w)}" height="${num(ch)}"/>`);
    out.push(`<text class="count" data-bin="${i}" x="${num(x0 + w / 2)}" y="${num(COUNT_TOP + COUNT_H - ch - 3)}" text-anchor="middle" font-size="9">${bin.count}</text>`);
  });
  out.push(`<line class="diagonal" x1="${num(x(0))}" y1="${num(y(0))}" x2="${num(x(1))}" y2="${num(y(1))}" stroke="#555" stroke-dasharray="5 4"/>`);
  out.push(`<rect class="axis" x="${LEFT}" y="${TOP}" width="${PLOT}" height="${PLOT}"/>`);
  out.push(`<line class="axis" x1="${LEFT}" y1="${COUNT_TOP + COUNT_H}" x2="${LEFT + PLOT}" y2="${COUNT_TOP + COUNT_H}"/>`);
  out.push(`<text class="label" x="${LEFT + PLOT / 2}" y="${TOP + PLOT + 36}" text-anchor="middle">Confidence (top-label probability)</text>`);
  out.push(`<text class="label" transform="translate(20 ${TOP + PLOT / 2}) rotate(-90)" text-anchor="middle">Accuracy</text>`);
  out.push(`<text class="label" transform="translate(20 ${COUNT_TOP + COUNT_H / 2}) rotate(-90)" text-anchor="middle">Rows</text>`);
  out.push(`<text class="legend" x="${LEFT + 8}" y="${TOP + 16}">bars: accuracy per bin; dashed red: gap to mean confidence; diagonal: perfect calibration</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
