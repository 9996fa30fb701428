#!/usr/bin/env node
// The `xentropy` command; all logic lives in dist/cli.js (built from src/cli.ts by `npm run build`).
import { main } from '../dist/cli.js';

// exitCode rather than process.exit(), so buffered stdout is flushed when piped.
process.exitCode = await main(process.argv.slice(2));
