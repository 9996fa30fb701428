// What dist/ ships besides tsc's output, and in what form (run after tsc: npm run build:ts). The package
// has a size budget (test/package.test.ts), and npm packs one gzip stream in which files of the same
// name sit next to each other (dist/api.js, then dist/cjs/api.js), so:
//
// 1. The CommonJS build (the `require` condition): each module that dist/node.js reaches, compiled to
//    CommonJS on its own into dist/cjs/ (same relative path), under a package.json that says
//    "commonjs". File by file rather than one bundle, so that each CommonJS file follows its ESM twin in
//    the tarball and gzip stores little more than their differences (~5 kB for the whole build, against
//    ~19 kB for a minified bundle). import.meta does not exist in CommonJS: where a module reads
//    import.meta.url, the URL of its ESM twin stands in, derived from the file's own __dirname, so every
//    relative URL (the .wasm builds, pool_worker.js) resolves as it does from the ESM file.
// 2. The CommonJS declarations: one file, dist/cjs/node.d.ts, that re-declares each export of
//    dist/node.d.ts through a type-only import of it. TypeScript reads it as CommonJS (the package.json
//    above), so `require('xentropy')` type-checks under moduleResolution node16, without a second copy
//    of every declaration file (0.7 kB packed, against 2.2 kB for copies of the 22 files it reaches).
// 3. Declaration files that no `types` entry of package.json reaches (the command line's, the worker
//    script's) are removed: nothing can import them.
// 4. Every .js file, ESM and CommonJS alike, is whitespace- and syntax-minified by esbuild: comments
//    and layout go (the documentation is in the .d.ts files), names and module structure stay. The
//    twins are minified the same way, so they stay alike. Files with pure annotations keep them (see
//    minify()).

import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import esbuild from 'esbuild';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const out = join(dist, 'cjs');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const REQUIRE_ENTRY = './dist/cjs/node.js';
const entry = join(dist, 'node.js');
if (pkg.exports['.'].require?.default !== REQUIRE_ENTRY) {
  throw new Error(`finish-dist: package.json exports["."].require.default is not ${REQUIRE_ENTRY}, which this script builds`);
}
if (!existsFile(entry)) throw new Error(`finish-dist: ${relative(root, entry)} is missing; run tsc first (npm run build:ts)`);

/** Whether path is a file. */
function existsFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Every file under dir, recursively, except under skip. */
function walk(dir, skip) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (path === skip) return [];
    return statSync(path).isDirectory() ? walk(path, skip) : [path];
  });
}

/** The files reachable from `entries` through relative imports and re-exports ('./x.js' -> `./x${ext}`). */
function reachable(entries, ext) {
  const seen = new Set();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:\bfrom|\bimport\s*\(?)\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      const target = join(dirname(file), `${spec}${ext}`);
      if (!existsFile(target)) throw new Error(`finish-dist: ${relative(root, file)} imports ${spec}.js, but ${relative(root, target)} does not exist`);
      queue.push(target);
    }
  }
  return seen;
}

/** Every `types` path of package.json (top level and each exports condition). */
function typesEntries(value = pkg.exports, found = [join(root, pkg.types)]) {
  if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'types' && typeof v === 'string') found.push(join(root, v));
      else typesEntries(v, found);
    }
  }
  return found;
}

/**
 * esbuild options for one file: whitespace- and syntax-minified (names kept: they are what a stack trace
 * shows), except that a file with a pure annotation (the entry points' module-level calls, which let
 * bundlers drop an unused entry) is only reprinted without its comments, since minifying drops the
 * annotations too.
 */
function minify(code) {
  const pure = code.includes('@__PURE__');
  return { legalComments: 'none', charset: 'utf8', minifyWhitespace: !pure, minifySyntax: !pure };
}

// 1. The CommonJS build.
rmSync(out, { recursive: true, force: true });
const modules = [...reachable([entry], '.js')].sort();
for (const file of modules) {
  const code = readFileSync(file, 'utf8');
  const twin = relative(dist, file);
  const target = join(out, twin);
  const result = await esbuild.transform(code, {
    ...minify(code),
    loader: 'js',
    format: 'cjs',
    target: 'node20',
    sourcefile: twin,
    define: { 'import.meta.url': '__xentropyUrl' },
  });
  // Any other use of import.meta (import.meta.resolve, ...) would be compiled to an empty object.
  if (result.warnings.length > 0 || /\bimport\.meta\b|\bimport_meta\b/.test(result.code)) {
    throw new Error(`finish-dist: ${twin} cannot be compiled to CommonJS as is: ${result.warnings.map((w) => w.text).join('; ') || 'it uses import.meta beyond import.meta.url'}`);
  }
  // ESM is strict mode; the CommonJS copy must be too.
  const prologue = '"use strict";' + (/\b__xentropyUrl\b/.test(result.code)
    ? `const __xentropyUrl=require("node:url").pathToFileURL(require("node:path").join(__dirname,${JSON.stringify(relative(dirname(target), file))})).href;`
    : '');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, `${prologue}\n${result.code}`);
}
writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');

// 2. The CommonJS declarations.
writeFileSync(join(out, 'node.d.ts'), commonJsDeclarations(join(dist, 'node.d.ts')));

// 3. Unreachable declarations.
const types = reachable(typesEntries().filter((f) => !f.startsWith(out + '/')), '.d.ts');
const removed = walk(dist, out).filter((f) => f.endsWith('.d.ts') && !types.has(f));
for (const file of removed) rmSync(file);

// 4. Minified ESM (the CommonJS files were minified as they were compiled).
const esm = walk(dist, out).filter((f) => f.endsWith('.js'));
for (const file of esm) {
  const code = readFileSync(file, 'utf8');
  const result = await esbuild.transform(code, { ...minify(code), loader: 'js', format: 'esm', target: 'es2022', sourcefile: relative(dist, file) });
  writeFileSync(file, result.code);
}

console.log(`finish-dist: ${modules.length} CommonJS modules and dist/cjs/node.d.ts; ${esm.length} ESM files minified; `
  + `${removed.length} unreachable declaration files removed (${removed.map((f) => relative(dist, f)).join(', ')})`);

/**
 * A CommonJS declaration file that re-declares every export of the ESM declaration file `esmFile`
 * (which must sit one level above dist/cjs/): values as `typeof M.x`, types as aliases, each with its
 * JSDoc, where M is a type-only import of esmFile in ESM resolution mode (TypeScript >= 5.3).
 */
function commonJsDeclarations(esmFile) {
  const program = ts.createProgram([esmFile], { noEmit: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, types: [] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(esmFile));
  const spec = `../${relative(dist, esmFile).replace(/\.d\.ts$/, '.js')}`;
  const lines = [
    `// CommonJS declarations of xentropy, generated by scripts/finish-dist.mjs: every export of ${spec.replace(/\.js$/, '.d.ts')},`,
    '// which TypeScript reads as ESM, re-declared for `require`.',
    `import type * as M from '${spec}' with { 'resolution-mode': 'import' };`,
  ];
  const exports = checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name));
  for (const symbol of exports) {
    const name = symbol.name;
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const declaration = target.declarations?.[0];
    if (!declaration) throw new Error(`finish-dist: no declaration for the export ${name}`);
    const docs = ts.getJSDocCommentsAndTags(declaration).filter(ts.isJSDoc).map((d) => d.getText());
    const doc = docs.length > 0 ? docs[docs.length - 1] : '';
    const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
    const isType = (target.flags & ts.SymbolFlags.Type) !== 0;
    if (!isValue && !isType) throw new Error(`finish-dist: the export ${name} is neither a value nor a type`);
    if (target.flags & ts.SymbolFlags.Module && checker.getExportsOfModule(target).some((s) => !(checker.getAliasedSymbol(s).flags & ts.SymbolFlags.Value))) {
      throw new Error(`finish-dist: the namespace ${name} exports types, which \`typeof M.${name}\` would drop`);
    }
    lines.push('');
    if (doc) lines.push(doc);
    if (isValue) lines.push(`export declare const ${name}: typeof M.${name};`);
    if (isType) {
      const params = declaration.typeParameters ?? [];
      if (params.some((p) => p.constraint || p.default)) {
        throw new Error(`finish-dist: the type ${name} has a constrained or defaulted type parameter, which this script does not copy`);
      }
      const list = params.length > 0 ? `<${params.map((p) => p.name.text).join(', ')}>` : '';
      lines.push(`export type ${name}${list} = M.${name}${list};`);
    }
  }
  return `${lines.join('\n')}\n`;
}
