import {
  planBinaryCrossEntropy, reduceBinary, type BinaryCrossEntropyGradOptions,
  type BinaryCrossEntropyOptions, type BinaryCrossEntropyPlan, type BinaryTargetInput,
} from '../ops/binary_cross_entropy.js';
import { widenValues, type FloatArrayInput, type ReducedLoss, type Reduction, type TensorLike } from '../ops/common.js';

/** The plan with its input widened in JavaScript, exactly as the kernels' widen does. */
function widened(plan: BinaryCrossEntropyPlan): BinaryCrossEntropyPlan {
  return plan.inputKind === 'f32' ? plan : { ...plan, input: widenValues(plan.input, plan.inputKind), inputKind: 'f32' };
}

/**
 * Element i's loss (nats, weight included) and d loss / d input. For logits,
 * -pw t log sigma(x) - (1 - t) log(1 - sigma(x)); for probabilities, Keras's clipped
 * -(t log p + (1 - t) log(1 - p)) whose gradient is 0 where the clip is active.
 */
function element(plan: BinaryCrossEntropyPlan, i: number): [loss: number, grad: number] {
  const c = i % plan.classes;
  const w = plan.weight ? plan.weight[c] : 1;
  const eps = plan.smoothing;
  const t = plan.target[i] * (1 - eps) + eps / 2;
  const x = plan.input[i];
  if (plan.focal) return focalElement(plan.focal, plan, t, x, w);
  if (plan.from === 'logits') {
    const pw = plan.posWeight ? plan.posWeight[c] : 1;
    // PyTorch's (1 - t) x + (1 + (pw - 1) t)(log1p(e^-|x|) + max(-x, 0)) regrouped as
    // pw t (-log sigma(x)) + (1 - t)(-log(1 - sigma(x))): two non-negative terms, so loss(x = -100,
    // t = 0) is e^-100 rather than -100 + 100 = 0.
    const softplus = Math.log1p(Math.exp(-Math.abs(x)));
    const loss = pw * t * (softplus + Math.max(-x, 0)) + (1 - t) * (softplus + Math.max(x, 0));
    // sigma(x) and 1 - sigma(x) each computed directly, so sigma(x) - 1 never cancels to 0.
    const sigma = 1 / (1 + Math.exp(-x)), sigmaC = 1 / (1 + Math.exp(x));
    return [w * loss, w * ((1 - t) * sigma - pw * t * sigmaC)];
  }
  const p = Math.min(Math.max(x, plan.lo), plan.hi);
  const loss = -(t * Math.log(p) + (1 - t) * Math.log1p(-p));
  const inside = x >= plan.lo && x <= plan.hi;
  return [w * loss, inside ? w * (p - t) / (p * (1 - p)) : 0];
}

/**
 * Element loss and gradient of the binary focal loss (torchvision's sigmoid_focal_loss): with p = sigma(x)
 * or the clipped probability, q = 1 - p_t = p (1 - t) + (1 - p) t, alpha_t = alpha t + (1 - alpha)(1 - t),
 *   l = w alpha_t q^gamma bce
 *   dl/dp = w alpha_t [q^gamma (p - t) / (p (1 - p)) + gamma q^(gamma - 1) (1 - 2t) bce]
 *   dl/dx = dl/dp * p (1 - p)
 * q^(gamma - 1) p (1 - p) is written q^gamma p (1 - p) / q, and taken as 0 at q = 0 (its limit for
 * gamma > 0; for gamma = 0 the factor gamma is 0).
 */
function focalElement(
  focal: { gamma: number; alpha: number }, plan: BinaryCrossEntropyPlan, t: number, x: number, w: number,
): [loss: number, grad: number] {
  const { gamma, alpha } = focal;
  const at = alpha * t + (1 - alpha) * (1 - t);
  if (plan.from === 'logits') {
    const softplus = Math.log1p(Math.exp(-Math.abs(x)));
    const bce = t * (softplus + Math.max(-x, 0)) + (1 - t) * (softplus + Math.max(x, 0));
    const sigma = 1 / (1 + Math.exp(-x)), sigmaC = 1 / (1 + Math.exp(x));
    const q = sigma * (1 - t) + sigmaC * t;
    // JavaScript's 0 ** 0 is 1 and 0 ** gamma is 0 for gamma > 0, as the focal term needs.
    const qg = q ** gamma;
    const r = q === 0 ? 0 : sigma * sigmaC / q;
    const k = w * at * qg;
    // bce r -> 0 where r is 0 (|x| e^-|x| at large |x|), also against an infinite or 0 · inf bce.
    return [k * bce, k * (((1 - t) * sigma - t * sigmaC) + gamma * (1 - 2 * t) * (r === 0 ? 0 : bce * r))];
  }
  const p = Math.min(Math.max(x, plan.lo), plan.hi);
  const bce = -(t * Math.log(p) + (1 - t) * Math.log1p(-p));
  const q = p * (1 - t) + (1 - p) * t;
  const k = w * at * q ** gamma;
  const inside = x >= plan.lo && x <= plan.hi;
  const r = q === 0 ? 0 : 1 / q;
  return [k * bce, inside ? k * ((p - t) / (p * (1 - p)) + gamma * (1 - 2 * t) * bce * r) : 0];
}

function run(plan: BinaryCrossEntropyPlan, grad: Float32Array | Float64Array | null) {
  const losses = new Float64Array(plan.n);
  let total = 0;
  for (let i = 0; i < plan.n; i++) {
    // element() reads input[i] before grad[i] is written, so gradOut may be the input.
    const [loss, g] = element(plan, i);
    losses[i] = plan.unitScale * loss;
    total += loss;
    if (grad) grad[i] = plan.gradScale * g;
  }
  return reduceBinary(plan, total, losses);
}

/**
 * Reference binary cross-entropy in float64, PyTorch's F.binary_cross_entropy_with_logits (from
 * 'logits') or Keras's binary_crossentropy (from 'probs'); element loss
 * -w [pw t log sigma(x) + (1 - t) log(1 - sigma(x))] or -w [t log p + (1 - t) log(1 - p)], reduced
 * over all elements. 'none' returns a Float64Array of input.length.
 */
export function binaryCrossEntropy<R extends Reduction = 'mean'>(
  input: FloatArrayInput | TensorLike, target: BinaryTargetInput | TensorLike, options?: BinaryCrossEntropyOptions & { reduction?: R },
): ReducedLoss<R, Float64Array>;
export function binaryCrossEntropy(
  input: FloatArrayInput | TensorLike, target: BinaryTargetInput | TensorLike, options?: BinaryCrossEntropyOptions,
): number | Float64Array {
  return run(widened(planBinaryCrossEntropy('binaryCrossEntropy', input, target, options, false)), null);
}

/**
 * Reference binary cross-entropy and its gradient with respect to the input, in float64:
 * w [(1 + (pw - 1) t) sigma(x) - pw t] for logits, w (p - t) / (p (1 - p)) inside the clip for
 * probabilities, times 1 / n for 'mean' and 1 / ln 2 for bits. The gradient is a Float64Array unless
 * options.gradOut is given.
 */
export function binaryCrossEntropyWithGrad<R extends Reduction = 'mean'>(
  input: FloatArrayInput | TensorLike, target: BinaryTargetInput | TensorLike, options?: BinaryCrossEntropyGradOptions & { reduction?: R },
): { loss: ReducedLoss<R, Float64Array>; grad: Float32Array | Float64Array };
export function binaryCrossEntropyWithGrad(
  input: FloatArrayInput | TensorLike, target: BinaryTargetInput | TensorLike, options?: BinaryCrossEntropyGradOptions,
): { loss: number | Float64Array; grad: Float32Array | Float64Array } {
  const plan = widened(planBinaryCrossEntropy('binaryCrossEntropyWithGrad', input, target, options, true));
  const grad = plan.gradOut ?? new Float64Array(plan.n);
  return { loss: run(plan, grad), grad };
}
