// The Edge Function of the Vercel Edge runner (test/runtimes/edge.mjs): the smoke suite, importing the
// package by name as any Edge Function would, exposed to the runner as a global.

import * as xentropy from 'xentropy';
import { smoke } from '../smoke.mjs';

globalThis.__xentropySmoke = async () => ({
  ...(await smoke(xentropy)),
  codegen: await codegenProbe(),
  // The host's modules fail instanceof here, so the cross-realm path of init is what ran.
  foreignModules: Object.keys(globalThis).filter((k) => k.startsWith('wasm_'))
    .map((k) => !(globalThis[k] instanceof WebAssembly.Module) && Object.prototype.toString.call(globalThis[k]) === '[object WebAssembly.Module]'),
});

/** What compiling WebAssembly bytes does here: the runner checks that the sandbox refuses it. */
async function codegenProbe() {
  try {
    await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    return 'allowed';
  } catch (error) {
    return `refused: ${error.message}`;
  }
}
