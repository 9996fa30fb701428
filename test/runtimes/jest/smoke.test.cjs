// The smoke suite in a Jest test, the package loaded with require() (jest.mjs runs it; Node ≥ 24.9).
const { writeFileSync } = require('node:fs');
const xentropy = require('xentropy');
const { smoke } = require('../smoke.mjs');

test('the smoke suite', async () => {
  const result = await smoke(xentropy);
  writeFileSync(process.env.XENTROPY_SMOKE_OUT, JSON.stringify({ result, entry: require.resolve('xentropy') }));
});
