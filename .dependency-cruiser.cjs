// dependency-cruiser: the layers of src/ (`npm run lint` runs `depcruise src`).
//
//   entries  src/{index,node,browser,worker,workerd,edge_light}.ts   the package's entry points, and what
//            they share: src/library.ts (the library's exports), src/parts.ts (the scorers, the pool,
//            the reference: node.ts loads them on first use), src/full.ts (the library with its parts)
//   api      src/api.ts                                      the Xentropy facade
//   load     src/load/       finding, compiling and instantiating builds
//   engine   src/engine/     WebAssembly: driver, kernels, builds, staging; knows nothing of losses
//   ops      src/ops/        one file per operation, common.ts their shared helpers
//   pool     src/pool/       the worker pool
//   reference src/reference/ the float64 reference (takes its plans from ops/)
//   cli      src/cli/        the command line
//   report   src/report/     the HTML report and its SVG drawings (any runtime: a browser page uses it too)
//   arrays   src/arrays/     .npy, .npz and .safetensors readers over bytes, Blobs or files (any runtime)
//   eval     src/eval/       scoring arrays as `xentropy score` does, with a scorer it is given (any runtime)
//   src/eval.ts              the xentropy/eval entry point: arrays/, eval/ and report/
//
// Every rule is an error. Type-only imports (`import type`, `export type ... from`) count like any
// other import (tsPreCompilationDeps), since they tie the layers together just the same.

/** The entry points, as a path pattern. */
const ENTRIES = '^src/(index|node|browser|worker|workerd|edge_light|eval|library|parts|full)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'Protects a load order without surprises: a cycle means a module can run while another it ' +
        'needs is half-initialised, and that two layers can no longer be read or moved apart.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'engine-self-contained',
      comment:
        'Protects the engine as the bottom layer: it knows WebAssembly and nothing of losses, so it ' +
        'imports only other engine/ files (no ops, api, pool, load, cli, reference, entries, node:).',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { pathNot: '^src/engine/' },
    },
    {
      name: 'ops-no-op-to-op',
      comment:
        'Protects one file per operation: an op file may share code only through ops/common.ts, ' +
        'never by importing another op file (ops/X -> ops/Y is forbidden unless Y is common.ts).',
      severity: 'error',
      from: { path: '^src/ops/' },
      to: { path: '^src/ops/', pathNot: '^src/ops/common\\.ts$' },
    },
    {
      name: 'ops-only-common-and-engine',
      comment:
        'Protects the ops from the layers above them: an op imports only ops/common.ts and ' +
        'engine/ - never api.ts, pool/, load/, cli/, reference/, the entry points or node: built-ins.',
      severity: 'error',
      from: { path: '^src/ops/' },
      to: { pathNot: '^src/(ops|engine)/' },
    },
    {
      name: 'reference-only-reference-and-ops',
      comment:
        'Protects the float64 reference as an independent oracle: it shares only the plans of ops/ ' +
        'and never reaches the WebAssembly engine/, api.ts, pool/, load/, cli/ or the entry points.',
      severity: 'error',
      from: { path: '^src/reference/' },
      to: { pathNot: '^src/(reference|ops)/' },
    },
    {
      name: 'api-only-ops-and-engine',
      comment:
        'Protects the Xentropy facade as a thin layer over the ops and the engine: it never imports ' +
        'pool/, load/, cli/, reference/ or an entry point (they are built on it, not under it).',
      severity: 'error',
      from: { path: '^src/api\\.ts$' },
      to: { pathNot: '^src/(ops|engine)/' },
    },
    {
      name: 'pool-only-pool-ops-engine',
      comment:
        'Protects the worker pool, whose worker.ts is a separate bundle: it imports only pool/, ' +
        'ops/ and engine/, never api.ts, load/, cli/, reference/ or an entry point.',
      severity: 'error',
      from: { path: '^src/pool/' },
      to: { pathNot: '^src/(pool|ops|engine)/' },
    },
    {
      name: 'load-only-load-engine-api',
      comment:
        'Protects loading (finding, compiling, instantiating builds): it imports only load/, ' +
        'engine/, the api.ts it instantiates and the shared checks of ops/common.ts - no op, pool/, ' +
        'cli/, reference/ or entry point.',
      severity: 'error',
      from: { path: '^src/load/' },
      to: { pathNot: '^(src/(load|engine)/|src/api\\.ts$|src/ops/common\\.ts$)' },
    },
    {
      name: 'report-self-contained',
      comment:
        'Protects the report as plain string-building that runs in any runtime (the CLI and a browser ' +
        'page): it imports only report/ and the types of ops/ - never engine/, load/, pool/, api.ts, ' +
        'cli/, reference/, an entry point or a node: built-in.',
      severity: 'error',
      from: { path: '^src/report/' },
      to: { pathNot: '^src/(report|ops)/' },
    },
    {
      name: 'report-only-types-from-ops',
      comment:
        'Protects the report from the WebAssembly path: what it takes from ops/ is type-only ' +
        '(`import type`), so no op, and through it no engine/, lands in a bundle that only renders.',
      severity: 'error',
      from: { path: '^src/report/' },
      to: { path: '^src/ops/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'arrays-self-contained',
      comment:
        'Protects the array readers as plain byte parsing that runs in any runtime (a browser page reads ' +
        'its files with them): they import only arrays/ - never engine/, load/, pool/, ops/, api.ts, cli/, ' +
        'report/, eval/, an entry point or a node: built-in (the command line brings node:fs and node:zlib).',
      severity: 'error',
      from: { path: '^src/arrays/' },
      to: { pathNot: '^src/arrays/' },
    },
    {
      name: 'eval-only-arrays-report-and-types',
      comment:
        'Protects xentropy/eval from the WebAssembly path: it imports arrays/ and report/, and from ops/ ' +
        'types only (the scorer is handed in), so the entry stays a small file of its own that loads no ' +
        'engine and no second copy of the library.',
      severity: 'error',
      from: { path: '^src/eval(/|\\.ts$)' },
      to: { pathNot: '^src/(arrays|report|eval)/|^src/ops/scorer\\.ts$' },
    },
    {
      name: 'eval-only-types-from-ops',
      comment: 'What eval/ takes from ops/ is type-only (`import type`): no op, and through it no engine/, lands in its bundle.',
      severity: 'error',
      from: { path: '^src/eval(/|\\.ts$)' },
      to: { path: '^src/ops/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-cli-imports-cli',
      comment:
        'Protects the library from the command line: nothing in src/ outside cli/ may import cli/ ' +
        '(it is Node-only and would drag node:fs into browser and worker bundles).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'entries-only-from-entries-and-cli',
      comment:
        'Protects the entry points as the top of the graph: only another entry point (re-exporting ' +
        'index.ts) or cli/ may import one; a library module importing an entry makes a cycle-in-waiting.',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/cli/|${ENTRIES}` },
      to: { path: ENTRIES },
    },
    {
      name: 'node-builtins-only-in-cli-and-node-entry',
      comment:
        'Protects browser, worker and edge bundles from node: specifiers: built-ins are imported ' +
        'statically only in cli/, the Node entry src/node.ts (elsewhere process.getBuiltinModule) and the ' +
        'esbuild plugin src/esbuild.ts (a build tool, which no entry point imports).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^(src/cli/|src/node\\.ts$|src/esbuild\\.ts$)' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-unresolvable',
      comment:
        'Protects against imports that point nowhere (a file moved, an import not updated). The ' +
        'wasm builds (./xentropy*.wasm, ./xentropy*.wasm?module) exist only in dist/, so they are exempt.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true, pathNot: '\\.wasm(\\?module)?$' },
    },
  ],
  options: {
    // node_modules is never entered (nothing in src/ imports a package today).
    doNotFollow: { path: 'node_modules' },
    // Count `import type` and `export type ... from` edges too.
    tsPreCompilationDeps: true,
    // Resolve TypeScript's NodeNext `./x.js` specifiers to the `./x.ts` files.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.json'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
