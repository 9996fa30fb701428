// The report's drawings as SVG markup: the reliability diagram (also the CLI's --plot file), ROC and
// precision-recall curves, and the confusion heat map. Plain strings, no DOM and no Node built-ins, so
// the same code draws in Node, a browser page or a worker. Styling is by class: the caller supplies the
// colours (the report's CSS follows light and dark mode; the standalone --plot file has fixed ones).

/** One calibration bin, as `ScoreResult.bins` gives it. */
export interface BinLike {
  lower: number;
  upper: number;
  count: number;
  confidence: number;
  accuracy: number;
}

/** Escapes text for HTML and XML, in element content and in double- or single-quoted attributes. */
export function escapeText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    // Control characters (but tab and line breaks) are not allowed in XML 1.0 or are parse errors in HTML.
    .replace(/(?![\t\n\r])\p{Cc}/gu, '\ufffd');
}

/** A coordinate, rounded to 0.01 px (non-finite values, which cannot be drawn, become 0). */
export function px(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 100) / 100) : '0';
}

/** A drawing: its size and the elements inside its `<svg>` (the caller writes the `<svg>` tag). */
export interface Drawing {
  width: number;
  height: number;
  body: string;
}

/** Wraps a drawing as an inline `<svg>` of an HTML page, with an accessible name. */
export function inlineSvg(drawing: Drawing, label: string): string {
  const { width, height } = drawing;
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeText(label)}">\n${drawing.body}</svg>`;
}

// The reliability diagram's layout: a square plot of accuracy against confidence, a legend row above
// it (outside the plot, so no bar can reach it), and a chart of rows per bin below.
const R_WIDTH = 560;
const R_LEFT = 70, R_RIGHT = 20;
const R_PLOT = R_WIDTH - R_LEFT - R_RIGHT;
const R_LEGEND_Y = 36, R_LEGEND_H = 20;
const R_TOP = R_LEGEND_Y + R_LEGEND_H + 12;
const R_COUNT_TOP = R_TOP + R_PLOT + 55, R_COUNT_H = 80;

/**
 * A legend row: items laid left to right at fixed offsets inside a `<rect class="legend-box">`
 * (the box is what a test checks against the plot). Each item is a swatch drawn at (x, middle) and a label.
 */
function legendRow(
  x: number, y: number, width: number, height: number,
  items: readonly { at: number; label: string; swatch: (x: number, y: number) => string }[],
): string {
  const out = [`<g class="legend"><rect class="legend-box" x="${px(x)}" y="${px(y)}" width="${px(width)}" height="${px(height)}"/>`];
  const mid = y + height / 2;
  for (const item of items) {
    out.push(item.swatch(x + item.at + 6, mid));
    out.push(`<text class="legend-text" x="${px(x + item.at + 26)}" y="${px(mid + 4)}" font-size="11">${escapeText(item.label)}</text>`);
  }
  out.push('</g>');
  return out.join('\n');
}

/** The axes of a multiclass reliability diagram: the top label's probability and whether it was right. */
export const TOP_LABEL_AXES = { x: 'Confidence (top-label probability)', y: 'Accuracy', bars: 'accuracy per bin' };

/**
 * The reliability diagram of a result: one `<rect class="bar">` per non-empty bin (height = accuracy),
 * a `<rect class="gap">` from its accuracy to its mean confidence, the diagonal, a legend row above the
 * plot, and below it a `<rect class="count-bar">` and a `<text class="count">` per non-empty bin.
 * The title gives the ECE, MCE and N.
 */
export function reliabilityDrawing(
  result: { count: number; ece: number; mce: number; bins: readonly BinLike[] }, title: string,
  axes: { x: string; y: string; bars: string } = TOP_LABEL_AXES,
): Drawing {
  const width = R_WIDTH, height = R_COUNT_TOP + R_COUNT_H + 50;
  const x = (v: number) => R_LEFT + v * R_PLOT;
  const y = (v: number) => R_TOP + (1 - v) * R_PLOT;
  let maxCount = 1;
  for (const b of result.bins) if (b.count > maxCount) maxCount = b.count;
  const out: string[] = [];
  const summary = `${title}: ECE ${result.ece.toFixed(4)}, MCE ${result.mce.toFixed(4)}, N = ${result.count}`;
  out.push(`<text class="title" x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeText(summary)}</text>`);
  const box = (cls: string) => (sx: number, sy: number) =>
    `<rect class="${cls}" x="${px(sx)}" y="${px(sy - 5)}" width="14" height="10"/>`;
  out.push(legendRow(R_LEFT, R_LEGEND_Y, R_PLOT, R_LEGEND_H, [
    { at: 0, label: axes.bars, swatch: box('bar') },
    { at: 135, label: 'gap to mean confidence', swatch: box('gap') },
    {
      at: 310, label: 'perfect calibration',
      swatch: (sx, sy) => `<line class="diagonal" x1="${px(sx)}" y1="${px(sy)}" x2="${px(sx + 14)}" y2="${px(sy)}" stroke-dasharray="5 4"/>`,
    },
  ]));
  for (let t = 0; t <= 10; t += 2) {
    const v = t / 10;
    out.push(`<line class="grid" x1="${px(x(0))}" y1="${px(y(v))}" x2="${px(x(1))}" y2="${px(y(v))}"/>`);
    out.push(`<text x="${R_LEFT - 6}" y="${px(y(v) + 4)}" text-anchor="end">${v.toFixed(1)}</text>`);
    out.push(`<text x="${px(x(v))}" y="${R_TOP + R_PLOT + 16}" text-anchor="middle">${v.toFixed(1)}</text>`);
  }
  result.bins.forEach((bin, i) => {
    if (!(bin.count > 0)) return;
    const x0 = x(bin.lower) + 1, w = Math.max(1, x(bin.upper) - x(bin.lower) - 2);
    out.push(`<rect class="bar" data-bin="${i}" x="${px(x0)}" y="${px(y(bin.accuracy))}" width="${px(w)}" height="${px(bin.accuracy * R_PLOT)}"><title>confidence [${bin.lower.toFixed(3)}, ${bin.upper.toFixed(3)}): accuracy ${bin.accuracy.toFixed(4)}, mean confidence ${bin.confidence.toFixed(4)}, ${bin.count} rows</title></rect>`);
    const top = Math.max(bin.accuracy, bin.confidence), bottom = Math.min(bin.accuracy, bin.confidence);
    out.push(`<rect class="gap" data-bin="${i}" x="${px(x0)}" y="${px(y(top))}" width="${px(w)}" height="${px((top - bottom) * R_PLOT)}"/>`);
    const ch = (bin.count / maxCount) * R_COUNT_H;
    out.push(`<rect class="count-bar" data-bin="${i}" x="${px(x0)}" y="${px(R_COUNT_TOP + R_COUNT_H - ch)}" width="${px(w)}" height="${px(ch)}"/>`);
    out.push(`<text class="count" data-bin="${i}" x="${px(x0 + w / 2)}" y="${px(R_COUNT_TOP + R_COUNT_H - ch - 3)}" text-anchor="middle" font-size="9">${bin.count}</text>`);
  });
  out.push(`<line class="diagonal" x1="${px(x(0))}" y1="${px(y(0))}" x2="${px(x(1))}" y2="${px(y(1))}" stroke-dasharray="5 4"/>`);
  out.push(`<rect class="axis" x="${R_LEFT}" y="${R_TOP}" width="${R_PLOT}" height="${R_PLOT}"/>`);
  out.push(`<line class="axis" x1="${R_LEFT}" y1="${R_COUNT_TOP + R_COUNT_H}" x2="${R_LEFT + R_PLOT}" y2="${R_COUNT_TOP + R_COUNT_H}"/>`);
  out.push(`<text class="label" x="${R_LEFT + R_PLOT / 2}" y="${R_TOP + R_PLOT + 36}" text-anchor="middle">${escapeText(axes.x)}</text>`);
  out.push(`<text class="label" transform="translate(20 ${R_TOP + R_PLOT / 2}) rotate(-90)" text-anchor="middle">${escapeText(axes.y)}</text>`);
  out.push(`<text class="label" transform="translate(20 ${R_COUNT_TOP + R_COUNT_H / 2}) rotate(-90)" text-anchor="middle">Rows</text>`);
  return { width, height, body: out.join('\n') + '\n' };
}

/** One curve of a chart: its name and its points (x, y in [0, 1]). */
export interface Series {
  name: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
}

/** The colours of up to ten series, as classes s0 … s9 (the report's CSS defines them). */
export const SERIES_CLASSES = 10;

const C_LEFT = 56, C_RIGHT = 16, C_TOP = 34, C_PLOT = 300;
const C_LEGEND_ROW = 16;

/**
 * A polyline's points in pixels, without the points that would fall within half a pixel of the last
 * one kept (a curve of every threshold can have a point per row; the drawing cannot show more).
 */
function polylinePoints(xs: ArrayLike<number>, ys: ArrayLike<number>, x: (v: number) => number, y: (v: number) => number): string {
  const out: string[] = [];
  let lastX = Number.NaN, lastY = Number.NaN;
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const X = x(xs[i]), Y = y(ys[i]);
    if (!Number.isFinite(X) || !Number.isFinite(Y)) continue;
    if (i !== n - 1 && Math.abs(X - lastX) + Math.abs(Y - lastY) < 0.5) continue;
    out.push(`${px(X)},${px(Y)}`);
    lastX = X;
    lastY = Y;
  }
  return out.join(' ');
}

/**
 * A square chart of curves in [0, 1] x [0, 1] (ROC, precision-recall): grid, axes, an optional
 * reference line (the diagonal of chance, or a horizontal baseline), one `<polyline class="curve sN">`
 * per series, and a legend below the x-axis label, one row per series, outside the plot.
 */
export function curveDrawing(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  reference?: { kind: 'diagonal' } | { kind: 'horizontal'; y: number; label: string };
}): Drawing {
  const { series } = options;
  const width = C_LEFT + C_PLOT + C_RIGHT;
  const legendTop = C_TOP + C_PLOT + 46;
  const height = legendTop + C_LEGEND_ROW * (series.length + (options.reference?.kind === 'horizontal' ? 1 : 0)) + 8;
  const x = (v: number) => C_LEFT + v * C_PLOT;
  const y = (v: number) => C_TOP + (1 - v) * C_PLOT;
  const out: string[] = [];
  out.push(`<text class="title" x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeText(options.title)}</text>`);
  for (let t = 0; t <= 10; t += 2) {
    const v = t / 10;
    out.push(`<line class="grid" x1="${px(x(0))}" y1="${px(y(v))}" x2="${px(x(1))}" y2="${px(y(v))}"/>`);
    out.push(`<line class="grid" x1="${px(x(v))}" y1="${px(y(0))}" x2="${px(x(v))}" y2="${px(y(1))}"/>`);
    out.push(`<text x="${C_LEFT - 6}" y="${px(y(v) + 4)}" text-anchor="end">${v.toFixed(1)}</text>`);
    out.push(`<text x="${px(x(v))}" y="${C_TOP + C_PLOT + 16}" text-anchor="middle">${v.toFixed(1)}</text>`);
  }
  const ref = options.reference;
  if (ref?.kind === 'diagonal') {
    out.push(`<line class="diagonal" x1="${px(x(0))}" y1="${px(y(0))}" x2="${px(x(1))}" y2="${px(y(1))}" stroke-dasharray="5 4"/>`);
  } else if (ref?.kind === 'horizontal' && Number.isFinite(ref.y)) {
    out.push(`<line class="diagonal" x1="${px(x(0))}" y1="${px(y(ref.y))}" x2="${px(x(1))}" y2="${px(y(ref.y))}" stroke-dasharray="5 4"/>`);
  }
  series.forEach((s, i) => {
    out.push(`<polyline class="curve s${i % SERIES_CLASSES}" data-series="${i}" points="${polylinePoints(s.xs, s.ys, x, y)}"><title>${escapeText(s.name)}</title></polyline>`);
  });
  out.push(`<rect class="axis" x="${C_LEFT}" y="${C_TOP}" width="${C_PLOT}" height="${C_PLOT}"/>`);
  out.push(`<text class="label" x="${C_LEFT + C_PLOT / 2}" y="${C_TOP + C_PLOT + 34}" text-anchor="middle">${escapeText(options.xLabel)}</text>`);
  out.push(`<text class="label" transform="translate(16 ${C_TOP + C_PLOT / 2}) rotate(-90)" text-anchor="middle">${escapeText(options.yLabel)}</text>`);
  const legend: string[] = [];
  series.forEach((s, i) => {
    const ly = legendTop + i * C_LEGEND_ROW;
    legend.push(`<line class="curve s${i % SERIES_CLASSES}" x1="${C_LEFT}" y1="${ly}" x2="${C_LEFT + 20}" y2="${ly}"/>`);
    legend.push(`<text class="legend-text" x="${C_LEFT + 26}" y="${ly + 4}" font-size="11">${escapeText(s.name)}</text>`);
  });
  if (ref?.kind === 'horizontal') {
    const ly = legendTop + series.length * C_LEGEND_ROW;
    legend.push(`<line class="diagonal" x1="${C_LEFT}" y1="${ly}" x2="${C_LEFT + 20}" y2="${ly}" stroke-dasharray="5 4"/>`);
    legend.push(`<text class="legend-text" x="${C_LEFT + 26}" y="${ly + 4}" font-size="11">${escapeText(ref.label)}</text>`);
  }
  out.push(`<g class="legend">${legend.join('\n')}</g>`);
  return { width, height, body: out.join('\n') + '\n' };
}

/** Cuts a name to `max` code points, with an ellipsis (the full name stays in the cell's tooltip). */
export function shorten(name: string, max: number): string {
  const points = Array.from(name);
  return points.length <= max ? name : points.slice(0, max - 1).join('') + '…';
}

/**
 * The confusion heat map of `order.length` classes: row = true class, column = predicted class, a
 * `<rect class="cell">` per pair whose fill opacity is the cell's share of its row (the true class's
 * rows), the count printed in the cell when the cells are large enough, and each cell's numbers in its
 * tooltip. `counts(t, p)` reads the full matrix; `names[c]` names class c.
 */
export function heatmapDrawing(options: {
  order: readonly number[];
  counts: (t: number, p: number) => number;
  rowTotals: (t: number) => number;
  names: (c: number) => string;
  formatCount: (n: number) => string;
}): Drawing {
  const { order, counts, rowTotals, names, formatCount } = options;
  const k = order.length;
  const cell = Math.max(8, Math.min(36, Math.floor(560 / Math.max(1, k))));
  const labelW = 120, top = 110;
  // Room on the right for the last columns' slanted names.
  const width = labelW + k * cell + 90, height = top + k * cell + 30;
  const showCounts = cell >= 26;
  const out: string[] = [];
  order.forEach((c, j) => {
    const cx = labelW + j * cell + cell / 2;
    out.push(`<text class="tick" transform="translate(${px(cx + 3)} ${top - 6}) rotate(-55)" font-size="11">${escapeText(shorten(names(c), 16))}<title>${escapeText(names(c))}</title></text>`);
  });
  order.forEach((t, i) => {
    const cy = top + i * cell;
    out.push(`<text class="tick" x="${labelW - 6}" y="${px(cy + cell / 2 + 4)}" text-anchor="end" font-size="11">${escapeText(shorten(names(t), 16))}<title>${escapeText(names(t))}</title></text>`);
    const total = rowTotals(t);
    order.forEach((p, j) => {
      const n = counts(t, p);
      const share = total > 0 ? n / total : 0;
      const cls = t === p ? 'cell diag' : 'cell';
      const text = formatCount(n);
      out.push(`<rect class="${cls}" data-true="${t}" data-pred="${p}" x="${labelW + j * cell}" y="${cy}" width="${cell}" height="${cell}" fill-opacity="${px(Math.max(0.03, share))}"><title>true ${escapeText(names(t))}, predicted ${escapeText(names(p))}: ${text} rows (${(share * 100).toFixed(1)}% of the true class)</title></rect>`);
      // A count is printed when it fits its cell (about 6 px a character at this size); the tooltip has it anyway.
      if (showCounts && n > 0 && text.length * 6 <= cell - 2) {
        out.push(`<text class="${share > 0.5 ? 'cell-text dark' : 'cell-text'}" x="${px(labelW + j * cell + cell / 2)}" y="${px(cy + cell / 2 + 4)}" text-anchor="middle" font-size="10">${text}</text>`);
      }
    });
  });
  out.push(`<text class="label" x="${labelW + (k * cell) / 2}" y="${top + k * cell + 20}" text-anchor="middle">Predicted class</text>`);
  out.push(`<text class="label" x="6" y="${top - 6}">True class ↓</text>`);
  return { width, height, body: out.join('\n') + '\n' };
}
