// What the command line loads only for --plot and --report: the report's and the diagram's drawing
// code. In the package it is an ES module of its own (dist/cli/report.js, sharing xentropy/eval's
// chunk), so that a run without them neither reads nor compiles it.

export { renderReport } from '../report/html.js';
export { scoreReportHtml } from '../eval/score.js';
export { reliabilitySvg } from './calibration_svg.js';
