#!/usr/bin/env node
// The `xentropy` command; all logic lives in dist/cli/cli.js (built from src/cli/cli.ts by `npm run build`).
import { main } from '../dist/cli/cli.js';

// exitCode rather than process.exit(), so buffered stdout is flushed when piped.
process.exitCode = await main(process.argv.slice(2));
