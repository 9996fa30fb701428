// The worker pool: the shared build of the kernels instantiated once per worker over one shared
// WebAssembly.Memory, with the main thread's driver owning that memory (allocation and views).
//
// A call is validated and staged on the main thread, then its rows are cut into the same blocks as
// the one-thread path (chunkRows(classes) rows, engine/staging.ts), and each block is the kernel call
// its operation describes (ops/*: crossEntropyCall, binaryCall). Calls that copy are handed to the
// workers in runs of blocks as they become free; calls with nothing to copy let each worker take
// blocks one at a time from a counter in shared memory. Each worker returns one f64 sum per block;
// the main thread adds them in block order, whichever worker ran them. The per-row arithmetic is the
// kernels' own and the sum order is the one-thread order, so results are bit-identical to a
// one-thread instance of the SIMD build. Calls below inlineBelow elements run on the main thread
// instead, on its own instance of the same build (runBlocks, engine/blocks.ts): for them a worker's
// round trip costs more than the work.
//
// The scorers (pool.scorer, pool.binaryScorer, pool.multilabelScorer; pool_scorer.ts) send 'score'
// and 'binary-score' jobs instead: the workers fold an update's fold groups into partials, and the
// main thread merges them in group order (engine/score_groups.ts, ops/binary_scorer.ts), which gives
// the one-thread state bit for bit.
//
// Memory: each call allocates its staging space in the resident region (driver.alloc) and releases
// it when every worker is done with it, so calls may overlap and pool.alloc may run meanwhile. Shared
// memory never detaches its views when it grows, but views are still taken from the driver afresh.

import { runBlocks, type BlockJob } from '../engine/blocks.js';
import { featuresOf, type Features } from '../engine/builds.js';
import { createSharedMemory, loadSharedDriver, ownResident, type Driver, type Resident, type ResidentDtype } from '../engine/driver.js';
import { chunkRows, ELEMENT_BYTES, gatherRows, scatterRows, stageLabels, WIDEN_CODE, type FloatData } from '../engine/staging.js';
import {
  binaryCall, planBinaryCrossEntropy, reduceBinary, refuseBinaryElements,
  type BinaryCrossEntropyGradOptions, type BinaryCrossEntropyOptions, type BinaryTargetInput,
} from '../ops/binary_cross_entropy.js';
import {
  allocResident, describe, ownOptions, residentFrom, widenValues, type FloatValues, type ResidentOptions, type IndexTarget, type LossAndGrad, type ReducedLoss,
  type Reduction, type TensorLike, type TensorOptions,
} from '../ops/common.js';
import {
  crossEntropyCall, crossEntropyRoute, planCrossEntropy, reduceCrossEntropy, type CrossEntropyGradOptions,
  type CrossEntropyOptions,
} from '../ops/cross_entropy.js';
import {
  addBytes, addSequences, FROM_CODE, readState, Scorer, slotsOf, writeState, type ScorerData, type ScorerOptions, type ScorerState,
  type ScorerUpdate,
} from '../ops/scorer.js';
import { groupRows, mergePartial, stateLength, type ScoreJob } from '../engine/score_groups.js';
import { PoolBinaryScorer, PoolMultilabelScorer, PoolScorer, type ScorerHost } from './pool_scorer.js';
import {
  BinaryScorer, binaryGroupRows, mergeGroup, MultilabelScorer, partialLength, readPartial, reserveUpdate,
  type BinaryData, type BinaryScoreJob, type BinaryScorerOptions, type BinaryScorerState, type BinaryUpdate,
  type MultilabelScorerOptions, type MultilabelScorerState,
} from '../ops/binary_scorer.js';
import { revive, type FailMode, type FromWorker, type ToWorker } from './messages.js';

/** A job message to a worker, without the id #send gives it. */
type JobBody =
  | Omit<Extract<ToWorker, { type: 'run' }>, 'id'>
  | Omit<Extract<ToWorker, { type: 'score' }>, 'id'>
  | Omit<Extract<ToWorker, { type: 'binary-score' }>, 'id'>;

/** Options of `createPool`. */
export interface PoolOptions {
  /** Number of workers: an integer in [1, 256]. Default: the available parallelism (at least 1). */
  threads?: number;
  /**
   * Calls on fewer elements run on the calling thread, where a worker's round trip would cost more
   * than it saves: an integer >= 0. Default 2^18 = 262144; 0 sends every call to the workers.
   */
  inlineBelow?: number;
}

export type { FailMode };

/**
 * Test-only: `pool[failNext](worker, how)` makes that worker fail on its next job: 'throw'
 * (an exception inside the job), 'trap' (a WebAssembly trap), 'crash' (an uncaught exception, which
 * ends a Node worker) or 'exit' (the worker exits). Not exported from the package entry point. A method
 * name, not a Symbol: a class with a computed key is kept in every bundle (bundlers cannot tell that
 * evaluating the key has no effect), and with it the whole pool in apps that never start one.
 */
export const failNext = '__xentropyFailNext' satisfies keyof XentropyPool;

/**
 * Default of PoolOptions.inlineBelow: below it a worker's round trip (post, wake-up, reply) costs
 * more than the second thread saves (bench/pool-crossover.js measures the crossover).
 */
const INLINE_BELOW = 1 << 18;

/** The parts of a Node or browser Worker the pool uses. */
interface WorkerHandle {
  post(message: ToWorker): void;
  terminate(): Promise<unknown>;
  /** Node only: lets the process exit while the worker is alive (it is ready and idle). */
  release(): void;
}

interface WorkerEvents {
  message(message: FromWorker): void;
  fail(cause: Error): void;
}

interface NodeWorker {
  on(event: 'message', listener: (message: FromWorker) => void): void;
  on(event: 'error' | 'messageerror', listener: (error: Error) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
  postMessage(message: unknown): void;
  terminate(): Promise<number>;
  unref(): void;
}
type NodeWorkerClass = new (url: URL, options: { execArgv?: string[] }) => NodeWorker;

interface NodeProcess {
  versions?: { node?: string };
  execArgv?: string[];
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
}

/** Starts a worker: worker_threads in Node, a module Web Worker elsewhere. */
function spawn(NodeWorkerClass: NodeWorkerClass | null, events: WorkerEvents): WorkerHandle {
  if (NodeWorkerClass) {
    // Workers inherit the process's Node options but refuse --input-type (valid only with -e);
    // the pool's worker needs none of them (V8 flags are process-wide and stay in force).
    const inputType = nodeProcess()?.execArgv?.some((arg) => arg.startsWith('--input-type'));
    const worker = new NodeWorkerClass(new URL('./worker.js', import.meta.url), inputType ? { execArgv: [] } : {});
    worker.on('message', (message) => events.message(message));
    worker.on('error', (error) => events.fail(error));
    worker.on('messageerror', (error) => events.fail(error));
    worker.on('exit', (code) => events.fail(new Error(`the worker exited with code ${code}`)));
    return {
      post: (message) => worker.postMessage(message),
      terminate: () => worker.terminate(),
      release: () => worker.unref(),
    };
  }
  // Written out in full so that bundlers recognise the worker entry point.
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.addEventListener('message', (event: MessageEvent<FromWorker>) => events.message(event.data));
  worker.addEventListener('error', (event: ErrorEvent) => {
    event.preventDefault();
    events.fail(new Error(event.message || 'the worker script failed to load or threw'));
  });
  worker.addEventListener('messageerror', () => events.fail(new Error('a message from the worker could not be read')));
  return {
    post: (message) => worker.postMessage(message),
    terminate: async () => worker.terminate(),
    release: () => undefined,
  };
}

/** One started worker: its channel, whether it is ready, and its calls in flight. */
interface Live {
  handle: WorkerHandle;
  ready: Promise<void>;
  /** Rejects `ready` (no effect once it has settled). */
  refuse(error: Error): void;
  pending: Map<number, { resolve(sums: Float64Array): void; reject(error: Error): void }>;
  initialised: boolean;
}

/** Checks createPool's options and resolves them: the number of threads, and inlineBelow. */
function poolOptionsOf(options: unknown): Required<PoolOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const o = ownOptions('createPool options', options, ['threads', 'inlineBelow']);
  const threads = o.threads, inlineBelow = o.inlineBelow === undefined ? INLINE_BELOW : o.inlineBelow;
  if (typeof inlineBelow !== 'number') throw new TypeError(`options.inlineBelow must be a number, got ${describe(inlineBelow)}`);
  if (!Number.isSafeInteger(inlineBelow) || inlineBelow < 0) {
    throw new RangeError(`options.inlineBelow must be an integer >= 0, got ${describe(inlineBelow)}`);
  }
  if (threads === undefined) return { threads: defaultThreads(), inlineBelow };
  if (typeof threads !== 'number') throw new TypeError(`options.threads must be a number, got ${describe(threads)}`);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new RangeError(`options.threads must be an integer in [1, 256], got ${describe(threads)}`);
  }
  return { threads, inlineBelow };
}

/** The available parallelism: os.availableParallelism() in Node, navigator.hardwareConcurrency elsewhere. */
function defaultThreads(): number {
  const os = nodeProcess()?.getBuiltinModule?.('node:os') as
    { availableParallelism?: () => number; cpus(): unknown[] } | undefined;
  const n = os ? os.availableParallelism?.() ?? os.cpus().length
    : (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.min(256, Math.max(1, Math.floor(n ?? 1)));
}

/** @internal Used by createPool (src/index.ts): validates options, then starts the workers. */
export async function startPool(options: unknown, load: () => Promise<WebAssembly.Module>): Promise<XentropyPool> {
  const { threads, inlineBelow } = poolOptionsOf(options);
  const node = nodeProcess();
  let NodeWorkerClass: NodeWorkerClass | null = null;
  if (node) {
    // Found without an import statement, so that bundlers for browsers never meet a node: specifier.
    const wt = node.getBuiltinModule?.('node:worker_threads') as { Worker: NodeWorkerClass } | undefined;
    if (!wt) throw new Error('xentropy pool: this runtime has no process.getBuiltinModule (Node >= 20.16) to start worker_threads');
    NodeWorkerClass = wt.Worker;
  } else if (typeof Worker === 'undefined') {
    throw new Error('xentropy pool: this runtime has no Worker');
  }
  const memory = createSharedMemory();
  const module = await load();
  const pool = new XentropyPool(await loadSharedDriver(module, memory), module, memory, threads, inlineBelow, NodeWorkerClass);
  try {
    await pool.started();
  } catch (error) {
    await pool.close();
    throw error;
  }
  return pool;
}

/**
 * A pool of workers sharing one WebAssembly memory: each call's rows are split across the workers, and
 * the results are bit-identical to a one-thread instance of the SIMD build (`init({ build: 'simd' })`).
 * Create it with `createPool`; every computation returns a Promise.
 *
 * Buffers passed to a call (plain arrays and resident buffers alike) must not be changed, and resident
 * buffers not freed, until its promise settles. When a call rejects because a worker failed, its
 * output buffers (gradOut) may be partly written.
 */
export class XentropyPool {
  /** Number of workers. */
  readonly threads: number;
  /** Calls on fewer elements run on the calling thread (createPool's option). */
  readonly inlineBelow: number;
  /** The build the workers run (the SIMD build, compiled with shared memory). */
  readonly features: Readonly<Features>;

  readonly #driver: Driver;
  readonly #module: WebAssembly.Module;
  readonly #memory: WebAssembly.Memory;
  readonly #NodeWorkerClass: NodeWorkerClass | null;
  /** The live worker of each slot; null after a failure, until it is replaced. */
  readonly #slots: (Live | null)[];
  /** The first workers, which createPool waits for. */
  readonly #first: Live[];
  #nextId = 0;
  #closed = false;
  /**
   * Node: a timer that keeps the process alive while calls are in flight (the workers are unref'd
   * once ready). Toggling a timer is cheap; toggling ref on the workers per job made them take turns
   * instead of running together.
   */
  readonly #keepAlive: { ref(): unknown; unref(): unknown } | null;
  #active = 0;

  /** @internal Use `createPool`. */
  constructor(
    driver: Driver, module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number, inlineBelow: number,
    NodeWorkerClass: NodeWorkerClass | null,
  ) {
    this.#driver = driver;
    this.#module = module;
    this.#memory = memory;
    this.#NodeWorkerClass = NodeWorkerClass;
    this.threads = threads;
    this.inlineBelow = inlineBelow;
    this.#keepAlive = NodeWorkerClass ? setInterval(() => undefined, 2 ** 30) as unknown as { ref(): unknown; unref(): unknown } : null;
    this.#keepAlive?.unref();
    this.features = Object.freeze(featuresOf(driver.kernels.buildFeatures()));
    this.#slots = [];
    for (let i = 0; i < threads; i++) this.#slots.push(this.#start(i));
    this.#first = this.#slots.slice() as Live[];
  }

  /** @internal Resolves when every worker has instantiated its kernels; rejects if one could not. */
  async started(): Promise<void> {
    await Promise.all(this.#first.map((live) => live.ready));
  }

  /** Starts the worker of slot i and sends it the module and the memory. */
  #start(i: number): Live {
    let settleReady!: { resolve(): void; reject(error: Error): void };
    const live: Live = {
      handle: undefined as unknown as WorkerHandle,
      ready: new Promise<void>((resolve, reject) => { settleReady = { resolve, reject }; }),
      refuse: (error) => settleReady.reject(error),
      pending: new Map(), initialised: false,
    };
    // A replacement nobody waits for yet must not raise an unhandled rejection.
    live.ready.catch(() => undefined);
    const failed = (cause: Error) => {
      settleReady.reject(workerError(i, cause));
      this.#fail(i, live, cause);
    };
    live.handle = spawn(this.#NodeWorkerClass, {
      message: (message) => {
        if (this.#slots[i] !== live) return;
        if (message.type === 'ready') {
          live.initialised = true;
          live.handle.release();
          settleReady.resolve();
        } else if (message.type === 'init-error') {
          failed(revive(message.error));
        } else {
          const call = live.pending.get(message.id);
          if (!call) return;
          live.pending.delete(message.id);
          if (message.type === 'done') call.resolve(message.sums);
          else call.reject(workerError(i, revive(message.error)));
        }
      },
      fail: (cause) => {
        if (this.#slots[i] === live) failed(cause);
      },
    });
    live.handle.post({ type: 'init', module: this.#module, memory: this.#memory });
    return live;
  }

  /**
   * A worker died or could not start: its calls in flight are rejected, and it is replaced at once
   * when it had been running (a worker that cannot start is retried by the next call instead).
   */
  #fail(i: number, live: Live, cause: Error): void {
    this.#slots[i] = null;
    const error = workerError(i, cause);
    const calls = [...live.pending.values()];
    live.pending.clear();
    // Its calls are rejected once the thread has stopped, so that nothing writes to their staging
    // memory after it is released.
    void live.handle.terminate().catch(() => undefined).then(() => {
      for (const call of calls) call.reject(error);
    });
    if (live.initialised && !this.#closed) {
      try {
        this.#slots[i] = this.#start(i);
      } catch {
        // Retried by the next call, which then reports the error.
      }
    }
  }

  /**
   * Runs blocks [b0, b1) of a job on worker i; resolves to their sums. A ready worker receives the
   * job at once (synchronously), so that it computes while the caller stages the next rows.
   */
  #run(i: number, job: BlockJob, b0: number, b1: number, steal = 0): Promise<Float64Array> {
    return this.#send(i, { type: 'run', job, b0, b1, steal });
  }

  /** Sends a job message (all but its id) to worker i; resolves to the sums it answers with. */
  #send(i: number, body: JobBody): Promise<Float64Array> {
    let live = this.#slots[i];
    if (!live) {
      try {
        live = this.#slots[i] = this.#start(i);
      } catch (error) {
        return Promise.reject(workerError(i, error instanceof Error ? error : new Error(String(error))));
      }
    }
    const post = (ready: Live): Promise<Float64Array> => {
      if (this.#closed) throw this.#closedError();
      if (this.#slots[i] !== ready) throw workerError(i, new Error('the worker failed before the job was sent'));
      const id = this.#nextId++;
      return new Promise<Float64Array>((resolve, reject) => {
        ready.pending.set(id, { resolve, reject });
        ready.handle.post({ ...body, id } as ToWorker);
      });
    };
    if (live.initialised) {
      try {
        return post(live);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const waiting = live;
    return waiting.ready.then(() => post(waiting));
  }

  /**
   * Runs a job's blocks on the workers and returns the sum of the block sums in block order, which
   * makes the result independent of which worker ran which block. The blocks are cut into at most
   * `runs` runs per worker, handed out as workers finish (two queued per worker, so none waits for
   * the next message): a busy or slow worker takes fewer. `stage(r0, r1)` runs just before a run's
   * rows are sent and `finish(r0, r1)` when they are done, so that copying in and out overlaps the
   * work; with nothing large to copy, one run per worker spares the main thread's wake-ups.
   * Settles only when every run sent has (the staging memory is released after), then throws the
   * first failure, if any. A job of fewer than `inlineBelow` elements runs on this thread instead, on
   * the pool's own instance of the same build: a worker's round trip would cost more than the work.
   */
  async #execute(
    job: BlockJob, elements: number, runs: number,
    stage: (r0: number, r1: number) => void, finish: (r0: number, r1: number) => void,
  ): Promise<{ total: number; outside: boolean }> {
    const blocks = Math.ceil(job.rows / job.per);
    let sums: Float64Array;
    if (elements < this.inlineBelow) {
      stage(0, job.rows);
      sums = runBlocks(this.#driver.kernels, job, 0, blocks);
      finish(0, job.rows);
    } else {
      sums = await this.#spread(job, blocks, runs, stage, finish);
    }
    let total = 0;
    for (let b = 0; b < blocks; b++) total += sums[b];
    return { total, outside: sums[blocks] > 0 };
  }

  /**
   * #execute's runs on the workers: the sum of each block, in block order, then the number of blocks
   * whose `check` found a value outside [0, 1]. With nothing to copy run by run (`runs` 1), every
   * worker gets the whole job and takes its blocks one at a time from a counter in shared memory
   * (Atomics.add), so a worker whose vCPU starts late or runs slow takes fewer, at no message's cost.
   */
  async #spread(
    job: BlockJob, blocks: number, runs: number,
    stage: (r0: number, r1: number) => void, finish: (r0: number, r1: number) => void,
  ): Promise<Float64Array> {
    const steal = runs === 1 ? this.#driver.alloc(4) : 0;
    const n = Math.min(this.threads * runs, blocks);
    const sums = new Float64Array(blocks + 1);
    let next = 0;
    let failure: { error: unknown } | null = null;
    const lane = async (worker: number): Promise<void> => {
      if (steal) {
        try {
          // Pairs (block, sum), then the count of blocks outside [0, 1].
          const taken = await this.#run(worker, job, 0, blocks, steal);
          for (let i = 0; i + 1 < taken.length; i += 2) sums[taken[i]] = taken[i + 1];
          sums[blocks] += taken[taken.length - 1];
        } catch (error) {
          failure ??= { error };
        }
        return;
      }
      while (next < n && !failure) {
        const c = next++;
        const b0 = Math.floor((c * blocks) / n), b1 = Math.floor(((c + 1) * blocks) / n);
        const r0 = b0 * job.per, r1 = Math.min(b1 * job.per, job.rows);
        try {
          stage(r0, r1);
          const run = await this.#run(worker, job, b0, b1);
          sums.set(run.subarray(0, b1 - b0), b0);
          sums[blocks] += run[b1 - b0];
          finish(r0, r1);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    const lanes: Promise<void>[] = [];
    if (this.#active++ === 0) this.#keepAlive?.ref();
    try {
      if (steal) {
        this.#driver.i32(steal, 1)[0] = 0;
        stage(0, job.rows);
      }
      // Stealing needs one lane per worker; runs keep two queued per worker.
      for (let l = 0; l < (steal ? n : 2 * this.threads); l++) lanes.push(lane(l % this.threads));
      await Promise.all(lanes);
      if (steal && !failure) finish(0, job.rows);
    } finally {
      if (--this.#active === 0) this.#keepAlive?.unref();
      if (steal) this.#driver.release(steal, 4);
    }
    if (failure) throw (failure as { error: unknown }).error;
    return sums;
  }

  /** Allocates staging space for one call; `release` gives it all back. */
  #staging(): { alloc(bytes: number): number; release(): void } {
    const taken: [number, number][] = [];
    return {
      alloc: (bytes) => {
        const ptr = this.#driver.alloc(bytes);
        taken.push([ptr, bytes]);
        return ptr;
      },
      release: () => {
        for (const [ptr, bytes] of taken.reverse()) this.#driver.release(ptr, bytes);
      },
    };
  }

  #checkOpen(): void {
    if (this.#closed) throw this.#closedError();
  }

  #closedError(): Error {
    return new Error('this xentropy pool is closed; create a new one with createPool');
  }

  /** Checks a resident argument belongs to this pool's memory. */
  #own<R extends Resident<ResidentDtype>>(name: string, resident: R | null): R | null {
    return ownResident(this.#driver, name, resident, '; use pool.alloc or pool.tensor');
  }

  /**
   * Cross-entropy, as `xe.crossEntropy` (same arguments, options, results and errors), computed by
   * the workers. Plain arrays are copied into the shared memory first; resident buffers of this pool
   * (`pool.alloc`, `pool.tensor`) are read where they lie.
   * @returns a Promise of a number, or of a Float32Array of N row losses for reduction 'none'
   * @throws (rejects with) TypeError / RangeError for a bad argument, before any worker is involved;
   *   Error when a worker fails (naming the worker, with the cause) or the pool is closed
   */
  crossEntropy<R extends Reduction = 'mean'>(input: FloatValues, target: IndexTarget | Float32Array | TensorLike, options: CrossEntropyOptions & { reduction?: R }): Promise<ReducedLoss<R, Float32Array>>;
  crossEntropy<R extends Reduction = 'mean'>(input: TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyOptions> & { reduction?: R }): Promise<ReducedLoss<R, Float32Array>>;
  async crossEntropy(input: FloatValues | TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyOptions>): Promise<number | Float32Array> {
    this.#checkOpen();
    return (await this.#crossEntropy(planCrossEntropy('crossEntropy', input, target, options, false), false)).loss;
  }

  /**
   * Cross-entropy and its gradient, as `xe.crossEntropyWithGrad`, computed by the workers.
   * options.gradOut may be a resident buffer of this pool (written where it lies) or a Float32Array.
   * Arguments, results and errors as crossEntropy.
   */
  crossEntropyWithGrad<R extends Reduction = 'mean'>(input: FloatValues, target: IndexTarget | Float32Array | TensorLike, options: CrossEntropyGradOptions & { reduction?: R }): Promise<LossAndGrad<ReducedLoss<R, Float32Array>>>;
  crossEntropyWithGrad<R extends Reduction = 'mean'>(input: TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyGradOptions> & { reduction?: R }): Promise<LossAndGrad<ReducedLoss<R, Float32Array>>>;
  async crossEntropyWithGrad(input: FloatValues | TensorLike, target: IndexTarget | Float32Array | TensorLike, options?: TensorOptions<CrossEntropyGradOptions>): Promise<LossAndGrad<number | Float32Array>> {
    this.#checkOpen();
    return this.#crossEntropy(planCrossEntropy('crossEntropyWithGrad', input, target, options, true), true);
  }

  async #crossEntropy(plan: ReturnType<typeof planCrossEntropy>, withGrad: boolean): Promise<LossAndGrad<number | Float32Array>> {
    const { rows, classes, spatial, weight, labels, soft, sampleWeight } = plan;
    const cap = plan.softcap;
    const none = plan.reduction === 'none';
    const inRes = this.#own('input', plan.inputResident), gradRes = this.#own('options.gradOut', plan.gradOutResident);
    const { directIn, directGrad, gradInPlace, halves } = crossEntropyRoute(plan, inRes, gradRes, withGrad);
    const d = this.#driver;
    const size = rows * classes;
    const staging = this.#staging();
    try {
      let total = 0;
      const losses = none ? new Float32Array(rows) : null;
      const grad = !withGrad ? null : gradRes ? gradRes.array : plan.gradOut ?? new Float32Array(size);
      if (rows > 0) {
        const zPtr = directIn ? inRes!.ptr : halves ? 0 : staging.alloc(size * 4);
        // Another element type is staged raw (a half resident with spatial 1 is read where it lies) and
        // widened block by block by whichever thread runs the block, into zPtr; or, with `halves`, read
        // by the kernel as it is.
        const kind = plan.inputKind, bytes = ELEMENT_BYTES[kind];
        const halfInPlace = kind !== 'f32' && inRes !== null && spatial === 1;
        const hPtr = kind === 'f32' ? 0 : halfInPlace ? inRes!.ptr : staging.alloc(size * bytes);
        const tPtr = staging.alloc(soft ? size * 4 : rows * 4);
        const wPtr = weight ? staging.alloc(classes * 4) : 0;
        const sPtr = sampleWeight ? staging.alloc(rows * 4) : 0;
        const lPtr = none ? staging.alloc(rows * 4) : 0;
        const gPtr = !withGrad ? 0 : directGrad ? gradRes!.ptr : gradInPlace ? zPtr : staging.alloc(size * 4);
        if (weight) d.f32(wPtr, classes).set(weight);
        const call = crossEntropyCall(plan, { input: halves ? hPtr : zPtr, target: tPtr, weight: wPtr, sampleWeight: sPtr, losses: lPtr, grad: gPtr }, halves);
        // Copies in and out go run by run (see #execute), overlapping the workers.
        const copies = !directIn || soft !== null || (withGrad && !directGrad) || spatial > 1;
        const input = directIn || halfInPlace ? null : inRes ? inRes.array : plan.input;
        const widen = kind === 'f32' || halves ? null : { src: hPtr, dst: zPtr, width: classes, bytes, code: WIDEN_CODE[kind] };
        ({ total } = await this.#execute(
          {
            ...call, rows, per: chunkRows(classes),
            cap: cap ? { z: zPtr, g: gPtr, width: classes, value: cap } : null, scratch: null, check: null, widen,
          },
          size, copies ? 4 : 1,
          (r0, r1) => {
            const a = r0 * classes, b = r1 * classes;
            if (input) gatherRows(rawAt(d, kind === 'f32' ? zPtr : hPtr, kind, a, b), input, r0, classes, spatial);
            if (soft) gatherRows(d.f32(tPtr + a * 4, b - a), soft, r0, classes, spatial);
            else stageLabels(d.i32(tPtr + r0 * 4, r1 - r0), labels!, r0);
            if (sampleWeight) d.f32(sPtr + r0 * 4, r1 - r0).set(sampleWeight.subarray(r0, r1));
          },
          (r0, r1) => {
            const a = r0 * classes, b = r1 * classes;
            if (losses) {
              losses.set(d.f32(lPtr + r0 * 4, r1 - r0), r0);
              if (plan.unitScale !== 1) for (let r = r0; r < r1; r++) losses[r] *= plan.unitScale;
            }
            if (grad && !directGrad) scatterRows(grad, d.f32(gPtr + a * 4, b - a), r0, classes, spatial);
          },
        ));
      }
      const loss = reduceCrossEntropy(plan, total, losses);
      if (!grad) return { loss, grad: undefined as unknown as Float32Array };
      return { loss, grad: directGrad ? gradRes!.array : grad };
    } finally {
      staging.release();
    }
  }

  /**
   * Binary cross-entropy, as `xe.binaryCrossEntropy` (same arguments, options, results and errors),
   * computed by the workers. Resident buffers of this pool are read where they lie; plain arrays are
   * copied into the shared memory.
   * @returns a Promise of a number, or of a Float32Array of element losses for reduction 'none'
   */
  binaryCrossEntropy<R extends Reduction = 'mean'>(input: FloatValues | TensorLike, target: BinaryTargetInput | Resident | TensorLike, options?: BinaryCrossEntropyOptions & { reduction?: R }): Promise<ReducedLoss<R, Float32Array>>;
  async binaryCrossEntropy(input: FloatValues | TensorLike, target: BinaryTargetInput | Resident | TensorLike, options?: BinaryCrossEntropyOptions): Promise<number | Float32Array> {
    this.#checkOpen();
    return (await this.#binary(planBinaryCrossEntropy('binaryCrossEntropy', input, target, options, false, true), false)).loss;
  }

  /**
   * binaryCrossEntropy and its gradient, as `xe.binaryCrossEntropyWithGrad`, computed by the workers.
   * options.gradOut may be a resident buffer of this pool (written where it lies) or a Float32Array.
   * Arguments, results and errors as binaryCrossEntropy.
   */
  binaryCrossEntropyWithGrad<R extends Reduction = 'mean'>(input: FloatValues | TensorLike, target: BinaryTargetInput | Resident | TensorLike, options?: BinaryCrossEntropyGradOptions & { reduction?: R }): Promise<LossAndGrad<ReducedLoss<R, Float32Array>>>;
  async binaryCrossEntropyWithGrad(input: FloatValues | TensorLike, target: BinaryTargetInput | Resident | TensorLike, options?: BinaryCrossEntropyGradOptions): Promise<LossAndGrad<number | Float32Array>> {
    this.#checkOpen();
    return this.#binary(planBinaryCrossEntropy('binaryCrossEntropyWithGrad', input, target, options, true, true), true);
  }

  async #binary(plan: ReturnType<typeof planBinaryCrossEntropy>, withGrad: boolean): Promise<LossAndGrad<number | Float32Array>> {
    const { n, classes, weight, posWeight } = plan;
    const inRes = this.#own('input', plan.inputResident), tRes = this.#own('target', plan.targetResident);
    const gRes = withGrad ? this.#own('options.gradOut', plan.gradOutResident) : null;
    const none = plan.reduction === 'none';
    const probs = plan.from === 'probs';
    const d = this.#driver;
    const staging = this.#staging();
    try {
      let total = 0;
      const losses = none ? new Float32Array(n) : null;
      const grad = withGrad && !gRes ? plan.gradOut ?? new Float32Array(n) : null;
      if (n > 0) {
        // Another element type than float32 is staged raw at hPtr (a half resident is read where it lies)
        // and widened into xPtr: here, whole, for probabilities (scanned before the job), else block by
        // block by whichever thread runs the block.
        const kind = plan.inputKind, eb = ELEMENT_BYTES[kind];
        const inDirect = kind === 'f32' ? inRes : null;
        const xPtr = inDirect ? inDirect.ptr : staging.alloc(n * 4);
        const hPtr = kind === 'f32' ? 0 : inRes ? inRes.ptr : staging.alloc(n * eb);
        const tPtr = tRes ? tRes.ptr : staging.alloc(n * 4);
        const wPtr = weight ? staging.alloc(classes * 4) : 0;
        const pwPtr = posWeight ? staging.alloc(classes * 4) : 0;
        const lPtr = none ? staging.alloc(n * 4) : 0;
        // As runBinaryCrossEntropy: into a resident gradOut, else over the staged input.
        const gPtr = !withGrad ? 0 : gRes ? gRes.ptr : inDirect ? staging.alloc(n * 4) : xPtr;
        // Views are taken after the allocations above, which may have grown the memory.
        const input = inRes ? inRes.array : plan.input, target = tRes ? tRes.array : plan.target;
        // The element checks: the targets (and probabilities) are staged whole first and scanned where
        // they lie, as resident ones are. When the workers write nothing the caller holds (no gradOut),
        // each scans its own blocks, sparing this thread a pass over all of them; else this thread
        // scans before any worker writes.
        if (!tRes) d.f32(tPtr, n).set(target);
        const stageRaw = (a: number, b: number): void => {
          if (!inRes) rawAt(d, hPtr, kind, a, b).set(input.subarray(a, b) as never);
        };
        if (probs && !inDirect) {
          if (kind === 'f32') d.f32(xPtr, n).set(input as Float32Array);
          else {
            stageRaw(0, n);
            d.kernels.widen(hPtr, xPtr, n, WIDEN_CODE[kind]);
          }
        }
        const checked = probs ? [0, 1] : [1];
        const deferCheck = !gRes && plan.gradOut === undefined;
        if (!deferCheck && checked.some((i) => d.kernels.firstOutside(i === 0 ? xPtr : tPtr, n, 0, 1) >= 0)) {
          refuseBinaryElements(widenValues(input, kind), target, plan.from);
        }
        if (weight) d.f32(wPtr, classes).set(weight);
        if (posWeight) d.f32(pwPtr, classes).set(posWeight);
        const per = chunkRows(classes) * classes;
        const call = binaryCall(plan, { input: xPtr, target: tPtr, weight: wPtr, posWeight: pwPtr, losses: lPtr, grad: gPtr, scratch: 0 });
        // Each block of elements gets a scratch of its own: workers run blocks side by side.
        const { scratchArg } = call;
        const bytes = scratchArg === undefined ? 0 : d.kernels.binaryScratchBytes();
        const scratch = scratchArg === undefined ? null : { arg: scratchArg, base: staging.alloc(Math.ceil(n / per) * bytes), bytes };
        const stageLogits = !inDirect && !probs;
        const widen = kind === 'f32' || probs ? null : { src: hPtr, dst: xPtr, width: 1, bytes: eb, code: WIDEN_CODE[kind] };
        // Blocks of whole rows, as the one-thread path: an element's class is its index mod classes.
        let outside: boolean;
        ({ total, outside } = await this.#execute(
          { ...call, rows: n, per, cap: null, scratch, check: deferCheck ? checked : null, widen },
          n, stageLogits || losses || grad ? 4 : 1,
          (a, b) => {
            if (stageLogits && kind === 'f32') d.f32(xPtr + a * 4, b - a).set(input.subarray(a, b) as Float32Array);
            else if (stageLogits) stageRaw(a, b);
          },
          (a, b) => {
            if (losses) losses.set(d.f32(lPtr + a * 4, b - a), a);
            if (grad) grad.set(d.f32(gPtr + a * 4, b - a), a);
          },
        ));
        if (outside) refuseBinaryElements(widenValues(input, kind), target, plan.from);
      }
      const loss = reduceBinary(plan, total, losses!);
      return { loss, grad: gRes ? gRes.array : grad ?? undefined as unknown as Float32Array };
    } finally {
      staging.release();
    }
  }

  /**
   * A scorer whose updates run on the workers: `xe.scorer`'s options, checks, metrics and state, and
   * after the same updates the same `state()` bit for bit as a one-thread scorer of the SIMD build.
   * `update` returns a Promise (one update of a scorer at a time); see PoolScorer.
   * @throws TypeError / RangeError for bad options, as xe.scorer; Error when the pool is closed
   */
  scorer(options: ScorerOptions): PoolScorer {
    this.#checkOpen();
    return new PoolScorer(Scorer.create(this.#driver, options), this.#scorerHost);
  }

  /**
   * Rebuilds a pool scorer from `state()` of a Scorer or PoolScorer (possibly through JSON), as
   * `xe.scorerFromState`. Same as `PoolScorer.fromState(pool, state)`.
   * @throws TypeError / RangeError for a malformed or inconsistent state; Error when the pool is closed
   */
  scorerFromState(state: ScorerState): PoolScorer {
    this.#checkOpen();
    return new PoolScorer(Scorer.restore(this.#driver, state), this.#scorerHost);
  }

  get #scorerHost(): ScorerHost {
    return {
      driver: this.#driver, inlineBelow: this.inlineBelow, checkOpen: () => this.#checkOpen(),
      score: (s, u) => this.#scoreUpdate(s, u), scoreBinary: (states, u) => this.#binaryUpdate(states, u),
    };
  }

  /**
   * A binary scorer whose updates run on the workers: `xe.binaryScorer`'s options, checks, metrics and
   * state, and after the same updates the same `state()` bit for bit. See PoolBinaryScorer.
   * @throws as xe.binaryScorer; Error when the pool is closed
   */
  binaryScorer(options?: BinaryScorerOptions): PoolBinaryScorer {
    this.#checkOpen();
    return new PoolBinaryScorer(BinaryScorer.create(options), this.#scorerHost);
  }

  /** Rebuilds a pool binary scorer from `state()`, as `xe.binaryScorerFromState`. @throws as that; Error when the pool is closed */
  binaryScorerFromState(state: BinaryScorerState): PoolBinaryScorer {
    this.#checkOpen();
    return new PoolBinaryScorer(BinaryScorer.fromState(state), this.#scorerHost);
  }

  /** A multilabel scorer whose updates run on the workers, as `xe.multilabelScorer`. See PoolMultilabelScorer. */
  multilabelScorer(options: MultilabelScorerOptions): PoolMultilabelScorer {
    this.#checkOpen();
    return new PoolMultilabelScorer(MultilabelScorer.create(options), this.#scorerHost);
  }

  /** Rebuilds a pool multilabel scorer from `state()`, as `xe.multilabelScorerFromState`. */
  multilabelScorerFromState(state: MultilabelScorerState): PoolMultilabelScorer {
    this.#checkOpen();
    return new PoolMultilabelScorer(MultilabelScorer.fromState(state), this.#scorerHost);
  }

  /**
   * Folds a checked binary or multilabel update into its states on the workers: scores, targets and
   * weights are staged into shared memory, each worker folds fold groups (ops/binary_scorer.ts) taken
   * from a shared counter and sends back their partials, and once all are done this thread merges them
   * in group order, as one thread does (foldUpdate). The states change only then.
   */
  async #binaryUpdate(states: BinaryData[], u: BinaryUpdate): Promise<void> {
    const d = this.#driver;
    const L = states.length, config = states[0].config, rows = u.rows, n = rows * L;
    const group = binaryGroupRows(config, L), groups = Math.ceil(rows / group);
    const workers = Math.min(this.threads, groups);
    const taken = new Array<Float64Array | null>(groups).fill(null);
    const offsets = new Int32Array(groups);
    const staging = this.#staging();
    try {
      if (groups > 0) {
        const sPtr = staging.alloc(n * 4), tPtr = staging.alloc(n * 4), wPtr = u.weights ? staging.alloc(rows * 4) : 0;
        const steal = staging.alloc(4);
        d.f32(sPtr, n).set(u.scores);
        d.f32(tPtr, n).set(u.targets);
        if (u.weights) d.f32(wPtr, rows).set(u.weights);
        d.i32(steal, 1)[0] = 0;
        const job: BinaryScoreJob = { config, width: L, rows, group, scores: sPtr, targets: tPtr, weights: wPtr };
        const each = 1 + L * partialLength(config);
        let failure: { error: unknown } | null = null;
        const lane = async (worker: number): Promise<void> => {
          try {
            const out = await this.#send(worker, { type: 'binary-score', job, steal });
            for (let at = 0; at < out.length; at += each) {
              taken[out[at]] = out;
              offsets[out[at]] = at + 1;
            }
          } catch (error) {
            failure ??= { error };
          }
        };
        if (this.#active++ === 0) this.#keepAlive?.ref();
        try {
          const lanes: Promise<void>[] = [];
          for (let w = 0; w < workers; w++) lanes.push(lane(w));
          await Promise.all(lanes);
        } finally {
          if (--this.#active === 0) this.#keepAlive?.unref();
        }
        if (failure) throw (failure as { error: unknown }).error;
      }
      const missing = taken.indexOf(null);
      if (missing >= 0) throw new Error(`xentropy pool: fold group ${missing} of ${groups} was not folded by any worker`);
      // Every worker succeeded: now, and only now, the states change.
      reserveUpdate(states, rows);
      const P = partialLength(config);
      for (let g = 0; g < groups; g++) {
        const out = taken[g]!;
        const partials: BinaryData[] = [];
        for (let l = 0; l < L; l++) partials.push(readPartial(config, out, offsets[g] + l * P));
        mergeGroup(states, partials, u, g * group, Math.min(rows, (g + 1) * group));
      }
    } finally {
      staging.release();
    }
  }

  /**
   * Folds a checked scorer update into s on the workers (engine/score_groups.ts): the rows and labels
   * are staged into shared memory (resident input is read where it lies), each worker folds fold
   * groups into their partial slots and counts into its own areas, and once every worker is done this
   * thread merges the partials in group order, adds the counts and sums the per-row losses of each
   * sequence in row order, as one thread does. s is changed only then.
   */
  async #scoreUpdate(s: ScorerData, u: ScorerUpdate): Promise<void> {
    const d = this.#driver;
    const C = s.classes, rows = u.rows, inRes = u.inputResident, kind = u.inputKind, eb = ELEMENT_BYTES[kind];
    const group = groupRows(C), groups = Math.ceil(rows / group);
    const K = s.topK.length, slots = slotsOf(s), length = stateLength(K, slots);
    const countsLength = s.classCounts ? s.classCounts.length : 0, cellsLength = s.confusion ? s.confusion.length : 0;
    // Workers that take part: no more than there are groups (each needs count areas of its own).
    const workers = Math.min(this.threads, groups);
    const staging = this.#staging();
    try {
      const size = rows * C;
      const zPtr = inRes && kind === 'f32' ? inRes.ptr : staging.alloc(size * 4);
      // Another element type is staged raw (a resident one is read where it lies) and widened chunk by
      // chunk into zPtr by the worker that folds the group.
      const hPtr = kind === 'f32' ? 0 : inRes ? inRes.ptr : staging.alloc(size * eb);
      const yPtr = staging.alloc(rows * 4);
      const pPtr = staging.alloc(groups * length * 8);
      const lPtr = s.sequences ? staging.alloc(rows * 8) : 0;
      const cPtr = countsLength ? staging.alloc(workers * countsLength * 8) : 0;
      const ePtr = cellsLength ? staging.alloc(workers * cellsLength * 8) : 0;
      if (cPtr) d.f64(cPtr, workers * countsLength).fill(0);
      if (ePtr) d.f64(ePtr, workers * cellsLength).fill(0);
      const job: ScoreJob = {
        rows, classes: C, group, per: chunkRows(C), input: zPtr, labels: yPtr, ignoreIndex: s.ignoreIndex,
        from: FROM_CODE[s.from], epsilon: s.epsilon, topK: s.topK.slice(), slots, partials: pPtr, losses: lPtr,
        counts: cPtr, countsLength, cells: ePtr, cellsLength,
        widen: kind === 'f32' ? null : { src: hPtr, bytes: eb, code: WIDEN_CODE[kind] }, direct: groups === 1,
      };
      // One group: its slot starts as the running state, and becomes the new one (as one thread folds).
      if (job.direct) writeState(s, d.f64(pPtr, length));
      const input = inRes ? null : u.input;
      await this.#spreadGroups(job, groups, workers, input ? 4 : 1, (g0, g1) => {
        const r0 = g0 * group, r1 = Math.min(rows, g1 * group);
        if (input) rawAt(d, kind === 'f32' ? zPtr : hPtr, kind, r0 * C, r1 * C).set(input.subarray(r0 * C, r1 * C) as never);
        stageLabels(d.i32(yPtr + r0 * 4, r1 - r0), u.labels, r0);
      });
      // Every worker succeeded: now, and only now, the state changes (synchronously).
      const m = new Float64Array(length);
      writeState(s, m);
      const partials = d.f64(pPtr, groups * length);
      let counted = 0;
      if (job.direct) {
        counted = partials[0] - m[0];
        m.set(partials.subarray(0, length));
      }
      for (let g = 0; g < groups && !job.direct; g++) {
        const p = partials.subarray(g * length, (g + 1) * length);
        counted += p[0];
        mergePartial(m, p, K, slots);
      }
      let seqLoss: Float64Array | null = null, seqTokens: Int32Array | null = null;
      if (s.sequences) {
        const T = u.sequenceLength, losses = d.f64(lPtr, rows);
        seqLoss = new Float64Array(rows / T);
        seqTokens = new Int32Array(rows / T);
        for (let r = 0; r < rows; r++) {
          if (u.labels[r] === s.ignoreIndex) continue;
          // Row order within each sequence, in float64, as one thread sums them.
          const b = Math.floor(r / T);
          seqLoss[b] += losses[r];
          seqTokens[b]++;
        }
      }
      readState(s, m);
      addCounts(s.classCounts, cPtr ? d.f64(cPtr, workers * countsLength) : null);
      addCounts(s.confusion, ePtr ? d.f64(ePtr, workers * cellsLength) : null);
      if (seqLoss) addSequences(s, seqLoss, seqTokens!);
      addBytes(s, u, counted);
    } finally {
      staging.release();
    }
  }

  /**
   * Runs a scorer job's groups on the workers, as #spread runs blocks: in runs per worker staged just
   * before they are sent (`stage(g0, g1)`), or, with nothing to copy (`runs` 1), everything staged
   * first and each worker taking groups from a counter in shared memory. Workers 0 .. workers - 1 take
   * part, each folding its counts into the areas of its own slot. Settles once every run sent has,
   * then throws the first failure.
   */
  async #spreadGroups(
    job: ScoreJob, groups: number, workers: number, runs: number, stage: (g0: number, g1: number) => void,
  ): Promise<void> {
    if (groups === 0) return;
    const steal = runs === 1 ? this.#driver.alloc(4) : 0;
    const n = Math.min(workers * runs, groups);
    let next = 0;
    let failure: { error: unknown } | null = null;
    const lane = async (worker: number): Promise<void> => {
      if (steal) {
        try {
          await this.#send(worker, { type: 'score', job, g0: 0, g1: groups, steal, slot: worker });
        } catch (error) {
          failure ??= { error };
        }
        return;
      }
      while (next < n && !failure) {
        const c = next++;
        const g0 = Math.floor((c * groups) / n), g1 = Math.floor(((c + 1) * groups) / n);
        try {
          stage(g0, g1);
          await this.#send(worker, { type: 'score', job, g0, g1, steal: 0, slot: worker });
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    const lanes: Promise<void>[] = [];
    if (this.#active++ === 0) this.#keepAlive?.ref();
    try {
      if (steal) {
        this.#driver.i32(steal, 1)[0] = 0;
        stage(0, groups);
      }
      // Stealing needs one lane per worker; runs keep two queued per worker (a worker's lanes share its slot).
      for (let l = 0; l < (steal ? workers : 2 * workers); l++) lanes.push(lane(l % workers));
      await Promise.all(lanes);
    } finally {
      if (--this.#active === 0) this.#keepAlive?.unref();
      if (steal) this.#driver.release(steal, 4);
    }
    if (failure) throw (failure as { error: unknown }).error;
  }

  /**
   * A resident buffer of `length` float32 zeros in the pool's shared memory, read and written by the
   * workers without copying (see `xe.alloc`). Call `free()` when done.
   * @throws TypeError for a non-number; RangeError for a length that is not an integer in [0, 2^30]
   *   or when memory cannot grow; Error when the pool is closed
   */
  alloc(length: number): Resident;
  alloc<D extends ResidentDtype>(length: number, options: ResidentOptions<D>): Resident<D>;
  alloc(length: number, options?: ResidentOptions): Resident<ResidentDtype> {
    this.#checkOpen();
    return allocResident(this.#driver, length, options);
  }

  /** A resident buffer holding a copy of `values` (see alloc; a half dtype takes a Uint16Array of bits). */
  tensor(values: ArrayLike<number>): Resident;
  tensor<D extends ResidentDtype>(values: ArrayLike<number>, options: ResidentOptions<D>): Resident<D>;
  tensor(values: ArrayLike<number>, options?: ResidentOptions): Resident<ResidentDtype> {
    this.#checkOpen();
    return residentFrom(this.#driver, values, options);
  }

  /**
   * Terminates the workers. Calls in flight reject; later calls reject (alloc and tensor throw) with
   * an Error saying the pool is closed. Resident buffers stay readable. Closing twice is harmless.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive as unknown as ReturnType<typeof setInterval>);
    const closing: Promise<unknown>[] = [];
    for (let i = 0; i < this.#slots.length; i++) {
      const live = this.#slots[i];
      this.#slots[i] = null;
      if (!live) continue;
      const calls = [...live.pending.values()];
      live.pending.clear();
      live.refuse(this.#closedError());
      // As in #fail: calls in flight reject once their worker can no longer write.
      closing.push(live.handle.terminate().catch(() => undefined).then(() => {
        for (const call of calls) call.reject(this.#closedError());
      }));
    }
    await Promise.all(closing);
  }

  /** Test-only: makes worker i fail on its next job (see failNext). */
  async __xentropyFailNext(i: number, how: FailMode): Promise<void> {
    let live = this.#slots[i];
    if (!live) live = this.#slots[i] = this.#start(i);
    await live.ready;
    live.handle.post({ type: 'fail', how });
  }
}

/** Elements [a, b) of a staging region of `kind` elements at ptr, as a view of that kind. */
function rawAt(d: Driver, ptr: number, kind: keyof typeof ELEMENT_BYTES, a: number, b: number): FloatData {
  const at = ptr + a * ELEMENT_BYTES[kind];
  return kind === 'f32' ? d.f32(at, b - a) : kind === 'f64' ? d.f64(at, b - a) : d.u16(at, b - a);
}

/** Adds the per-worker count areas (each target.length f64s, one after the other) into target: exact integers. */
function addCounts(target: Float64Array | null, areas: Float64Array | null): void {
  if (!target || !areas) return;
  for (let w = 0; w < areas.length; w += target.length) {
    for (let i = 0; i < target.length; i++) target[i] += areas[w + i];
  }
}

function workerError(i: number, cause: Error): Error {
  if (cause.message.startsWith('xentropy pool worker ')) return cause;
  return new Error(`xentropy pool worker ${i} failed: ${cause.message}`, { cause });
}
