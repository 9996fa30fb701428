// The CommonJS build (the `require` condition): dist/node.js and everything it imports, bundled
// by esbuild into dist/cjs/index.js, with the declaration files it needs copied beside it under a
// package.json that says "commonjs" (so TypeScript reads them as CommonJS types, not as ESM types
// masquerading). Run after tsc (npm run build:ts).
//
// import.meta does not exist in CommonJS. Every module that reads import.meta.url sits directly in
// dist/ (src/init.ts explains), so one URL stands in for all of them: that of dist/index.js, derived
// from the bundle's own __dirname. The package has no dependency to keep external.

import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const dist = join(root, 'dist');
const out = join(dist, 'cjs');
const entry = join(dist, 'node.js');

import esbuild from 'esbuild';

if (!existsSync(entry)) throw new Error(`build-cjs: ${relative(root, entry)} is missing; run tsc first (npm run build:ts)`);
rmSync(out, { recursive: true, force: true });

await esbuild.build({
  entryPoints: [entry],
  outfile: join(out, 'index.js'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  banner: {
    js: '"use strict";\n// xentropy, CommonJS build (scripts/build-cjs.mjs). import.meta.url of the ESM files in dist/:\n'
      + "const __xentropyDistUrl = require('node:url').pathToFileURL(require('node:path').join(__dirname, '..', 'index.js')).href;",
  },
  define: { 'import.meta.url': '__xentropyDistUrl' },
  logLevel: 'warning',
});

// The declarations reachable from the entry's, copied with their relative layout.
const seen = new Set();
const queue = [join(dist, 'node.d.ts')];
while (queue.length > 0) {
  const file = queue.pop();
  if (seen.has(file)) continue;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const [, spec] of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)\.js'/g)) {
    queue.push(join(dirname(file), `${spec}.d.ts`));
  }
}
for (const file of seen) {
  const target = join(out, relative(dist, file));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(file, target);
}
writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');
console.log(`build-cjs: dist/cjs/index.js and ${seen.size} declaration files`);
