// The esbuild plugin (`xentropy/esbuild`): esbuild leaves `new URL(…, import.meta.url)` as written
// (evanw/esbuild#795), so the files those URLs name in the package (its .wasm builds, the pool's worker
// script) must sit beside the bundle. After each build, the plugin reads the JavaScript it wrote, and
// copies each of the package's files that a URL names to where that URL points from the output file:
// only what the app can load (no pool build or worker script in an app without a pool), never a file
// of the app's. A build tool, run by Node: it is not part of the library and no entry point imports it.

import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of esbuild's PluginBuild used here (declared, so that the types need no esbuild). */
interface BuildLike {
  initialOptions: { metafile?: boolean; write?: boolean; absWorkingDir?: string };
  onEnd(callback: (result: { errors: unknown[]; metafile?: { outputs: Record<string, unknown> } }) => Promise<void>): void;
}

/** An esbuild plugin. */
export interface XentropyEsbuildPlugin {
  name: string;
  setup(build: BuildLike): void;
}

/** The files of the package that its JavaScript names by URL, relative to dist/. */
const FILES = ['xentropy.wasm', 'xentropy.relaxed.wasm', 'xentropy.scalar.wasm', 'xentropy.shared.wasm', 'pool/worker.js'];

/** A URL of one of the files above, relative to import.meta.url, as esbuild prints it. */
const URL_OF_FILE = /new URL\(\s*(["'])\.\/(xentropy(?:\.\w+)?\.wasm|pool\/worker\.js)\1\s*,\s*import\.meta\.url\s*\)/g;

/**
 * The esbuild plugin that puts the package's .wasm builds and the pool's worker script beside your
 * bundle, where its `new URL('./xentropy.wasm', import.meta.url)` looks for them:
 * `plugins: [xentropy()]`. It needs a build that writes its output (the default `write: true`).
 */
export default function xentropy(): XentropyEsbuildPlugin {
  return {
    name: 'xentropy',
    setup(build) {
      // The list of output files comes from the metafile.
      build.initialOptions.metafile = true;
      build.onEnd(async (result) => {
        if (result.errors.length > 0 || build.initialOptions.write === false || !result.metafile) return;
        const cwd = build.initialOptions.absWorkingDir ?? process.cwd();
        const dist = fileURLToPath(new URL('./', import.meta.url));
        const copies = new Map<string, string>();
        for (const output of Object.keys(result.metafile.outputs).filter((f) => /\.[cm]?js$/.test(f))) {
          const path = resolve(cwd, output);
          for (const [, , file] of (await readFile(path, 'utf8')).matchAll(URL_OF_FILE)) {
            if (FILES.includes(file)) copies.set(join(dirname(path), file), join(dist, file));
          }
        }
        await Promise.all([...copies].map(async ([to, from]) => {
          await mkdir(dirname(to), { recursive: true });
          await copyFile(from, to);
        }));
      });
    },
  };
}
