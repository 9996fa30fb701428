// Runner for Cloudflare workerd, through miniflare (run with Node 22: miniflare 4 needs it). The Worker
// (workers/cloudflare.mjs) is bundled as wrangler bundles one: export conditions workerd, worker and
// browser, and every imported .wasm uploaded beside the script as a CompiledWasm module. workerd
// refuses to compile WebAssembly from bytes at run time, so only this path can work.
//   test/runtimes/node_modules/node/bin/node test/runtimes/workerd.mjs

import { createRequire } from 'node:module';
import { Miniflare } from 'miniflare';
import { bundle } from './bundle.mjs';
import { reportLines } from './smoke.mjs';

const require = createRequire(import.meta.url);
const { code, wasm, entry } = await bundle(new URL('./workers/cloudflare.mjs', import.meta.url).pathname, {
  conditions: ['workerd', 'worker', 'browser'],
  format: 'esm',
  wasmImport: () => null, // kept as an import of its own module
});

const mf = new Miniflare({
  compatibilityDate: '2025-09-01',
  modules: [
    { type: 'ESModule', path: 'worker.mjs', contents: code },
    ...wasm.map((w) => ({ type: 'CompiledWasm', path: `${w.name}.wasm`, contents: w.bytes })),
  ],
});
try {
  const response = await mf.dispatchFetch('http://localhost/');
  const body = await response.text();
  if (!response.ok) throw new Error(`the Worker answered ${response.status}: ${body}`);
  const result = JSON.parse(body);
  if (!result.codegen.startsWith('refused')) throw new Error(`workerd compiled WebAssembly bytes (${result.codegen}); the test would prove nothing`);
  // workerd reports no version inside a Worker; the npm package's version is workerd's release date.
  const version = require('workerd/package.json').version;
  for (const line of reportLines('workerd', version, result)) console.log(line);
  // The workerd entry imports one build (the relaxed one); the Worker itself imports the SIMD build.
  if (entry !== 'dist/workerd.js' || wasm.length !== 2) throw new Error(`the Worker bundled ${entry} with ${wasm.length} .wasm modules, not dist/workerd.js with 2`);
  console.log(`ENTRY workerd ${entry} (${wasm.length} CompiledWasm modules; runtime: ${result.codegen})`);
} finally {
  await mf.dispose();
}
