// The three builds of the kernels, compiled from one source (asconfig.json), and the choice between
// them: relaxed SIMD (fused multiply-add) where the runtime validates it, else SIMD, else scalar.

/** A build of the kernels. */
export type Build = 'relaxed-simd' | 'simd' | 'scalar';

/** Every build, fastest first. */
export const BUILDS: readonly Build[] = ['relaxed-simd', 'simd', 'scalar'];

/**
 * File of each build, relative to the package root. They sit in dist/ beside the entry points, so that
 * the browser entry's `new URL('./xentropy.wasm', import.meta.url)` works unbundled and after any bundler.
 */
export const BUILD_FILES: Readonly<Record<Build, string>> = {
  'relaxed-simd': 'dist/xentropy.relaxed.wasm',
  simd: 'dist/xentropy.wasm',
  scalar: 'dist/xentropy.scalar.wasm',
};

/** What an instance runs on (`xe.features`). */
export interface Features {
  /** The build that was loaded. */
  build: Build;
  /** Whether the kernels use 128-bit SIMD. */
  simd: boolean;
  /** Whether they use relaxed SIMD (results may then differ in the last bit between machines). */
  relaxedSimd: boolean;
}

// Smallest modules that need each feature: one function returning a v128.const (SIMD), and one
// returning f32x4.relaxed_madd of three of them (relaxed SIMD).
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00];
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const SIMD_PROBE = [...HEADER, 0x0a, 0x16, 0x01, 0x14, 0x00, ...V128_ZERO, 0x0b];
const RELAXED_PROBE = [
  ...HEADER, 0x0a, 0x3d, 0x01, 0x3b, 0x00, ...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02, 0x0b,
];

let detected: Build | undefined;

/** The fastest build this runtime can run, found once by validating the probe modules. */
export function bestBuild(): Build {
  detected ??= WebAssembly.validate(new Uint8Array(RELAXED_PROBE)) ? 'relaxed-simd'
    : WebAssembly.validate(new Uint8Array(SIMD_PROBE)) ? 'simd' : 'scalar';
  return detected;
}

/** Features of a loaded instance, from the bits its `buildFeatures` export reports. */
export function featuresOf(bits: number): Features {
  const simd = (bits & 1) !== 0, relaxedSimd = (bits & 2) !== 0;
  return { build: relaxedSimd ? 'relaxed-simd' : simd ? 'simd' : 'scalar', simd, relaxedSimd };
}
