#!/usr/bin/env node
// The `xentropy` command; all logic lives in dist/cli/cli.js (built from src/cli/cli.ts by `npm run build`).

// Node ≥ 22.1 keeps V8's code for the CLI's modules in a cache on disk (as npm and tsc do), so a run
// after the first does not parse them again; NODE_DISABLE_COMPILE_CACHE=1 turns it off. Imported after
// it, dynamically, so that the cache covers them.
process.getBuiltinModule?.('node:module')?.enableCompileCache?.();
const { main } = await import('../dist/cli/cli.js');

// exitCode rather than process.exit(), so buffered stdout is flushed when piped.
process.exitCode = await main(process.argv.slice(2));
