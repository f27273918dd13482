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
  loadAverage?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  diskUsedBytes?: number;
  diskTotalBytes?: number;
  currentTask?: string;
  lastSeen?: string;
  url?: string;
  native?: unknown;
}
