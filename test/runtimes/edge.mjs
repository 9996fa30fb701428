// Runner for Vercel Edge, through @edge-runtime/vm (the sandbox of `next dev` and `vercel dev`) with
// WebAssembly code generation off, as on Vercel: the sandbox compiles nothing, so only modules compiled
// by the host work. The Edge Function (workers/vercel-edge.mjs) is bundled as Next.js bundles one:
// export conditions edge-light, worker and browser; each `.wasm?module` import becomes a reference to a
// global `wasm_<sha1>`, which the host defines in the sandbox's context as the WebAssembly.Module it
// compiled (next/dist/server/web/sandbox/context.js). Those modules come from the host's realm.
//   node test/runtimes/edge.mjs

import { createRequire } from 'node:module';
import { EdgeVM } from '@edge-runtime/vm';
import { bundle } from './bundle.mjs';
import { reportLines } from './smoke.mjs';

const require = createRequire(import.meta.url);
const { code, wasm, entry } = await bundle(new URL('./workers/vercel-edge.mjs', import.meta.url).pathname, {
  conditions: ['edge-light', 'worker', 'browser'],
  format: 'iife',
  wasmImport: (name) => `export default globalThis.${name};`,
});

const bindings = {};
for (const w of wasm) bindings[w.name] = await WebAssembly.compile(w.bytes);

const vm = new EdgeVM({
  codeGeneration: { strings: false, wasm: false },
  extend: (context) => Object.assign(context, bindings),
});
vm.evaluate(code);
const result = await vm.evaluate('__xentropySmoke()');
if (result.foreignModules.length !== wasm.length || !result.foreignModules.every(Boolean)) {
  throw new Error(`expected ${wasm.length} modules from the host's realm in the sandbox, found ${JSON.stringify(result.foreignModules)}`);
}
if (!result.codegen.startsWith('refused')) throw new Error(`the Edge sandbox compiled WebAssembly bytes (${result.codegen}); the test would prove nothing`);

const version = `${require('@edge-runtime/vm/package.json').version}-node${process.versions.node}`;
for (const line of reportLines('vercel-edge', version, result)) console.log(line);
console.log(`ENTRY vercel-edge ${entry} (${wasm.length} host-compiled modules from another realm; sandbox: ${result.codegen})`);
