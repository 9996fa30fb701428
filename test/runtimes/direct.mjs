// Runner for the runtimes that import the package directly: Node (20, 22), Deno and Bun. Each resolves
// `xentropy` through the exports map with its own conditions, as an installed package would be.
//   node test/runtimes/direct.mjs
//   test/runtimes/node_modules/.bin/deno run --allow-read --allow-env test/runtimes/direct.mjs
//   test/runtimes/node_modules/.bin/bun test/runtimes/direct.mjs
//   test/runtimes/node_modules/.bin/bun --conditions=worker test/runtimes/direct.mjs worker
// An argument names the variant: it is appended to the runtime's name (bun-worker).
// (run.mjs links node_modules/xentropy to the repository first.)

import * as xentropy from 'xentropy';
import { reportLines, smoke } from './smoke.mjs';

const [base, version] = globalThis.Deno ? ['deno', Deno.version.deno]
  : globalThis.Bun ? ['bun', Bun.version]
  : [`node${process.versions.node.split('.')[0]}`, process.versions.node];
const variant = (globalThis.Deno ? Deno.args : process.argv.slice(2))[0];
const runtime = variant ? `${base}-${variant}` : base;

const result = await smoke(xentropy);
for (const line of reportLines(runtime, version, result)) console.log(line);
// Which file the exports map gave this runtime, for the "how to load" column of docs/runtimes.md.
console.log(`ENTRY ${runtime} ${import.meta.resolve('xentropy').replace(/^.*\/(dist\/)/, '$1')}`);
