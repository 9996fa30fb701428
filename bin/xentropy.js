#!/usr/bin/env node
// The `xentropy` command; all logic lives in dist/cli/cli.cjs (built from src/cli/cli.ts by `npm run build`).
// CommonJS (bin/package.json), as is that bundle: a run that loads no ES module never starts Node's ES
// module loader, a few ms of every run.
'use strict';

// Node ≥ 22.1 keeps V8's code for the command line in a cache on disk (as npm and tsc do), so a run
// after the first does not compile it again; NODE_DISABLE_COMPILE_CACHE=1 turns it off. Turned on
// before the bundle is required, so that the cache covers it.
// (Not looked for before Node 22: loading node:module is time of its own.)
if (Number(process.versions.node.split('.')[0]) >= 22) require('node:module').enableCompileCache?.();

// exitCode rather than process.exit(), so buffered output is flushed when piped.
require('../dist/cli/cli.cjs').main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
