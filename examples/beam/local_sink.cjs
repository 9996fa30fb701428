// Where a pipeline run in this process (pipeline.mjs, scoreShards) leaves its output. Registered, so
// the last step's function refers to this array by name and reaches this very array; CommonJS, as
// every module registered for serialisation must be: a portable runner's worker `require`s them all.

'use strict';

const { requireForSerialization } = require('apache-beam/serialization');

const outputs = [];
module.exports = { outputs };
requireForSerialization('xentropy-beam-example/local-sink', module.exports);
