import type { Phase } from './task.js';

export const CHANGE_EVENT_TYPES = [
  'task_new',
  'task_updated',
  'task_removed',
  'worker_new',
  'worker_updated',
  'worker_removed',
  'job_new',
  'job_updated',
  'job_removed',
] as const;
export type ChangeEventType = (typeof CHANGE_EVENT_TYPES)[number];

/**
 * One change to the store. `seq` is strictly increasing for the life of the store
 * (and, once the journal lands, across restarts), so SSE clients resume with Last-Event-ID.
 */
export interface ChangeEvent {
  seq: number;
  /** ISO 8601 UTC time the change was observed (or reported by the upstream). */
  at: string;
  type: ChangeEventType;
  source: string;
  kind: string;
  id: string;
  state?: string;
  prev_state?: string;
  phase?: Phase;
  prev_phase?: Phase;
  owner?: string;
  repo?: string;
}
