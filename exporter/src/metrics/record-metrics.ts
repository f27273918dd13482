/** Worker and job counts by state, read from the store at scrape (few records per source). */
import type { Job } from '../model/job.js';
import type { Worker } from '../model/worker.js';
import type { Store } from '../store/store.js';
import { makeGauge, type FamilyContext } from './factory.js';

export const WORKER_STATES = ['busy', 'idle', 'down'] as const;

/** The same word the store puts in worker change events. */
export function workerState(worker: Worker): (typeof WORKER_STATES)[number] {
  return worker.up ? (worker.busy ? 'busy' : 'idle') : 'down';
}

/** Upstream job status as a bounded label value: paused jobs are `paused`, no status (karajo after a resume) `none`, odd words `other`. */
export function jobStatus(job: Job): string {
  if (job.paused) return 'paused';
  if (job.status === '') return 'none';
  return /^[a-z][a-z0-9_-]{0,31}$/i.test(job.status) ? job.status.toLowerCase() : 'other';
}

export function registerRecordMetrics(ctx: FamilyContext, store: Store): void {
  makeGauge(ctx, 'workers', (g) => {
    g.reset();
    const counts = new Map<string, { source: string; kind: string; state: string; count: number }>();
    for (const w of store.listWorkers()) {
      // Every state of a source with workers is present, 0 included, so `== 0` alerts work.
      for (const state of WORKER_STATES) {
        const key = `${w.source}\u0000${w.kind}\u0000${state}`;
        if (!counts.has(key)) counts.set(key, { source: w.source, kind: w.kind, state, count: 0 });
      }
      const held = counts.get(`${w.source}\u0000${w.kind}\u0000${workerState(w)}`);
      if (held) held.count += 1;
    }
    for (const { count, ...labels } of counts.values()) g.set(labels, count);
  });
  makeGauge(ctx, 'jobs', (g) => {
    g.reset();
    for (const job of store.listJobs()) g.inc({ source: job.source, kind: job.kind, status: jobStatus(job) });
  });
}
