// Bundling as the edge platforms' tools do, for the workerd and Vercel Edge runners: esbuild with the
// platform's export conditions, each imported .wasm left out of the bundle and handed to the runtime
// as a module of its own (wrangler's CompiledWasm rule; Next.js's `?module` binding).

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as esbuild from 'esbuild';

/**
 * Bundles `entry` with `conditions`. Each `.wasm` import (also `.wasm?module`) becomes `wasmImport(name)`
 * of a name derived from the file's SHA-1 (as both tools do).
 * @returns code: the bundle; wasm: the .wasm files it refers to, [{ name, path, bytes }]; entry: which of
 *   the package's files its exports map gave (from esbuild's metafile)
 */
export async function bundle(entry, { conditions, format, wasmImport }) {
  const wasm = new Map();
  const plugin = {
    name: 'wasm-modules',
    setup(build) {
      build.onResolve({ filter: /\.wasm(\?module)?$/ }, (args) => {
        const spec = args.path.replace(/\?module$/, '');
        // A bare specifier (`xentropy/xentropy.wasm`) through the package's exports map, as both tools do.
        const path = /^\.{0,2}\//.test(spec) ? resolve(dirname(args.importer), spec) : createRequire(args.importer).resolve(spec);
        const bytes = readFileSync(path);
        const name = `wasm_${createHash('sha1').update(bytes).digest('hex')}`;
        wasm.set(name, { name, path, bytes });
        return wasmImport(name) === null ? { path: `./${name}.wasm`, external: true } : { path: name, namespace: 'wasm-binding' };
      });
      build.onLoad({ filter: /.*/, namespace: 'wasm-binding' }, (args) => ({ contents: wasmImport(args.path), loader: 'js' }));
    },
  };
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format,
    platform: 'neutral',
    conditions,
    mainFields: ['browser', 'module', 'main'],
    target: 'es2022',
    plugins: [plugin],
    logLevel: 'error',
    metafile: true,
  });
  // The runtime entry points import dist/index.js; the default entry is dist/index.js alone.
  const inputs = Object.keys(result.metafile.inputs);
  const entries = inputs.filter((f) => /(^|\/)dist\/(node|browser|worker|workerd|edge_light)\.js$/.test(f));
  if (entries.length === 0) entries.push(...inputs.filter((f) => /(^|\/)dist\/index\.js$/.test(f)));
  if (entries.length !== 1) throw new Error(`expected one xentropy entry point in the bundle, found ${JSON.stringify(entries)}`);
  return { code: result.outputFiles[0].text, wasm: [...wasm.values()], entry: entries[0].replace(/^.*(dist\/)/, '$1') };
}
