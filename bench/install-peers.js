// `npm run bench` runs this first: it installs the peers (tfjs, onnxruntime-web) into bench/node_modules
// from bench/package-lock.json when they are missing. A failed install is reported but does not stop
// the bench: bench/run.js then times the other contenders and says which peers it left out.

import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PEER_PACKAGES, peerVersion } from './peers.js';

const missing = PEER_PACKAGES.filter((name) => peerVersion(name) === null);
if (missing.length > 0) {
  const bench = fileURLToPath(new URL('.', import.meta.url));
  const args = ['--prefix', bench, existsSync(new URL('package-lock.json', import.meta.url)) ? 'ci' : 'install', '--no-audit', '--no-fund'];
  console.error(`bench: installing the peers (${missing.join(', ')} missing): npm ${args.join(' ')}`);
  // Under `npm run`, npm_execpath is the running npm's CLI script; outside it, npm from PATH.
  const npmCli = process.env.npm_execpath;
  const child = npmCli && npmCli.endsWith('.js')
    ? spawnSync(process.execPath, [npmCli, ...args], { stdio: 'inherit' })
    : spawnSync('npm', args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (child.status !== 0) {
    console.error(`bench: installing the peers failed (${child.error?.message ?? `exit ${child.status}`}); the bench runs without them`);
  }
}
