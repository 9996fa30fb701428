// The HTML report (src/report/html.ts) and the reliability diagram it shares with `xentropy score --plot`
// (src/cli/calibration_svg.ts): the page's structure (balanced tags, only known elements, no script, no
// URL), what is shown when a part is present and left out when absent, every number shown against the
// input's (exactly, in data-value, and as printed), escaping of every user string (an injection attempt
// in the title, the details, class and label names), the most-confused rule of a large confusion matrix,
// bad input, and the --plot legend against the bars (geometry of the SVG's own rects). The same report in
// Chromium (no console error, no request, not blank) is test/runtimes/report.mjs.

import { describe, expect, it } from 'vitest';
import { reliabilitySvg } from '../src/cli/calibration_svg.js';
import type { ScoreResult } from '../src/ops/scorer.js';
import { score } from '../src/reference/scorer.js';
import {
  type BinaryReport, type MulticlassReport, type ReportInput, formatCount, formatMetric, mostConfused, renderReport,
} from '../src/report/html.js';

/** mulberry32, as test/helpers.ts's rng (which would load every build, and nothing here needs one). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------
// Inputs.

/** A seeded classifier over C classes, scored by the float64 reference, with per-class metrics and confusion. */
function multiclass(N: number, C: number, seed: number): MulticlassReport & ScoreResult & { confusion: Float64Array } {
  const rand = rng(seed);
  const labels = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
  const logits = Float32Array.from({ length: N * C }, () => 2 * rand());
  for (let r = 0; r < N; r++) {
    logits[r * C + labels[r]] += 2 * rand();
    logits[r * C + ((labels[r] + 1) % C)] += rand();
  }
  const result = score(logits, labels, { classes: C, topK: [1, 3], bins: 10 });
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
    perClass.precision[c] = col ? tp / col : 0;
    perClass.recall[c] = row ? tp / row : 0;
    perClass.f1[c] = tp ? (2 * tp) / (row + col) : 0;
  }
  return { ...result, classes: C, perClass, confusion, macro: { precision: 0.5, recall: 0.25, f1: 1 / 3 } };
}

/** A binary result with monotone curves of N + 1 points (a small jitter that keeps them monotone). */
function binary(N: number, seed: number): BinaryReport {
  const rand = rng(seed);
  const fpr = [0], tpr = [0];
  for (let i = 1; i <= N; i++) {
    fpr.push(i / N);
    tpr.push(Math.max(tpr[i - 1], Math.min(1, (i / N) ** 0.4 + 0.01 * rand())));
  }
  return {
    count: N, positives: Math.round(N / 3), threshold: 0.5, lossNats: 0.41, brier: 0.13, accuracy: 0.8125, precision: 0.75,
    recall: 0.6, f1: 2 / 3, rocAuc: 0.875, averagePrecision: 0.7, ece: 0.03125, mce: 0.25, rmsce: 0.0625,
    roc: { fpr, tpr }, pr: fpr.map((x, i) => ({ recall: x, precision: 1 - 0.5 * tpr[i] })),
  };
}

// ---------------------------------------------------------------------------------------------------
// Reading the page.

const VOID = new Set(['meta', 'br', 'hr', 'img', 'link', 'input']);
const ELEMENTS = new Set([
  'html', 'head', 'meta', 'title', 'style', 'body', 'header', 'h1', 'h2', 'h3', 'dl', 'dt', 'dd', 'nav', 'a', 'main',
  'section', 'div', 'span', 'p', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'figure', 'figcaption', 'footer',
  'svg', 'g', 'rect', 'line', 'text', 'polyline',
]);

interface Tag {
  name: string;
  attrs: Record<string, string>;
  index: number;
}

/** Every start tag, checking on the way that tags balance, are known, and carry no event handler. */
function tags(html: string): Tag[] {
  const body = html.replace(/^<!doctype html>\n/, '').replace(/<style>[\s\S]*?<\/style>/, '<style></style>');
  const stack: string[] = [];
  const out: Tag[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>|[<>]/g;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    if (m[0] === '<' || m[0] === '>') expect.fail(`stray ${m[0]} at ${m.index}: ${body.slice(m.index - 30, m.index + 30)}`);
    const [, close, name, attrText, selfClose] = m;
    expect(ELEMENTS.has(name), `element <${name}>`).toBe(true);
    if (close) {
      expect(stack.pop(), `closing </${name}> at ${m.index}`).toBe(name);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      expect(a[1].toLowerCase().startsWith('on'), `attribute ${a[1]}`).toBe(false);
      attrs[a[1]] = a[2];
    }
    out.push({ name, attrs, index: m.index });
    if (!selfClose && !VOID.has(name)) stack.push(name);
  }
  expect(stack).toEqual([]);
  // Text is escaped: an ampersand starts an entity.
  expect(body.replace(/<[^>]*>/g, '')).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#\d+;)/);
  return out;
}

function unescapeText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** The shown values: data-metric, data-value and the text, in page order. */
function values(html: string): { metric: string; value: string; text: string }[] {
  return [...html.matchAll(/<span class="num" data-metric="([^"]*)" data-value="([^"]*)">([^<]*)<\/span>/g)].map((m) => ({
    metric: unescapeText(m[1]), value: m[2], text: unescapeText(m[3]),
  }));
}

function shown(html: string, metric: string): { value: string; text: string } {
  const found = values(html).filter((v) => v.metric === metric);
  expect(found.length, `one value of ${metric}`).toBe(1);
  return { value: found[0].value, text: found[0].text };
}

/** The contents of a section, by id. */
function section(html: string, id: string): string {
  const m = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  expect(m, `section #${id}`).not.toBeNull();
  return m![1];
}

// ---------------------------------------------------------------------------------------------------

describe('renderReport: the page', () => {
  const mc = multiclass(600, 12, 1);
  const bin = binary(5000, 2);
  const html = renderReport({
    title: 'Model 7', details: [['logits', 'a.npy (float32 [600, 12])']], multiclass: mc, binary: bin,
    multilabel: { perLabel: [binary(50, 3), binary(60, 4)], names: ['cat', 'dog'], macro: { rocAuc: 0.5, f1: 0.25 } },
  });

  it('is one HTML document of known elements with balanced tags and no script, style attribute aside', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html.endsWith('</html>\n')).toBe(true);
    const all = tags(html);
    expect(all.filter((t) => t.name === 'html')).toHaveLength(1);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/javascript:/i);
  });

  it('names no URL: nothing to fetch, no link out (the SVG namespace is a name, not a request)', () => {
    const text = html.replace(/ xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '');
    expect(text).not.toMatch(/https?:/i);
    expect(text).not.toContain('//');
    expect(text).not.toMatch(/url\(|@import|\bsrc=/i);
    for (const t of tags(html).filter((t) => 'href' in t.attrs)) expect(t.attrs.href).toMatch(/^#[\w-]+$/);
    // And says so to the browser.
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
  });

  it('has each part, a chart for each drawing, and a working table of contents', () => {
    for (const id of ['multiclass', 'binary', 'multilabel']) section(html, id);
    // Multiclass: reliability and confusion; binary: ROC and PR (no bins given); multilabel: ROC and PR.
    expect(tags(html).filter((t) => t.name === 'svg' && t.attrs.class === 'chart')).toHaveLength(6);
    const ids = new Set(tags(html).map((t) => t.attrs.id).filter(Boolean));
    for (const t of tags(html).filter((t) => t.name === 'a')) expect(ids.has(t.attrs.href.slice(1)), t.attrs.href).toBe(true);
    expect(html).toMatch(/@media \(prefers-color-scheme: dark\)/);
    expect(html).toMatch(/@media print/);
  });

  it('shows the multiclass numbers of the input, exactly in data-value and as printed', () => {
    const exact = (metric: string, x: number, text: string) => {
      expect(shown(section(html, 'multiclass'), metric)).toEqual({ value: String(x), text });
    };
    exact('count', mc.count, formatCount(mc.count));
    expect(shown(section(html, 'multiclass'), 'count').text).toBe('600');
    for (const key of ['lossNats', 'lossBits', 'perplexity', 'accuracy', 'brier', 'ece', 'mce'] as const) {
      exact(key, mc[key], mc[key].toFixed(6));
    }
    exact('topK.1', mc.topK['1'], mc.topK['1'].toFixed(6));
    exact('topK.3', mc.topK['3'], mc.topK['3'].toFixed(6));
    exact('macro.f1', 1 / 3, '0.3333');
    const title = /<text class="title"[^>]*>([^<]*)<\/text>/.exec(section(html, 'multiclass'))![1];
    expect(title).toBe(`Reliability diagram: ECE ${mc.ece.toFixed(4)}, MCE ${mc.mce.toFixed(4)}, N = ${mc.count}`);
  });

  it('draws the reliability diagram with the --plot file\'s bars (one drawing, two hosts)', () => {
    const bars = (text: string) => [...text.matchAll(/<rect class="(?:bar|gap|count-bar)" data-bin="[^>]*>/g)].map((m) => m[0]);
    const inReport = bars(section(html, 'multiclass'));
    expect(inReport.length).toBe(3 * mc.bins.filter((b) => b.count > 0).length);
    expect(inReport).toEqual(bars(reliabilitySvg(mc)));
  });

  it('shows each class\'s metrics in a row, ordered by support, largest first', () => {
    const rows = [...section(html, 'multiclass').matchAll(/<tr data-class="(\d+)">([\s\S]*?)<\/tr>/g)];
    expect(rows).toHaveLength(12);
    const order = rows.map((m) => Number(m[1]));
    const support = mc.perClass!.support;
    for (let i = 1; i < order.length; i++) {
      const [a, b] = [order[i - 1], order[i]];
      expect(support[a] > support[b] || (support[a] === support[b] && a < b), `${a} before ${b}`).toBe(true);
    }
    for (const [, c, row] of rows) {
      const v = values(row);
      expect(v.map((x) => x.metric)).toEqual(['support', 'precision', 'recall', 'f1']);
      const k = Number(c);
      const p = mc.perClass!;
      expect(v.map((x) => Number(x.value))).toEqual([p.support[k], p.precision[k], p.recall[k], p.f1[k]]);
      expect(v.map((x) => x.text)).toEqual([String(p.support[k]), p.precision[k].toFixed(4), p.recall[k].toFixed(4), p.f1[k].toFixed(4)]);
    }
    expect(html).toContain('Ordered by support, largest first.');
  });

  it('draws every cell of a small confusion matrix with its count, in index order', () => {
    const cells = [...section(html, 'multiclass').matchAll(/<rect class="cell[^"]*" data-true="(\d+)" data-pred="(\d+)"[^>]*><title>[^<]*: ([\d,.]+) rows/g)];
    expect(cells).toHaveLength(144);
    for (const [i, [, t, p, n]] of cells.entries()) {
      expect([Number(t), Number(p)]).toEqual([Math.floor(i / 12), i % 12]);
      expect(Number(n.replace(/,/g, ''))).toBe(mc.confusion[Number(t) * 12 + Number(p)]);
    }
    expect(html).toContain('Every class, in index order.');
    // Each non-zero count is printed in its cell (they all fit at 12 classes), and nothing else is.
    const printed = [...section(html, 'multiclass').matchAll(/data-true="(\d+)" data-pred="(\d+)"[^>]*>.*?<\/rect>\n<text class="cell-text[^"]*"[^>]*>([\d,]+)<\/text>/g)];
    expect(printed.map(([, t, p, n]) => [Number(t), Number(p), Number(n)])).toEqual(
      cells.filter(([, t, p]) => mc.confusion[Number(t) * 12 + Number(p)] > 0).map(([, t, p]) => [Number(t), Number(p), mc.confusion[Number(t) * 12 + Number(p)]]));
    expect((section(html, 'multiclass').match(/<text class="cell-text/g) ?? []).length).toBe(printed.length);
  });

  it('shows the binary numbers and draws its curves, with the positive rate as the PR baseline', () => {
    const b = section(html, 'binary');
    const input = bin;
    for (const key of ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'averagePrecision', 'ece', 'mce', 'rmsce', 'lossNats', 'brier'] as const) {
      expect(shown(b, key), key).toEqual({ value: String(input[key]), text: input[key]!.toFixed(6) });
    }
    expect(shown(b, 'positives').text).toBe('1,667');
    expect(shown(b, 'threshold').text).toBe('0.5000');
    expect(b).toContain('model (AUC 0.8750)');
    expect(b).toContain('model (AP 0.7000)');
    expect(b).toContain(`positive rate ${(1667 / 5000).toFixed(4)}`);
    expect((b.match(/<polyline class="curve s0"/g) ?? []).length).toBe(2);
  });

  it('keeps a long curve to what can be drawn: points half a pixel apart, both ends kept', () => {
    const polyline = /<polyline class="curve s0" data-series="0" points="([^"]*)"/.exec(section(html, 'binary'))![1].split(' ');
    // A monotone curve crosses at most 300 + 300 px, so it keeps at most 1,200 points of its 5,001 (and the last).
    expect(polyline.length).toBeGreaterThan(50);
    expect(polyline.length).toBeLessThanOrEqual(1201);
    // The plot is 300 px from (56, 34): (0, 0) and (1, 1) are its corners.
    expect(polyline[0]).toBe('56,334');
    expect(polyline.at(-1)).toBe('356,34');
  });

  it('shows the multilabel averages and each label by name', () => {
    const m = section(html, 'multilabel');
    const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(m)![1];
    const rows = [...body.matchAll(/<tr( data-label="\d+")?>([\s\S]*?)<\/tr>/g)].map((r) => r[2]);
    expect(rows[0]).toMatch(/^<th>macro<\/th>/);
    expect(rows[1]).toContain('>cat</td>');
    expect(rows[2]).toContain('>dog</td>');
    expect(values(rows[0]).map((v) => [v.metric, v.text])).toEqual([['f1', '0.2500'], ['rocAuc', '0.5000']]);
    expect(m).toContain('cat (AUC 0.8750)');
  });
});

describe('renderReport: parts that are absent are left out', () => {
  // A result as scorers gave it before their per-class figures (a scorer restored from a version 1 state).
  const bare = (r: ScoreResult): ScoreResult => {
    const { perClass: _1, macro: _2, micro: _3, weighted: _4, balancedAccuracy: _5, rmsce: _6, ...rest } = r;
    return rest as ScoreResult;
  };
  const result = bare(score(Float32Array.from([2, 1, 0, 0, 3, 1, 1, 1, 4]), Int32Array.from([0, 1, 1]), { classes: 3, bins: 5 }));

  it("the scorer's own per-class figures and confusion render as they are", () => {
    const full = score(Float32Array.from([2, 1, 0, 0, 3, 1, 1, 1, 4]), Int32Array.from([0, 1, 1]), { classes: 3, bins: 5, confusion: true });
    const html = renderReport({ multiclass: full });
    tags(html);
    for (const part of ['id="per-class"', 'id="confusion"', 'id="multiclass-averages"', 'balanced', 'RMSCE']) expect(html).toContain(part);
  });

  it('a bare ScoreResult gives the summary and the reliability diagram only', () => {
    const html = renderReport({ multiclass: result });
    tags(html);
    expect(html).toContain('<title>Evaluation report</title>');
    for (const gone of ['id="binary"', 'id="multilabel"', 'id="per-class"', 'id="confusion"', 'id="multiclass-averages"', 'Classes (C)', 'Balanced', 'RMSCE', '<dl']) {
      expect(html, gone).not.toContain(gone);
    }
    expect(html).toContain('id="multiclass-calibration"');
    expect(values(html).map((v) => v.metric)).toEqual([
      'count', 'lossNats', 'lossBits', 'perplexity', 'accuracy', 'topK.1', 'brier', 'ece', 'mce',
    ]);
    // With 3 classes the default top-k list [1, 5] keeps only k = 1: the report shows what the result holds.
    expect(Object.keys(result.topK)).toEqual(['1']);
  });

  it('a result read back from JSON (NaN written as null) renders as the result itself', () => {
    // Empty bins have NaN confidence and accuracy; a scorer that counted no rows has NaN means throughout.
    const none = bare(score(Float32Array.from([1, 2, 3]), Int32Array.from([-100]), { classes: 3, bins: 4 }));
    expect(none.count).toBe(0);
    expect(Number.isNaN(none.accuracy)).toBe(true);
    for (const r of [result, none]) {
      const json = JSON.parse(JSON.stringify(r));
      expect(json.bins.some((b: { accuracy: unknown }) => b.accuracy === null)).toBe(true);
      expect(renderReport({ multiclass: json })).toBe(renderReport({ multiclass: r }));
    }
    expect(values(renderReport({ multiclass: none })).find((v) => v.metric === 'accuracy')).toEqual({ metric: 'accuracy', value: 'NaN', text: 'NaN' });
  });

  it('a result of only a count gives one card, no chart', () => {
    const html = renderReport({ multiclass: { count: 0 } });
    expect(values(html)).toEqual([{ metric: 'count', value: '0', text: '0' }]);
    expect(html).not.toContain('<svg');
  });

  it('a binary result without curves or bins draws nothing; NaN is shown as NaN', () => {
    const html = renderReport({ binary: { accuracy: Number.NaN, rocAuc: 0.5 } });
    expect(values(html)).toEqual([{ metric: 'accuracy', value: 'NaN', text: 'NaN' }, { metric: 'rocAuc', value: '0.5', text: '0.500000' }]);
    expect(html).not.toContain('<svg');
    expect(html).not.toContain('id="multiclass"');
  });

  it('a binary result with bins gets a reliability diagram with the axes of a positive-class probability', () => {
    const html = renderReport({ binary: { count: 3, ece: 0.1, mce: 0.2, bins: result.bins } });
    expect(html).toContain('Fraction of positives');
    expect(html).toContain('Predicted probability of the positive class');
    expect(html).toContain('Reliability diagram: ECE 0.1000, MCE 0.2000, N = 3');
  });
});

describe('renderReport: the binary and multilabel scorers\' results as they are', () => {
  // The shape of xe.binaryScorer().result() and xe.multilabelScorer().result(): logLoss in a unit, sample
  // weights, the confusion at the threshold, binned AUC and AP with error bounds, curves with thresholds,
  // bins with weights; a multilabel result's `labels` is the number of labels.
  const label = (k: number) => ({
    count: 40, weight: 50, positives: 20, logLoss: 0.5 + k, unit: 'bits' as const, brier: 0.125, accuracy: 0.75,
    precision: 0.5, recall: 0.625, f1: 0.5555, confusion: { tp: 12.5, fp: 12.5, fn: 7.5, tn: 17.5 }, rocAuc: 0.8,
    averagePrecision: 0.7, rocAucErrorBound: 0.002, averagePrecisionErrorBound: 0, ece: 0.1, mce: 0.2, rmsce: 0.15,
    bins: [{ lower: 0, upper: 0.5, count: 20, weight: 25, confidence: 0.25, accuracy: 0.3 }, { lower: 0.5, upper: 1, count: 20, weight: 25, confidence: 0.75, accuracy: 0.7 }],
    roc: { fpr: Float64Array.of(0, 0.5, 1), tpr: Float64Array.of(0, 0.8, 1), thresholds: Float64Array.of(Infinity, 0.5, 0) },
    pr: { precision: Float64Array.of(0.4, 0.6, 1), recall: Float64Array.of(1, 0.5, 0), thresholds: Float64Array.of(0.2, 0.6) },
  });
  const averages = { precision: 0.5, recall: 0.5, f1: 0.5, rocAuc: 0.75, averagePrecision: 0.625, accuracy: 0.875, logLoss: 0.25, brier: 0.0625, ece: 0.03125 };
  const multilabel = { labels: 2, count: 40, perLabel: [label(0), label(1)], macro: averages, weighted: averages, micro: label(2) };
  const html = renderReport({ binary: label(0), multilabel });

  it('binary: the loss in nats, the weight, the positives\' share as the PR baseline, the AUC bound, the confusion', () => {
    const b = section(html, 'binary');
    expect(shown(b, 'lossNats')).toEqual({ value: String(0.5 * Math.LN2), text: (0.5 * Math.LN2).toFixed(6) });
    expect(shown(b, 'weight').text).toBe('50');
    expect(shown(b, 'rocAucErrorBound').text).toBe('0.002000');
    expect(b).not.toContain('averagePrecisionErrorBound');
    expect(b).toContain('positive rate 0.4000');
    expect([shown(b, 'confusion.tp').text, shown(b, 'confusion.fn').text, shown(b, 'confusion.fp').text, shown(b, 'confusion.tn').text])
      .toEqual(['12.50', '7.50', '12.50', '17.50']);
    expect(b).toContain('Fraction of positives');
  });

  it('multilabel: the macro, weighted and micro averages, then each label by index', () => {
    const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(section(html, 'multilabel'))![1];
    const heads = [...body.matchAll(/<tr[^>]*><t[hd][^>]*>([^<]*)<\/t[hd]>/g)].map((m) => m[1]);
    expect(heads).toEqual(['macro', 'weighted', 'micro', '0', '1']);
    expect(values(body).filter((v) => v.metric === 'lossNats').map((v) => Number(v.value))).toEqual(
      // The averages have no unit of their own: the labels' (bits) is theirs.
      [0.25 * Math.LN2, 0.25 * Math.LN2, 2.5 * Math.LN2, 0.5 * Math.LN2, 1.5 * Math.LN2]);
    expect(values(body).filter((v) => v.metric === 'accuracy').map((v) => v.text)).toEqual(['0.8750', '0.8750', '0.7500', '0.7500', '0.7500']);
  });
});

describe('renderReport: escaping', () => {
  const attack = '</title><script>alert(1)</script><img src=x onerror="alert(2)">\'&amp;\u0000\u001b';
  const escaped = '&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&#39;&amp;amp;\ufffd\ufffd';
  const C = 3;
  const html = renderReport({
    title: attack,
    details: [[attack, attack]],
    labels: [attack, `${attack}2`, 'ok'],
    multiclass: {
      count: 3, classes: C, topK: { [attack]: 0.5 }, bins: [{ lower: 0, upper: 1, count: 3, confidence: 0.5, accuracy: 0.5 }],
      ece: 0, mce: 0,
      perClass: { precision: [1, 1, 1], recall: [1, 1, 1], f1: [1, 1, 1], support: [1, 1, 1] },
      confusion: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    },
    multilabel: { perLabel: [{ rocAuc: 0.5, roc: { fpr: [0, 1], tpr: [0, 1] } }], names: [attack] },
  });

  it('no user string makes an element, an attribute or an entity: every tag is the report\'s own', () => {
    tags(html);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).not.toMatch(/(?![\t\n\r])\p{Cc}/u);
  });

  it('each string is shown, escaped, where it belongs', () => {
    expect(html).toContain(`<title>${escaped}</title>`);
    expect(html).toContain(`<h1>${escaped}</h1>`);
    expect(html).toContain(`<dt>${escaped}</dt><dd>${escaped}</dd>`);
    // In the per-class table (the name and its tooltip), the heat map's ticks and cells, the multilabel table and legend.
    expect(html).toContain(`<td class="name" title="${escaped}">`);
    expect(html).toContain(`<title>true ${escaped}, predicted ${escaped}2: 0 rows`);
    expect(html).toContain(`<div class="k">Top-${escaped} accuracy</div>`);
    expect(html.split(escaped).length - 1).toBeGreaterThanOrEqual(12);
  });
});

describe('renderReport: a large confusion matrix', () => {
  const C = 300;
  // Classes 200..219 confuse each other (the most errors), a few others err once.
  const confusion = new Float64Array(C * C);
  for (let c = 0; c < C; c++) confusion[c * C + c] = 10;
  for (let c = 200; c < 220; c++) confusion[c * C + (c === 219 ? 200 : c + 1)] = 5 + (c % 3);
  for (const c of [3, 50, 299]) confusion[c * C + 7] = 1;
  const support = new Float64Array(C).map((_, c) => 1000 - c);
  const f1 = new Float64Array(C).map((_, c) => (c * 7919) % 300 / 300);
  const input: ReportInput = {
    multiclass: { count: 3000, confusion, perClass: { precision: f1, recall: f1, f1, support } },
  };

  it('shows the 20 most confused classes, most errors first, and says so', () => {
    const html = renderReport(input);
    const cells = [...html.matchAll(/<rect class="cell[^"]*" data-true="(\d+)" data-pred="(\d+)"/g)];
    expect(cells).toHaveLength(400);
    const rows = [...new Set(cells.map((m) => Number(m[1])))];
    expect(rows).toEqual(mostConfused(confusion, C, 20));
    expect(new Set(rows)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => 200 + i)));
    // Errors of c (as true + as predicted): 2 + (c % 3) + ((c - 1) % 3) ... the top is the class with 7 + 7 (c ≡ 2, c-1 ≡ 1 mod 3).
    expect(html).toContain('The 20 of 300 classes with the most errors (rows of the class predicted as another, plus rows of other classes predicted as it), most confused first');
  });

  it('takes another limit from options, and the next most confused classes when the first run out', () => {
    const html = renderReport({ ...input, options: { confusionClasses: 24 } });
    const rows = [...new Set([...html.matchAll(/data-true="(\d+)" data-pred="\d+"/g)].map((m) => Number(m[1])))];
    // Class 7 (3 errors as predicted), then 3 and 50 (1 each; 299 loses the tie on index).
    expect(rows.slice(20)).toEqual([7, 3, 50, 299]);
  });

  it('ranks by errors with ties to the lower index', () => {
    const m = new Float64Array(16);
    m[0 * 4 + 1] = 2;
    m[3 * 4 + 2] = 1;
    m[2 * 4 + 3] = 1;
    expect(mostConfused(m, 4, 3)).toEqual([0, 1, 2]);
    expect(mostConfused(m, 4, 4)).toEqual([0, 1, 2, 3]);
    expect(mostConfused(m, 4, 2)).toEqual([0, 1]);
  });

  it('lists the first tableRows classes of the order asked for, and says so', () => {
    const bySupport = renderReport(input);
    const classes = (html: string) => [...html.matchAll(/<tr data-class="(\d+)">/g)].map((m) => Number(m[1]));
    expect(classes(bySupport)).toEqual(Array.from({ length: 100 }, (_, c) => c));
    expect(bySupport).toContain('Ordered by support, largest first; the first 100 of 300 classes.');
    const byF1 = renderReport({ ...input, options: { classOrder: 'f1', tableRows: 5 } });
    const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => f1[a] - f1[b] || a - b).slice(0, 5);
    expect(classes(byF1)).toEqual(order);
    expect(byF1).toContain('Ordered by F1, lowest first; the first 5 of 300 classes.');
  });
});

describe('renderReport: bad input', () => {
  const ok = { count: 1 };
  const cases: [string, unknown, ErrorConstructor, string][] = [
    ['not an object', 7, TypeError, 'renderReport: input must be an object, got number 7'],
    ['an unknown field', { multiclass: ok, titel: 'x' }, TypeError, 'renderReport: input has no field "titel"'],
    ['no result', { title: 'x' }, TypeError, 'renderReport: input must have a multiclass, binary or multilabel result'],
    ['a title that is not a string', { multiclass: ok, title: 5 }, TypeError, 'renderReport: input.title must be a string, got number 5'],
    ['a detail that is not a pair', { multiclass: ok, details: [['a']] }, TypeError, 'renderReport: input.details[0] must be a [name, value] pair of strings'],
    ['no count', { multiclass: {} }, TypeError, 'renderReport: input.multiclass.count must be a number, got undefined'],
    ['a negative count', { multiclass: { count: -1 } }, RangeError, 'renderReport: input.multiclass.count must be a finite number ≥ 0, got -1'],
    ['a metric that is a string', { multiclass: { count: 1, accuracy: '0.5' } }, TypeError, 'renderReport: input.multiclass.accuracy must be a number, got "0.5"'],
    ['per-class arrays of two lengths', { multiclass: { count: 1, perClass: { precision: [1, 1], recall: [1, 1], f1: [1, 1], support: [1] } } },
      RangeError, "renderReport: input.multiclass.perClass.support's length implies 1 classes, but renderReport: input.multiclass.perClass.f1's length implies 2"],
    ['a confusion matrix that is not square', { multiclass: { count: 1, confusion: [1, 2, 3] } }, RangeError, 'renderReport: input.multiclass.confusion must hold C x C counts, got 3 values'],
    ['an empty confusion matrix', { multiclass: { count: 1, confusion: [] } }, RangeError, "renderReport: input.multiclass.confusion's length implies no classes; a report needs at least one"],
    ['no classes', { multiclass: { count: 1, classes: 0 } }, RangeError, 'renderReport: input.multiclass.classes must be an integer ≥ 1, got 0'],
    ['a ragged confusion matrix', { multiclass: { count: 1, confusion: [[1, 2], [3]] } }, RangeError, 'renderReport: input.multiclass.confusion[1] must have 2 entries, got 1'],
    ['a negative confusion count', { multiclass: { count: 1, confusion: [1, -2, 3, 4] } }, RangeError, 'renderReport: input.multiclass.confusion[1] must be a finite number ≥ 0, got -2'],
    ['classes that disagree with the confusion matrix', { multiclass: { count: 1, classes: 3, confusion: [1, 2, 3, 4] } }, RangeError, "renderReport: input.multiclass.confusion's length implies 2 classes, but renderReport: input.multiclass.classes implies 3"],
    ['names for another number of classes', { multiclass: { count: 1, classes: 2 }, labels: ['a'] }, RangeError, 'renderReport: input.labels must name each of the 2 classes, got 1 names'],
    ['a name that is not a string', { multiclass: ok, labels: [1] }, TypeError, 'renderReport: input.labels[0] must be a string, got number 1'],
    ['a bin without accuracy', { multiclass: { count: 1, bins: [{ lower: 0, upper: 1, count: 1, confidence: 1 }] } }, TypeError, 'renderReport: input.multiclass.bins[0].accuracy must be a number, got undefined'],
    ['a curve of two lengths', { binary: { roc: { fpr: [0, 1], tpr: [0] } } }, RangeError, 'renderReport: input.binary.roc.fpr and tpr must have the same length, got 2 and 1'],
    ['a curve point without y', { binary: { pr: [{ recall: 0 }] } }, TypeError, 'renderReport: input.binary.pr[0] must have numbers recall and precision'],
    ['a BigInt array', { binary: { roc: { fpr: new BigInt64Array(1), tpr: [0] } } }, TypeError, 'renderReport: input.binary.roc.fpr must hold numbers, got a BigInt64Array'],
    ['a bad unit', { binary: { loss: 1, unit: 'nat' } }, RangeError, "renderReport: input.binary.unit must be 'nats' or 'bits', got \"nat\""],
    ['label names for another number of labels', { multilabel: { perLabel: [{}, {}], names: ['a'] } }, RangeError, 'renderReport: input.multilabel.names must name each of the 2 labels, got 1 names'],
    ['report names for another number of labels', { multilabel: { perLabel: [{}, {}] }, labels: ['a'] }, RangeError, 'renderReport: input.labels must name each of the 2 labels, got 1 names'],
    ['a binary confusion without tn', { binary: { confusion: { tp: 1, fp: 1, fn: 1 } } }, TypeError, 'renderReport: input.binary.confusion.tn must be a number, got undefined'],
    ['too few heat-map classes', { multiclass: ok, options: { confusionClasses: 1 } }, RangeError, 'renderReport: input.options.confusionClasses must be an integer in [2, 100], got 1'],
    ['an unknown order', { multiclass: ok, options: { classOrder: 'recall' } }, RangeError, "renderReport: input.options.classOrder must be 'support' or 'f1', got \"recall\""],
    ['an unknown option', { multiclass: ok, options: { rows: 5 } }, TypeError, 'renderReport: input.options has no field "rows"'],
  ];
  it.each(cases)('%s', (_, input, type, message) => {
    expect(() => renderReport(input as ReportInput)).toThrow(type);
    expect(() => renderReport(input as ReportInput)).toThrow(message);
  });

  it('reads own properties only, each once', () => {
    let reads = 0;
    const multiclass = { count: 4, get accuracy() { reads++; return 0.25; } };
    const input = Object.create({ title: 'inherited' }) as ReportInput;
    Object.assign(input, { multiclass });
    const html = renderReport(input);
    expect(reads).toBe(1);
    expect(html).toContain('<title>Evaluation report</title>');
    expect(shown(html, 'accuracy').value).toBe('0.25');
  });

  it('a loss given in bits is shown in nats', () => {
    const html = renderReport({ binary: { loss: 1, unit: 'bits' } });
    expect(shown(html, 'lossNats')).toEqual({ value: String(Math.LN2), text: Math.LN2.toFixed(6) });
  });
});

describe('formatting', () => {
  it('metrics: 6 decimals, exponent form when tiny or huge, NaN and infinities by name', () => {
    expect([0.5, 1 / 3, 0, 123456.5, 1e-5, 2e6, -0.25].map((x) => formatMetric(x))).toEqual(
      ['0.500000', '0.333333', '0.000000', '123456.500000', '1.000e-5', '2.000e+6', '-0.250000']);
    expect([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].map((x) => formatMetric(x))).toEqual(['NaN', '∞', '−∞']);
  });
  it('counts: thousands separated; a weighted count with 2 decimals', () => {
    expect([0, 999, 1000, 1234567, 2.5, 12345.678].map(formatCount)).toEqual(['0', '999', '1,000', '1,234,567', '2.50', '12,345.68']);
  });
});

describe('--plot: the legend is off the bars', () => {
  interface Box { x: number; y: number; width: number; height: number }
  const meets = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  const attr = (tag: string, name: string) => Number(new RegExp(`\\s${name}="([-\\d.]+)"`).exec(tag)![1]);
  /**
   * Where a text's glyphs reach, estimated: 0.6 em per character right of x (wider than the average of
   * sans-serif lower case), 1 em above the baseline and 0.3 below. report.mjs measures the real boxes.
   */
  const textBox = (tag: string, text: string, fontSize: number): Box => ({
    x: attr(tag, 'x'), y: attr(tag, 'y') - fontSize, width: 0.6 * fontSize * text.length, height: 1.3 * fontSize,
  });

  /** The legend's extent: its box and every text of it (the text's reach, estimated generously). */
  function legendBoxes(svg: string): Box[] {
    const boxes: Box[] = [];
    for (const m of svg.matchAll(/<rect class="legend-box"[^>]*>/g)) {
      boxes.push({ x: attr(m[0], 'x'), y: attr(m[0], 'y'), width: attr(m[0], 'width'), height: attr(m[0], 'height') });
    }
    for (const m of svg.matchAll(/(<text class="(?:legend|legend-text)"[^>]*>)([^<]*)<\/text>/g)) {
      const size = /font-size="(\d+)"/.exec(m[1]);
      boxes.push(textBox(m[1], unescapeText(m[2]), size ? Number(size[1]) : 12));
    }
    return boxes;
  }

  const full = Array.from({ length: 15 }, (_, b) => ({ lower: b / 15, upper: (b + 1) / 15, count: 5 + b, confidence: (b + 0.5) / 15, accuracy: 1 }));
  const results: [string, Pick<ScoreResult, 'count' | 'ece' | 'mce' | 'bins'>][] = [
    ['every bar at full height', { count: 195, ece: 0.5, mce: 0.97, bins: full }],
    ['a usual model', multiclass(400, 10, 9)],
    ['100 bins', { count: 100, ece: 0, mce: 0, bins: Array.from({ length: 100 }, (_, b) => ({ lower: b / 100, upper: (b + 1) / 100, count: 1, confidence: 0.995, accuracy: 1 })) }],
  ];
  it.each(results)('%s: no legend box or text meets a bar or a gap outline; the texts stay in the box', (_, result) => {
    const svg = reliabilitySvg(result);
    const bars = [...svg.matchAll(/<rect class="(?:bar|gap)" data-bin[^>]*>/g)].map((m) => ({
      x: attr(m[0], 'x'), y: attr(m[0], 'y'), width: attr(m[0], 'width'), height: attr(m[0], 'height'),
    }));
    expect(bars.length).toBe(2 * result.bins.filter((b) => b.count > 0).length);
    const legend = legendBoxes(svg);
    expect(legend.length).toBeGreaterThan(0);
    for (const box of legend) for (const bar of bars) expect(meets(box, bar), `${JSON.stringify(box)} meets ${JSON.stringify(bar)}`).toBe(false);
    const [frame, ...texts] = legend;
    expect(svg).toContain('<rect class="legend-box"');
    expect(texts).toHaveLength(3);
    for (const t of texts) {
      expect(t.x >= frame.x && t.x + t.width <= frame.x + frame.width && t.y >= frame.y && t.y + t.height <= frame.y + frame.height, JSON.stringify(t)).toBe(true);
    }
  });
});
