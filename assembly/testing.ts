// Entry of the test build (asconfig.json target "testing", build/xentropy.testing.wasm, not packed): the
// SIMD build's kernels, compiled with the same flags, plus the array forms of the exponential and the
// logarithms, so that test/exp.test.ts and test/log.test.ts measure the bounds the kernels' inlined
// copies obey. Kept out of the shipped builds: code size for functions no user calls.

export * from './index';
export { expNegArray } from './exp';
export { logArray, log1pUnitArray } from './log';
