#!/usr/bin/env node
// The browser-eval page (examples/browser-eval/) in Chromium, run by Node 20 after `npm run build` (it
// builds nothing; npm run test:browser-eval):
//   node test/runtimes/browser-eval.mjs
// The repository is served by the page's own server (examples/browser-eval/serve.mjs: COOP and COEP, so
// the page is cross-origin isolated) on a free port of 127.0.0.1, and the page is driven as a user
// would: files given to its file inputs (setInputFiles), an array chosen in a file of several, the Score
// button. For each case the numbers the page shows (<pre id="json">: scoreJson, JSON.stringify'd) must
// equal, field by field and exactly, those `node bin/xentropy.js score --json` prints for the same files,
// and the report it shows (the iframe's srcdoc, also its "download report.html" link) must be the very
// HTML `xentropy score --report` writes (the command line is run from the files' folder, so that the
// names in both are the bare file names). Cases: the bundled classifier sample (.npy); the bundled
// language model sample (.safetensors of three tensors: logits, input_ids, attention_mask, with shift);
// a .npz of both sample arrays, one member deflated (Chromium's DecompressionStream) and one stored; a
// text file named .npy, and a top-k the logits cannot have, whose errors must be the library's own
// messages, shown in the page. Throughout: no console error, no uncaught error, no request outside
// the page's origin (every other request is refused, and counted), and a report that is not blank (a
// screenshot of the iframe). Exits 1 on any failure. Environment: CHROMIUM (default /usr/bin/chromium);
// XENTROPY_EVAL_KEEP=DIR writes the report screenshots there.

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { ink } from './pixels.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TIMEOUT_MS = 60_000;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
const CLI = join(ROOT, 'bin/xentropy.js');
const DATA = join(ROOT, 'data');

const { serve } = await import(pathToFileURL(join(ROOT, 'examples/browser-eval/serve.mjs')).href);
const { openArray } = await import(pathToFileURL(join(ROOT, 'dist/eval.js')).href);
const { encodeNpy } = await import(pathToFileURL(join(ROOT, 'dist/cli/npy.js')).href);

// ---------------------------------------------------------------------------------------------------
// The command line's answers.

/** `xentropy score --json ... --report <tmp>` run in `cwd`: the parsed JSON and the report's HTML. */
async function cli(cwd, args, temp) {
  const reportFile = join(temp, `cli-report-${Math.random().toString(36).slice(2)}.html`);
  const out = execFileSync(process.execPath, [CLI, 'score', '--json', ...args, '--report', reportFile], { cwd, encoding: 'utf8' });
  return { json: JSON.parse(out), html: await readFile(reportFile, 'utf8') };
}

/** The build `init()` picks in this Node (the command line's): the page is opened with the same one. */
function nodeBuild() {
  return execFileSync(process.execPath, ['--input-type=module', '-e', "import { init } from 'xentropy'; console.log((await init()).features.build);"], {
    cwd: ROOT, encoding: 'utf8',
  }).trim();
}

/** Paths where two JSON values differ (numbers compared with Object.is; key order too). */
function differences(page, want, path = '$') {
  if (typeof want !== 'object' || want === null) return Object.is(page, want) ? [] : [`${path}: page ${JSON.stringify(page)}, command line ${JSON.stringify(want)}`];
  if (typeof page !== 'object' || page === null || Array.isArray(page) !== Array.isArray(want)) return [`${path}: page ${JSON.stringify(page)?.slice(0, 80)}, command line an ${Array.isArray(want) ? 'array' : 'object'}`];
  const keys = Object.keys(want);
  if (Object.keys(page).join() !== keys.join()) return [`${path}: keys ${Object.keys(page).join(',')} in the page, ${keys.join(',')} from the command line`];
  return keys.flatMap((k) => differences(page[k], want[k], `${path}.${k}`));
}

// ---------------------------------------------------------------------------------------------------
// A .npz written here: a zip of .npy members, each stored or deflated (as np.savez / np.savez_compressed).

function zip(members) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const { name, data, deflate } of members) {
    const body = deflate ? deflateRawSync(data) : data;
    const nameBytes = Buffer.from(name);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(deflate ? 8 : 0, 8);
    header.writeUInt32LE(crc32(data), 14);
    header.writeUInt32LE(body.length, 18);
    header.writeUInt32LE(data.length, 22);
    header.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(header, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + body.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}


// ---------------------------------------------------------------------------------------------------
// The page.

/** Opens the page; problems collects console errors, uncaught errors and requests outside the origin. */
async function openPage(context, url, problems) {
  const origin = new URL(url).origin;
  const page = await context.newPage();
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console error: ${message.text()}`); });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('request', (request) => {
    const u = request.url();
    if (!(u.startsWith(`${origin}/`) || u.startsWith(`blob:${origin}/`))) problems.push(`request outside ${origin}: ${u}`);
  });
  await page.goto(url, { waitUntil: 'load', timeout: TIMEOUT_MS });
  await page.waitForSelector('body[data-state="ready"]', { timeout: TIMEOUT_MS });
  return page;
}

/** Gives the page's file input for `role` a file (a path, or { name, mimeType, buffer }) and waits until it is read. */
async function giveFile(page, role, file) {
  await page.setInputFiles(`#${role}-file`, file);
  await page.waitForFunction((r) => {
    const info = document.getElementById(`${r}-info`).textContent;
    return !document.getElementById('error').hidden || (info !== '' && !info.startsWith('reading '));
  }, role, { timeout: TIMEOUT_MS });
}

/** Clicks Score and waits for the numbers (or an error); returns the page's JSON, report and state. */
async function scoreInPage(page) {
  await page.click('#score');
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: TIMEOUT_MS });
  return page.evaluate(async () => {
    const download = document.getElementById('download')?.href ?? '';
    return {
      state: document.body.dataset.state,
      error: document.getElementById('error').hidden ? undefined : document.getElementById('error').textContent,
      json: document.getElementById('json').textContent,
      srcdoc: document.getElementById('report').srcdoc,
      downloaded: download.startsWith('blob:') ? await (await fetch(download)).text() : `(not a Blob URL: ${download})`,
      isolated: globalThis.crossOriginIsolated,
      scorer: document.body.dataset.scorer,
    };
  });
}

/**
 * The report iframe: a chart in it, and a screenshot that is not blank. Chromium paints an iframe of
 * another origin (a sandboxed srcdoc is one) only once it is in view, some frames later (and runs no
 * requestAnimationFrame before): the frame is scrolled into view and shot every 100 ms for up to 5 s
 * before it counts as blank.
 */
async function reportProblems(page) {
  const frame = page.frames().find((f) => f !== page.mainFrame());
  if (!frame) return ['no report frame'];
  if (!(await frame.waitForSelector('svg.chart', { timeout: TIMEOUT_MS }).then(() => true, () => false))) return ['no chart in the report frame'];
  await page.locator('#report').scrollIntoViewIfNeeded();
  let shot;
  for (const started = Date.now(); Date.now() - started < 5000;) {
    const png = await page.locator('#report').screenshot();
    shot = ink(png);
    if (shot.colours >= 24 && shot.ink >= 0.02) {
      if (process.env.XENTROPY_EVAL_KEEP) await writeFile(join(process.env.XENTROPY_EVAL_KEEP, `report-${Date.now()}.png`), png);
      return [];
    }
    await page.waitForTimeout(100);
  }
  return [`the report frame looks blank: ${shot.colours} colours, ${(shot.ink * 100).toFixed(2)}% ink`];
}

async function main() {
  const temp = await mkdtemp(join(tmpdir(), 'xentropy-browser-eval-'));
  const problems = [];
  let context, server;
  try {
    const build = nodeBuild();
    server = await serve({ root: ROOT, port: 0 });
    const origin = `http://127.0.0.1:${server.address().port}`;
    const url = `${origin}/examples/browser-eval/?build=${build}`;
    context = await chromium.launchPersistentContext(join(temp, 'profile'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: TIMEOUT_MS, viewport: { width: 1280, height: 900 },
    });
    // Nothing leaves the machine: any request outside the origin is refused (and counted by openPage).
    await context.route('**/*', (route) => (route.request().url().startsWith(`${origin}/`) ? route.continue() : route.abort('blockedbyclient')));
    console.error(`browser-eval.mjs: chromium ${context.browser()?.version()} (${CHROMIUM}), ${url}`);

    // A .npz of the classifier sample: logits deflated, labels stored.
    const npz = zip([
      { name: 'logits.npy', data: await readFile(join(DATA, 'sample-logits.npy')), deflate: true },
      { name: 'labels.npy', data: await readFile(join(DATA, 'sample-labels.npy')), deflate: false },
    ]);
    await writeFile(join(temp, 'sample.npz'), npz);
    // A file of several 16 MiB chunks (the command line's, and the page's): 1.1 M rows of 10 float32 logits.
    const rows = 1_100_000, classes = 10;
    let seed = 26;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const labels = Int32Array.from({ length: rows }, () => Math.floor(rand() * classes));
    const logits = Float32Array.from({ length: rows * classes }, (_, i) => Math.round((rand() * 6 - 3 + (labels[Math.floor(i / classes)] === i % classes ? 2 : 0)) * 64) / 64);
    await writeFile(join(temp, 'large-logits.npy'), encodeNpy('<f4', [rows, classes], logits));
    await writeFile(join(temp, 'large-labels.npy'), encodeNpy('<i4', [rows], labels));

    const cases = [
      {
        name: 'classifier sample (.npy)', cwd: DATA, args: ['--logits', 'sample-logits.npy', '--labels', 'sample-labels.npy'],
        files: { logits: join(DATA, 'sample-logits.npy'), labels: join(DATA, 'sample-labels.npy') },
      },
      {
        name: 'language model sample (.safetensors, shift, mask)', cwd: DATA,
        args: ['--logits', 'sample-lm.safetensors:logits', '--labels', 'sample-lm.safetensors:input_ids', '--mask', 'sample-lm.safetensors:attention_mask', '--shift'],
        files: { logits: join(DATA, 'sample-lm.safetensors'), labels: join(DATA, 'sample-lm.safetensors'), mask: join(DATA, 'sample-lm.safetensors') },
        names: { logits: 'logits', labels: 'input_ids', mask: 'attention_mask' }, shift: true,
      },
      {
        name: '.npz of two members, one deflated', cwd: temp, args: ['--logits', 'sample.npz:logits', '--labels', 'sample.npz:labels', '--top-k', '1,3', '--bins', '10'],
        files: { logits: join(temp, 'sample.npz'), labels: join(temp, 'sample.npz') }, names: { logits: 'logits', labels: 'labels' },
        topK: '1,3', bins: '10',
      },
      {
        name: 'a large file, in chunks', cwd: temp, args: ['--logits', 'large-logits.npy', '--labels', 'large-labels.npy'],
        files: { logits: join(temp, 'large-logits.npy'), labels: join(temp, 'large-labels.npy') }, chunks: 3,
      },
    ];
    for (const c of cases) {
      const seen = [];
      const page = await openPage(context, url, seen);
      try {
        for (const [role, file] of Object.entries(c.files)) await giveFile(page, role, file);
        for (const [role, name] of Object.entries(c.names ?? {})) {
          // A file of several arrays offers them in a select box; the page's own choice must already be the right one.
          const select = await page.evaluate((r) => { const s = document.getElementById(`${r}-name`); return { hidden: s.hidden, value: s.value, options: s.options.length }; }, role);
          if (select.hidden || select.options < 2) seen.push(`${role}: no select box for a file of several arrays`);
          if (select.value !== name) seen.push(`${role}: the page chose ${JSON.stringify(select.value)}, not ${JSON.stringify(name)}`);
          await page.selectOption(`#${role}-name`, name);
        }
        if (c.shift) await page.check('#shift');
        if (c.topK) await page.fill('#top-k', c.topK);
        if (c.bins) await page.fill('#bins', c.bins);
        // The progress bar's values as the page sets them (<progress value> reflects the property).
        await page.evaluate(() => {
          globalThis.progressSeen = [];
          const bar = document.getElementById('progress');
          new MutationObserver(() => globalThis.progressSeen.push(bar.value)).observe(bar, { attributes: true, attributeFilter: ['value'] });
        });
        const got = await scoreInPage(page);
        const progressSeen = await page.evaluate(() => globalThis.progressSeen);
        if (c.chunks !== undefined) {
          const between = new Set(progressSeen.filter((v) => v > 0 && v < 1));
          if (between.size !== c.chunks - 1) seen.push(`the progress bar showed ${JSON.stringify(progressSeen)}: not ${c.chunks - 1} values between 0 and 1`);
          const info = await page.textContent('#build-info');
          if (!info.includes(`${c.chunks} chunks`)) seen.push(`the page says ${JSON.stringify(info)}, not ${c.chunks} chunks`);
        }
        const want = await cli(c.cwd, c.args, temp);
        if (got.state !== 'done') seen.push(`no result: ${got.error}`);
        else {
          const diffs = differences(JSON.parse(got.json), want.json);
          if (diffs.length > 0) seen.push(`the numbers differ from the command line's:\n      ${diffs.slice(0, 10).join('\n      ')}`);
          if (got.srcdoc !== want.html) seen.push(`the report is not the one xentropy score --report writes (${got.srcdoc.length} and ${want.html.length} characters)`);
          if (got.downloaded !== got.srcdoc) seen.push('the download link is not the report shown');
          if (!got.isolated) seen.push('the page is not cross-origin isolated');
          // Cross-origin isolated, it scores with the pool's scorer, to the command line's bits.
          if (!/^pool of \d+$/.test(got.scorer ?? '')) seen.push(`the page scored with ${got.scorer}, not the pool`);
          seen.push(...(await reportProblems(page)));
          console.error(`browser-eval.mjs: ${c.name}: ${Object.keys(want.json).length} fields equal to the command line's (lossNats ${want.json.lossNats}, count ${want.json.count})`);
        }
      } finally {
        await page.close();
      }
      problems.push(...seen.map((p) => `${c.name}: ${p}`));
    }

    // Errors are the library's, shown in the page.
    {
      const seen = [];
      const page = await openPage(context, url, seen);
      try {
        const text = Buffer.from('logits,label\n0.1,0.9,1\n');
        let expected;
        try {
          await openArray(new Uint8Array(text), { label: 'bad.npy' });
          expected = 'no error';
        } catch (e) {
          expected = `${e.name}: ${e.message}`;
        }
        await giveFile(page, 'logits', { name: 'bad.npy', mimeType: 'application/octet-stream', buffer: text });
        const shown = await page.evaluate(() => ({ hidden: document.getElementById('error').hidden, text: document.getElementById('error').textContent, disabled: document.getElementById('score').disabled }));
        if (shown.hidden || shown.text !== expected) seen.push(`a text file named bad.npy: the page shows ${JSON.stringify(shown.hidden ? '(nothing)' : shown.text)}, the library says ${JSON.stringify(expected)}`);
        if (!/NpyFormatError: bad\.npy: not a \.npy file/.test(expected)) seen.push(`unexpected library message ${JSON.stringify(expected)}`);
        if (!shown.disabled) seen.push('Score is enabled without readable logits');
        // An option the library refuses: top-11 of 10 classes.
        await giveFile(page, 'logits', join(DATA, 'sample-logits.npy'));
        await giveFile(page, 'labels', join(DATA, 'sample-labels.npy'));
        await page.fill('#top-k', '1,11');
        const got = await scoreInPage(page);
        if (got.state !== 'error' || !/^RangeError: options\.topK 11 is not below the 10 classes of logits sample-logits\.npy/.test(got.error ?? '')) {
          seen.push(`top-k 11 of 10 classes: ${got.state}, ${JSON.stringify(got.error)}`);
        }
        console.error(`browser-eval.mjs: errors shown: ${JSON.stringify(expected)}; ${JSON.stringify(got.error)}`);
      } finally {
        await page.close();
      }
      problems.push(...seen.map((p) => `errors: ${p}`));
    }

    // Control: a request outside the origin is seen (and refused).
    {
      const seen = [];
      const page = await openPage(context, url, seen);
      await page.evaluate(() => fetch('http://127.0.0.2:9/x').catch(() => {}));
      await page.close();
      if (!seen.some((p) => p.startsWith('request outside') && p.includes('127.0.0.2:9'))) problems.push('control: a request outside the origin went unseen');
      else console.error('browser-eval.mjs: the control request outside the origin was seen');
    }
  } catch (error) {
    problems.push(error.stack ?? String(error));
  } finally {
    await context?.close().catch(() => {});
    server?.close();
    await rm(temp, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    console.error(`browser-eval.mjs: FAILED:\n  ${problems.join('\n  ')}`);
    return 1;
  }
  console.error('browser-eval.mjs: ok');
  return 0;
}

// An explicit exit: nothing left running (a hung page, the server) may keep CI waiting.
process.exit(await main());
