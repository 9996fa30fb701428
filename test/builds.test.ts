// The three builds (asconfig.json targets release, relaxed, scalar): what each reports, how init
// chooses between them, and that they agree with each other on the same inputs.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { init, initSync } from '../src/index.js';
import { bestBuild, BUILD_FILES } from '../src/engine/builds.js';
import { labels, normal, wasm, wasmBackends, wasmScalar, wasmRelaxed } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const file = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url));

describe('builds', () => {
  it('report what they were compiled with through xe.features', () => {
    expect(wasm.features).toEqual({ build: 'simd', simd: true, relaxedSimd: false });
    expect(wasmScalar.features).toEqual({ build: 'scalar', simd: false, relaxedSimd: false });
    if (wasmRelaxed) expect(wasmRelaxed.features).toEqual({ build: 'relaxed-simd', simd: true, relaxedSimd: true });
  });

  it("'auto' picks the fastest build this runtime validates", async () => {
    const relaxedValid = WebAssembly.validate(file(BUILD_FILES['relaxed-simd']));
    expect(bestBuild()).toBe(relaxedValid ? 'relaxed-simd' : 'simd');
    expect((await init()).features.build).toBe(bestBuild());
    expect((await init({ build: 'auto' })).features.build).toBe(bestBuild());
    expect(initSync({ build: 'scalar' }).features.build).toBe('scalar');
    // The test runner enables relaxed SIMD on Node 20 (vitest.config.ts), so every build is covered.
    expect(relaxedValid).toBe(true);
  });

  it('load relaxed SIMD in a Node started through scripts/relaxed-simd.mjs, whichever Node (npm run bench)', () => {
    // Node 20 needs V8's flag; Node 22 and later validate relaxed SIMD by default and refuse the flag.
    const probe = `console.log(WebAssembly.validate(require('fs').readFileSync(${JSON.stringify(BUILD_FILES['relaxed-simd'])})))`;
    const run = spawnSync(process.execPath, ['scripts/relaxed-simd.mjs', '-e', probe], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect([run.status, run.stdout]).toEqual([0, 'true\n']);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.bench).toContain('node scripts/relaxed-simd.mjs bench/run.js');
  });

  it('refuse an unknown build name, and a build combined with a module', async () => {
    await expect(init({ build: 'avx' as never })).rejects.toThrow(
      new RangeError("options.build must be 'auto', 'relaxed-simd', 'simd', 'scalar', got \"avx\""),
    );
    await expect(init({ build: 'simd', module: file(BUILD_FILES.simd) })).rejects.toThrow(RangeError);
    expect(() => initSync({ build: 1 as never })).toThrow(RangeError);
  });

  it('load a module given as bytes whatever build it is', async () => {
    const xe = await init({ module: file(BUILD_FILES.scalar) });
    expect(xe.features.build).toBe('scalar');
  });

  it('agree on the loss and gradient to float32 rounding (rel 1e-6 + abs 1e-7)', () => {
    const N = 97, C = 1003;
    const z = normal(N * C, 4, 11), y = labels(N, C, 12);
    const simd = wasm.crossEntropyWithGrad(z, y, { classes: C });
    for (const [name, xe] of wasmBackends) {
      const r = xe.crossEntropyWithGrad(z, y, { classes: C });
      expect(Math.abs(r.loss - simd.loss), name).toBeLessThanOrEqual(1e-6 * Math.abs(simd.loss) + 1e-7);
      let worst = 0;
      for (let i = 0; i < r.grad.length; i++) worst = Math.max(worst, Math.abs(r.grad[i] - simd.grad[i]));
      expect(worst, name).toBeLessThanOrEqual(1e-7);
    }
  });

  it('the SIMD build gives identical bits for vector lanes and the scalar tail (no fused multiply-add)', () => {
    // A row of 5 classes runs 4 lanes then 1 tail element; the same values shifted run the tail first.
    const z = new Float32Array([0.3, -1.7, 2.2, 0.9, -0.4]);
    const rotated = new Float32Array([-0.4, 0.3, -1.7, 2.2, 0.9]);
    const a = wasm.softmax(z, 5), b = wasm.softmax(rotated, 5);
    expect(Array.from(b)).toEqual([a[4], a[0], a[1], a[2], a[3]]);
  });
});
