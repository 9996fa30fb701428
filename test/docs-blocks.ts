// Helpers of test/docs.test.ts: the fenced blocks of a Markdown file, the comparison of a block's
// output with the output it claims, and the relative links and heading anchors of a Markdown file.
// The conventions are described at the top of test/docs.test.ts.

/** A fenced code block of a Markdown file. */
export interface Fence {
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's words: ['js', 'run'] for ```js run. */
  info: string[];
  /** The block's lines, without the fences (and without the fence's indentation). */
  code: string;
  /** 1-based line of the closing fence (the last line for an unclosed block). */
  end: number;
}

/** A runnable example: a block marked `run`, and the output block that follows it, if any. */
export interface Example {
  file: string;
  line: number;
  /** How it runs: 'esm' (js), 'cjs' (js ... cjs), 'ts' (compiled to ESM by esbuild) or 'sh' (bash). */
  kind: 'esm' | 'cjs' | 'ts' | 'sh';
  code: string;
  /** The ```text block right after it (only blank lines between), if there is one. */
  expected?: { line: number; text: string };
}

export const JS_LANGUAGES = new Set(['js', 'javascript', 'mjs', 'cjs', 'ts', 'typescript', 'mts', 'cts']);
export const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console']);

const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;

/** Every fenced code block of a Markdown text, in order. */
export function fences(markdown: string): Fence[] {
  const lines = markdown.split('\n');
  const out: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, marker, rest] = open;
    if (marker[0] === '`' && rest.includes('`')) continue; // not a fence: an inline code span
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = FENCE.exec(lines[j]);
      if (close && close[2][0] === marker[0] && close[2].length >= marker.length && close[3].trim() === '') break;
      // Content lines lose up to the fence's own indentation (a fence inside a list item).
      let k = 0;
      while (k < indent.length && lines[j][k] === ' ') k++;
      body.push(lines[j].slice(k));
    }
    out.push({ line: i + 1, info: rest.trim().split(/\s+/).filter(Boolean), code: body.join('\n'), end: Math.min(j + 1, lines.length) });
    i = j;
  }
  return out;
}

/** True when the lines strictly between two 1-based line numbers are all blank. */
function onlyBlankBetween(lines: string[], after: number, before: number): boolean {
  for (let l = after + 1; l < before; l++) if (lines[l - 1].trim() !== '') return false;
  return true;
}

/** The runnable examples of a Markdown file (blocks marked `run`), each with its expected output. */
export function examples(file: string, markdown: string): Example[] {
  const lines = markdown.split('\n');
  const all = fences(markdown);
  const out: Example[] = [];
  all.forEach((fence, i) => {
    const [lang, ...flags] = fence.info;
    if (!flags.includes('run')) return;
    let kind: Example['kind'];
    if (SHELL_LANGUAGES.has(lang)) kind = 'sh';
    else if (lang === 'ts' || lang === 'typescript' || lang === 'mts') kind = 'ts';
    else if (lang === 'cjs' || lang === 'cts' || flags.includes('cjs')) kind = 'cjs';
    else if (JS_LANGUAGES.has(lang)) kind = 'esm';
    else throw new Error(`${file}:${fence.line}: "run" on a block of unknown language "${lang}"`);
    const next = all[i + 1];
    const expected = next && next.info[0] === 'text' && onlyBlankBetween(lines, fence.end, next.line)
      ? { line: next.line, text: next.code } : undefined;
    out.push({ file, line: fence.line, kind, code: fence.code, expected });
  });
  return out;
}

/** Relative tolerance of numbers in an output comparison (see compareOutput). */
export const RELATIVE_TOLERANCE = 1e-6;

const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/gi;

/** Splits a line into its text between numbers and its numbers. */
function tokens(line: string): { text: string[]; numbers: string[] } {
  return { text: line.split(NUMBER), numbers: line.match(NUMBER) ?? [] };
}

function decimals(number: string): number {
  const mantissa = number.split(/e/i)[0];
  const dot = mantissa.indexOf('.');
  return dot < 0 ? 0 : mantissa.length - dot - 1;
}

/**
 * Whether a printed number matches the claimed one: the same text; or within RELATIVE_TOLERANCE
 * relative; or, when both are printed with the same number (≥ 1) of decimals and no exponent, within
 * one unit of the last decimal (so a rounding of `toFixed` that falls the other way still matches).
 */
export function numbersMatch(actual: string, expected: string): boolean {
  if (actual === expected) return true;
  const a = Number(actual), e = Number(expected);
  if (!Number.isFinite(a) || !Number.isFinite(e)) return false;
  if (Math.abs(a - e) <= RELATIVE_TOLERANCE * Math.abs(e)) return true;
  const d = decimals(expected);
  return d >= 1 && d === decimals(actual) && !/e/i.test(actual + expected)
    && Math.abs(a - e) <= 1.000001 * 10 ** -d;
}

function trimLines(text: string): string[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n').map((l) => l.trimEnd());
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Compares what a block printed with what its text block claims: line by line (trailing spaces and
 * leading or trailing blank lines ignored), the text between numbers exactly, numbers by numbersMatch.
 * @returns null when they match, else a description of the first difference
 */
export function compareOutput(actual: string, expected: string): string | null {
  const got = trimLines(actual), want = trimLines(expected);
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    if (i >= got.length) return `output line ${i + 1} is missing; expected "${want[i]}"`;
    if (i >= want.length) return `output line ${i + 1} "${got[i]}" is not in the expected output`;
    const g = tokens(got[i]), w = tokens(want[i]);
    const same = g.numbers.length === w.numbers.length
      && g.text.every((t, k) => t === w.text[k])
      && g.numbers.every((n, k) => numbersMatch(n, w.numbers[k]));
    if (!same) return `output line ${i + 1} differs:\n  printed:  ${got[i]}\n  expected: ${want[i]}`;
  }
  return null;
}

/** A link of a Markdown file: its target as written and its 1-based line. */
export interface Link { target: string; line: number }

/** Replaces code spans by spaces of the same length, so that links and headings are read outside them. */
function blankCodeSpans(line: string): string {
  return line.replace(/(`+)(.+?)\1/g, (m) => ' '.repeat(m.length));
}

/** The lines outside fenced blocks (others blanked), so that line numbers are kept. */
function proseLines(markdown: string): string[] {
  const lines = markdown.split('\n');
  for (const fence of fences(markdown)) for (let l = fence.line; l <= fence.end; l++) lines[l - 1] = '';
  return lines;
}

/** Every link target of a Markdown file, outside code: inline links, images, reference definitions, href/src. */
export function links(markdown: string): Link[] {
  const out: Link[] = [];
  proseLines(markdown).forEach((raw, i) => {
    const line = blankCodeSpans(raw);
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], line: i + 1 });
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line);
    if (def) out.push({ target: def[1], line: i + 1 });
    for (const m of line.matchAll(/\b(?:href|src)="([^"]+)"/g)) out.push({ target: m[1], line: i + 1 });
  });
  return out;
}

/** True for a link that leaves the repository (a scheme such as https: or mailto:, or //host). */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

/** A heading's text as GitHub renders it: code spans, links, images and emphasis reduced to their text. */
function headingText(raw: string): string {
  return raw
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(`+)(.+?)\1/g, '$2')
    .replace(/<[^>]+>/g, '')
    .replace(/\*+/g, '')
    .replace(/(^|\s)_+|_+(\s|$)/g, '$1$2')
    .trim();
}

/** GitHub's anchor of a heading text (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
export function slug(text: string): string {
  return headingText(text).toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown file defines: heading slugs (repeats get -1, -2, …) and id/name attributes. */
export function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s[^>]*\b(?:id|name)="([^"]+)"/g)) out.add(m[1]);
  }
  return out;
}
