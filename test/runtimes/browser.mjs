#!/usr/bin/env node
// The Chromium rows of the runtime matrix (issue #6), run by Node 20:
//   page A  the package unbundled, through an import map resolved with the `browser` condition;
//   page P  the worker pool (browser/pool.mjs), unbundled as page A, on a cross-origin isolated page
//           (COOP + COEP): two module Web Workers over shared memory must give one thread's bits;
// both under `Content-Security-Policy: script-src 'self' 'wasm-unsafe-eval'` (plus, on page A, the
// hash of its inline import map: Chromium has no external import maps), from a server on 127.0.0.1
// that refuses to be left. A control page without 'wasm-unsafe-eval' must fail to compile wasm and
// report the violation, which proves the header is in force and that violations are seen.
// Prints `HASH chromium <version> <hex>` (with the AUTO and ENTRY lines run.mjs reads; the bundled
// pages are bundlers.mjs's); exits 1 on any failure. Environment: CHROMIUM (default /usr/bin/chromium).

import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('./', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TIMEOUT_MS = 60_000;
const CSP = "script-src 'self' 'wasm-unsafe-eval'";
// Root in a container needs --no-sandbox, a machine without a GPU --disable-gpu; without the last two
// Chromium reaches for the network (component updates, field trials) and can stall.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
];
/** The headers that make a page cross-origin isolated, which shared WebAssembly memory needs. */
const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

/** Rejects after TIMEOUT_MS with a message naming the step, unless `promise` settles first. */
function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS / 1000} s: ${what}`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Picks an `exports` target as a resolver with `conditions` (plus 'default') would, in key order. */
function resolveTarget(target, conditions) {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const item of target) {
      const found = resolveTarget(item, conditions);
      if (found !== undefined) return found;
    }
  } else if (target !== null && typeof target === 'object') {
    for (const [key, value] of Object.entries(target)) {
      if (key !== 'default' && !conditions.includes(key)) continue;
      const found = resolveTarget(value, conditions);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The root entry of a package directory for a browser: exports['.'] under browser/import, else module/main. */
function browserEntry(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const { exports } = pkg;
  const root = typeof exports === 'object' && exports !== null && !Array.isArray(exports)
    && Object.keys(exports).some((k) => k.startsWith('.')) ? exports['.'] : exports;
  const entry = root === undefined ? pkg.module ?? pkg.main ?? 'index.js' : resolveTarget(root, ['browser', 'import']);
  if (entry === undefined) throw new Error(`${dir}/package.json exports nothing for the browser`);
  return { pkg, root, entry: entry.replace(/^\.\//, '') };
}

/** True when an exports target has a `browser` condition somewhere. */
function hasBrowserCondition(target) {
  if (target === null || typeof target !== 'object') return false;
  return Object.entries(target).some(([key, value]) => key === 'browser' || hasBrowserCondition(value));
}

/**
 * The import map a page needs to load the package unbundled: the package and each of its runtime
 * dependencies, mapped to the files the server mounts. Also returns the mounts.
 */
function packageImportMap() {
  const own = browserEntry(ROOT);
  if (!hasBrowserCondition(own.root)) throw new Error('package.json exports["."] has no "browser" condition');
  const imports = { [own.pkg.name]: `/${own.entry}` };
  const mounts = [];
  for (const name of Object.keys(own.pkg.dependencies ?? {})) {
    const dir = join(ROOT, 'node_modules', name);
    imports[name] = `/node_modules/${name}/${browserEntry(dir).entry}`;
    mounts.push([`/node_modules/${name}/`, dir]);
  }
  return { entry: own.entry, importMap: JSON.stringify({ imports }, null, 2), mounts };
}

/** An HTML page that runs one module script; `head` is inserted before it. */
function htmlPage(title, script, head = '') {
  // The data: icon stops Chromium's /favicon.ico request (a 404 would count as a failure).
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<link rel="icon" href="data:,">
${head}<script type="module" src="${script}"></script>
</head>
<body></body>
</html>
`;
}

/**
 * Serves generated pages (each with its own CSP) and mounted files on 127.0.0.1 at a random port.
 * Mounts are [url prefix, directory]; nothing outside them is reachable.
 */
async function startServer(pages, mounts) {
  const server = http.createServer(async (req, res) => {
    const send = (status, type, body, extra = {}) => {
      res.writeHead(status, {
        'Content-Type': type,
        'Cache-Control': 'no-store',
        // Scripts and wasm then load only with the right type, as on a strict production host.
        'X-Content-Type-Options': 'nosniff',
        ...extra,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');
      const path = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
      const page = pages.get(path);
      if (page) return send(200, TYPES['.html'], page.body, { 'Content-Security-Policy': page.csp, ...page.headers });
      for (const [prefix, dir] of mounts) {
        if (!path.startsWith(prefix)) continue;
        const file = resolve(dir, `.${path.slice(prefix.length - 1)}`);
        const rel = relative(dir, file);
        if (rel.startsWith('..') || rel.split(sep).includes('node_modules')) break;
        const info = await stat(file).catch(() => undefined);
        if (!info?.isFile()) break;
        res.writeHead(200, {
          'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
          'Content-Length': info.size,
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
          // A cross-origin isolated page (page P) loads its worker scripts under COEP too.
          ...ISOLATED,
        });
        if (req.method === 'HEAD') return res.end();
        return createReadStream(file).pipe(res);
      }
      send(404, 'text/plain', `not found: ${path}`);
    } catch (error) {
      send(500, 'text/plain', String(error));
    }
  });
  await new Promise((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  return server;
}

/**
 * Opens `path` in a new page, waits for the promise the page leaves on globalThis[name] and returns
 * its value. Any console error, uncaught error, failed or non-2xx request fails the page at once,
 * unless `tolerateErrors`; the CSP violations the page saw are returned.
 */
async function runPage(context, origin, path, name, { tolerateErrors = false } = {}) {
  const page = await context.newPage();
  const requests = [];
  let fail;
  const failed = new Promise((_, reject) => { fail = (message) => reject(new Error(`${path}: ${message}`)); });
  failed.catch(() => {});
  page.on('request', (request) => requests.push(request.url()));
  page.on('requestfailed', (request) => fail(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => {
    if (response.status() >= 400) fail(`HTTP ${response.status()} for ${response.url()}`);
  });
  if (!tolerateErrors) {
    page.on('console', (message) => { if (message.type() === 'error') fail(`console error: ${message.text()}`); });
    page.on('pageerror', (error) => fail(`uncaught: ${error.message}`));
  }
  try {
    const work = (async () => {
      await page.goto(origin + path);
      await page.waitForFunction((key) => key in globalThis, name, { polling: 50, timeout: 0 });
      const value = await page.evaluate((key) => globalThis[key], name);
      const violations = await page.evaluate(() => globalThis.cspViolations);
      return { value, violations, requests };
    })();
    return await withTimeout(Promise.race([work, failed]), `${path} did not finish`);
  } finally {
    await page.close();
  }
}

async function main() {
  const started = performance.now();
  const temp = await mkdtemp(join(tmpdir(), 'xentropy-browser-'));
  const problems = [];
  let server, context;
  try {
    const { entry, importMap, mounts } = packageImportMap();
    // Chromium has no external import maps (<script type="importmap" src> is ignored), so page A's is
    // inline, and an inline script under script-src 'self' needs its hash.
    const importMapHash = createHash('sha256').update(importMap).digest('base64');
    const pages = new Map([
      ['/test/runtimes/browser/a.html', {
        csp: `${CSP} 'sha256-${importMapHash}'`,
        body: htmlPage('xentropy, unbundled', 'app.mjs', `<script type="importmap">${importMap}</script>\n`),
      }],
      ['/test/runtimes/browser/control.html', { csp: "script-src 'self'", body: htmlPage('CSP control', 'control.mjs') }],
      ['/test/runtimes/browser/pool.html', {
        csp: `${CSP} 'sha256-${importMapHash}'`, headers: ISOLATED,
        body: htmlPage('xentropy pool, unbundled', 'pool.mjs', `<script type="importmap">${importMap}</script>\n`),
      }],
    ]);
    server = await startServer(pages, [
      ['/dist/', join(ROOT, 'dist')],
      ['/test/runtimes/', HERE],
      ...mounts,
    ]);
    const origin = `http://127.0.0.1:${server.address().port}`;

    context = await withTimeout(chromium.launchPersistentContext(join(temp, 'profile'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: TIMEOUT_MS,
    }), `launching ${CHROMIUM}`);
    const offsite = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`)) return route.continue();
      offsite.push(url);
      return route.abort('blockedbyclient');
    });
    // Injected by the DevTools protocol, so the page's CSP does not apply to it.
    await context.addInitScript(() => {
      globalThis.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) => {
        globalThis.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
      });
    });
    const version = context.browser()?.version();
    if (!version) throw new Error('Chromium did not report its version');
    console.log(`chromium ${version} (${CHROMIUM})`);

    const [control, a, pool] = await Promise.allSettled([
      runPage(context, origin, '/test/runtimes/browser/control.html', 'cspControl', { tolerateErrors: true }),
      runPage(context, origin, '/test/runtimes/browser/a.html', 'xentropySmoke'),
      runPage(context, origin, '/test/runtimes/browser/pool.html', 'xentropyPool'),
    ]);
    if (pool.status === 'rejected') problems.push(`page P (pool): ${pool.reason.message}`);
    else if (!pool.value.value?.ok || pool.value.violations.length > 0) {
      problems.push(`page P (pool): ${pool.value.value?.problem || 'no result'}${pool.value.violations.length > 0 ? `; CSP violations: ${pool.value.violations.join('; ')}` : ''}`);
    } else {
      const { threads, features } = pool.value.value;
      console.error(`chromium pool: ${threads} module workers (build ${features.build}), bits identical to one thread`);
    }

    if (control.status === 'rejected') problems.push(`CSP control: ${control.reason.message}`);
    else if (!control.value.value.startsWith('CompileError') || control.value.violations.length === 0) {
      problems.push('CSP control: without \'wasm-unsafe-eval\' wasm compiled, or no violation was seen '
        + `(${control.value.value}; violations: ${control.value.violations.join('; ') || 'none'})`);
    }
    for (const [runtime, label, outcome] of [['chromium', 'page A (unbundled)', a]]) {
      if (outcome.status === 'rejected') {
        problems.push(`${label}: ${outcome.reason.message}`);
        continue;
      }
      const { value, violations, requests } = outcome.value;
      const own = [];
      if (violations.length > 0) own.push(`CSP violations: ${violations.join('; ')}`);
      if (!/^[0-9a-f]{64}$/.test(value?.hash)) own.push(`smoke returned no SHA-256 hex: ${JSON.stringify(value)}`);
      console.error(`${runtime}: build ${value?.build}, auto ${value?.autoBuild} (max auto diff ${value?.autoMaxDiff} `
        + `of tolerance), ${requests.length} requests`);
      if (own.length > 0) problems.push(...own.map((problem) => `${label}: ${problem}`));
      else {
        console.log(`HASH ${runtime} ${version} ${value.hash}`);
        console.log(`AUTO ${runtime} ${value.autoBuild}`);
        console.log(`ENTRY ${runtime} ${entry} (import map)`);
      }
    }
    if (offsite.length > 0) problems.push(`requests left 127.0.0.1 (blocked): ${offsite.join(', ')}`);
  } catch (error) {
    problems.push(error.message);
  } finally {
    await context?.close().catch(() => {});
    server?.closeAllConnections();
    server?.close();
    await rm(temp, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (problems.length > 0) {
    console.error(`browser.mjs: FAILED in ${seconds} s:\n  ${problems.join('\n  ')}`);
    return 1;
  }
  console.error(`browser.mjs: ok in ${seconds} s`);
  return 0;
}

// An explicit exit: nothing left running (a hung page, a socket) may keep CI waiting.
process.exit(await main());
