/**
 * One batch of task-directory jobs, as a reader thread runs it: check each task's signature and
 * re-read only those that may have changed. Shared by the worker threads and the inline mode.
 */
import { readFileSync, statSync } from 'node:fs';
import { readTaskDir, sameSignature, signatureOf, type TreeTaskRead } from './reader.js';
import { TaskDirReader, TreeProblem, scratchBuffer, type TreeProblemReason } from './safe-read.js';

export interface ReaderSettings {
  maxFileBytes: number;
  timeZone: string;
  /** passwd file mapping uids to `alt_<login>` names (for `aborted_by`); undefined = uids stay numeric. */
  passwdFile?: string;
}

export interface TaskJob {
  id: number;
  /** Absolute path of the task directory. */
  dir: string;
  /** An archived copy (empty files were deleted by the archiver). */
  archived?: boolean;
  /** Re-read even when the signature is unchanged (first read, periodic full re-read, earlier problem). */
  force?: boolean;
  prevState?: string;
  prevSubtasks?: string[];
  prevSig?: number[] | null;
}

export type TaskOutcome =
  | { id: number; kind: 'unchanged' }
  | { id: number; kind: 'read'; sig: number[] | null; task: TreeTaskRead }
  | { id: number; kind: 'problem'; reason: TreeProblemReason; path: string; message: string }
  | { id: number; kind: 'gone' };

export interface BatchRequest {
  now: number;
  jobs: TaskJob[];
}

/** A reader thread's state: settings, the scratch buffer and the uid map. */
export class BatchRunner {
  private readonly buf: Buffer;
  private users = new Map<number, string>();
  private passwdStamp = '';

  constructor(private readonly settings: ReaderSettings) {
    this.buf = scratchBuffer(settings.maxFileBytes);
  }

  run(req: BatchRequest): TaskOutcome[] {
    this.loadUsers();
    return req.jobs.map((job) => this.one(job, req.now));
  }

  private one(job: TaskJob, now: number): TaskOutcome {
    const dir = new TaskDirReader(job.dir, this.settings.maxFileBytes, this.buf);
    const root = dir.lstat('');
    if (!root) return { id: job.id, kind: 'gone' };
    if (!job.force && job.prevSig) {
      const sig = signatureOf(dir, job.prevState, job.prevSubtasks ?? []);
      if (sameSignature(sig, job.prevSig)) return { id: job.id, kind: 'unchanged' };
    }
    const before = dir.lstat('task/state')?.mtimeMs;
    try {
      const task = readTaskDir(dir, job.id, { timeZone: this.settings.timeZone, now, archived: job.archived ?? false, users: this.users });
      const subtasks = Object.keys(task.detail.subtasks ?? {});
      let sig = signatureOf(new TaskDirReader(job.dir, this.settings.maxFileBytes, this.buf), task.detail.state, subtasks);
      // task/state changed while the directory was being read: read it again next time.
      if (sig && sig[0] !== before) sig = null;
      return { id: job.id, kind: 'read', sig, task };
    } catch (err) {
      if (err instanceof TreeProblem) return { id: job.id, kind: 'problem', reason: err.reason, path: err.path, message: err.message };
      const code = (err as NodeJS.ErrnoException).code;
      return { id: job.id, kind: 'problem', reason: 'io_error', path: '', message: code ?? String(err) };
    }
  }

  /** (Re)load the uid map when the passwd file changed. */
  private loadUsers(): void {
    const file = this.settings.passwdFile;
    if (!file) return;
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch {
      return;
    }
    if (stamp === this.passwdStamp) return;
    const users = new Map<number, string>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const cols = line.split(':');
      if (cols.length >= 3 && cols[0] && /^\d+$/.test(cols[2] ?? '')) users.set(Number(cols[2]), cols[0]);
    }
    this.users = users;
    this.passwdStamp = stamp;
  }
}
