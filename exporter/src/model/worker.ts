/** A builder or host: APB server, Koji host, Cuirass worker. */
export interface Worker {
  source: string;
  kind: string;
  id: string;
  name: string;
  up: boolean;
  busy?: boolean;
  enabled?: boolean;
  archs: string[];
  /** Concurrent builds it accepts, and how many it runs now. */
  capacity?: number;
  load?: number;
  queueLength?: number;
  cpuCores?: number;
  /** One-minute load average of the host. */
  loadAverage?: number;
  /** Share of CPU time in use, 0..1, as the upstream sampled it. */
  cpuUsageRatio?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  diskUsedBytes?: number;
  diskTotalBytes?: number;
  currentTask?: string;
  /** Upstream version the worker reports. */
  version?: string;
  /** Upstream health word when it has one (APB `GET /health`: healthy, warning, degraded). */
  health?: string;
  /** ISO 8601 UTC time the worker last answered (or the upstream last heard from it). */
  lastSeen?: string;
  /** Why the worker is down or stale: the latest error reaching it, with its ISO 8601 UTC time. */
  lastError?: { message: string; at: string };
  /** Labels from the exporter config (e.g. site, rack); shown in the API, not in metric labels. */
  labels?: Record<string, string>;
  url?: string;
  native?: unknown;
}
