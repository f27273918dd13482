/**
 * Per-worker families (`buildfarm_worker_*`) and the APB families that describe servers and the
 * farm, read from the store's workers and the sources' endpoint health at scrape. Workers are few
 * (one per build server or host), so a scrape walks them all.
 */
import type { Worker } from '../model/worker.js';
import type { HealthProvider } from '../sources/health.js';
import type { Store } from '../store/store.js';
import type { KeyOfType } from './definitions.js';
import type { LabelGuard } from './label-guard.js';
import { makeGauge, type FamilyContext } from './factory.js';

type WorkerGaugeKey = Extract<
  KeyOfType<'gauge'>,
  | 'workerUp'
  | 'workerCapacity'
  | 'workerRunningTasks'
  | 'workerQueuedTasks'
  | 'workerCpuCores'
  | 'workerLoad1'
  | 'workerCpuUsage'
  | 'workerMemoryUsed'
  | 'workerMemoryTotal'
  | 'workerDiskUsed'
  | 'workerDiskTotal'
  | 'workerLastSeen'
>;

/** One number per worker, or undefined to leave the worker out of the family. */
const WORKER_VALUES: Record<WorkerGaugeKey, (w: Worker) => number | undefined> = {
  workerUp: (w) => (w.up ? 1 : 0),
  workerCapacity: (w) => w.capacity,
  workerRunningTasks: (w) => w.load,
  workerQueuedTasks: (w) => w.queueLength,
  workerCpuCores: (w) => w.cpuCores,
  workerLoad1: (w) => w.loadAverage,
  workerCpuUsage: (w) => w.cpuUsageRatio,
  workerMemoryUsed: (w) => w.memoryUsedBytes,
  workerMemoryTotal: (w) => w.memoryTotalBytes,
  workerDiskUsed: (w) => w.diskUsedBytes,
  workerDiskTotal: (w) => w.diskTotalBytes,
  workerLastSeen: (w) => (w.lastSeen === undefined ? undefined : Date.parse(w.lastSeen) / 1000),
};

/** APB `GET /health` status words; each is exported for every server whose health is known. */
export const APB_HEALTH_STATUSES = ['healthy', 'warning', 'degraded'] as const;

export function registerWorkerMetrics(ctx: FamilyContext, store: Store, health: HealthProvider, guard: LabelGuard): void {
  const worker = (w: Worker) => guard.label(w.source, 'worker', w.id);
  for (const key of Object.keys(WORKER_VALUES) as WorkerGaugeKey[]) {
    const value = WORKER_VALUES[key];
    makeGauge(ctx, key, (g) => {
      g.reset();
      for (const w of store.listWorkers()) {
        const v = value(w);
        if (v !== undefined && Number.isFinite(v)) g.set({ source: w.source, kind: w.kind, worker: worker(w) }, v);
      }
    });
  }
  makeGauge(ctx, 'workerArchInfo', (g) => {
    g.reset();
    for (const w of store.listWorkers()) {
      for (const arch of w.archs) g.set({ source: w.source, kind: w.kind, worker: worker(w), arch: guard.label(w.source, 'arch', arch) }, 1);
    }
  });
  makeGauge(ctx, 'apbServerHealth', (g) => {
    g.reset();
    for (const w of store.listWorkers()) {
      if (w.kind !== 'apb' || w.health === undefined) continue;
      for (const status of APB_HEALTH_STATUSES) g.set({ source: w.source, worker: worker(w), status }, w.health === status ? 1 : 0);
    }
  });
  makeGauge(ctx, 'apbFarmUp', (g) => {
    g.reset();
    for (const h of health.health()) {
      if (h.kind !== 'apb') continue;
      const farm = h.endpoints?.find((e) => e.role === 'farm');
      if (farm) g.set({ source: h.name }, farm.reachable ? 1 : 0);
    }
  });
}
