/**
 * The shared, normalized model every source maps its upstream data to.
 * A new field here is a deliberate, visible change: every source and the API see it.
 */

/** Normalized life-cycle phase, comparable across build systems. */
export const PHASES = ['queued', 'running', 'success', 'failed', 'canceled', 'blocked', 'unknown'] as const;
export type Phase = (typeof PHASES)[number];

/** Phases after which a task does no more work unless re-run. */
export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set<Phase>(['success', 'failed', 'canceled']);

/** Result of building one subtask (or the whole task) on one architecture. */
export interface ArchResult {
  arch: string;
  /** Upstream word as the upstream (or taskoteka) reports it, e.g. `built`, `failed`, `excluded`. */
  status: string;
  phase: Phase;
}

/** An approval or disapproval of a subtask (girar `acl/{approved,disapproved}/<N>/<login>`). */
export interface Approval {
  by: string;
  verdict: 'approved' | 'disapproved';
  /** ISO 8601 UTC time of the stamp, when known. */
  at?: string;
  comment?: string;
}

/** One part of a task: a girar subtask (gear, srpm, copy, delete, rebuild), a Koji child task... */
export interface Subtask {
  id: string;
  /** Upstream kind, e.g. `repo`, `srpm`, `copy`, `delete`; `deleted` for a removed girar subtask. */
  type: string;
  /** Package (source package name) when known. */
  package?: string;
  /** Human label: git dir, srpm file name, tag. */
  label?: string;
  owner?: string;
  archs: ArchResult[];
  approvedBy?: string[];
  disapprovedBy?: string[];
  /** Approvals and disapprovals with their time and comment, where the upstream keeps them. */
  approvals?: Approval[];
  /**
   * Upstream subtask attributes that are shown and searched, by upstream name
   * (girar: dir, tag_name, pkgname, userid, srpm). Full-text matches report them as `<subtask>/<name>`.
   */
  fields?: Record<string, string>;
}

/** A file a task produced (a package, a log), with where to download it from the upstream. */
export interface Artifact {
  name: string;
  /** `package`, `log`, or another upstream word. */
  type: string;
  size?: number;
  /** Absolute download URL on the upstream. */
  url?: string;
}

/** One unit of submitted work: girar task, Koji task, APB build, Cuirass build or evaluation, karajo run. */
export interface Task {
  /** Configured source instance name (e.g. `alt`, `demo-girar`). */
  source: string;
  /** Build-system kind (`girar`, `apb`, ...). */
  kind: string;
  /** Upstream id, as a string (unique within source). */
  id: string;
  /** Native upstream state word (e.g. `BUILDING`). */
  state: string;
  phase: Phase;
  owner?: string;
  /** girar repo, Koji tag/channel, Cuirass specification, APB architecture. */
  repo?: string;
  message?: string;
  /** ISO 8601 UTC timestamps. */
  created?: string;
  started?: string;
  finished?: string;
  updated?: string;
  /** When the task entered its current state (upstream time when known, else first observed). */
  stateSince?: string;
  /** Distinct architectures this task builds for. */
  archs: string[];
  subtasks: Subtask[];
  /** Link to the task's upstream page. */
  url?: string;
  /** Files the task produced, where the upstream lists them (APB: packages and logs). */
  artifacts?: Artifact[];
  /** The upstream record exactly as the upstream serves it (girar: `girar task show --json`). */
  native?: unknown;
  /** Small, kind-specific attributes worth filtering on (e.g. girar `try`, `iter`, `test_only`). */
  attrs?: Record<string, string | number | boolean>;
}

/** Key of a task across sources. */
export function taskKey(source: string, id: string): string {
  return `${source}\u0000${id}`;
}
