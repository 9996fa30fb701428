// A standalone SVG reliability diagram of a ScoreResult (`xentropy score --plot`): the drawing is the
// HTML report's (report/svg.ts), here with fixed colours on white so that any viewer shows it the same.

import type { ScoreResult } from '../ops/scorer.js';
import { reliabilityDrawing } from '../report/svg.js';

const STYLE = '<style>text{fill:#222}.bar{fill:#4c78a8}.gap{fill:none;stroke:#e45756;stroke-width:1.5;stroke-dasharray:3 2}'
  + '.count-bar{fill:#9ecae9}.axis{stroke:#333;fill:none}.grid{stroke:#ddd}.diagonal{stroke:#555;fill:none}'
  + '.legend-box{fill:#f7f7f7;stroke:#ccc}</style>';

/**
 * The reliability diagram of a result as an SVG document: one `<rect class="bar">` per non-empty bin
 * (height = accuracy, with a `<rect class="gap">` outline from it to the mean confidence), the diagonal,
 * a legend above the plot, a `<rect class="count-bar">` and a `<text class="count">` per non-empty bin
 * in a count chart below, axis labels, and the ECE and MCE in the title.
 */
export function reliabilitySvg(
  result: Pick<ScoreResult, 'count' | 'ece' | 'mce' | 'bins'>, title = 'Reliability diagram',
): string {
  const { width, height, body } = reliabilityDrawing(result, title);
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">\n`
    + STYLE + '\n'
    + `<rect width="${width}" height="${height}" fill="white"/>\n`
    + body
    + '</svg>\n';
}
