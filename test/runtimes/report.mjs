#!/usr/bin/env node
// The HTML report (src/report/html.ts) and the --plot SVG in Chromium (issue 26), run by Node 20 after
// `npm run build` (it imports dist/'s per-module output):
//   node test/runtimes/report.mjs                 a report of every part (multiclass with per-class metrics
//                                                 and a 40-class confusion matrix, binary, multilabel)
//   node test/runtimes/report.mjs FILE.html ...   those reports instead (e.g. from `xentropy score --report`)
// Each report is opened from a file:// URL, in light and in dark mode, and must: log no console error and
// throw nothing; make no request at all besides its own file (every request is routed and counted);
// report no Content-Security-Policy violation; hold no <script>; and give a screenshot that is not blank
// (enough distinct colours and non-background pixels, and each chart on its own). The reliability
// diagram's legend, in the report and in the --plot SVG, must not meet any bar (the browser's own
// boxes). Exits 1 on any failure. Environment: CHROMIUM (default /usr/bin/chromium); XENTROPY_REPORT_KEEP=DIR
// also writes the example report, the plots and the screenshots to DIR, to look at.

import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ink } from './pixels.mjs';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TIMEOUT_MS = 60_000;
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
];
/** A screenshot with fewer distinct colours, or a smaller share of pixels off the background, is blank. */
const MIN_COLOURS = 24;
const MIN_INK = 0.02;
const KEEP = process.env.XENTROPY_REPORT_KEEP;

const { renderReport } = await import(pathToFileURL(join(ROOT, 'dist/report/html.js')).href);
const { reliabilitySvg } = await import(pathToFileURL(join(ROOT, 'dist/cli/calibration_svg.js')).href);
const { score } = await import(pathToFileURL(join(ROOT, 'dist/reference/scorer.js')).href);

// ---------------------------------------------------------------------------------------------------
// A seeded example of every part.

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A classifier's logits over C classes that is right most of the time and confuses neighbours. */
function multiclassExample(N, C, rand) {
  const labels = new Int32Array(N);
  const logits = new Float32Array(N * C);
  for (let r = 0; r < N; r++) {
    const y = Math.floor(rand() ** 1.5 * C);
    labels[r] = y;
    for (let c = 0; c < C; c++) logits[r * C + c] = 2 * rand();
    logits[r * C + y] += 2.5 * rand() + 0.5;
    logits[r * C + ((y + 1) % C)] += 2 * rand();
  }
  const result = score(logits, labels, { classes: C, topK: [1, 5], bins: 15 });
  const confusion = new Float64Array(C * C);
  for (let r = 0; r < N; r++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[r * C + c] > logits[r * C + best]) best = c;
    confusion[labels[r] * C + best]++;
  }
  const perClass = { precision: new Float64Array(C), recall: new Float64Array(C), f1: new Float64Array(C), support: new Float64Array(C) };
  for (let c = 0; c < C; c++) {
    let row = 0, col = 0;
    for (let k = 0; k < C; k++) {
      row += confusion[c * C + k];
      col += confusion[k * C + c];
    }
    const tp = confusion[c * C + c];
    perClass.support[c] = row;
    perClass.precision[c] = col > 0 ? tp / col : 0;
    perClass.recall[c] = row > 0 ? tp / row : 0;
    const sum = perClass.precision[c] + perClass.recall[c];
    perClass.f1[c] = sum > 0 ? (2 * perClass.precision[c] * perClass.recall[c]) / sum : 0;
  }
  return { ...result, classes: C, perClass, confusion };
}

/** Exact ROC and precision-recall curves, AUC and AP, of scores against 0/1 labels. */
function curves(scores, labels) {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
  const P = labels.reduce((s, y) => s + y, 0), N = labels.length - P;
  const fpr = [0], tpr = [0], recall = [0], precision = [1];
  let tp = 0, fp = 0, auc = 0, ap = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]]) tp++;
    else fp++;
    if (i + 1 < order.length && scores[order[i + 1]] === scores[order[i]]) continue;
    auc += ((fp / N - fpr.at(-1)) * (tp / P + tpr.at(-1))) / 2;
    ap += (tp / P - recall.at(-1)) * (tp / (tp + fp));
    fpr.push(fp / N);
    tpr.push(tp / P);
    recall.push(tp / P);
    precision.push(tp / (tp + fp));
  }
  return { roc: { fpr, tpr }, pr: { recall, precision }, rocAuc: auc, averagePrecision: ap, positives: P };
}

function binaryExample(N, rand, skill) {
  const labels = Array.from({ length: N }, () => (rand() < 0.3 ? 1 : 0));
  const probs = labels.map((y) => 1 / (1 + Math.exp(-(skill * (y - 0.5) * 2 + 1.5 * (rand() - 0.5) * 2))));
  const c = curves(probs, labels);
  let tp = 0, fp = 0, fn = 0, tn = 0, correct = 0, loss = 0, brier = 0;
  const bins = Array.from({ length: 10 }, (_, b) => ({ lower: b / 10, upper: (b + 1) / 10, count: 0, confidence: 0, accuracy: 0 }));
  probs.forEach((p, i) => {
    const y = labels[i], hit = p >= 0.5;
    if (hit && y) tp++;
    if (hit && !y) fp++;
    if (!hit && y) fn++;
    if (!hit && !y) tn++;
    if (hit === (y === 1)) correct++;
    loss -= Math.log(y ? p : 1 - p);
    brier += (p - y) ** 2;
    const bin = bins[Math.min(9, Math.floor(p * 10))];
    bin.count++;
    bin.confidence += p;
    bin.accuracy += y;
  });
  let ece = 0, mce = 0;
  for (const bin of bins) {
    bin.confidence = bin.count ? bin.confidence / bin.count : Number.NaN;
    bin.accuracy = bin.count ? bin.accuracy / bin.count : Number.NaN;
    if (bin.count) {
      const gap = Math.abs(bin.accuracy - bin.confidence);
      ece += (bin.count / N) * gap;
      mce = Math.max(mce, gap);
    }
  }
  const precision = tp / (tp + fp), recall = tp / (tp + fn);
  return {
    count: N, positives: c.positives, threshold: 0.5, lossNats: loss / N, brier: brier / N, accuracy: correct / N,
    precision, recall, f1: (2 * precision * recall) / (precision + recall), rocAuc: c.rocAuc,
    averagePrecision: c.averagePrecision, ece, mce, bins, roc: c.roc, pr: c.pr, confusion: { tp, fp, fn, tn },
  };
}

function exampleReport() {
  const rand = mulberry32(26);
  const C = 40;
  const labels = Array.from({ length: C }, (_, c) => `class ${c} <${['cat', 'dog', 'owl', 'fox'][c % 4]}>`);
  const perLabel = [0.4, 0.8, 1.2, 1.6, 2.0].map((skill) => binaryExample(800, rand, skill));
  return renderReport({
    title: 'xentropy report <check> & "quotes"',
    details: [['logits', 'example (seeded)'], ['labels', `int32 [4000], ${C} classes`]],
    labels,
    multiclass: multiclassExample(4000, C, rand),
    binary: binaryExample(3000, rand, 1.2),
    multilabel: { perLabel, names: ['spam', 'urgent', 'reply <needed>', 'has "link"', 'personal'], macro: { rocAuc: perLabel.reduce((s, b) => s + b.rocAuc, 0) / perLabel.length } },
  });
}


// ---------------------------------------------------------------------------------------------------
// The checks.

/** Opens a file in a fresh page, failing on any console error, uncaught error or request. */
async function openFile(context, path, colorScheme) {
  const page = await context.newPage();
  await page.emulateMedia({ colorScheme });
  const url = pathToFileURL(path).href;
  const problems = [];
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console error: ${message.text()}`); });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('request', (request) => { if (request.url() !== url) problems.push(`request: ${request.url()}`); });
  await page.goto(url, { waitUntil: 'load', timeout: TIMEOUT_MS });
  // Anything late (a lazy image, a font) would show up while the page settles.
  await page.waitForTimeout(300);
  return { page, problems };
}

/**
 * Boxes in page pixels: does a reliability diagram's legend (all of it: box, swatches, text) meet any
 * bar, and does its text leave its box?
 */
async function legendProblems(page, required) {
  return page.evaluate((required) => {
    const out = [];
    const svgs = [...document.querySelectorAll('svg')].filter((svg) => svg.querySelector('rect.bar[data-bin]'));
    if (svgs.length === 0 && required) out.push('no reliability diagram');
    for (const svg of svgs) {
      const legend = svg.querySelector('.legend');
      if (!legend) {
        out.push('a reliability diagram without a legend');
        continue;
      }
      const box = legend.getBoundingClientRect();
      const meets = (r) => r.left < box.right && box.left < r.right && r.top < box.bottom && box.top < r.bottom;
      for (const bar of svg.querySelectorAll('rect.bar[data-bin], rect.gap[data-bin]')) {
        if (meets(bar.getBoundingClientRect())) out.push(`the legend meets the ${bar.getAttribute('class')} of bin ${bar.dataset.bin}`);
      }
      const frame = legend.querySelector('.legend-box')?.getBoundingClientRect();
      for (const text of frame ? legend.querySelectorAll('.legend-text') : []) {
        const t = text.getBoundingClientRect();
        if (t.left < frame.left || t.right > frame.right || t.top < frame.top || t.bottom > frame.bottom) {
          out.push(`legend text "${text.textContent}" leaves its box`);
        }
      }
    }
    return out;
  }, required);
}

async function checkReport(context, path, label, { example = false } = {}) {
  const problems = [];
  for (const colorScheme of ['light', 'dark']) {
    const { page, problems: seen } = await openFile(context, path, colorScheme);
    try {
      const dom = await page.evaluate(() => ({
        scripts: document.querySelectorAll('script').length,
        charts: document.querySelectorAll('svg.chart').length,
        violations: globalThis.cspViolations,
      }));
      if (dom.scripts > 0) seen.push(`${dom.scripts} <script> elements`);
      if (dom.charts === 0) seen.push('no chart');
      if (dom.violations.length > 0) seen.push(`CSP violations: ${dom.violations.join('; ')}`);
      const png = await page.screenshot({ fullPage: true });
      if (KEEP) await writeFile(join(KEEP, `${basename(path)}.${colorScheme}.png`), png);
      const shot = ink(png);
      if (shot.colours < MIN_COLOURS || shot.ink < MIN_INK) {
        seen.push(`blank screenshot: ${shot.colours} colours, ${(shot.ink * 100).toFixed(2)}% ink`);
      }
      if ((colorScheme === 'dark') !== (shot.background < 128)) seen.push(`background luminance ${shot.background.toFixed(0)} in ${colorScheme} mode`);
      let i = 0;
      for (const chart of await page.locator('svg.chart').all()) {
        const c = ink(await chart.screenshot());
        if (c.colours < 8 || c.ink < 0.01) seen.push(`chart ${i} is blank: ${c.colours} colours, ${(c.ink * 100).toFixed(2)}% ink`);
        i++;
      }
      if (colorScheme === 'light') seen.push(...(await legendProblems(page, example)));
      console.error(`report.mjs: ${label} (${colorScheme}): ${shot.width} x ${shot.height} px, ${shot.colours} colours, `
        + `${(shot.ink * 100).toFixed(1)}% ink, ${dom.charts} charts`);
    } finally {
      await page.close();
    }
    problems.push(...seen.map((p) => `${label} (${colorScheme}): ${p}`));
  }
  return problems;
}

async function checkPlot(context, path, label) {
  const { page, problems } = await openFile(context, path, 'light');
  try {
    problems.push(...(await legendProblems(page, true)));
    const png = await page.screenshot();
    if (KEEP) await writeFile(join(KEEP, `${basename(path)}.png`), png);
    const shot = ink(png);
    if (shot.colours < MIN_COLOURS || shot.ink < MIN_INK) problems.push(`blank screenshot: ${shot.colours} colours`);
  } finally {
    await page.close();
  }
  return problems.map((p) => `${label}: ${p}`);
}

/**
 * Controls: pages that must fail the checks, to show that each check can fail. The example report with
 * its CSP removed and an image, a stylesheet and a script added (requests and a console error); the
 * same with its CSP kept (violations); and an empty page (a blank screenshot).
 */
async function controls(context, temp) {
  const report = exampleReport();
  const csp = /<meta http-equiv="Content-Security-Policy"[^>]*>\n/;
  if (!csp.test(report)) return ['control: the report has no Content-Security-Policy'];
  const extra = '<img src="http://127.0.0.1:9/x.png" alt=""><link rel="stylesheet" href="https://fonts.invalid/x.css">'
    + '<script>console.error("control")</script>';
  const cases = [
    ['open', report.replace(csp, '').replace('<main>', `<main>${extra}`), [/request: http:\/\/127\.0\.0\.1:9\/x\.png/, /request: https:\/\/fonts\.invalid\/x\.css/, /console error: control/, /1 <script> elements/]],
    ['with its CSP', report.replace('<main>', `<main>${extra}`), [/CSP violations: .*img-src/, /CSP violations: .*script-src/]],
    ['empty', '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title></head><body></body></html>', [/blank screenshot/, /no chart/]],
  ];
  const out = [];
  for (const [name, html, expected] of cases) {
    const file = join(temp, `control-${name.replace(/\W+/g, '-')}.html`);
    await writeFile(file, html);
    const seen = await checkReport(context, file, `control ${name}`);
    for (const pattern of expected) {
      if (!seen.some((p) => pattern.test(p))) out.push(`control ${name}: no problem matched ${pattern} (saw: ${seen.join('; ') || 'none'})`);
    }
  }
  if (out.length === 0) console.error(`report.mjs: ${cases.length} control pages failed as they must`);
  return out;
}

async function main() {
  const temp = await mkdtemp(join(tmpdir(), 'xentropy-report-'));
  const problems = [];
  let context;
  try {
    const reports = process.argv.slice(2).map((f) => resolve(f));
    if (reports.length === 0) {
      const file = join(temp, 'report.html');
      await writeFile(file, exampleReport());
      reports.push(file);
    }
    // Plots whose bars reach the top of the plot in every bin (where the old legend lay), and a usual one.
    const full = Array.from({ length: 15 }, (_, b) => ({ lower: b / 15, upper: (b + 1) / 15, count: 10 + b, confidence: (b + 0.5) / 15, accuracy: 1 }));
    const plots = [
      ['--plot, every bar full height', reliabilitySvg({ count: full.reduce((s, b) => s + b.count, 0), ece: 0.5, mce: 0.9, bins: full })],
      ['--plot, a usual model', reliabilitySvg(score(...(() => {
        const rand = mulberry32(7), N = 2000, C = 10;
        const logits = Float32Array.from({ length: N * C }, () => 3 * rand());
        const labels = Int32Array.from({ length: N }, (_, r) => { const y = r % C; logits[r * C + y] += 2; return y; });
        return [logits, labels, { classes: C, bins: 15 }];
      })()))],
    ];
    const plotFiles = [];
    for (const [i, [label, svg]] of plots.entries()) {
      const file = join(temp, `plot-${i}.svg`);
      await writeFile(file, svg);
      plotFiles.push([file, label]);
    }

    if (KEEP) {
      await mkdir(KEEP, { recursive: true });
      for (const file of [...reports.filter((f) => f.startsWith(temp)), ...plotFiles.map(([f]) => f)]) await copyFile(file, join(KEEP, basename(file)));
    }
    context = await chromium.launchPersistentContext(join(temp, 'profile'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: TIMEOUT_MS, viewport: { width: 1280, height: 900 },
    });
    // Every request but a file's is refused (and openFile fails a page on any request but its own file's).
    await context.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort('blockedbyclient')));
    await context.addInitScript(() => {
      globalThis.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) => {
        globalThis.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
      });
    });
    console.error(`report.mjs: chromium ${context.browser()?.version()} (${CHROMIUM})`);
    for (const file of reports) {
      const example = file.startsWith(temp);
      problems.push(...(await checkReport(context, file, example ? 'example report' : file, { example })));
    }
    for (const [file, label] of plotFiles) problems.push(...(await checkPlot(context, file, label)));
    problems.push(...(await controls(context, temp)));
  } catch (error) {
    problems.push(error.stack ?? String(error));
  } finally {
    await context?.close().catch(() => {});
    await rm(temp, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    console.error(`report.mjs: FAILED:\n  ${problems.join('\n  ')}`);
    return 1;
  }
  console.error('report.mjs: ok');
  return 0;
}

// An explicit exit: nothing left running (a hung page) may keep CI waiting.
process.exit(await main());
