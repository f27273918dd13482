/**
 * The reader's threads: `threads` workers each run batches of task-directory jobs with blocking
 * I/O, so reads go in parallel (what NFS latency needs) and the event loop never waits on a disk.
 * `threads: 0` runs the batches on the main thread, yielding between them (tests, tiny trees).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Cancelled } from '../../../util/deadline.js';
import { BatchRunner, type ReaderSettings, type TaskJob, type TaskOutcome } from './batch.js';

/** Jobs per message: large enough to amortize messaging, small enough to balance the threads. */
const BATCH = 64;

interface Pending {
  resolve(results: TaskOutcome[]): void;
  reject(err: Error): void;
}

/** Threads are stopped this long after their last batch: each costs ~20 MB of RSS while alive. */
const IDLE_MS = 1000;

class ReaderThread {
  private worker: Worker | undefined;
  private idle: NodeJS.Timeout | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;

  constructor(private readonly settings: ReaderSettings) {}

  run(jobs: TaskJob[], now: number): Promise<TaskOutcome[]> {
    const worker = this.ensure();
    clearTimeout(this.idle);
    const seq = ++this.seq;
    return new Promise<TaskOutcome[]>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      worker.postMessage({ seq, req: { now, jobs } });
    }).finally(() => {
      if (this.pending.size > 0) return;
      clearTimeout(this.idle);
      this.idle = setTimeout(() => void this.close(), IDLE_MS);
      this.idle.unref();
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerUrl(), { workerData: this.settings });
    worker.unref();
    worker.on('message', (msg: { seq: number; json?: string; error?: string }) => {
      const p = this.pending.get(msg.seq);
      if (!p) return;
      this.pending.delete(msg.seq);
      if (msg.json !== undefined) p.resolve(JSON.parse(msg.json) as TaskOutcome[]);
      else p.reject(new Error(`reader thread failed: ${msg.error ?? 'no result'}`));
    });
    const fail = (err: Error) => {
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => fail(new Error(`reader thread crashed: ${err.message}`)));
    worker.on('exit', (code) => {
      if (this.worker === worker) fail(new Error(`reader thread exited with code ${code}`));
    });
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    clearTimeout(this.idle);
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

export class ReaderPool {
  private readonly threads: ReaderThread[];
  private readonly inline: BatchRunner | undefined;

  constructor(settings: ReaderSettings, threads: number) {
    this.threads = Array.from({ length: threads }, () => new ReaderThread(settings));
    this.inline = threads === 0 ? new BatchRunner(settings) : undefined;
  }

  /**
   * Run every job; results in job order. Stops handing out batches once `signal` aborts.
   * `onBatch` sees each batch's outcomes as soon as they arrive, so a caller keeps the progress
   * of a run that is aborted half-way.
   */
  async run(jobs: readonly TaskJob[], now: number, signal: AbortSignal, onBatch?: (outcomes: TaskOutcome[]) => void): Promise<TaskOutcome[]> {
    const batches: TaskJob[][] = [];
    for (let i = 0; i < jobs.length; i += BATCH) batches.push(jobs.slice(i, i + BATCH));
    const results: TaskOutcome[][] = new Array(batches.length);
    let next = 0;
    const take = (): number | undefined => {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Cancelled('tree read cancelled');
      return next < batches.length ? next++ : undefined;
    };
    if (this.inline) {
      const runner = this.inline;
      for (let i = take(); i !== undefined; i = take()) {
        // Through JSON, as from a worker: the parsed objects are much more compact than the ones
        // the reader assembles key by key, and the tree keeps them.
        results[i] = JSON.parse(JSON.stringify(runner.run({ now, jobs: batches[i]! }))) as TaskOutcome[];
        onBatch?.(results[i]!);
        await new Promise<void>((r) => setImmediate(r));
      }
    } else {
      // Settle every thread before returning or throwing: no batch lands after run() is done.
      const settled = await Promise.allSettled(
        this.threads.map(async (thread) => {
          for (let i = take(); i !== undefined; i = take()) {
            results[i] = await thread.run(batches[i]!, now);
            onBatch?.(results[i]!);
          }
        }),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return results.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}

/**
 * The compiled worker entry. Under vitest the sources are TypeScript, which a worker thread
 * cannot load: it then runs the build in exporter/dist (`npm test` builds first).
 */
function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL(here.href.replace('/exporter/src/', '/exporter/dist/'));
  if (!existsSync(fileURLToPath(built))) throw new Error(`the girar tree reader's worker is not built (${fileURLToPath(built)}); run npm run build`);
  return built;
}
