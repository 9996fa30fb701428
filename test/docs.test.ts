// The documentation's examples and links, checked: README.md and docs/*.md.
//
// Conventions (docs/README.md repeats them for writers):
// - A JavaScript or TypeScript fenced block is either runnable, marked `run` in its info string
//   (```js run, ```ts run, or ```js run cjs for CommonJS), or a fragment, marked `fragment`
//   (```js fragment: a browser page, a bundler configuration, code that needs your data). GitHub
//   highlights by the first word only. Every JS/TS block must carry one of the two marks.
// - A shell block may be marked `run` too (```sh run); it runs in bash, from the repository root.
// - Each runnable block runs on its own in a child process (`node`, no flags: so the SIMD build on
//   Node 20), from a file in a temporary folder inside the repository (tmp/, gitignored), with the
//   repository root as working directory. `import … from 'xentropy'` / `require('xentropy')` then
//   resolve to the package itself through its "exports" (self-reference), that is to the BUILT dist/,
//   as a user gets it. TypeScript blocks are compiled by esbuild first (types stripped, not checked).
// - What a block prints is the ```text block that follows it, with only blank lines between. The
//   output must match it line by line (trailing spaces and surrounding blank lines ignored): the text
//   between numbers exactly, and each number to 1e-6 relative (RELATIVE_TOLERANCE), or, when printed
//   with the same number of decimals, to one unit in the last decimal (a toFixed rounding that falls
//   the other way). A block without a ```text block must print nothing. Every block must exit with
//   status 0 within 30 s and write nothing to stderr.
// - Every relative link (inline, reference, href/src) must name an existing file or folder of the
//   repository, and a `#anchor` must be a heading of the target (GitHub's slugs) or an id/name there.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anchors, compareOutput, examples, fences, isExternal, JS_LANGUAGES, links, numbersMatch, slug, type Example,
} from './docs-blocks.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const TIMEOUT_MS = 30_000;

/** The documentation: README.md and every docs/*.md. */
const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const texts = new Map(files.map((f) => [f, readFileSync(join(root, f), 'utf8')]));
const allExamples = files.flatMap((f) => examples(f, texts.get(f)!));

let workDir = '';

beforeAll(() => {
  for (const f of ['dist/index.js', 'dist/node.js', 'dist/xentropy.wasm']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: build the package first (npm run build)`);
  }
  mkdirSync(join(root, 'tmp'), { recursive: true });
  workDir = mkdtempSync(join(root, 'tmp', 'docs-examples-'));
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Runs one example in a child process; resolves with its exit status, stdout and stderr. */
function run(example: Example): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const base = `${example.file.replace(/[^A-Za-z0-9]+/g, '_')}_L${example.line}`;
  let file: string, command: string, args: string[];
  if (example.kind === 'sh') {
    file = join(workDir, `${base}.sh`);
    writeFileSync(file, `set -euo pipefail\n${example.code}\n`);
    command = 'bash';
    args = [file];
  } else {
    const source = example.kind === 'ts'
      ? transformSync(example.code, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: `${example.file}:${example.line}` }).code
      : example.code;
    file = join(workDir, `${base}.${example.kind === 'cjs' ? 'cjs' : 'mjs'}`);
    writeFileSync(file, source);
    command = process.execPath;
    args = [file];
  }
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((done) => {
    execFile(command, args, { cwd: root, env, timeout: TIMEOUT_MS, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      done({ code, signal: error?.signal ?? null, stdout, stderr });
    });
  });
}

describe('README.md, the landing page', () => {
  const readme = texts.get('README.md')!;
  it('is at most 12 KB', () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(12_288);
  });
  it('keeps the two set-up commands and the install command', () => {
    for (const s of ['npm start', 'npm test', 'npm install xentropy', 'node bin/xentropy.js score']) expect(readme).toContain(s);
  });
});

describe('fenced blocks', () => {
  it.each(files)('%s: every JavaScript/TypeScript block is marked run or fragment', (file) => {
    const unmarked = fences(texts.get(file)!)
      .filter((f) => JS_LANGUAGES.has(f.info[0]) && !f.info.includes('run') && !f.info.includes('fragment'))
      .map((f) => `${file}:${f.line}: \`\`\`${f.info.join(' ')}`);
    expect(unmarked, 'mark each block `run` (checked) or `fragment` (not runnable)').toEqual([]);
  });

  it('most JavaScript/TypeScript blocks are runnable', () => {
    const js = files.flatMap((f) => fences(texts.get(f)!).filter((b) => JS_LANGUAGES.has(b.info[0])));
    const runnable = js.filter((b) => b.info.includes('run')).length;
    expect(runnable).toBeGreaterThan(js.length / 2);
  });
});

describe('runnable examples', () => {
  it('there are some', () => {
    expect(allExamples.length).toBeGreaterThan(10);
  });

  it.concurrent.each(allExamples.map((e) => [`${e.file}:${e.line} (${e.kind})`, e] as const))(
    '%s prints what it claims',
    async (where, example) => {
      const { code, signal, stdout, stderr } = await run(example);
      const at = `${where}${example.expected ? `, output block at line ${example.expected.line}` : ''}`;
      if (code !== 0) {
        throw new Error(`${at}: exited with ${signal ?? `status ${code}`}${signal === 'SIGTERM' ? ` (timeout ${TIMEOUT_MS} ms?)` : ''}\n--- stderr\n${stderr}\n--- stdout\n${stdout}`);
      }
      if (stderr !== '') throw new Error(`${at}: wrote to stderr\n${stderr}`);
      if (!example.expected) {
        if (stdout.trim() !== '') throw new Error(`${at}: prints output but no \`\`\`text block follows it\n--- stdout\n${stdout}`);
        return;
      }
      const difference = compareOutput(stdout, example.expected.text);
      if (difference) throw new Error(`${at}: ${difference}\n--- full output\n${stdout}`);
    },
    TIMEOUT_MS + 10_000,
  );
});

describe('links', () => {
  it.each(files)('%s: every relative link resolves, with its anchor', (file) => {
    const broken: string[] = [];
    for (const { target, line } of links(texts.get(file)!)) {
      if (isExternal(target)) continue;
      const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
      const path = decodeURIComponent(rawPath);
      const resolved = path === '' ? join(root, file) : resolve(dirname(join(root, file)), path);
      const where = `${file}:${line}: ${target}`;
      if (relative(root, resolved).startsWith('..')) { broken.push(`${where}: leaves the repository`); continue; }
      if (!existsSync(resolved)) { broken.push(`${where}: ${relative(root, resolved)} does not exist`); continue; }
      if (anchor === undefined) continue;
      if (!statSync(resolved).isFile() || !resolved.endsWith('.md')) { broken.push(`${where}: an anchor into a file that is not Markdown`); continue; }
      const text = texts.get(relative(root, resolved)) ?? readFileSync(resolved, 'utf8');
      if (!anchors(text).has(decodeURIComponent(anchor))) broken.push(`${where}: no heading "#${anchor}" in ${relative(root, resolved)}`);
    }
    expect(broken).toEqual([]);
  });
});

// The checkers themselves: each of them can fail.
describe('the checkers', () => {
  it('compareOutput: exact text, numbers to a tolerance', () => {
    expect(compareOutput('loss 0.3185397618662398\n', 'loss 0.31853977')).toBeNull();
    expect(compareOutput('loss 0.318540', 'loss 0.318539')).toBeNull(); // one unit in the last decimal
    expect(compareOutput('loss 0.318542', 'loss 0.318539')).toMatch(/line 1 differs/);
    expect(compareOutput('loss 0.3185', 'loss 0.32')).toMatch(/differs/); // fewer digits claimed: no
    expect(compareOutput('loss 0.3185 nats', 'loss 0.3185 bits')).toMatch(/differs/);
    expect(compareOutput('1614 / 2000', '1615 / 2000')).toMatch(/differs/); // integers are exact
    expect(compareOutput('a\nb', 'a')).toMatch(/line 2/);
    expect(compareOutput('a', 'a\nb')).toMatch(/missing/);
    expect(numbersMatch('NaN', 'NaN')).toBe(true);
    expect(numbersMatch('1e-7', '1.0000001e-7')).toBe(true);
    expect(numbersMatch('1e-7', '1.1e-7')).toBe(false);
  });

  it('examples: the marker, the kind and the output block', () => {
    const md = [
      '```js run', 'console.log(1)', '```', '', '```text', '1', '```',
      '```ts run', 'const a: number = 1', '```', 'prose', '```text', 'not its output', '```',
      '```js fragment', 'x', '```', '```js run cjs', 'require("x")', '```', '```sh run', 'echo', '```',
    ].join('\n');
    const found = examples('x.md', md);
    expect(found.map((e) => [e.line, e.kind, e.expected?.text])).toEqual([
      [1, 'esm', '1'], [8, 'ts', undefined], [18, 'cjs', undefined], [21, 'sh', undefined],
    ]);
  });

  it('slug and anchors: GitHub\'s rules', () => {
    expect(slug('Non-finite inputs')).toBe('non-finite-inputs');
    expect(slug('From the command line: `xentropy score`')).toBe('from-the-command-line-xentropy-score');
    expect(slug('`crossEntropy(input, target, options)`')).toBe('crossentropyinput-target-options');
    expect(slug('Memory & threads')).toBe('memory--threads');
    const a = anchors('# A\n## A\n```sh\n# not a heading\n```\n<a id="custom"></a>\n');
    expect([...a]).toEqual(['a', 'a-1', 'custom']);
  });

  it('links: outside code, with their lines', () => {
    const md = 'see [a](x.md#y) and `[b](nope.md)`\n```\n[c](z.md)\n```\n[d]: ./w.md\n<img src="i.svg">';
    expect(links(md)).toEqual([{ target: 'x.md#y', line: 1 }, { target: './w.md', line: 5 }, { target: 'i.svg', line: 6 }]);
  });
});

describe('docs/architecture.md', () => {
  // Its table finds an operation's kernel, TypeScript home, reference and tests by one name: each file
  // it names must exist, so the table cannot drift from the tree unnoticed.
  const text = texts.get('docs/architecture.md')!;
  const table = text.slice(text.indexOf('## Find an operation by its name'));
  const rows = table.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| operation') && !line.startsWith('| ---'));
  const folders = ['assembly', 'src/ops', 'src/reference', 'test'];

  it('has a row per operation', () => {
    expect(rows.length).toBeGreaterThanOrEqual(10);
  });

  it.each(rows.map((row) => [row.split('|')[1].trim(), row] as const))('%s: every file it names exists', (_name, row) => {
    const cells = row.split('|').slice(2, 6).map((cell) => cell.trim());
    cells.forEach((cell, i) => {
      // A cell in parentheses points elsewhere in words ("(as crossEntropy)"); the others list files.
      if (cell.startsWith('(')) return;
      for (const name of cell.split(',').map((part) => part.trim())) {
        expect(name, `${row.split('|')[1].trim()}: a cell lists file names`).toMatch(/^[a-z_]+(\/[a-z_]+)?(\.ts)?$/);
        const path = name.includes('/') ? `src/${name}` : folders[i] === 'test' ? `test/${name}.test.ts` : `${folders[i]}/${name}`;
        expect(existsSync(join(root, path)), `${row.split('|')[1].trim()}: ${path}`).toBe(true);
      }
    });
  });
});
