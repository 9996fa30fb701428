// The smoke suite in a Jest test, the package imported as an ES module (jest.mjs runs it).
import { writeFileSync } from 'node:fs';
import * as xentropy from 'xentropy';
import { smoke } from '../smoke.mjs';

test('the smoke suite', async () => {
  const result = await smoke(xentropy);
  writeFileSync(process.env.XENTROPY_SMOKE_OUT, JSON.stringify({ result, entry: import.meta.resolve?.('xentropy') ?? '' }));
});
