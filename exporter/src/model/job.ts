/** A scheduled job (karajo JobExec/JobHTTP). Its runs are Tasks. */
export interface Job {
  source: string;
  kind: string;
  id: string;
  name: string;
  /** `exec`, `http`, ... */
  jobType: string;
  status: string;
  paused: boolean;
  lastRun?: string;
  nextRun?: string;
  intervalSeconds?: number;
  schedule?: string;
  lastDurationSeconds?: number;
  description?: string;
  url?: string;
  native?: unknown;
}
