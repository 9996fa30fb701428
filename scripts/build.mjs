// The package's build (npm run build, and `prepare`): the four shipped WebAssembly builds and tsc side
// by side, one process per core (scripts/build-wasm.mjs), then scripts/finish-dist.mjs, which needs both.
//
//   node scripts/build.mjs               build dist/
//   node scripts/build.mjs --if-changed  the same, unless dist/ is what this script last built from the
//                                        same sources and tools (`prepare`)
//
// Installing the package from git (or a clone) must stay fast (issue 28; docs/performance.md,
// installing), which takes two things:
// - --if-changed: npm runs `prepare` twice for a git dependency, once in the `npm install` of the
//   clone's own dependencies and once before packing it; the second run would rebuild the same bytes.
//   dist/.build-stamp.json records a hash of every input (the sources, the configuration, these
//   scripts, the compilers' versions) and of every file of dist/; the build is skipped only when both
//   still match.
// - While npm prepares a git dependency (it sets _PACOTE_NO_PREPARE_, its guard against prepare
//   cycles, for exactly that), the WebAssembly is compiled without --converge: the same results bit for
//   bit, a few hundred bytes more per build, much less compile time. Every other build (npm ci, npm run
//   build, npm pack and publish) converges.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIPPED, ascJob, runInLanes } from './build-wasm.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const STAMP = join(dist, '.build-stamp.json');

/** What the build reads: folders (every file under them) and files, from the package root. */
const INPUTS = ['assembly', 'src', 'asconfig.json', 'tsconfig.json', 'tsconfig.build.json', 'package.json',
  'scripts/build.mjs', 'scripts/build-wasm.mjs', 'scripts/finish-dist.mjs'];
/** The tools whose version decides the output. */
const TOOLS = ['assemblyscript', 'binaryen', 'typescript', 'esbuild'];

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--if-changed');
if (unknown.length > 0) {
  console.error(`build: unknown argument ${JSON.stringify(unknown[0])}; usage: node scripts/build.mjs [--if-changed]`);
  process.exit(2);
}

/** Every file under path (or path itself), sorted, as paths from the package root. */
function files(path) {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).sort().flatMap((name) => files(join(path, name)));
}

/** SHA-256 over the named files' paths and contents. */
function digest(paths) {
  const hash = createHash('sha256');
  for (const path of paths) hash.update(`${path.split(sep).join('/')}\0`).update(readFileSync(join(root, path))).update('\0');
  return hash.digest('hex');
}

function inputsDigest() {
  const versions = TOOLS.map((tool) => `${tool}@${JSON.parse(readFileSync(join(root, 'node_modules', tool, 'package.json'), 'utf8')).version}`);
  return `${versions.join(' ')} ${digest(INPUTS.flatMap(files))}`;
}

function outputsDigest() {
  return digest(files('dist').filter((f) => join(root, f) !== STAMP));
}

const inputs = inputsDigest();
if (args.includes('--if-changed') && existsSync(STAMP)) {
  const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  if (stamp.inputs === inputs && stamp.outputs === outputsDigest()) {
    console.log('build: dist/ is up to date (dist/.build-stamp.json); nothing to do');
    process.exit(0);
  }
}

const started = performance.now();
const tsc = { name: 'tsc', args: [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'] };
// tsc after the two longest compiles: it finishes beside the last ones.
const converge = !(args.includes('--if-changed') && process.env._PACOTE_NO_PREPARE_);
const jobs = SHIPPED.map((target) => ascJob(target, { converge }));
jobs.splice(2, 0, tsc);
if (!(await runInLanes(jobs))) process.exit(1);
if (!(await runInLanes([{ name: 'finish-dist', args: [join(root, 'scripts', 'finish-dist.mjs')] }]))) process.exit(1);
writeFileSync(STAMP, `${JSON.stringify({ inputs, outputs: outputsDigest() }, null, 2)}\n`);
console.log(`build: dist/ built in ${((performance.now() - started) / 1000).toFixed(1)} s${converge ? '' : ' (a git dependency: no --converge)'} (${relative(root, STAMP)} written)`);
