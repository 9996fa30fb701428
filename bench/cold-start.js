// Cold start (issue 27): what importing xentropy, its first init() and the command line cost a fresh
// process, as differences from the runtime's own empty start, in Node, Deno, Bun and workerd; Node 22
// and 24 also with Node's compile cache turned on.
//
//   npm run build:ts && npm --prefix test/runtimes install     (Deno, Bun, Node 22 and 24 and miniflare come from there)
//   node bench/cold-start.js                                   writes bench/results/cold-start.md
//   node bench/cold-start.js --runs=40 --against=/tmp/old       also times another build, in the same rounds
//
// Flags: --runs=N rounds (default 30); --only=node,node-22,node-24,cli,deno,bun,workerd a subset (prints only, unless
// --out); --against=DIR a package directory with another build (dist/, bin/, data/, package.json), e.g.
// a clone of an older commit after `npm ci`, and --against-label=TEXT what to call it in the file;
// --out=FILE.md where to write (default bench/results/cold-start.md, full runs only).
//
// Each round starts one fresh process per case, in an order that alternates from round to round, so a
// slow phase of a shared machine falls on every case alike; every figure is the median over the rounds of
// (case - the runtime's empty start in the same round). Two measures per process:
// - wall: from spawning the process to its exit, as the parent sees it;
// - ready: performance.now() (time since the process started) where the script's body has finished
//   (after its imports, after `await init()`), which leaves out the process's exit.
// The empty start is an empty ES module for import and init (importing needs the runtime's module
// loader, which `node -e 0` does not start), and `node -e 0` for the command line, as issue 27 states.
//
// workerd (from test/runtimes) starts each Worker two ways in the same rounds, a fresh workerd process
// each time, against an empty Worker: the binary itself on a configuration file, timed from spawning
// it to the first response's body, and through miniflare (Node 22), from `new Miniflare()` to that
// body. The Worker is bundled as wrangler bundles one (test/runtimes/bundle.mjs), its .wasm as
// CompiledWasm modules, which workerd compiles as it loads the Worker.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, median, medianInterval } from './report.js';

const REPO_URL = new URL('..', import.meta.url);
const REPO = fileURLToPath(REPO_URL);
const RUNTIMES_DIR = join(REPO, 'test', 'runtimes');
const BIN = join(RUNTIMES_DIR, 'node_modules', '.bin');
/** Scratch folder, inside the repository's gitignored tmp/: a consumer project whose node_modules/xentropy is this repository. */
const WORK = join(REPO, 'tmp', 'cold-start');

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, '').split('=');
  return [k, v ?? true];
}));
const RUNS = Number(args.runs ?? 30);
const LOAD_AT_START = os.loadavg();
const AGAINST = args.against ? resolve(String(args.against)) : null;
const ONLY = args.only ? String(args.only).split(',') : null;
const TARGETS = { nodeInitMs: 6, cliMs: 25 };
/** The compatibility date of every Worker timed. */
const WORKERD_DATE = '2025-09-01';

/** The environment of every case but the compile cache's: Node's compile cache off, as it is by default. */
const PLAIN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_COMPILE_CACHE'));
/** Node's compile cache for the cases that turn it on: a folder of its own, emptied first, filled by the untimed rounds. */
const COMPILE_CACHE = join(WORK, 'compile-cache');

/** The trees timed: this repository, and --against. Each is imported by a package name of its own. */
const TREES = [{ name: 'this build', pkg: 'xentropy', dir: REPO }, ...(AGAINST ? [{ name: 'against', pkg: 'xentropy-against', dir: AGAINST }] : [])];

if (args['workerd-child']) {
  process.stdout.write(JSON.stringify(await workerdRuns()));
  process.exit(0);
}

for (const file of ['dist/node.js', 'dist/worker.js', 'bin/xentropy.js']) {
  for (const tree of TREES) if (!existsSync(join(tree.dir, file))) throw new Error(`${join(tree.dir, file)} is missing: build first (npm run build:ts)`);
}
setUpWork();

/** The scratch project: package.json, node_modules links and one script per case. */
function setUpWork() {
  mkdirSync(join(WORK, 'node_modules'), { recursive: true });
  writeFileSync(join(WORK, 'package.json'), '{ "private": true, "type": "module" }\n');
  for (const tree of TREES) {
    const link = join(WORK, 'node_modules', tree.pkg);
    if (lstatSync(link, { throwIfNoEntry: false })) rmSync(link, { recursive: true, force: true });
    symlinkSync(tree.dir, link, 'dir');
  }
  // Prints ready ms, CPU ms (user + system, all threads; not in Deno, where reading `process` starts its
  // Node compatibility layer) and a note.
  const report = (note) => `console.log(performance.now(), globalThis.Deno ? NaN : ((u) => (u.user + u.system) / 1000)(process.cpuUsage()), ${note});\n`;
  writeFileSync(join(WORK, 'empty.mjs'), report("''"));
  // An empty package with an exports map: what resolving and loading any package costs the runtime.
  mkdirSync(join(WORK, 'node_modules', 'empty-package'), { recursive: true });
  writeFileSync(join(WORK, 'node_modules', 'empty-package', 'package.json'), '{ "name": "empty-package", "type": "module", "exports": { ".": { "node": "./index.js", "default": "./index.js" } } }\n');
  writeFileSync(join(WORK, 'node_modules', 'empty-package', 'index.js'), 'export const empty = true;\n');
  writeFileSync(join(WORK, 'empty-package.mjs'), `import { empty } from 'empty-package';\n${report('empty')}`);
  for (const tree of TREES) {
    writeFileSync(join(WORK, `import-${tree.pkg}.mjs`), `import { init } from '${tree.pkg}';\n${report('typeof init')}`);
    writeFileSync(join(WORK, `init-${tree.pkg}.mjs`), `import { init } from '${tree.pkg}';\nconst xe = await init();\n${report('xe.features.build')}`);
  }
}

/** Runs `command args` once; returns wall ms, and the ready ms, CPU ms and note the script printed. */
function runOnce(command, commandArgs, cwd = WORK, env = PLAIN_ENV) {
  const start = performance.now();
  const child = spawnSync(command, commandArgs, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = performance.now() - start;
  if (child.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed (${child.status}): ${child.stderr.trim().slice(0, 2000)}`);
  const [ready, cpu, ...rest] = child.stdout.split('\n')[0].trim().split(/\s+/);
  // The command line prints its report instead.
  if (!ready || !Number.isFinite(Number(ready))) return { wall, ready: NaN, cpu: NaN, note: '' };
  return { wall, ready: Number(ready), cpu: Number(cpu), note: rest.join(' ') };
}

/**
 * Times `cases` (name -> [command, args]) for RUNS rounds after 2 untimed ones; the first case is the
 * baseline. Returns per case: median wall and ready, and the medians of the per-round differences.
 */
function timeCases(label, cases) {
  const names = Object.keys(cases);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -2; round < RUNS; round++) {
    // Rotated and reversed by turns: each case runs first, last, before and after each other.
    const order = names.map((_, i) => names[(i + round + names.length * 2) % names.length]);
    if (round % 2) order.reverse();
    const times = {};
    for (const name of order) times[name] = runOnce(...cases[name]);
    if (round >= 0) for (const name of names) samples[name].push(times[name]);
    process.stderr.write(`\r${label}: round ${round + 1}/${RUNS}   `);
  }
  process.stderr.write('\n');
  const base = samples[names[0]];
  return Object.fromEntries(names.map((name) => {
    const s = samples[name];
    return [name, {
      wall: median(s.map((x) => x.wall)),
      ready: median(s.map((x) => x.ready)),
      wallDiff: median(s.map((x, i) => x.wall - base[i].wall)),
      wallDiffInterval: medianInterval(s.map((x, i) => x.wall - base[i].wall)),
      readyDiff: median(s.map((x, i) => x.ready - base[i].ready)),
      cpu: median(s.map((x) => x.cpu)),
      cpuDiff: median(s.map((x, i) => x.cpu - base[i].cpu)),
      note: s[0].note,
    }];
  }));
}

/** The import and init cases of one runtime: [command, args before the script]. */
function moduleCases(command, before = [], env = PLAIN_ENV) {
  const cases = {
    'empty ES module': [command, [...before, 'empty.mjs'], WORK, env],
    'import of an empty package': [command, [...before, 'empty-package.mjs'], WORK, env],
  };
  for (const tree of TREES) {
    const suffix = TREES.length > 1 ? ` (${tree.name})` : '';
    cases[`import${suffix}`] = [command, [...before, `import-${tree.pkg}.mjs`], WORK, env];
    cases[`import + init()${suffix}`] = [command, [...before, `init-${tree.pkg}.mjs`], WORK, env];
  }
  return cases;
}

/**
 * workerd, in this process (Node 22): RUNS rounds of an empty Worker and each case, each Worker started
 * two ways in the same rounds. Through miniflare, as `wrangler dev` does: miniflare serializes the
 * Worker's modules into workerd's configuration in this process, at a cost per byte of module that is
 * part of its figure. And workerd itself, as a deployed Worker starts: the workerd binary given a
 * configuration file that embeds the same modules, timed from spawning it to the first response's body.
 */
async function workerdRuns() {
  const require = createRequire(join(RUNTIMES_DIR, 'package.json'));
  const { Miniflare } = await import(require.resolve('miniflare'));
  const { bundle } = await import(new URL('../test/runtimes/bundle.mjs', import.meta.url).href);
  const workers = { 'empty Worker': { modules: [{ type: 'ESModule', path: 'worker.mjs', contents: "export default { fetch() { return new Response('ok'); } };\n" }] } };
  /** How many .wasm modules each tree's Worker uploads, and the bytes of its JavaScript. */
  const wasmCounts = {};
  const jsBytes = {};
  for (const tree of TREES) {
    const suffix = TREES.length > 1 ? ` (${tree.name})` : '';
    const sources = {
      [`import${suffix}`]: `import { init } from '${tree.pkg}';\nexport default { fetch() { return new Response(typeof init); } };\n`,
      [`import + init()${suffix}`]: `import { init } from '${tree.pkg}';\nexport default { async fetch() { const xe = await init(); return new Response(xe.features.build); } };\n`,
    };
    for (const [name, source] of Object.entries(sources)) {
      const file = join(WORK, `worker-${tree.pkg}-${Object.keys(sources).indexOf(name)}.mjs`);
      writeFileSync(file, source);
      const { code, wasm } = await bundle(file, { conditions: ['workerd', 'worker', 'browser'], format: 'esm', wasmImport: () => null });
      wasmCounts[tree.name] = wasm.length;
      jsBytes[name] = Buffer.byteLength(code);
      workers[name] = {
        modules: [
          { type: 'ESModule', path: 'worker.mjs', contents: code },
          ...wasm.map((w) => ({ type: 'CompiledWasm', path: `${w.name}.wasm`, contents: w.bytes })),
        ],
      };
    }
  }
  const names = Object.keys(workers);
  const configs = Object.fromEntries(names.map((name, i) => [name, writeWorkerdConfig(join(WORK, 'workerd', String(i)), workers[name].modules)]));
  const workerdBin = require.resolve('workerd/bin/workerd');
  const ways = {
    miniflare: async (name) => {
      const start = performance.now();
      const mf = new Miniflare({ compatibilityDate: WORKERD_DATE, modules: workers[name].modules });
      const response = await mf.dispatchFetch('http://localhost/');
      const body = await response.text();
      const ms = performance.now() - start;
      await mf.dispose();
      return { ms, status: response.status, body };
    },
    workerd: (name) => workerdFirstResponse(workerdBin, configs[name]),
  };
  const samples = Object.fromEntries(Object.keys(ways).map((way) => [way, Object.fromEntries(names.map((n) => [n, []]))]));
  const runs = Object.keys(ways).flatMap((way) => names.map((name) => [way, name]));
  let note = {};
  for (let round = -2; round < RUNS; round++) {
    const order = runs.map((_, i) => runs[(i + round + runs.length * 2) % runs.length]);
    if (round % 2) order.reverse();
    const times = { miniflare: {}, workerd: {} };
    for (const [way, name] of order) {
      const { ms, status, body } = await ways[way](name);
      if (status !== 200) throw new Error(`${name} (${way}): the Worker answered ${status}: ${body}`);
      times[way][name] = ms;
      note = { ...note, [name]: body };
    }
    if (round >= 0) for (const [way, name] of runs) samples[way][name].push(times[way][name]);
    process.stderr.write(`\rworkerd: round ${round + 1}/${RUNS}   `);
  }
  process.stderr.write('\n');
  const result = Object.fromEntries(Object.keys(ways).map((way) => {
    const base = samples[way][names[0]];
    return [way, Object.fromEntries(names.map((name) => [name, {
      wall: median(samples[way][name]),
      wallDiff: median(samples[way][name].map((x, i) => x - base[i])),
      wallDiffInterval: medianInterval(samples[way][name].map((x, i) => x - base[i])),
      note: note[name],
    }]))];
  }));
  return { result, wasmCounts, jsBytes, workerd: require('workerd/package.json').version, miniflare: require('miniflare/package.json').version };
}

/** Writes a workerd configuration serving `modules` (miniflare's module list) on a free port; returns its path. */
function writeWorkerdConfig(dir, modules) {
  mkdirSync(dir, { recursive: true });
  const entries = modules.map((m) => {
    writeFileSync(join(dir, m.path), m.contents);
    return `(name = ${JSON.stringify(m.path)}, ${m.type === 'ESModule' ? 'esModule' : 'wasm'} = embed ${JSON.stringify(m.path)})`;
  });
  const config = join(dir, 'config.capnp');
  writeFileSync(config, `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [${entries.join(', ')}],
  compatibilityDate = "${WORKERD_DATE}",
);
`);
  return config;
}

/**
 * Starts workerd on `config` and fetches / once it listens (its control descriptor reports the port);
 * returns the ms from spawning it to the response's body, then kills it.
 */
function workerdFirstResponse(workerdBin, config) {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const child = spawn(workerdBin, ['serve', config, '--control-fd=3'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let control = '';
    let answered = false;
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdio[3].on('data', (d) => {
      control += d;
      if (answered || !control.includes('\n')) return;
      answered = true;
      const { port } = JSON.parse(control.split('\n')[0]);
      fetch(`http://127.0.0.1:${port}/`).then(async (response) => {
        const body = await response.text();
        const ms = performance.now() - start;
        child.once('exit', () => resolvePromise({ ms, status: response.status, body }));
        child.kill('SIGKILL');
      }, (error) => { child.kill('SIGKILL'); reject(error); });
    });
    child.on('error', reject);
    child.on('exit', (code) => { if (!answered) reject(new Error(`workerd exited (${code}) before it listened: ${stderr.slice(0, 2000)}`)); });
  });
}

/** A runtime's version, from its --version output. */
function versionOf(command, versionArgs = ['--version']) {
  const r = spawnSync(command, versionArgs, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0].trim() : 'unknown';
}

const want = (name) => !ONLY || ONLY.includes(name);
const sections = [];
const targets = [];
const fmt = (x) => (x === undefined || Number.isNaN(x) ? '-' : Number.isFinite(x) ? x.toFixed(1) : x > 0 ? '∞' : '−∞');
/** A case's median difference from its baseline, with the 95 % confidence interval of that median (report.js). */
const withInterval = (c) => `${fmt(c.wallDiff)} ms (95 % interval ${c.wallDiffInterval.map(fmt).join(' to ')})`;
/**
 * Whether a case meets a target, as far as its rounds can tell: met when the interval of its median
 * lies at or under the target, not met when above it, at the line when the interval holds the target.
 */
const verdict = (c, target) => (c.wallDiffInterval[1] <= target ? 'met' : c.wallDiffInterval[0] > target ? 'not met' : 'at the line');

function section(title, version, results) {
  const entries = Object.entries(results);
  // The measures this runtime has: wall always; ready and CPU where the process reported them.
  const measures = [['wall', 'wall'], ['ready', 'ready'], ['cpu', 'CPU']].filter(([k]) => entries.some(([, r]) => Number.isFinite(r[k])));
  const head = measures.flatMap(([, label]) => [`${label} ms`, `${label} − baseline`]);
  const rows = entries.map(([name, r], i) => `| ${name}${i === 0 ? ' (baseline)' : ''} | ${measures.flatMap(([k]) => [fmt(r[k]), i === 0 ? '' : k === 'wall' ? `**${fmt(r[`${k}Diff`])}**` : fmt(r[`${k}Diff`])]).join(' | ')} |`);
  sections.push([
    `### ${title}`, '', `${version}`, '',
    `| case | ${head.join(' | ')} |`, `|---|${head.map(() => '---|').join('')}`,
    ...rows, '',
  ].join('\n'));
  console.log(`\n${title} (${version})`);
  for (const [name, r] of entries) {
    console.log(`  ${name.padEnd(30)} ${measures.map(([k, label]) => `${label} ${fmt(r[k]).padStart(6)} (${fmt(r[`${k}Diff`]).padStart(5)})`).join('  ')}${r.note ? `   ${r.note}` : ''}`);
  }
}

const versions = { node: process.versions.node };

if (want('node')) {
  const r = timeCases('node', moduleCases(process.execPath));
  section('Node', `Node ${process.versions.node} (V8 ${process.versions.v8}); build picked by init(): ${r['import + init()' + (TREES.length > 1 ? ' (this build)' : '')].note}`, r);
  const init = r[`import + init()${TREES.length > 1 ? ' (this build)' : ''}`];
  targets.push(`- Node: import + init() ${withInterval(init)} above an empty ES module (target ≤ ${TARGETS.nodeInitMs} ms): `
    + `**${verdict(init, TARGETS.nodeInitMs)}**; `
    + `importing an empty package costs ${fmt(r['import of an empty package'].wallDiff)} ms of it`);
}

// Node 22 and 24 (from test/runtimes), as they start by default and with Node's compile cache
// (NODE_COMPILE_CACHE, Node >= 22.1), which keeps V8's code for every module on disk, as Deno does by
// default: what an app gets that turns it on (docs/runtimes.md, cold starts). Each with a baseline of
// its own, the empty ES module under the same setting.
for (const dir of ['node', 'node24']) {
  const command = join(RUNTIMES_DIR, 'node_modules', dir, 'bin', 'node');
  if (!want(`node-${dir === 'node' ? '22' : '24'}`) || !existsSync(command)) continue;
  const version = versionOf(command).replace(/^v/, '');
  const initName = `import + init()${TREES.length > 1 ? ' (this build)' : ''}`;
  const plain = timeCases(`node ${version}`, moduleCases(command));
  section(`Node ${version}`, `as it starts by default; build picked by init(): ${plain[initName].note}`, plain);
  rmSync(COMPILE_CACHE, { recursive: true, force: true });
  const cached = timeCases(`node ${version}, compile cache`, moduleCases(command, [], { ...PLAIN_ENV, NODE_COMPILE_CACHE: COMPILE_CACHE }));
  section(`Node ${version} with its compile cache`, `NODE_COMPILE_CACHE set for every case, the baseline included (the untimed rounds fill the cache); build picked by init(): ${cached[initName].note}`, cached);
  targets.push(`- Node ${version}: import + init() ${withInterval(plain[initName])} above an empty ES module (target ≤ ${TARGETS.nodeInitMs} ms): `
    + `**${verdict(plain[initName], TARGETS.nodeInitMs)}**; ${withInterval(cached[initName])} with Node's compile cache: ${verdict(cached[initName], TARGETS.nodeInitMs)} with it`);
}

if (want('cli')) {
  const cases = { 'node -e 0': [process.execPath, ['-e', '0'], REPO] };
  for (const tree of TREES) {
    const suffix = TREES.length > 1 ? ` (${tree.name})` : '';
    cases[`xentropy score${suffix}`] = [process.execPath, [join(tree.dir, 'bin', 'xentropy.js'), 'score'], tree.dir];
  }
  const r = timeCases('cli', cases);
  section('The command line', `\`node bin/xentropy.js score\` on the sample in the repository (data/, 2000 rows of 10 classes), Node ${process.versions.node}`, r);
  const cli = r[`xentropy score${TREES.length > 1 ? ' (this build)' : ''}`];
  targets.push(`- The command line: \`xentropy score\` on the sample ${withInterval(cli)} above \`node -e 0\` (target ≤ ${TARGETS.cliMs} ms): **${verdict(cli, TARGETS.cliMs)}**`);
}

for (const [name, command, before] of [['deno', join(BIN, 'deno'), ['run', '--allow-read']], ['bun', join(BIN, 'bun'), []]]) {
  if (!want(name)) continue;
  if (!existsSync(command)) {
    sections.push(`### ${name}\n\nNot installed: \`npm --prefix test/runtimes install\`.\n`);
    continue;
  }
  versions[name] = versionOf(command);
  const r = timeCases(name, moduleCases(command, before));
  const initName = `import + init()${TREES.length > 1 ? ' (this build)' : ''}`;
  section(name === 'deno' ? 'Deno' : 'Bun', `${versions[name]}; build picked by init(): ${r[initName].note}`, r);
  targets.push(`- ${name === 'deno' ? 'Deno' : 'Bun'}: import + init() ${withInterval(r[initName])} above an empty ES module`);
}

if (want('workerd')) {
  // Node 22 by its package's folder: .bin/node is whichever Node npm linked last (test/runtimes/run.mjs).
  const node22 = join(RUNTIMES_DIR, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(node22)) {
    sections.push('### workerd\n\nNot installed: `npm --prefix test/runtimes install`.\n');
  } else {
    const child = spawnSync(node22, [fileURLToPath(import.meta.url), '--workerd-child', `--runs=${RUNS}`, ...(AGAINST ? [`--against=${AGAINST}`] : [])], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26,
    });
    if (child.status !== 0) throw new Error(`the workerd runs failed (${child.status})`);
    const { result, wasmCounts, jsBytes, workerd, miniflare } = JSON.parse(child.stdout);
    const initName = `import + init()${TREES.length > 1 ? ' (this build)' : ''}`;
    // JSON writes an unbounded interval (too few rounds) as nulls.
    for (const way of Object.values(result)) for (const c of Object.values(way)) c.wallDiffInterval = c.wallDiffInterval.map((x, i) => x ?? (i ? Infinity : -Infinity));
    const uploaded = Object.entries(wasmCounts).map(([tree, n]) => `${n}${TREES.length > 1 ? ` (${tree})` : ''}`).join(', ');
    const bundled = `the xentropy Workers bundled with the workerd condition (${(jsBytes[initName] / 1000).toFixed(1)} kB of JavaScript for import + init()), their .wasm builds as CompiledWasm modules (${uploaded}), which workerd compiles as it loads the Worker; build picked by init(): ${result.workerd[initName].note}`;
    versions.workerd = `${workerd} (miniflare ${miniflare}, Node ${versionOf(node22)})`;
    section('workerd', `workerd ${workerd}, the binary started directly on a configuration file that embeds the Worker's modules, as a deployed Worker starts: from spawning it to the first response's body, a fresh process each time; ${bundled}`, result.workerd);
    section('workerd through miniflare', `miniflare ${miniflare} (Node ${versionOf(node22)}), as \`wrangler dev\` starts a Worker: from \`new Miniflare()\` to the first response's body, in the same rounds. Miniflare serializes each module into workerd's configuration in its own process, at a cost per byte that the difference includes.`, result.miniflare);
    targets.push(`- workerd: import + init() ${withInterval(result.workerd[initName])} above an empty Worker (first response); through miniflare ${withInterval(result.miniflare[initName])}`);
  }
}

console.log(`\n${targets.join('\n')}`);

const machine = machineInfo(REPO_URL);
const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
const note = process.env.BENCH_NOTE ? `\n\nNote: ${process.env.BENCH_NOTE}` : '';
const document = `# Cold start, ${machine.date}

Generated by \`node bench/cold-start.js${RUNS !== 30 ? ` --runs=${RUNS}` : ''}${AGAINST ? ' --against=DIR' : ''}\` (do not edit by hand; see bench/README.md).
Machine: ${machine.cpu}, ${machine.cores} logical cores, ${machine.memory}, ${machine.os}; commit ${machine.commit}${AGAINST ? `; against: ${args['against-label'] ?? AGAINST}` : ''}.
Load average (1, 5, 15 min) at the start: ${load(LOAD_AT_START)}; at the end: ${load(os.loadavg())}.${note}

Fresh processes, ${RUNS} rounds, every case once per round in alternating order. **wall**: spawn to exit as
the parent sees it; **ready**: \`performance.now()\` once the script has imported xentropy (and awaited
\`init()\`), i.e. time since the process started, without its exit. Differences are medians over the rounds
of (case − the baseline of the same round); the baseline is the runtime's empty start: an empty ES module
(importing needs the module loader), and \`node -e 0\` for the command line. The scripts import
\`xentropy\` by name from a project whose node_modules/xentropy is the repository, so each runtime takes its
own exports condition (Node and Bun: dist/node.js; Deno: dist/index.js).

## Targets (issue 27)

${targets.join('\n')}

## Results

${sections.join('\n')}`;

if (!ONLY || args.out) {
  const out = args.out && args.out !== true ? resolve(String(args.out)) : join(REPO, 'bench', 'results', 'cold-start.md');
  writeFileSync(out, document);
  console.log(`\nwrote ${out}`);
}
