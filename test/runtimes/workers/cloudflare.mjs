// The Cloudflare Worker of the workerd runner (test/runtimes/workerd.mjs): the smoke suite behind a
// fetch handler, importing the package by name as any Worker would.

import * as xentropy from 'xentropy';
// The workerd entry imports the relaxed-SIMD build alone; the smoke suite's hash is the SIMD build's,
// which a Worker imports itself, as docs/runtimes.md shows.
import simd from 'xentropy/xentropy.wasm';
import { smoke } from '../smoke.mjs';

/** The package, with `init({ build: 'simd' })` given the imported SIMD module. */
const withSimd = {
  ...xentropy,
  init: (options) => (options?.build === 'simd' ? xentropy.init({ module: simd }) : xentropy.init(options)),
};

export default {
  async fetch() {
    try {
      const refused = await xentropy.init({ build: 'simd' }).then(() => 'loaded', (error) => error.name);
      if (refused !== 'RangeError') throw new Error(`init({ build: 'simd' }) in workerd: ${refused}, not a RangeError (the workerd entry has only the relaxed build)`);
      return Response.json({ ...(await smoke(withSimd)), codegen: await codegenProbe() });
    } catch (error) {
      return new Response(String(error?.stack ?? error), { status: 500 });
    }
  },
};

/** What compiling WebAssembly bytes does here: the runner checks that workerd refuses it. */
async function codegenProbe() {
  try {
    await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    return 'allowed';
  } catch (error) {
    return `refused: ${error.message}`;
  }
}
