// The Cloudflare Worker of the workerd runner (test/runtimes/workerd.mjs): the smoke suite behind a
// fetch handler, importing the package by name as any Worker would.

import * as xentropy from 'xentropy';
import { smoke } from '../smoke.mjs';

export default {
  async fetch() {
    try {
      return Response.json({ ...(await smoke(xentropy)), codegen: await codegenProbe() });
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
