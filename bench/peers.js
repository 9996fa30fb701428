// The peers: @tensorflow/tfjs on @tensorflow/tfjs-backend-wasm and onnxruntime-web, each on one
// thread. They are installed in bench/node_modules only (bench/package.json), so the library's own
// install stays small; the bare imports below resolve there because this file lives in bench/.

import { readFileSync } from 'node:fs';
import { softmaxCrossEntropyModel, binaryCrossEntropyModel, OPSET } from './onnx-model.js';

/** The packages bench/package.json installs, in the order they are reported. */
export const PEER_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'onnxruntime-web'];

/** How to install the peers, printed whenever one cannot be loaded. */
export const INSTALL_HINT = 'npm --prefix bench ci';

/**
 * The installed version of a peer, read from bench/node_modules, or null when it is not installed.
 * @param {string} name package name
 * @returns {string | null}
 */
export function peerVersion(name) {
  try {
    return JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Why a peer could not be loaded, with the install hint when the package is simply absent. */
function loadFailure(what, error) {
  const missing = error?.code === 'ERR_MODULE_NOT_FOUND';
  return missing
    ? `${what} is not installed in bench/node_modules; install the peers with \`${INSTALL_HINT}\``
    : `${what} failed to load: ${error?.message ?? error}`;
}

/**
 * The tfjs contenders: tf.losses.softmaxCrossEntropy on one-hot labels, and logSoftmax + gather, on the
 * wasm backend with its single-threaded SIMD build. Every call starts from the Float32Array and
 * Int32Array a user holds, so creating the tensors (a copy into the backend's wasm heap) is timed;
 * tf.tidy disposes every intermediate tensor inside the timed call.
 * @returns {Promise<{ contenders: object[], describe: string } | { failure: string }>}
 */
export async function tfjsContenders() {
  let tf;
  try {
    tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return { failure: loadFailure('@tensorflow/tfjs / @tensorflow/tfjs-backend-wasm', error) };
  }
  // One thread: without this flag the backend picks its threaded build where SharedArrayBuffer exists.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) return { failure: 'tfjs: the wasm backend failed to initialise' };
  await tf.ready();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');

  /** Runs body in tf.tidy (every tensor it makes is freed) and returns the number it reports. */
  const tidy = (body) => {
    let loss;
    tf.tidy(() => { loss = body(); });
    return loss;
  };
  const logitsOf = (w) => tf.tensor2d(w.logits, [w.rows, w.classes]);
  const oneHotOf = (w) => tf.oneHot(tf.tensor1d(w.labels, 'int32'), w.classes);
  /** Flat indices r·C + y_r: gather on the flattened log-probabilities (see the note on batchDims). */
  const flatIndexOf = (w) => {
    const flat = new Int32Array(w.rows);
    for (let r = 0; r < w.rows; r++) flat[r] = r * w.classes + w.labels[r];
    return tf.tensor1d(flat, 'int32');
  };
  const gatherLoss = (z, index, w) => tf.neg(tf.mean(tf.gather(tf.reshape(tf.logSoftmax(z), [w.rows * w.classes]), index)));
  const binaryLoss = (targets, z) => tf.losses.sigmoidCrossEntropy(targets, z);

  const contenders = [
    {
      name: 'tfjs-wasm softmaxCrossEntropy',
      // The same contender on W4 is tf.losses' binary counterpart.
      labels: { binary: 'tfjs-wasm sigmoidCrossEntropy' },
      softmax: {
        loss: (w) => tidy(() => tf.losses.softmaxCrossEntropy(oneHotOf(w), logitsOf(w)).dataSync()[0]),
        grad: (w, grad) => tidy(() => {
          const onehot = oneHotOf(w);
          const { value, grad: g } = tf.valueAndGrad((z) => tf.losses.softmaxCrossEntropy(onehot, z))(logitsOf(w));
          grad.set(g.dataSync());
          return value.dataSync()[0];
        }),
      },
      binary: {
        loss: (w) => tidy(() => binaryLoss(tf.tensor1d(w.targets), tf.tensor1d(w.logits)).dataSync()[0]),
        grad: (w, grad) => tidy(() => {
          const targets = tf.tensor1d(w.targets);
          const { value, grad: g } = tf.valueAndGrad((z) => binaryLoss(targets, z))(tf.tensor1d(w.logits));
          grad.set(g.dataSync());
          return value.dataSync()[0];
        }),
      },
    },
    {
      name: 'tfjs-wasm logSoftmax+gather',
      softmax: {
        loss: (w) => tidy(() => gatherLoss(logitsOf(w), flatIndexOf(w), w).dataSync()[0]),
        // Measured on tfjs 4.22: the gradient of gather is UnsortedSegmentSum, which tfjs-backend-wasm
        // does not register (the call throws), and gatherND has no gradient at all.
        grad: "n/a: gather's gradient needs the UnsortedSegmentSum kernel, which tfjs-backend-wasm does not have",
      },
      // No binary variant: W4 has no row for it.
    },
  ];
  // Every timed call runs in tf.tidy; a tensor left over would mean a leak inflating later timings.
  contenders[0].teardown = () => {
    const left = tf.memory().numTensors;
    if (left > 0) console.error(`bench: tfjs left ${left} tensors undisposed`);
  };
  const describe = `@tensorflow/tfjs ${peerVersion('@tensorflow/tfjs')} with @tensorflow/tfjs-backend-wasm `
    + `${peerVersion('@tensorflow/tfjs-backend-wasm')} (backend \`${tf.getBackend()}\`, SIMD ${simd ? 'on' : 'off'}, threads off)`;
  return { contenders, describe };
}

/**
 * The onnxruntime-web contenders: models built in bench/onnx-model.js, run by the wasm execution
 * provider on one thread (ort.env.wasm.numThreads = 1). Sessions are created once, untimed; each timed
 * run wraps the caller's arrays in ort.Tensor (no copy) and session.run copies them into ORT's heap.
 * ONNX Runtime has no gradient (training is a separate package), so loss + gradient is n/a.
 * @returns {Promise<{ contenders: object[], describe: string } | { failure: string }>}
 */
export async function onnxruntimeContenders() {
  let ort;
  try {
    ort = await import('onnxruntime-web');
  } catch (error) {
    return { failure: loadFailure('onnxruntime-web', error) };
  }
  ort.env.wasm.numThreads = 1;
  const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  let softmaxSession, binarySession;
  try {
    softmaxSession = await ort.InferenceSession.create(softmaxCrossEntropyModel(), options);
    binarySession = await ort.InferenceSession.create(binaryCrossEntropyModel(), options);
  } catch (error) {
    return { failure: `onnxruntime-web could not create a session from the bench's models: ${error?.message ?? error}` };
  }
  const noGrad = 'n/a: onnxruntime-web computes no gradients';
  const contenders = [
    {
      name: 'onnxruntime-web',
      async: true,
      softmax: {
        loss: async (w) => (await softmaxSession.run({
          logits: new ort.Tensor('float32', w.logits, [w.rows, w.classes]),
          labels: new ort.Tensor('int32', w.labels, [w.rows, 1]),
        })).loss.data[0],
        grad: noGrad,
      },
      binary: {
        loss: async (w) => (await binarySession.run({
          logits: new ort.Tensor('float32', w.logits, [w.logits.length]),
          targets: new ort.Tensor('float32', w.targets, [w.targets.length]),
        })).loss.data[0],
        grad: noGrad,
      },
    },
  ];
  const describe = `onnxruntime-web ${peerVersion('onnxruntime-web')} (wasm execution provider, numThreads 1, `
    + `graphOptimizationLevel 'all', models of ONNX opset ${OPSET} built by bench/onnx-model.js)`;
  return { contenders, describe };
}
