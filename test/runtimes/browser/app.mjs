// The browser app of the runtime matrix, loaded two ways by ../browser.mjs: unbundled through an import
// map (page A) and as an esbuild bundle (page B). The harness awaits the promise left on globalThis.

import * as xentropy from 'xentropy';
import { smoke } from '../smoke.mjs';

globalThis.xentropySmoke = smoke(xentropy);
