// The smoke suite in a Vitest test under a VM pool (vitest.mjs runs it).
import { writeFileSync } from 'node:fs';
import { test } from 'vitest';
import * as xentropy from 'xentropy';
import { smoke } from '../smoke.mjs';

test('the smoke suite', async () => {
  const result = await smoke(xentropy);
  writeFileSync(process.env.XENTROPY_SMOKE_OUT, JSON.stringify({ result, entry: import.meta.resolve?.('xentropy') ?? '' }));
});
