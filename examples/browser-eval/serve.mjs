#!/usr/bin/env node
// Serves the repository over HTTP for the browser-eval page (examples/browser-eval/README.md):
//   node examples/browser-eval/serve.mjs [PORT]     then open http://localhost:PORT/examples/browser-eval/
// The page imports the package's built files (dist/: run `npm run build` first) through its import map, so
// the repository root is served: static files only, from it and below, with the MIME types a browser
// needs (application/wasm lets it compile the WebAssembly while it streams, text/javascript lets it run
// the modules). Cross-origin isolation headers (COOP, COEP) are sent too, so that the page may share
// memory with workers (crossOriginIsolated); they also keep the page from loading anything of another
// origin that did not agree to it. Listens on 127.0.0.1 only. PORT 0 (the default: 8080) picks a free port.

import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.md': 'text/plain; charset=utf-8',
  '.npy': 'application/octet-stream',
  '.npz': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

/** Headers of every response: cross-origin isolation, and no guessing of types. */
const COMMON = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

/** A static file server over `root`; resolves with the server once it listens (port 0: any free one). */
export function serve({ root = ROOT, port = 8080, host = '127.0.0.1' } = {}) {
  const server = createServer((request, response) => {
    const fail = (status, text) => {
      response.writeHead(status, { ...COMMON, 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(`${text}\n`);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return fail(405, 'method not allowed');
    let path;
    try {
      path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    } catch {
      return fail(400, 'bad request');
    }
    if (path.includes('\0')) return fail(400, 'bad request');
    let file = normalize(join(root, path));
    // Nothing outside the root, and no dot-files or dot-folders (.git, .env).
    const inside = relative(root, file);
    if (inside.startsWith('..') || isAbsolute(inside) || inside.split(sep).some((part) => part.startsWith('.'))) return fail(404, 'not found');
    let stats;
    try {
      stats = statSync(file);
      if (stats.isDirectory()) {
        if (!path.endsWith('/')) {
          response.writeHead(301, { ...COMMON, Location: `${path}/` });
          return response.end();
        }
        file = join(file, 'index.html');
        stats = statSync(file);
      }
    } catch {
      return fail(404, 'not found');
    }
    if (!stats.isFile()) return fail(404, 'not found');
    response.writeHead(200, { ...COMMON, 'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': stats.size });
    if (request.method === 'HEAD') return response.end();
    createReadStream(file).on('error', () => response.destroy()).pipe(response);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = process.argv[2] === undefined ? 8080 : Number(process.argv[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve.mjs: the port must be an integer in [0, 65535], got ${JSON.stringify(process.argv[2])}`);
    process.exit(2);
  }
  const server = await serve({ port });
  console.log(`serving ${ROOT} at http://localhost:${server.address().port}/examples/browser-eval/ (Ctrl-C stops)`);
}
