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
  /** Its next run is overdue: more than one interval (or schedule period) past, while not paused. */
  overdue?: boolean;
  /** How many runs the upstream keeps (karajo log_retention). */
  logRetention?: number;
  /** Highest run counter seen (karajo: log counters are 1-based and never reused). */
  lastRunCounter?: number;
  description?: string;
  url?: string;
  native?: unknown;
}
