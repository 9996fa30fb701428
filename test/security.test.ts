// Security: no code from strings (eval, the Function constructor), kernels that can reach nothing
// outside their own memory, no network access except the one documented fetch, and a committed
// lockfile in sync with package.json. `npm audit --omit=dev` needs the network, so CI runs it
// (.ci/run), not this suite.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every .js / .mjs / .cjs file under dir, recursively. */
function scripts(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return scripts(path);
    return /\.[cm]?js$/.test(name) ? [path] : [];
  });
}

interface Hit { file: string; line: number; text: string; pattern: string }

/** Every .ts file under src/. */
function srcFiles(dir = join(ROOT, 'src')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return srcFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every line of the files matching any of the patterns. */
function grep(files: string[], patterns: RegExp[], base: string): Hit[] {
  const hits: Hit[] = [];
  for (const file of files) {
    readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
      for (const p of patterns) {
        if (p.test(text)) hits.push({ file: relative(base, file), line: i + 1, text: text.trim(), pattern: p.source });
      }
    });
  }
  return hits;
}

// Code from strings. Comments are not stripped: shipped text that reads like eval is worth a look.
const CODE_FROM_STRINGS = [
  /\beval\s*(?:\?\.\s*)?\(/, // eval(s), globalThis.eval(s), eval?.(s)
  /\beval\s*\)/, // indirect: (0, eval)(s)
  /\[\s*['"`]eval['"`]\s*\]/, // globalThis['eval']
  /\bnew\s+Function\b/, // new Function(...)
  /(?<![\w$])Function\s*\(/, // Function('a', 'return a'), globalThis.Function(...)
  /\bconstructor\s*\.\s*constructor\b/, // x.constructor.constructor('code')
  /\)\s*\.\s*constructor\s*\(/, // (async () => {}).constructor('code')
  /\bset(?:Timeout|Interval|Immediate)\s*\(\s*['"`]/, // setTimeout('code', 0)
  /\bimport\s*\(\s*(?!['"`])/, // import(specifier) with a computed specifier
  /\bimport\s*\(\s*['"`]data:/, // import('data:text/javascript,...')
  /\beval\s*:\s*true\b/, // new Worker(code, { eval: true })
];

// Network access in JavaScript and the Node modules that reach the network.
const NETWORK = [
  /\bfetch\s*\(/,
  /\bXMLHttpRequest\b/,
  /\bWebSocket\b/,
  /\bEventSource\b/,
  /\bsendBeacon\b/,
  /\bRTCPeerConnection\b/,
  /['"`](?:node:)?(?:http|https|http2|net|tls|dgram|dns|dns\/promises)['"`]/,
  /['"`](?:undici|ws|axios|node-fetch)['"`]/,
];

// Module specifiers in the built code: static imports and re-exports (at the start of a line, so
// prose in JSDoc is not read as one), dynamic import, require and process.getBuiltinModule.
const SPECIFIERS = [
  /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\b(?:import|require)\s*\(\s*['"`]([^'"`]+)['"`]/g,
  /\bgetBuiltinModule\s*(?:\?\.)?\s*\(\s*['"`]([^'"`]+)['"`]/g,
];

let fresh: string;
/** dist/ as esbuild prints it unminified (see beforeAll). */
let distReadable: string;
let files: { dist: string[]; fresh: string[]; bin: string[] };

beforeAll(() => {
  // Compile src/ afresh (as `npm run build:ts`, into a temporary directory), so a stale dist/ cannot
  // hide a new eval; the shipped dist/ is checked too.
  fresh = mkdtempSync(join(tmpdir(), 'xentropy-security-'));
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', fresh], {
    cwd: ROOT, encoding: 'utf8',
  });
  expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  // dist/ ships minified (scripts/finish-dist.mjs), one line per file, so the line-based
  // checks below read each shipped file as esbuild prints it unminified: the same code, one statement
  // per line.
  distReadable = mkdtempSync(join(tmpdir(), 'xentropy-security-dist-'));
  for (const file of scripts(join(ROOT, 'dist'))) {
    const target = join(distReadable, relative(join(ROOT, 'dist'), file));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, esbuild.transformSync(readFileSync(file, 'utf8'), { loader: 'js' }).code);
  }
  files = {
    dist: scripts(distReadable),
    fresh: scripts(fresh),
    bin: scripts(join(ROOT, 'bin')),
  };
}, 60_000);

afterAll(() => {
  rmSync(fresh, { recursive: true, force: true });
  rmSync(distReadable, { recursive: true, force: true });
});

describe('no code from strings', () => {
  it('the patterns catch every planted form, and nothing the code legitimately does', () => {
    const planted = [
      'eval("1 + 1")', 'const x = eval (s);', 'globalThis.eval(s)', 'window.eval?.(s)', '(0, eval)(s)',
      "globalThis['eval'](s)", 'new Function("return this")', 'new Function', "Function('a', 'return a')(1)",
      'globalThis.Function(s)', "[].constructor.constructor('return 1')()", "(async () => {}).constructor('await 1')",
      "setTimeout('alert(1)', 0)", 'setInterval(`x()`)', 'await import(url)', "import('data:text/javascript,1')",
      'new Worker(source, { eval: true })',
    ];
    for (const line of planted) {
      expect(CODE_FROM_STRINGS.some((p) => p.test(line)), line).toBe(true);
    }
    const innocent = [
      'const evaluated = evaluate(x);', 'if (typeof f === "function") f();', 'isFunction(x)', '__getFunction(ptr)',
      'return `${value.constructor.name}(${length})`;', 'ctor.wrap(ctor.prototype.constructor(0, ...args))',
      "const fs = await import('node:fs/promises');", "content-security-policy: script-src 'wasm-unsafe-eval'",
      'setTimeout(done, 0)', 'constructor(driver) {',
    ];
    for (const line of innocent) {
      expect(CODE_FROM_STRINGS.filter((p) => p.test(line)).map((p) => p.source), line).toEqual([]);
    }
  });

  it('in dist/, in a fresh build of src/ and in bin/ (the package has no runtime dependency)', () => {
    expect(files.dist.length).toBeGreaterThan(10);
    expect(files.fresh.length).toBeGreaterThan(10);
    expect(files.bin.length).toBeGreaterThan(0);
    expect(grep(files.dist, CODE_FROM_STRINGS, distReadable)).toEqual([]);
    expect(grep(files.fresh, CODE_FROM_STRINGS, fresh)).toEqual([]);
    expect(grep(files.bin, CODE_FROM_STRINGS, ROOT)).toEqual([]);
  });
});

interface WasmImport { module: string; name: string; kind: number; shared?: boolean }

/** Import and export entries of a .wasm, read from the binary (so it works for any feature set). */
function wasmInterface(bytes: Uint8Array): { imports: WasmImport[]; exports: { name: string; kind: number }[] } {
  let at = 8;
  const u32 = () => {
    let result = 0, shift = 0, byte;
    do {
      byte = bytes[at++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  };
  const name = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(at, at + n));
    at += n;
    return s;
  };
  /** Reads resizable limits; returns their flags (bit 0: a maximum follows, bit 1: shared). */
  const limits = () => {
    const flags = bytes[at++];
    u32();
    if (flags & 1) u32();
    return flags;
  };
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const imports: WasmImport[] = [];
  const exports: { name: string; kind: number }[] = [];
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = u32();
    const end = at + size;
    if (id === 2) {
      const count = u32();
      for (let i = 0; i < count; i++) {
        const entry: WasmImport = { module: name(), name: name(), kind: bytes[at++] };
        if (entry.kind === 0) u32(); // function: type index
        else if (entry.kind === 1) { at++; limits(); } // table: element type, limits
        else if (entry.kind === 2) entry.shared = (limits() & 2) !== 0; // memory
        else if (entry.kind === 3) at += 2; // global: value type, mutability
        else { at++; u32(); } // tag: attribute, type index
        imports.push(entry);
      }
    } else if (id === 7) {
      const count = u32();
      for (let i = 0; i < count; i++) {
        const n = name();
        const kind = bytes[at++];
        u32();
        exports.push({ name: n, kind });
      }
    }
    at = end;
  }
  return { imports, exports };
}

const KIND = ['function', 'table', 'memory', 'global', 'tag'];

describe('the WebAssembly kernels', () => {
  // The shipped builds are in dist/ (beside the entry points), the debug build in build/.
  const wasmFiles = ['dist', 'build'].flatMap((dir) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.wasm')).map((f) => `${dir}/${f}`));

  // A function, table or global import would let the kernels call out or share state with the host;
  // they have none. Memory is the one import allowed, and only a shared one: the build for the worker
  // pool (xentropy.shared.wasm) runs in the memory the pool creates and hands to every worker.
  it('import nothing but, in the shared-memory build, that memory; export only functions and one memory', () => {
    expect(wasmFiles).toContain('dist/xentropy.wasm');
    let checkedByEngine = 0;
    for (const file of wasmFiles) {
      const bytes = readFileSync(join(ROOT, file));
      const { imports, exports } = wasmInterface(bytes);
      if (file === 'dist/xentropy.wasm') expect(imports, file).toEqual([]);
      for (const entry of imports) expect(entry, file).toEqual({ module: 'env', name: 'memory', kind: 2, shared: true });
      expect(imports.length, file).toBeLessThanOrEqual(1);
      const kinds = exports.map((e) => KIND[e.kind] ?? `kind ${e.kind}`);
      expect(new Set(kinds), file).toEqual(new Set(['function', 'memory']));
      expect(kinds.filter((k) => k === 'memory'), file).toHaveLength(1);
      // Where this engine compiles the module (not relaxed SIMD without a flag), it must agree.
      if (WebAssembly.validate(bytes)) {
        const m = new WebAssembly.Module(bytes);
        expect(WebAssembly.Module.imports(m), file).toEqual(imports.map((e) => ({ module: e.module, name: e.name, kind: KIND[e.kind] })));
        expect(WebAssembly.Module.exports(m).map((e) => `${e.name}:${e.kind}`), file)
          .toEqual(exports.map((e, i) => `${e.name}:${kinds[i]}`));
        checkedByEngine++;
      }
    }
    expect(checkedByEngine).toBeGreaterThanOrEqual(1);
  });

  it('the binary reader sees an import and a global export when there are some', () => {
    // (module (import "env" "f" (func)) (import "env" "m" (memory 1)) (global (export "g") i32 (i32.const 0)))
    const planted = Uint8Array.from([
      0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
      1, 4, 1, 0x60, 0, 0, // type section: () -> ()
      2, 18, 2, 3, 0x65, 0x6e, 0x76, 1, 0x66, 0, 0, // import section: env.f, func type 0
      3, 0x65, 0x6e, 0x76, 1, 0x6d, 2, 0, 1, // ... and env.m, memory of min 1, not shared
      6, 6, 1, 0x7f, 0, 0x41, 0, 0x0b, // global section: i32 const 0
      7, 5, 1, 1, 0x67, 3, 0, // export section: "g", global 0
    ]);
    expect(WebAssembly.validate(planted)).toBe(true);
    const { imports, exports } = wasmInterface(planted);
    expect(imports).toEqual([{ module: 'env', name: 'f', kind: 0 }, { module: 'env', name: 'm', kind: 2, shared: false }]);
    expect(exports).toEqual([{ name: 'g', kind: 3 }]);
  });
});

describe('no network access', () => {
  it('the patterns catch every planted form', () => {
    const planted = [
      'await fetch(url)', 'new XMLHttpRequest()', 'new WebSocket(u)', 'new EventSource(u)', 'navigator.sendBeacon(u, d)',
      "import http from 'node:http';", "require('https')", "await import('net')", "from 'node:tls'", "import('dgram')",
      "getBuiltinModule('node:dns')", "from 'undici'",
    ];
    for (const line of planted) expect(NETWORK.some((p) => p.test(line)), line).toBe(true);
    for (const line of ["import { readFile } from 'node:fs';", 'fetchModule(ownWasmUrl())', "from './api.js'"]) {
      expect(NETWORK.filter((p) => p.test(line)).map((p) => p.source), line).toEqual([]);
    }
  });

  it('only in the documented place: fetchModule, for a URL that is not file: (the browser / URL loader)', () => {
    const sets = [[files.dist, distReadable], [files.fresh, fresh], [srcFiles(), join(ROOT, 'src')]] as const;
    for (const [list, base] of sets) {
      const hits = grep(list, NETWORK, base);
      // fetch calls only, nothing else that reaches the network; one in the source (bundles repeat it).
      expect(hits.length, base).toBeGreaterThan(0);
      if (base.endsWith('src')) expect(hits, base).toHaveLength(1);
      for (const { file, line, pattern } of hits) {
        const where = `${relative(ROOT, base)}/${file}:${line}`;
        expect(pattern, where).toBe(NETWORK[0].source);
        const lines = readFileSync(join(base, file), 'utf8').split('\n');
        // The enclosing function is fetchModule ...
        let start = line - 1;
        while (start >= 0 && !/^(?:export\s+)?(?:async\s+)?function\s+\w+/.test(lines[start])) start--;
        // (The bundles' local names are shortened: the parameter is `url` in the source only.)
        expect(lines[start], where).toMatch(/^(?:export\s+)?async\s+function\s+fetchModule\([\w$]+(?:: URL)?\)/);
        const url = /fetchModule\(([\w$]+)/.exec(lines[start])![1].replace(/\$/g, '\\$');
        expect(lines.slice(start + 1, line - 1).includes('}'), where).toBe(false);
        // ... and a file: URL has been read from disk before the fetch is reached.
        const before = lines.slice(start, line - 1).join('\n');
        expect(before, where).toMatch(new RegExp(`if \\(${url}\\.protocol === ["']file:["']\\)[\\s\\S]*return new WebAssembly\\.Module\\([\\w$]+\\.readFileSync\\(${url}\\)\\)`));
      }
    }
    expect(grep(files.bin, NETWORK, ROOT)).toEqual([]);
  });

  it('the built code loads no module beyond its own files and non-network node: modules', () => {
    const modules = new Set<string>();
    for (const file of [...files.dist, ...files.fresh, ...files.bin]) {
      const text = readFileSync(file, 'utf8');
      for (const pattern of SPECIFIERS) {
        for (const m of text.matchAll(pattern)) if (!m[1].startsWith('.')) modules.add(m[1]);
      }
    }
    // A new entry here is fine when it cannot reach the network: add it and say why.
    const allowed = [
      'node:fs', 'node:fs/promises', 'node:url', 'node:path', // files: the own .wasm, .npy inputs
      'node:os', 'node:worker_threads', // the worker pool: core count and threads
      'node:util', // the command line: getSystemErrorMap, to name a failed write's error code
      'node:zlib', 'node:stream', // the command line: inflating .npz members, read as streams like standard input
      'node:module', // the command line: createRequire, to load node:zlib and node:stream only for a deflated member; bin/: the compile cache
    ];
    expect([...modules].filter((m) => !allowed.includes(m)).sort()).toEqual([]);
  });

  it('nothing connects at run time: init, every kind of call and the CLI, with sockets and fetch blocked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xentropy-offline-'));
    try {
      // Preloaded: any socket connection (http, https, fetch and tls all go through net.Socket) or
      // fetch ends the process with status 99.
      const block = join(dir, 'block-network.mjs');
      writeFileSync(block, [
        "import net from 'node:net';",
        "import dgram from 'node:dgram';",
        "const stop = (what) => { process.stderr.write(`NETWORK: ${what}\\n`); process.exit(99); };",
        "net.Socket.prototype.connect = function () { stop('net.Socket.connect'); };",
        "dgram.Socket.prototype.send = function () { stop('dgram.Socket.send'); };",
        "globalThis.fetch = (url) => stop(`fetch ${url}`);",
      ].join('\n'));
      const run = (args: string[]) => spawnSync(process.execPath, ['--import', block, ...args], { cwd: ROOT, encoding: 'utf8' });

      // The block works.
      const planted = run(['-e', "fetch('http://127.0.0.1:9/')"]);
      expect(planted.status).toBe(99);
      expect(planted.stderr).toContain('NETWORK: fetch http://127.0.0.1:9/');
      const plantedSocket = run(['-e', "require('node:http').get('http://127.0.0.1:9/')"]);
      expect(plantedSocket.status).toBe(99);
      expect(plantedSocket.stderr).toContain('NETWORK: net.Socket.connect');

      const use = join(dir, 'use.mjs');
      writeFileSync(use, [
        `import { init, initSync } from ${JSON.stringify(join(ROOT, 'dist/index.js'))};`,
        'const xe = await init(), ys = initSync();',
        'const z = Float32Array.from({ length: 12 }, (_, i) => i / 3), y = Int32Array.of(0, 2, 1, 3), p = xe.softmax(z, 3);',
        'const r = xe.tensor(z);',
        'const v = [xe.crossEntropyWithGrad(r, y.map((c) => c % 3), { classes: 3 }).loss, ys.logSumExp(z, 3)[0],',
        '  xe.binaryCrossEntropy(z.map((x) => x / 4), p, { from: "probs" }), xe.entropy(p, 3)[0], xe.klDivergence(p, p, 3),',
        '  xe.jsDivergence(p, p, 3), xe.scorer({ classes: 3, topK: [1] }).update(z, y.map((c) => c % 3)).result().accuracy];',
        'r.free();',
        'console.log(JSON.stringify(v));',
      ].join('\n'));
      const used = run([use]);
      expect(used.stderr).toBe('');
      expect(used.status).toBe(0);
      expect(JSON.parse(used.stdout)).toHaveLength(7);

      const cli = run(['bin/xentropy.js', 'score', '--json']);
      expect(cli.stderr).toBe('');
      expect(cli.status).toBe(0);
      expect(JSON.parse(cli.stdout).n).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('the lockfile', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));

  it('is committed', () => {
    const git = spawnSync('git', ['ls-files', '--error-unmatch', 'package-lock.json'], { cwd: ROOT, encoding: 'utf8' });
    expect(git.status, git.stderr).toBe(0);
    expect(git.stdout.trim()).toBe('package-lock.json');
  });

  it('matches package.json: name, version and every declared dependency range', () => {
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    expect(lock.name).toBe(pkg.name);
    expect(lock.version).toBe(pkg.version);
    const root = lock.packages[''];
    expect(root.name).toBe(pkg.name);
    expect(root.version).toBe(pkg.version);
    expect(root.dependencies ?? {}).toEqual(pkg.dependencies ?? {});
    expect(root.devDependencies ?? {}).toEqual(pkg.devDependencies ?? {});
  });

  it('pins every package with a sha512 integrity, and has no runtime dependency', () => {
    const entries = Object.entries(lock.packages as Record<string, { dev?: boolean; resolved?: string; integrity?: string; link?: boolean }>)
      .filter(([path, entry]) => path !== '' && !entry.link);
    for (const [path, entry] of entries) {
      expect(entry.integrity, path).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
      // Written without `resolved` here (omit-lockfile-registry-resolved); when present, a registry tarball over https.
      if (entry.resolved !== undefined) expect(entry.resolved, path).toMatch(/^https:\/\//);
    }
    // The README promises no runtime dependency: adding one is a decision, made here.
    expect(entries.filter(([, entry]) => !entry.dev).map(([path]) => path)).toEqual([]);
  });

  it('agrees with the installed tree (npm ls --all exits 0)', () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const ls = spawnSync(npm, ['ls', '--all', '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect(ls.status, ls.stdout.slice(0, 2000)).toBe(0);
    const tree = JSON.parse(ls.stdout);
    expect(tree.problems ?? []).toEqual([]);
  }, 30_000);
});
