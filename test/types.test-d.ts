// The public types, checked by the compiler rather than run: `npm test` runs this file in vitest's
// typecheck mode (vitest.config.ts, test.typecheck), and `npm run typecheck` compiles it with the rest of
// test/. Each expectTypeOf is an assertion on a type; each `// @ts-expect-error` asserts that the line
// below it does not compile (an error that goes away fails the check as an unused directive).
//
// What they pin down: the result of every function with a reduction follows that reduction's type (a
// literal gives a number or an array, a union the union, an absent one the default's), for the
// instance, the pool (promises of the same) and the float64 reference (Float64Array per row); gradOut is
// an option of the *WithGrad functions only; and unknown options and wrong array types do not compile.

import { describe, expectTypeOf, test } from 'vitest';
import type { BinaryCrossEntropyGradOptions } from '../src/ops/binary_cross_entropy.js';
import type { CrossEntropyGradOptions } from '../src/ops/cross_entropy.js';
import {
  reference,
  type CrossEntropyOptions, type DivergenceReduction, type EntropyReduction, type LossAndGrad, type Reduction,
  type PoolBinaryScorer, type PoolMultilabelScorer, type PoolScorer, type Resident, type ScoreResult, type Scorer, type ScorerState, type Xentropy, type XentropyPool,
} from '../src/index.js';

declare const xe: Xentropy;
declare const pool: XentropyPool;
declare const z: Float32Array;
declare const labels: Int32Array;
declare const soft: Float32Array;
declare const bytes: Uint8Array;
declare const resident: Resident;
/** A reduction known only as a union, as when it is read from a variable or a configuration. */
declare const meanOrNone: 'mean' | 'none';
declare const anyReduction: Reduction;
declare const sumOrNone: 'sum' | 'none';
declare const divergence: DivergenceReduction;
declare const entropyReduction: EntropyReduction;

type Grad = LossAndGrad<number>;
type GradRows = LossAndGrad<Float32Array>;

describe('Xentropy: the result follows the reduction', () => {
  test('crossEntropy', () => {
    expectTypeOf(xe.crossEntropy(z, labels, { classes: 3 })).toEqualTypeOf<number>();
    expectTypeOf(xe.crossEntropy(z, labels, { classes: 3, reduction: 'mean' })).toEqualTypeOf<number>();
    expectTypeOf(xe.crossEntropy(z, labels, { classes: 3, reduction: 'sum' })).toEqualTypeOf<number>();
    expectTypeOf(xe.crossEntropy(z, soft, { classes: 3, reduction: 'none' })).toEqualTypeOf<Float32Array>();
    expectTypeOf(xe.crossEntropy(z, [0, 2], { classes: 3, reduction: meanOrNone })).toEqualTypeOf<number | Float32Array>();
    expectTypeOf(xe.crossEntropy(resident, labels, { classes: 3, reduction: anyReduction })).toEqualTypeOf<number | Float32Array>();
    // An explicit undefined is the default at run time; its type says only "some reduction".
    expectTypeOf(xe.crossEntropy(z, labels, { classes: 3, reduction: undefined })).toEqualTypeOf<number | Float32Array>();
  });

  test('crossEntropy with options held in a variable', () => {
    // Annotated with the plain options type: the reduction may be any, so may the result.
    const any: CrossEntropyOptions = { classes: 3 };
    expectTypeOf(xe.crossEntropy(z, labels, any)).toEqualTypeOf<number | Float32Array>();
    // With `satisfies` (which keeps the literal's own type), `as const`, or the reduction in the type,
    // it is exact.
    const mean: CrossEntropyOptions & { reduction?: 'mean' } = { classes: 3 };
    expectTypeOf(xe.crossEntropy(z, labels, mean)).toEqualTypeOf<number>();
    const none = { classes: 3, reduction: 'none' } satisfies CrossEntropyOptions;
    expectTypeOf(xe.crossEntropy(z, labels, none)).toEqualTypeOf<Float32Array>();
    const constant = { classes: 3, reduction: 'sum' } as const;
    expectTypeOf(xe.crossEntropy(z, labels, constant)).toEqualTypeOf<number>();
    const absent = { classes: 3, labelSmoothing: 0.1 } satisfies CrossEntropyOptions;
    expectTypeOf(xe.crossEntropyWithGrad(z, labels, absent)).toEqualTypeOf<Grad>();
  });

  test('crossEntropyWithGrad', () => {
    expectTypeOf(xe.crossEntropyWithGrad(z, labels, { classes: 3 })).toEqualTypeOf<Grad>();
    expectTypeOf(xe.crossEntropyWithGrad(z, labels, { classes: 3, reduction: 'sum', gradOut: z })).toEqualTypeOf<Grad>();
    expectTypeOf(xe.crossEntropyWithGrad(z, labels, { classes: 3, reduction: 'none', gradOut: resident }))
      .toEqualTypeOf<GradRows>();
    expectTypeOf(xe.crossEntropyWithGrad(z, labels, { classes: 3, reduction: meanOrNone }))
      .toEqualTypeOf<LossAndGrad<number | Float32Array>>();
    expectTypeOf(xe.crossEntropyWithGrad(z, labels, { classes: 3 }).grad).toEqualTypeOf<Float32Array>();
    // Options typed for the gradient call (gradOut included) name the reduction the same way.
    const o = { classes: 3, reduction: 'none', gradOut: z } satisfies CrossEntropyGradOptions;
    expectTypeOf(xe.crossEntropyWithGrad(z, labels, o)).toEqualTypeOf<GradRows>();
  });

  test('binaryCrossEntropy and binaryCrossEntropyWithGrad', () => {
    expectTypeOf(xe.binaryCrossEntropy(z, bytes)).toEqualTypeOf<number>();
    expectTypeOf(xe.binaryCrossEntropy(z, soft, {})).toEqualTypeOf<number>();
    expectTypeOf(xe.binaryCrossEntropy(z, bytes, { reduction: 'sum' })).toEqualTypeOf<number>();
    expectTypeOf(xe.binaryCrossEntropy(z, resident, { reduction: 'none' })).toEqualTypeOf<Float32Array>();
    expectTypeOf(xe.binaryCrossEntropy(z, bytes, { reduction: sumOrNone })).toEqualTypeOf<number | Float32Array>();
    expectTypeOf(xe.binaryCrossEntropyWithGrad(z, bytes)).toEqualTypeOf<Grad>();
    expectTypeOf(xe.binaryCrossEntropyWithGrad(z, bytes, { reduction: 'none', gradOut: z })).toEqualTypeOf<GradRows>();
    expectTypeOf(xe.binaryCrossEntropyWithGrad(z, bytes, { reduction: anyReduction }))
      .toEqualTypeOf<LossAndGrad<number | Float32Array>>();
    const o = { classes: 2, gradOut: z } satisfies BinaryCrossEntropyGradOptions;
    expectTypeOf(xe.binaryCrossEntropyWithGrad(z, bytes, o)).toEqualTypeOf<Grad>();
  });

  test("entropy: 'none' is the default", () => {
    expectTypeOf(xe.entropy(z, 3)).toEqualTypeOf<Float32Array>();
    expectTypeOf(xe.entropy(z, 3, {})).toEqualTypeOf<Float32Array>();
    expectTypeOf(xe.entropy(z, 3, { from: 'logits' })).toEqualTypeOf<Float32Array>();
    expectTypeOf(xe.entropy(z, 3, { reduction: 'none' })).toEqualTypeOf<Float32Array>();
    expectTypeOf(xe.entropy(z, 3, { reduction: 'mean' })).toEqualTypeOf<number>();
    expectTypeOf(xe.entropy(z, 3, { reduction: 'sum', unit: 'bits' })).toEqualTypeOf<number>();
    expectTypeOf(xe.entropy(z, 3, { reduction: entropyReduction })).toEqualTypeOf<number | Float32Array>();
  });

  test('klDivergence, klDivergenceWithGrad, jsDivergence', () => {
    expectTypeOf(xe.klDivergence(z, z, 3)).toEqualTypeOf<number>();
    expectTypeOf(xe.klDivergence(z, z, 3, { from: 'logits' })).toEqualTypeOf<number>();
    expectTypeOf(xe.klDivergence(z, z, 3, { reduction: 'batchmean' })).toEqualTypeOf<number>();
    expectTypeOf(xe.klDivergence(z, z, 3, { reduction: 'none' })).toEqualTypeOf<Float32Array>();
    expectTypeOf(xe.klDivergence(z, z, 3, { reduction: divergence })).toEqualTypeOf<number | Float32Array>();
    expectTypeOf(xe.klDivergenceWithGrad(z, z, 3)).toEqualTypeOf<Grad>();
    expectTypeOf(xe.klDivergenceWithGrad(z, z, 3, { reduction: 'none', gradOut: z })).toEqualTypeOf<GradRows>();
    expectTypeOf(xe.klDivergenceWithGrad(z, z, 3, { reduction: divergence }))
      .toEqualTypeOf<LossAndGrad<number | Float32Array>>();
    expectTypeOf(xe.jsDivergence(z, z, 3)).toEqualTypeOf<number>();
    expectTypeOf(xe.jsDivergence(z, z, 3, { reduction: 'mean' })).toEqualTypeOf<number>();
    expectTypeOf(xe.jsDivergence(z, z, 3, { reduction: 'none' })).toEqualTypeOf<Float32Array>();
    expectTypeOf(xe.jsDivergence(z, z, 3, { reduction: divergence })).toEqualTypeOf<number | Float32Array>();
  });

  test('functions without a reduction keep their types', () => {
    expectTypeOf(xe.softmax(z, 3)).toEqualTypeOf<Float32Array>();
    expectTypeOf(xe.crossEntropyOver([{ input: z, target: labels }], { classes: 3 })).toEqualTypeOf<number>();
  });
});

describe('XentropyPool: promises of the same', () => {
  test('crossEntropy and crossEntropyWithGrad', () => {
    expectTypeOf(pool.crossEntropy(z, labels, { classes: 3 })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pool.crossEntropy(z, labels, { classes: 3, reduction: 'none' })).toEqualTypeOf<Promise<Float32Array>>();
    expectTypeOf(pool.crossEntropy(z, labels, { classes: 3, reduction: meanOrNone }))
      .toEqualTypeOf<Promise<number | Float32Array>>();
    expectTypeOf(pool.crossEntropyWithGrad(z, labels, { classes: 3 })).toEqualTypeOf<Promise<Grad>>();
    expectTypeOf(pool.crossEntropyWithGrad(z, labels, { classes: 3, reduction: 'none', gradOut: z }))
      .toEqualTypeOf<Promise<GradRows>>();
    expectTypeOf(pool.crossEntropyWithGrad(z, labels, { classes: 3, reduction: anyReduction }))
      .toEqualTypeOf<Promise<LossAndGrad<number | Float32Array>>>();
  });

  test('binaryCrossEntropy and binaryCrossEntropyWithGrad', () => {
    expectTypeOf(pool.binaryCrossEntropy(z, bytes)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pool.binaryCrossEntropy(z, bytes, { reduction: 'none' })).toEqualTypeOf<Promise<Float32Array>>();
    expectTypeOf(pool.binaryCrossEntropy(z, bytes, { reduction: sumOrNone })).toEqualTypeOf<Promise<number | Float32Array>>();
    expectTypeOf(pool.binaryCrossEntropyWithGrad(z, bytes, { reduction: 'sum' })).toEqualTypeOf<Promise<Grad>>();
    expectTypeOf(pool.binaryCrossEntropyWithGrad(z, bytes, { reduction: 'none' })).toEqualTypeOf<Promise<GradRows>>();
  });
});

describe('PoolScorer: an async update, the rest as Scorer', () => {
  test('update returns a promise of the scorer; result, state, merge and reset are synchronous', () => {
    const scorer = pool.scorer({ classes: 3 });
    expectTypeOf(scorer).toEqualTypeOf<PoolScorer>();
    expectTypeOf(scorer.update(z, labels)).toEqualTypeOf<Promise<PoolScorer>>();
    expectTypeOf(scorer.update(z, labels, { bytes: 10 })).toEqualTypeOf<Promise<PoolScorer>>();
    expectTypeOf(scorer.result()).toEqualTypeOf<ScoreResult>();
    expectTypeOf(scorer.state()).toEqualTypeOf<ScorerState>();
    expectTypeOf(scorer.merge(xe.scorer({ classes: 3 }))).toEqualTypeOf<PoolScorer>();
    expectTypeOf(scorer.merge(scorer.state())).toEqualTypeOf<PoolScorer>();
    expectTypeOf(scorer.reset()).toEqualTypeOf<PoolScorer>();
    expectTypeOf(scorer.count).toEqualTypeOf<number>();
    expectTypeOf(pool.scorerFromState(scorer.state())).toEqualTypeOf<PoolScorer>();
    expectTypeOf(xe.scorer({ classes: 3 }).update(z, labels)).toEqualTypeOf<Scorer>();
    // @ts-expect-error: options as xe.scorer's
    pool.scorer({ classes: 3, bogus: true });
  });

  test('the binary and multilabel pool scorers', () => {
    expectTypeOf(pool.binaryScorer().update(z, bytes)).toEqualTypeOf<Promise<PoolBinaryScorer>>();
    expectTypeOf(pool.binaryScorer({ thresholds: 10 }).result().rocAuc).toEqualTypeOf<number>();
    expectTypeOf(pool.multilabelScorer({ labels: 2 }).update(z, bytes)).toEqualTypeOf<Promise<PoolMultilabelScorer>>();
    expectTypeOf(pool.multilabelScorer({ labels: 2 }).labels).toEqualTypeOf<number>();
  });
});

describe('reference: numbers, and Float64Array per row', () => {
  type RefGrad<L> = { loss: L; grad: Float32Array | Float64Array };

  test('the default and literal reductions give a number under strict mode', () => {
    const loss: number = reference.crossEntropy(z, labels, { classes: 3 });
    expectTypeOf(loss).toEqualTypeOf<number>();
    expectTypeOf(reference.crossEntropy(z, soft, { classes: 3, reduction: 'sum' })).toEqualTypeOf<number>();
    expectTypeOf(reference.crossEntropyWithGrad(z, labels, { classes: 3 }).loss).toEqualTypeOf<number>();
    expectTypeOf(reference.binaryCrossEntropy(z, bytes)).toEqualTypeOf<number>();
    expectTypeOf(reference.binaryCrossEntropyWithGrad(z, bytes, { reduction: 'mean' }).loss).toEqualTypeOf<number>();
    expectTypeOf(reference.entropy(z, 3, { reduction: 'mean' })).toEqualTypeOf<number>();
    expectTypeOf(reference.klDivergence(z, z, 3)).toEqualTypeOf<number>();
    expectTypeOf(reference.klDivergenceWithGrad(z, z, 3).loss).toEqualTypeOf<number>();
    expectTypeOf(reference.jsDivergence(z, z, 3, { reduction: 'sum' })).toEqualTypeOf<number>();
    expectTypeOf(reference.score(z, labels, { classes: 3 }).loss).toEqualTypeOf<number>();
  });

  test("'none' gives a Float64Array, a union the union", () => {
    expectTypeOf(reference.crossEntropy(z, labels, { classes: 3, reduction: 'none' })).toEqualTypeOf<Float64Array>();
    expectTypeOf(reference.crossEntropy(z, labels, { classes: 3, reduction: meanOrNone }))
      .toEqualTypeOf<number | Float64Array>();
    expectTypeOf(reference.crossEntropyWithGrad(z, labels, { classes: 3, reduction: 'none', gradOut: z }))
      .toEqualTypeOf<RefGrad<Float64Array>>();
    expectTypeOf(reference.binaryCrossEntropy(z, bytes, { reduction: 'none' })).toEqualTypeOf<Float64Array>();
    expectTypeOf(reference.binaryCrossEntropyWithGrad(z, bytes, { reduction: sumOrNone }))
      .toEqualTypeOf<RefGrad<number | Float64Array>>();
    expectTypeOf(reference.entropy(z, 3)).toEqualTypeOf<Float64Array>();
    expectTypeOf(reference.entropy(z, 3, { reduction: entropyReduction })).toEqualTypeOf<number | Float64Array>();
    expectTypeOf(reference.klDivergence(z, z, 3, { reduction: 'none' })).toEqualTypeOf<Float64Array>();
    expectTypeOf(reference.klDivergenceWithGrad(z, z, 3, { reduction: divergence }))
      .toEqualTypeOf<RefGrad<number | Float64Array>>();
    expectTypeOf(reference.jsDivergence(z, z, 3, { reduction: 'none' })).toEqualTypeOf<Float64Array>();
  });
});

describe('calls that do not compile', () => {
  test('gradOut on a loss-only call', () => {
    // @ts-expect-error gradOut is an option of crossEntropyWithGrad only
    xe.crossEntropy(z, labels, { classes: 3, gradOut: z });
    // @ts-expect-error the same on the pool
    void pool.crossEntropy(z, labels, { classes: 3, gradOut: z });
    // @ts-expect-error gradOut is an option of binaryCrossEntropyWithGrad only
    xe.binaryCrossEntropy(z, bytes, { gradOut: z });
    // @ts-expect-error the same on the pool
    void pool.binaryCrossEntropy(z, bytes, { gradOut: z });
    // @ts-expect-error gradOut is an option of klDivergenceWithGrad only
    xe.klDivergence(z, z, 3, { gradOut: z });
    // @ts-expect-error jsDivergence has no gradient
    xe.jsDivergence(z, z, 3, { gradOut: z });
    // @ts-expect-error the reference refuses it too
    reference.crossEntropy(z, labels, { classes: 3, gradOut: z });
    // @ts-expect-error the reference refuses it too
    reference.binaryCrossEntropy(z, bytes, { gradOut: z });
    // @ts-expect-error the reference refuses it too
    reference.klDivergence(z, z, 3, { gradOut: z });
  });

  test('unknown option names in an object literal', () => {
    // @ts-expect-error a misspelt option (the run-time error says: no option "reductions")
    xe.crossEntropy(z, labels, { classes: 3, reductions: 'sum' });
    // @ts-expect-error also next to gradOut
    xe.crossEntropyWithGrad(z, labels, { classes: 3, gradOut: z, smoothing: 0.1 });
    // @ts-expect-error posWeight is binary cross-entropy's; this is crossEntropy
    xe.crossEntropy(z, labels, { classes: 3, posWeight: soft });
    // @ts-expect-error entropy's options
    xe.entropy(z, 3, { epsilon: 1e-7 });
    // @ts-expect-error klDivergence's options
    xe.klDivergence(z, z, 3, { logTargets: true });
    // @ts-expect-error jsDivergence has no logTarget
    xe.jsDivergence(z, z, 3, { logTarget: true });
    // @ts-expect-error binaryCrossEntropy's options
    xe.binaryCrossEntropy(z, bytes, { ignoreIndex: -1 });
    // @ts-expect-error the pool's
    void pool.crossEntropy(z, labels, { classes: 3, reduce: 'sum' });
    // @ts-expect-error the reference's
    reference.entropy(z, 3, { reductions: 'sum' });
    // @ts-expect-error focal's
    xe.crossEntropy(z, labels, { classes: 3, focal: { gama: 2 } });
  });

  test('unknown option values', () => {
    // @ts-expect-error not a reduction of crossEntropy
    xe.crossEntropy(z, labels, { classes: 3, reduction: 'batchmean' });
    // @ts-expect-error not a reduction of entropy
    xe.entropy(z, 3, { reduction: 'batchmean' });
    // @ts-expect-error not a unit
    xe.klDivergence(z, z, 3, { unit: 'bit' });
    // @ts-expect-error classes is required
    xe.crossEntropy(z, labels, {});
    // @ts-expect-error options are required for crossEntropy
    xe.crossEntropy(z, labels);
  });

  test('wrong array types', () => {
    // @ts-expect-error a Float64Array target: class indices or Float32Array probabilities only
    xe.crossEntropy(z, new Float64Array(3), { classes: 3 });
    // @ts-expect-error an Int32Array input (float inputs only)
    xe.crossEntropy(new Int32Array(3), labels, { classes: 3 });
    // @ts-expect-error the pool's
    void pool.crossEntropy(z, new Float64Array(3), { classes: 3 });
    // @ts-expect-error a Float64Array target of binary cross-entropy (Float32Array, or integer labels of 0 and 1)
    xe.binaryCrossEntropy(z, new Float64Array(3));
    // Integer labels, int64 ones included, are binary targets.
    xe.binaryCrossEntropy(z, labels);
    xe.binaryCrossEntropy(z, new BigInt64Array(3));
    // @ts-expect-error a Float64Array gradOut
    xe.crossEntropyWithGrad(z, labels, { classes: 3, gradOut: new Float64Array(3) });
    // @ts-expect-error a Float64Array class weight
    xe.crossEntropy(z, labels, { classes: 3, weight: new Float64Array(3) });
    // @ts-expect-error an Int32Array into the reference
    reference.crossEntropy(new Int32Array(3), labels, { classes: 3 });
    // @ts-expect-error a dtype that is none
    xe.crossEntropy(new Uint16Array(3), labels, { classes: 3, dtype: 'half' });
    // @ts-expect-error a half resident buffer is an input only, never a gradOut
    xe.crossEntropyWithGrad(z, labels, { classes: 3, gradOut: xe.alloc(3, { dtype: 'float16' }) });
    // @ts-expect-error nor an out
    xe.softmax(z, 3, xe.alloc(3, { dtype: 'bfloat16' }));
  });

  test('element types: float64, half bits with dtype, half resident buffers', () => {
    const f64: number = xe.crossEntropy(new Float64Array(3), labels, { classes: 3 });
    const f16: number = xe.crossEntropy(new Uint16Array(3), labels, { classes: 3, dtype: 'float16' });
    const halfResident = xe.alloc(3, { dtype: 'float16' });
    const bits: Uint16Array = halfResident.array;
    const floats: Float32Array = xe.alloc(3).array;
    const bf16: Float32Array = xe.softmax(xe.tensor(new Uint16Array(3), { dtype: 'bfloat16' }), 3);
    const ent: number = xe.entropy(new Uint16Array(3), 3, { dtype: 'bfloat16', reduction: 'sum' });
    const kl: number = xe.klDivergence(new Float64Array(3), new Uint16Array(3), 3, { dtype: 'float16' });
    const lse: Float32Array = xe.logSumExp(new Uint16Array(3), 3, undefined, { dtype: 'float16' });
    const ref = reference.crossEntropy(new Uint16Array(3), labels, { classes: 3, dtype: 'float16' });
    void [f64, f16, bits, floats, bf16, ent, kl, lse, ref];
  });

  test('a result used as the wrong type', () => {
    // @ts-expect-error 'none' is an array, not a number
    const loss: number = xe.crossEntropy(z, labels, { classes: 3, reduction: 'none' });
    // @ts-expect-error a union reduction may be an array
    const maybe: number = xe.crossEntropy(z, labels, { classes: 3, reduction: meanOrNone });
    // @ts-expect-error entropy's default is one value per row
    const h: number = xe.entropy(z, 3);
    // @ts-expect-error the reference's rows are Float64Array
    const rows: Float32Array = reference.crossEntropy(z, labels, { classes: 3, reduction: 'none' });
    void [loss, maybe, h, rows];
  });
});
