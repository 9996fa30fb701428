// The baseline: what one would write by hand in JavaScript without the library. Float32Array in,
// double accumulators (JS numbers), max-shifted log-sum-exp, no argument checking, labels trusted.

/**
 * Mean cross-entropy of class-index targets, two passes per row: the max, then the sum of exp.
 * loss_r = max + log(sum_c exp(z_c - max)) - z_y.
 * @param {Float32Array} logits row-major [rows, classes]
 * @param {Int32Array} labels rows class indices
 * @param {number} rows
 * @param {number} classes
 * @returns {number} the mean loss
 */
export function plainCrossEntropy(logits, labels, rows, classes) {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) if (logits[o + c] > max) max = logits[o + c];
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - max);
    total += max + Math.log(sum) - logits[o + labels[r]];
  }
  return total / rows;
}

/**
 * Mean cross-entropy and its gradient (softmax - onehot) / rows. Same two passes over the logits as
 * plainCrossEntropy; the exp pass also stores exp(z - max) into grad, and a final pass over grad
 * scales it to the softmax / rows, because the normaliser is only known once the sum is complete.
 * @param {Float32Array} logits row-major [rows, classes]
 * @param {Int32Array} labels rows class indices
 * @param {number} rows
 * @param {number} classes
 * @param {Float32Array} grad preallocated output of logits.length, overwritten
 * @returns {number} the mean loss
 */
export function plainCrossEntropyWithGrad(logits, labels, rows, classes, grad) {
  const invRows = 1 / rows;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) if (logits[o + c] > max) max = logits[o + c];
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[o + c] - max);
      grad[o + c] = e;
      sum += e;
    }
    const y = labels[r];
    total += max + Math.log(sum) - logits[o + y];
    const scale = invRows / sum;
    for (let c = 0; c < classes; c++) grad[o + c] *= scale;
    grad[o + y] -= invRows;
  }
  return total * invRows;
}

/**
 * Mean binary cross-entropy with logits in the stable form a user would copy from PyTorch's docs:
 * loss_i = max(x, 0) - x t + log(1 + exp(-|x|)).
 * @param {Float32Array} logits n logits
 * @param {Float32Array} targets n targets in [0, 1]
 * @returns {number} the mean loss
 */
export function plainBinaryCrossEntropy(logits, targets) {
  const n = logits.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    total += Math.max(x, 0) - x * targets[i] + Math.log1p(Math.exp(-Math.abs(x)));
  }
  return total / n;
}

/**
 * Mean binary cross-entropy with logits and its gradient (sigmoid(x) - t) / n, one pass; exp(-|x|)
 * serves both the loss and sigmoid(x) = 1 / (1 + e) or e / (1 + e).
 * @param {Float32Array} logits n logits
 * @param {Float32Array} targets n targets in [0, 1]
 * @param {Float32Array} grad preallocated output of n, overwritten
 * @returns {number} the mean loss
 */
export function plainBinaryCrossEntropyWithGrad(logits, targets, grad) {
  const n = logits.length;
  const invN = 1 / n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i], t = targets[i];
    const e = Math.exp(-Math.abs(x));
    total += Math.max(x, 0) - x * t + Math.log1p(e);
    const sigmoid = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    grad[i] = (sigmoid - t) * invN;
  }
  return total * invN;
}
