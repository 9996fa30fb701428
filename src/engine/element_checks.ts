// Per-element range checks done in WebAssembly (kernels.firstOutside) by the runners: probabilities in
// [0, 1], log-probabilities in [-inf, 0]. A JavaScript loop over the elements is slower than the losses
// themselves (bench/ops.js), so a plan leaves such checks to its runner as ElementCheck values, and the
// runner scans before any output the caller can see is written: resident arguments where they lie,
// before the first kernel call; plain arrays window by window as they are staged, or, when a gradient
// goes to the caller's gradOut (written window by window), in a first pass over the staged windows. On
// a hit the JavaScript checks run over the whole arrays, in the plan's order, and throw their own
// message: the reference's.

import type { Driver, Resident, ResidentDtype } from './driver.js';
import { stageFloats, type FloatData, type FloatKind } from './staging.js';

/** @internal Every value of one argument in [lo, hi] (NaN never is), and the JavaScript check that says which is not. */
export interface ElementCheck {
  lo: number;
  hi: number;
  /** Throws the RangeError that names the first element of values outside [lo, hi]; returns if there is none. */
  explain(values: Float32Array): void;
}

/**
 * @internal
 * The error a runner throws when its WebAssembly range scan found an element out of range but the
 * JavaScript check, which should then have thrown, did not: a bug, never bad input.
 */
export function scanDisagreement(): Error {
  return new Error('xentropy: the WebAssembly range scan and the JavaScript check disagree (please report this)');
}

/** @internal One argument a runner scans: its check (null: none owed), values, handle and staging window. */
export interface ScannedArgument {
  check: ElementCheck | null;
  /** The argument's values (for a resident one, a view taken after the runner's reserve). */
  values: FloatData;
  /** What values holds (float32 unless said): other kinds are scanned once widened, as staged. */
  kind?: FloatKind;
  /** Its resident handle: a float32 one is scanned where it lies, a half one as it is widened. */
  resident: Resident<ResidentDtype> | null;
  /** Where the runner stages the argument's windows (unused for a resident float32 argument). */
  window: number;
  /** Raw scratch for staging a kind other than float32 (staging.ts rawBytes). */
  raw?: number;
  /** The JavaScript widening of values, for the checks' messages (ops/common.ts widenValues). */
  widen?: (values: FloatData) => Float32Array;
}

/**
 * @internal
 * Starts a runner's element scans over arguments of one length, given in the order the plan would
 * have checked them. Resident arguments are scanned where they lie, now. Plain ones are scanned by
 * the returned function, which the runner calls with elements [a, b) of each argument staged at
 * ptrs (in the order of args); or, with `first`, every window of windowLength elements is staged
 * and scanned now (the runner then writes output the caller can see as it goes, which must not start
 * before the last element has passed). On a hit, every check runs in JavaScript in order, so the
 * error is the one the plan would have thrown.
 */
export function startScan(
  d: Driver, args: readonly ScannedArgument[], windowLength: number, first: boolean,
): (a: number, b: number, ptrs: readonly number[]) => void {
  const refuse = (): never => {
    for (const { check, values, widen } of args) check?.explain(widen ? widen(values) : values as Float32Array);
    throw scanDisagreement();
  };
  const outside = (check: ElementCheck, ptr: number, n: number): boolean => d.kernels.firstOutside(ptr, n, check.lo, check.hi) >= 0;
  // Only a float32 resident argument is read where it lies; any other is scanned as it is staged.
  const direct = ({ resident, kind }: ScannedArgument): boolean => resident !== null && (kind ?? 'f32') === 'f32';
  for (const arg of args) {
    if (arg.check && direct(arg) && outside(arg.check, arg.resident!.ptr, arg.values.length)) refuse();
  }
  const none = (): void => {};
  if (!args.some((arg) => arg.check && !direct(arg))) return none;
  if (first) {
    const n = args[0].values.length;
    for (let a = 0; a < n; a += windowLength) {
      const b = Math.min(n, a + windowLength);
      for (const arg of args) {
        if (!arg.check || direct(arg)) continue;
        const ptr = stageFloats(d, arg.window, arg.raw ?? 0, arg.values, arg.kind ?? 'f32', arg.resident, a, b);
        if (outside(arg.check, ptr, b - a)) refuse();
      }
    }
    return none;
  }
  return (a, b, ptrs) => {
    args.forEach((arg, i) => {
      if (arg.check && !direct(arg) && outside(arg.check, ptrs[i], b - a)) refuse();
    });
  };
}
