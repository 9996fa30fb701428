#!/usr/bin/env node
// The bundler rows of the runtime matrix (docs/runtimes.md, "Bundlers"): each recipe of that section,
// read from the file itself (its ```sh recipe=<name> blocks, run in bash, and ```js recipe=<name>
// file=<path> blocks, written to <path>), is run as written in a fresh project, .bundled/<name>/, whose
// src/index.js imports the browser app (browser/app.mjs: the smoke suite) and the pool check
// (browser/pool.mjs), or for `node` the Node app (node-bundle-app.mjs). `npx <tool>` runs this folder's
// node_modules/.bin/<tool>; `xentropy` resolves to the repository (a node_modules link).
// Each browser bundle's dist/ is served at the root of its own origin on 127.0.0.1 as a cross-origin isolated page under
// `script-src 'self' 'wasm-unsafe-eval'` and loaded in Chromium; it must run init() and the pool, reach
// nothing outside its own dist/, and dist/ must hold only .js, .wasm and .html files (no README,
// no package.json). Prints `HASH chromium-<bundler> <version> <hex>` per bundler and the Node bundle's
// own lines; exits 1 on any failure. Environment: CHROMIUM (default /usr/bin/chromium).

import { execFile } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('./', import.meta.url));
const WORK = join(HERE, '.bundled');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TIMEOUT_MS = 120_000;
const CSP = "script-src 'self' 'wasm-unsafe-eval'";
const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
/** The browser bundlers and the file of dist/ that a page loads (Vite writes its own index.html). */
const BROWSER = { vite: null, webpack: 'main.js', rollup: 'index.js', esbuild: 'index.js' };

/** The recipes of docs/runtimes.md: name -> { files: [[path, text]], commands: [line] }. */
function recipes() {
  const text = readFileSync(join(ROOT, 'docs', 'runtimes.md'), 'utf8');
  const found = new Map();
  for (const [, info, body] of text.matchAll(/^```(.*)\n([\s\S]*?)^```$/gm)) {
    const words = info.trim().split(/\s+/);
    const name = words.find((w) => w.startsWith('recipe='))?.slice('recipe='.length);
    if (!name) continue;
    const recipe = found.get(name) ?? { files: [], commands: [] };
    const file = words.find((w) => w.startsWith('file='))?.slice('file='.length);
    if (file) recipe.files.push([file, body]);
    else if (words[0] === 'sh') recipe.commands.push(...body.split('\n').filter((l) => l.trim()));
    else throw new Error(`docs/runtimes.md: a recipe=${name} block is neither \`sh\` nor has file=`);
    found.set(name, recipe);
  }
  for (const name of [...Object.keys(BROWSER), 'node']) {
    if (!found.get(name)?.commands.length) throw new Error(`docs/runtimes.md has no \`sh recipe=${name}\` block`);
  }
  return found;
}

/** Runs one shell line in `cwd` (npx <tool> is this folder's bin); resolves with stdout, rejects with the output. */
function sh(line, cwd) {
  const command = line.replace(/^npx /, '');
  return new Promise((ok, fail) => {
    execFile('bash', ['-eo', 'pipefail', '-c', command], {
      cwd, timeout: TIMEOUT_MS, maxBuffer: 16 << 20,
      // Node 22 (the npm package `node`) first: .bin/node is whichever Node npm linked last (run.mjs).
      env: { ...process.env, PATH: `${join(HERE, 'node_modules', 'node', 'bin')}:${join(HERE, 'node_modules', '.bin')}:${process.env.PATH}`, NO_COLOR: '1' },
    }, (error, stdout, stderr) => (error ? fail(new Error(`\`${line}\` failed: ${error.message}\n${stdout}${stderr}`.trim())) : ok(stdout)));
  });
}

/** Every file under dir, relative to it. */
async function files(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath ?? entry.path, entry.name)));
  }
  return out.sort();
}

/** Builds one recipe in a fresh project; returns its dir and the output's files. */
async function build(name, recipe) {
  const dir = join(WORK, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'src'), { recursive: true });
  await mkdir(join(dir, 'node_modules'));
  await symlink(ROOT, join(dir, 'node_modules', 'xentropy'), 'dir');
  // The app's modules are copied into src/, so that 'xentropy' resolves as in an app, from its node_modules.
  const imports = name === 'node' ? ['node-bundle-app.mjs'] : ['browser/app.mjs', 'browser/pool.mjs'];
  await mkdir(join(dir, 'src', 'browser'));
  for (const f of [...imports, 'smoke.mjs']) await copyFile(join(HERE, f), join(dir, 'src', f));
  await writeFile(join(dir, 'src', 'index.js'), imports.map((f) => `import './${f}';\n`).join(''));
  await writeFile(join(dir, 'index.html'), '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n'
    + '<script type="module" src="/src/index.js"></script>\n</head>\n<body></body>\n</html>\n');
  for (const [path, text] of recipe.files) await writeFile(join(dir, path), text);
  let stdout = '';
  for (const line of recipe.commands) stdout += await sh(line, dir);
  const output = await files(join(dir, 'dist'));
  const strays = output.filter((f) => !/\.(js|wasm|html)$/.test(f) || /readme|package|license/i.test(f));
  if (strays.length > 0) throw new Error(`${name}: stray files in dist/: ${strays.join(', ')}`);
  return { dir, output, stdout };
}

/** Serves one bundle's dist/ at the root of its own origin (an index.html of its own where the bundler wrote none). */
async function serve(name, built) {
  const server = http.createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    const rest = path.slice(1);
    const headers = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...ISOLATED };
    if (rest === 'index.html' && BROWSER[name]) {
      res.writeHead(200, { ...headers, 'Content-Type': TYPES['.html'], 'Content-Security-Policy': CSP });
      return res.end(`<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">`
        + `<script type="module" src="${BROWSER[name]}"></script></head><body></body></html>\n`);
    }
    const file = resolve(built.dir, 'dist', rest);
    const info = !relative(join(built.dir, 'dist'), file).startsWith('..') ? await stat(file).catch(() => undefined) : undefined;
    if (!info?.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end(`not found: ${path}`);
    }
    res.writeHead(200, {
      ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': info.size,
      ...(extname(file) === '.html' ? { 'Content-Security-Policy': CSP } : {}),
    });
    createReadStream(file).pipe(res);
  });
  await new Promise((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  return server;
}

/** Loads /<name>/index.html; resolves with the smoke result and the pool check, or rejects on any error. */
async function runPage(context, origin) {
  const page = await context.newPage();
  const requests = [];
  let fail;
  const failed = new Promise((_, reject) => { fail = (m) => reject(new Error(m)); });
  failed.catch(() => {});
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => fail(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => { if (r.status() >= 400) fail(`HTTP ${r.status()} for ${r.url()}`); });
  page.on('console', (m) => { if (m.type() === 'error') fail(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => fail(`uncaught: ${e.message}`));
  let timer;
  try {
    const work = (async () => {
      await page.goto(`${origin}/index.html`);
      await page.waitForFunction(() => 'xentropySmoke' in globalThis && 'xentropyPool' in globalThis, null, { polling: 50, timeout: 0 });
      const [smoke, pool] = await page.evaluate(() => Promise.all([globalThis.xentropySmoke, globalThis.xentropyPool]));
      return { smoke, pool, requests };
    })();
    const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timed out')), TIMEOUT_MS); });
    return await Promise.race([work, failed, timeout]);
  } finally {
    clearTimeout(timer);
    await page.close();
  }
}

async function main() {
  const problems = [];
  const all = recipes();
  await rm(WORK, { recursive: true, force: true });
  const builds = new Map();
  // One at a time: the machine may have two cores, and each bundler uses them.
  for (const name of [...Object.keys(BROWSER), 'node']) {
    const started = performance.now();
    try {
      const built = await build(name, all.get(name));
      builds.set(name, built);
      console.error(`${name}: built in ${((performance.now() - started) / 1000).toFixed(1)} s: dist/ ${built.output.join(', ')}`);
      if (name === 'node') process.stdout.write(built.stdout);
    } catch (error) {
      problems.push(`${name}: ${error.message}`);
    }
  }
  let servers = [], context;
  const profile = join(tmpdir(), `xentropy-bundlers-${process.pid}`);
  try {
    const names = Object.keys(BROWSER).filter((n) => builds.has(n));
    servers = await Promise.all(names.map((n) => serve(n, builds.get(n))));
    const origins = servers.map((server) => `http://127.0.0.1:${server.address().port}`);
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: TIMEOUT_MS });
    await context.route('**/*', (route) => (origins.some((origin) => route.request().url().startsWith(`${origin}/`)) ? route.continue() : route.abort('blockedbyclient')));
    const version = context.browser()?.version() ?? 'unknown';
    const outcomes = await Promise.allSettled(origins.map((origin) => runPage(context, origin)));
    for (const [i, name] of names.entries()) {
      const outcome = outcomes[i];
      if (outcome.status === 'rejected') {
        problems.push(`${name} page: ${outcome.reason.message}`);
        continue;
      }
      const { smoke, pool, requests } = outcome.value;
      const own = [];
      if (!/^[0-9a-f]{64}$/.test(smoke?.hash)) own.push(`smoke returned no hash: ${JSON.stringify(smoke)?.slice(0, 200)}`);
      if (!pool?.ok) own.push(`pool: ${pool?.problem ?? 'no result'}`);
      const strays = requests.filter((url) => !url.startsWith(`${origins[i]}/`));
      if (strays.length > 0) own.push(`reached outside its dist/: ${strays.join(', ')}`);
      if (own.length > 0) {
        problems.push(...own.map((p) => `${name} page: ${p}`));
        continue;
      }
      console.error(`chromium-${name}: build ${smoke.build}, auto ${smoke.autoBuild}; pool: ${pool.threads} workers, bits of one thread; ${requests.length} requests`);
      console.log(`HASH chromium-${name} ${version} ${smoke.hash}`);
      console.log(`AUTO chromium-${name} ${smoke.autoBuild}`);
      console.log(`ENTRY chromium-${name} dist/browser.js (bundled by ${name})`);
    }
  } catch (error) {
    problems.push(error.message);
  } finally {
    await context?.close().catch(() => {});
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await rm(profile, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    console.error(`bundlers.mjs: FAILED:\n  ${problems.join('\n  ')}`);
    return 1;
  }
  return 0;
}

process.exit(await main());
