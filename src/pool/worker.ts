// A worker of the xentropy pool (pool.ts): one instance of the shared build over the pool's shared
// memory, running blocks of rows that the main thread staged there. It never allocates: every
// address it receives was reserved by the main thread's driver for the duration of the call.
//
// Runs as a Node worker_threads worker or a browser module Web Worker; the protocol is the same.

import { runBlocks } from '../engine/blocks.js';
import { loadSharedDriver } from '../engine/driver.js';
import { runScoreGroups } from '../engine/score_groups.js';
import { foldBinaryJob } from '../ops/binary_scorer.js';
import type { Kernels } from '../engine/kernels.js';
import { toPlain, type FailMode, type ToWorker } from './messages.js';

interface Port {
  post(message: unknown, transfer?: Transferable[]): void;
  listen(handler: (message: ToWorker) => void): void;
  exit(): void;
}

interface NodeWorkerThreads {
  parentPort: {
    postMessage(message: unknown, transfer?: readonly Transferable[]): void;
    on(event: 'message', listener: (message: ToWorker) => void): void;
  } | null;
}

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
  exit(code?: number): never;
}

/** The channel to the pool: worker_threads' parentPort in Node, the worker's global scope elsewhere. */
function connect(): Port {
  const node = (globalThis as { process?: NodeProcess }).process;
  if (node?.versions?.node) {
    const port = (node.getBuiltinModule?.('node:worker_threads') as NodeWorkerThreads | undefined)?.parentPort;
    if (!port) throw new Error('the xentropy pool worker script runs only as a worker (see createPool)');
    return {
      post: (message, transfer) => port.postMessage(message, transfer),
      listen: (handler) => port.on('message', handler),
      exit: () => node.exit(70),
    };
  }
  const scope = globalThis as unknown as {
    postMessage(message: unknown, transfer?: Transferable[]): void;
    addEventListener(type: 'message', listener: (event: MessageEvent<ToWorker>) => void): void;
    close(): void;
  };
  return {
    post: (message, transfer) => scope.postMessage(message, transfer ?? []),
    listen: (handler) => scope.addEventListener('message', (event) => handler(event.data)),
    exit: () => scope.close(),
  };
}

/** A failure injected by the tests (XentropyPool[failNext]) for the next job. */
let armed: FailMode | null = null;

/** The pool's shared memory, from the 'init' message. */
let memory: WebAssembly.Memory | null = null;

function main(): void {
  const port = connect();
  let kernels: Kernels | null = null;
  port.listen((message) => {
    if (message.type === 'init') {
      memory = message.memory;
      loadSharedDriver(message.module, message.memory).then(
        (driver) => {
          kernels = driver.kernels;
          port.post({ type: 'ready' });
        },
        (error: unknown) => port.post({ type: 'init-error', error: toPlain(error) }),
      );
    } else if (message.type === 'fail') {
      armed = message.how;
    } else if (message.type === 'run' || message.type === 'score' || message.type === 'binary-score') {
      const how = armed;
      armed = null;
      if (how === 'exit') port.exit();
      // Thrown outside the try: an uncaught exception, which ends a Node worker ('error' event).
      if (how === 'crash') throw new Error('injected crash (test)');
      try {
        if (!kernels) throw new Error('the worker received a job before its kernels were instantiated');
        if (how === 'throw') throw new Error('injected failure (test)');
        // An address past the end of memory: the kernel traps (a WebAssembly.RuntimeError).
        if (how === 'trap') kernels.logSumExp(0xfffffff0, 0, 1, 4);
        const sums = message.type === 'binary-score' ? foldBinaryJob(memory!.buffer, message.job, message.steal)
          : message.type === 'score' ? score(kernels, message)
          : message.steal ? steal(kernels, message) : runBlocks(kernels, message.job, message.b0, message.b1);
        port.post({ type: 'done', id: message.id, sums }, [sums.buffer]);
      } catch (error) {
        port.post({ type: 'error', id: message.id, error: toPlain(error) });
      }
    }
  });
}

/**
 * Runs blocks of [b0, b1) taken one at a time from the shared counter at `steal` until none is left;
 * returns pairs (block, sum), then the count of blocks outside [0, 1] (runBlocks' last entry).
 */
function steal(kernels: Kernels, message: Extract<ToWorker, { type: 'run' }>): Float64Array {
  const counter = new Int32Array(memory!.buffer, message.steal, 1);
  const taken: number[] = [];
  let outside = 0;
  for (let b = Atomics.add(counter, 0, 1); b < message.b1; b = Atomics.add(counter, 0, 1)) {
    const sums = runBlocks(kernels, message.job, b, b + 1);
    taken.push(b, sums[0]);
    outside += sums[1];
  }
  taken.push(outside);
  return Float64Array.from(taken);
}

/** A view of the shared memory (its buffer is taken afresh: memory may have grown). */
function f64(ptr: number, length: number): Float64Array {
  return new Float64Array(memory!.buffer, ptr, length);
}

/**
 * Folds the groups of a scorer job: [g0, g1), or with `steal` groups taken one at a time from the
 * shared counter there until none is left. Returns the rows counted.
 */
function score(kernels: Kernels, message: Extract<ToWorker, { type: 'score' }>): Float64Array {
  const { job, slot } = message;
  let counted = 0;
  if (!message.steal) counted = runScoreGroups(kernels, f64, job, message.g0, message.g1, slot);
  else {
    const counter = new Int32Array(memory!.buffer, message.steal, 1);
    for (let g = Atomics.add(counter, 0, 1); g < message.g1; g = Atomics.add(counter, 0, 1)) {
      counted += runScoreGroups(kernels, f64, job, g, g + 1, slot);
    }
  }
  return Float64Array.of(counted);
}

main();
