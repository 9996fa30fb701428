// examples/train-iris.mjs: softmax regression on iris with crossEntropyWithGrad. The example imports
// the built package (../dist/index.js), so it needs `npm run build` first, as a user's copy would.

import { describe, expect, it } from 'vitest';
import { train } from '../examples/train-iris.mjs';

describe('examples/train-iris.mjs', () => {
  it('halves the training loss in 100 epochs and reaches held-out accuracy >= 0.9 (seeds 1, 2, 3)', async () => {
    for (const seed of [1, 2, 3]) {
      const lines: string[] = [];
      const { history, trainRows, heldOutRows } = await train({ epochs: 100, seed, log: (line) => lines.push(line) });
      expect(trainRows).toBe(120);
      expect(heldOutRows).toBe(30);
      expect(history).toHaveLength(100);
      expect(lines).toHaveLength(100);
      expect(lines[99]).toMatch(/^epoch  100  train loss \d\.\d{4}  held-out loss \d\.\d{4}  held-out accuracy \d\.\d{3} \(\d+ \/ 30\)$/);
      const first = history[0], last = history[99];
      // W starts at 0: every class is equally likely, a loss of ln 3.
      expect(first.trainLoss).toBeCloseTo(Math.log(3), 6);
      expect(last.trainLoss).toBeLessThan(0.5 * first.trainLoss);
      expect(last.heldOutAccuracy).toBeGreaterThanOrEqual(0.9);
      expect(Number.isFinite(last.heldOutLoss)).toBe(true);
    }
  });
});

describe('scripts/make-sample.mjs (npm run sample)', () => {
  it('writes the bundled sample again, byte for byte, from the built package', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'xentropy-sample-'));
    try {
      const r = spawnSync(process.execPath, ['scripts/make-sample.mjs', dir], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      for (const name of ['sample-logits.npy', 'sample-labels.npy', 'sample-binary-logits.npy', 'sample-binary-labels.npy']) {
        expect(readFileSync(join(dir, name)).equals(readFileSync(join('data', name))), name).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
