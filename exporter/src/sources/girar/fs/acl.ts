/**
 * girar's ACL decision, as used by `girar task ls --needs-approval=maint|tester` and taskoteka's
 * `GET /tasks?needs_approval=` (girar.md §4, §6). The pure functions mirror girar's scripts:
 * `checkPerms` is bin/girar-check-perms (§6.2), `subtaskDecision` is bin/girar-check-subtask-perms
 * (§6.3) and `taskNeedsApproval` is bin/girar-check-task-perms plus girar-task-ls's filter.
 * `AclDirectory` keeps the list files of `$ACL_DIR` loaded and re-reads only changed ones.
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { REPO_NAME_PATTERN, resolvePolicy, type GirarAclConfig, type RepoPolicy } from './acl-config.js';

export interface AclSubtaskInput {
  id: string;
  /** `gears/<N>/userid`: who added the subtask. */
  author: string;
  /** Logins with a file in `acl/approved/<N>/`. */
  approvedBy: readonly string[];
  disapprovedBy: readonly string[];
}

export interface AclTaskInput {
  id: string;
  repo: string;
  state: string;
  testOnly: boolean;
  swift: boolean;
  /** Rows of `plan/check_acl`: `<subtask>\t<srcpkg>`. */
  checkAcl: readonly { subtask: string; item: string }[];
  subtasks: ReadonlyMap<string, AclSubtaskInput>;
}

/** One `list.packages.<repo>` line: `<pkg>\t<leader> [<member> ...]`. */
export interface PackageAcl {
  readonly leader: string;
  readonly members: readonly string[];
}

export interface ParsedList {
  /** Non-blank lines that did not parse; they are skipped. */
  readonly malformedLines: number;
  /** 1-based number of the first such line, or 0. */
  readonly firstMalformedLine: number;
}

export interface PackagesList extends ParsedList {
  readonly packages: ReadonlyMap<string, PackageAcl>;
  /** Names on a line without owners. girar-check-perms denies these ("invalid acl entry") rather than treating them as unlisted. */
  readonly invalid: ReadonlySet<string>;
}

export interface GroupsList extends ParsedList {
  /** `@group` -> its leader and members, expanded once per load. */
  readonly groups: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The lists of one repo. `packages: null` = `list.packages.<repo>` is missing: girar denies every check. */
export interface RepoAclLists {
  readonly packages: PackagesList | null;
  readonly groups: GroupsList | null;
}

export type AclMode = 'normal' | 'maint' | 'tester';
export type ApprovalGroup = 'maint' | 'tester';
/** girar's exit codes: 0 allowed (normal mode) or "needs this group" (needs-approval modes), 1 denied, 77 nothing needed. */
export type AclExitCode = 0 | 1 | 77;

export interface PermsResult {
  readonly allow: boolean;
  /** The §6.2 step that decided, e.g. `6.2.5`. */
  readonly step: string;
  readonly reason: string;
}

export interface SubtaskDecision {
  readonly code: AclExitCode;
  /** The §6.3 step that decided, e.g. `6.3.8`. */
  readonly step: string;
  readonly reason: string;
}

export interface AclRowResult extends SubtaskDecision {
  readonly subtask: string;
  readonly item: string;
}

/** Why a task is not asked about: girar-task-ls skips the first three; the last is AclDirectory's own. */
export type TaskSkip = 'not-eperm' | 'test-only' | 'swift' | 'acl-not-loaded';

export interface TaskApproval {
  /** Whether `girar task ls --needs-approval=<group>` lists the task. */
  readonly listed: boolean;
  /** girar-check-task-perms' exit code; null when girar-task-ls skips the task without asking. */
  readonly code: AclExitCode | null;
  readonly skipped: TaskSkip | null;
  readonly rows: readonly AclRowResult[];
}

/** What `taskNeedsApproval` needs to know about a repo. */
export interface AclView {
  lists(repo: string): RepoAclLists;
  policy(repo: string): RepoPolicy;
}

/** Accumulates a list file line by line, so that a large file can be parsed in slices. */
interface ListBuilder<T> {
  add(fields: readonly string[], lineNo: number): void;
  finish(): T;
}

interface Cursor {
  offset: number;
  lineNo: number;
}

/** Space, TAB, CR, VT and FF: girar's `[[:space:]]` within a line. */
function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** The blank-separated fields of `text[start, end)`: none for a blank line, a leading '' when the line starts with a blank. */
function splitFields(text: string, start: number, end: number): string[] {
  const fields: string[] = [];
  let i = start;
  while (i < end) {
    const from = i;
    while (i < end && !isBlank(text.charCodeAt(i))) i++;
    if (i > from || from === start) fields.push(text.slice(from, i));
    while (i < end && isBlank(text.charCodeAt(i))) i++;
  }
  return fields.length === 1 && fields[0] === '' ? [] : fields;
}

/** Feeds up to `maxLines` lines to `builder`; true once the text is used up. */
function feedLines(text: string, cursor: Cursor, builder: ListBuilder<unknown>, maxLines: number): boolean {
  for (let n = 0; n < maxLines && cursor.offset < text.length; n++) {
    let end = text.indexOf('\n', cursor.offset);
    if (end < 0) end = text.length;
    cursor.lineNo++;
    const fields = splitFields(text, cursor.offset, end);
    cursor.offset = end + 1;
    if (fields.length > 0) builder.add(fields, cursor.lineNo);
  }
  return cursor.offset >= text.length;
}

function malformedCounter() {
  const counter = {
    malformedLines: 0,
    firstMalformedLine: 0,
    note(lineNo: number) {
      counter.malformedLines++;
      counter.firstMalformedLine ||= lineNo;
    },
  };
  return counter;
}

/**
 * `list.packages.<repo>`. girar matches `^<pkg>[[:space:]]`, so a blank of any kind ends the name
 * and an indented line matches nothing. A package on several lines keeps the first leader; the
 * other lines' owners become members, as girar's `set -- $(grep ...)` makes them.
 */
function packagesBuilder(): ListBuilder<PackagesList> {
  const packages = new Map<string, { leader: string; members: string[] }>();
  const invalid = new Set<string>();
  const bad = malformedCounter();
  return {
    add(fields, lineNo) {
      const name = fields[0];
      const leader = fields[1];
      if (!name || leader === undefined) {
        bad.note(lineNo);
        if (name) invalid.add(name);
        return;
      }
      const known = packages.get(name);
      if (known) known.members.push(...fields.slice(1));
      else packages.set(name, { leader, members: fields.slice(2) });
    },
    finish() {
      for (const name of packages.keys()) invalid.delete(name);
      return { packages, invalid, malformedLines: bad.malformedLines, firstMalformedLine: bad.firstMalformedLine };
    },
  };
}

/** `list.groups.<repo>`: `@<group>\t<leader> [<login> ...]`; the leader is a member too. */
function groupsBuilder(): ListBuilder<GroupsList> {
  const groups = new Map<string, Set<string>>();
  const bad = malformedCounter();
  return {
    add(fields, lineNo) {
      const name = fields[0];
      if (!name || name.length < 2 || !name.startsWith('@') || fields.length < 2) return bad.note(lineNo);
      const set = groups.get(name);
      if (set) for (let i = 1; i < fields.length; i++) set.add(fields[i] as string);
      else groups.set(name, new Set(fields.slice(1)));
    },
    finish: () => ({ groups, malformedLines: bad.malformedLines, firstMalformedLine: bad.firstMalformedLine }),
  };
}

function parseWhole<T>(text: string, builder: ListBuilder<T>): T {
  feedLines(text, { offset: 0, lineNo: 0 }, builder, Infinity);
  return builder.finish();
}

/** Parses `list.packages.<repo>` (§6.1). Lines that do not parse are counted and skipped. */
export function parsePackagesList(text: string): PackagesList {
  return parseWhole(text, packagesBuilder());
}

/** Parses `list.groups.<repo>` (§6.1). Lines that do not parse are counted and skipped. */
export function parseGroupsList(text: string): GroupsList {
  return parseWhole(text, groupsBuilder());
}

/** Lines parsed between two yields to the event loop: a few milliseconds' work. */
const SLICE_LINES = 10_000;

async function parseInSlices<T>(text: string, builder: ListBuilder<T>, signal: AbortSignal | undefined): Promise<T> {
  const cursor = { offset: 0, lineNo: 0 };
  while (!feedLines(text, cursor, builder, SLICE_LINES)) {
    await yieldToLoop();
    signal?.throwIfAborted();
  }
  return builder.finish();
}

/** girar-check-perms (§6.2) with its reason. `item` is a source package or `@group`. */
export function explainPerms(user: string, item: string, repo: string, lists: RepoAclLists, policy: RepoPolicy): PermsResult {
  const allow = (step: string, reason: string): PermsResult => ({ allow: true, step, reason });
  const deny = (step: string, reason: string): PermsResult => ({ allow: false, step, reason });
  if (!lists.packages) return deny('6.2.1', `acl file for repository ${repo} not available`);
  if (policy.superusers.has(user)) return allow('6.2.2', 'superuser');
  // 6.2.3: girar also requires membership of the Unix group `maintainers` (getent), which cannot
  // be seen from the NFS mount; every user is taken to be a member.
  const groupMember = (group: string) => lists.groups?.groups.get(group)?.has(user) === true;
  if (item.startsWith('@')) {
    return groupMember(item) ? allow('6.2.6', `member of ${item}`) : deny('6.2.8', `does not belong to group ${item}`);
  }
  const entry = lists.packages.packages.get(item);
  if (!entry) {
    if (lists.packages.invalid.has(item)) return deny('6.2.4', `invalid acl entry for ${item}`);
    if (!policy.denyUnlisted || policy.usersAllowedUnlisted.has(user)) return allow('6.2.4', `${item} is not listed in the acl file`);
    return deny('6.2.4', `${item} is not listed in the acl file and unlisted packages are denied`);
  }
  if (entry.leader === user) return allow('6.2.5', 'project leader');
  if (entry.leader === '@nobody') return allow('6.2.5', 'project is orphaned');
  if (entry.members.includes('*') || entry.members.includes('@everybody')) return allow('6.2.5', 'project leader welcomes random builders');
  if (entry.members.includes(user)) return allow('6.2.6', 'approved builder');
  if ((entry.leader.startsWith('@') && groupMember(entry.leader)) || entry.members.some((m) => m.startsWith('@') && groupMember(m))) {
    return allow('6.2.6', 'member of approved group');
  }
  // 6.2.7 (a rebuild by GIRAR_NOREBUILD_USER's rules) is not modelled: nothing here says whether
  // a subtask is a rebuild, and the NOREBUILD lists are not public.
  return deny('6.2.8', `does not belong to approved builders list: ${[entry.leader, ...entry.members].join(' ')}`);
}

/** girar-check-perms (§6.2): may `user` build `item` (a package or `@group`) in `repo`? */
export function checkPerms(user: string, item: string, repo: string, lists: RepoAclLists, policy: RepoPolicy): boolean {
  return explainPerms(user, item, repo, lists, policy).allow;
}

const GLOBBED = /^[a-z]/;

/** girar reads approvals with the glob `[a-z]*`, so names starting otherwise (dotfiles, temp files) never count. */
function globbedLogins(logins: readonly string[]): string[] {
  return [...new Set(logins.filter((l) => GLOBBED.test(l)))].sort();
}

/**
 * girar-check-subtask-perms (§6.3) for one `plan/check_acl` row. In mode `normal`, ALLOW is 0 and
 * DENY 1. In the needs-approval modes ALLOW is 77, 0 means "needs an approval from this group",
 * and DENY stays 1.
 */
export function subtaskDecision(subtask: AclSubtaskInput, item: string, mode: AclMode, lists: RepoAclLists, policy: RepoPolicy): SubtaskDecision {
  const allow = (step: string, reason: string): SubtaskDecision => ({ code: mode === 'normal' ? 0 : 77, step, reason });
  const deny = (step: string, reason: string): SubtaskDecision => ({ code: 1, step, reason });
  const perms = (user: string, what: string) => checkPerms(user, what, policy.repo, lists, policy);
  const { author } = subtask;
  const approved = globbedLogins(subtask.approvedBy);
  const disapproved = globbedLogins(subtask.disapprovedBy);
  const { maintGroup: maint, testerGroup: tester } = policy;

  const superDisapprover = disapproved.find((a) => policy.superusers.has(a));
  if (superDisapprover) return deny('6.3.1', `disapproved by superuser ${superDisapprover}`);
  if (policy.superusers.has(author)) return allow('6.3.2', `allowed for superuser ${author}`);
  const superApprover = approved.find((a) => policy.superusers.has(a));
  if (superApprover) return allow('6.3.3', `approved by superuser ${superApprover}`);

  const qualified = disapproved.find((a) => perms(a, item) || (maint !== null && perms(a, maint)) || (tester !== null && perms(a, tester)));
  if (qualified) return deny('6.3.4', `disapproved by ${qualified}`);
  if (perms(author, item)) return allow('6.3.5', `allowed for ${author}`);
  const rightsApprover = approved.find((a) => perms(a, item));
  if (rightsApprover) return allow('6.3.6', `approved by ${rightsApprover}`);

  // 6.3.7: each exists only when the repo has that group.
  const byMaint = maint === null ? undefined : perms(author, maint) ? author : approved.find((a) => perms(a, maint));
  const byTester = tester === null ? undefined : approved.find((a) => perms(a, tester));
  // In a needs-approval mode girar answers only when the repo has the group asked about.
  const asked = (mode === 'maint' ? maint : mode === 'tester' ? tester : null) !== null;
  const answer = (code: AclExitCode, reason: string): SubtaskDecision => ({ code, step: '6.3.8', reason });
  if (byMaint !== undefined || byTester !== undefined) {
    // The group asked about has approved but the other has not: girar answers 77 there
    // (`mode_needs_approval_by ... 77`), so such a row neither lists nor hides the task.
    if (byMaint === undefined) {
      if (mode === 'maint' && asked) return answer(0, `approved by ${byTester} of ${tester}, needs ${maint}`);
      if (mode === 'tester' && asked) return answer(77, `already approved by ${byTester} of ${tester}`);
      if (maint !== null) return deny('6.3.8', `approved by ${byTester}, needs an approval from a member of ${maint}`);
    } else if (byTester === undefined) {
      if (mode === 'tester' && asked) return answer(0, `approved by ${byMaint} of ${maint}, needs ${tester}`);
      if (mode === 'maint' && asked) return answer(77, `already approved by ${byMaint} of ${maint}`);
      if (tester !== null) return deny('6.3.8', `approved by ${byMaint}, needs an approval from a member of ${tester}`);
    } else {
      return allow('6.3.8', `approved by ${byMaint} of ${maint} and ${byTester} of ${tester}`);
    }
  }
  // 6.3.9. Maint is asked first: with no group approval at all, only maint mode answers 0.
  if (mode === 'maint' && asked) return { code: 0, step: '6.3.9', reason: `no approval yet, needs ${maint}` };
  // girar re-runs the author's check here only to print diagnostics; 6.3.5 already answered it.
  if (maint !== null && tester !== null) return deny('6.3.9', `needs approvals from members of ${maint} and ${tester}`);
  return deny('6.3.9', 'Operation not permitted');
}

/**
 * girar-check-task-perms' aggregation: 0 iff some row is 0 and every other row is 0 or 77; all
 * rows 77 gives 77, and so does an empty plan/check_acl (nothing to approve); otherwise 1.
 */
export function aggregateRowCodes(codes: readonly AclExitCode[]): AclExitCode {
  let status: AclExitCode | undefined;
  for (const code of codes) {
    if (code === 0) status ??= 0;
    else if (code !== 77) status = code;
  }
  return status ?? 77;
}

const DIGITS = /^[0-9]+$/;

/** One row of girar-check-task-perms: girar exits 1 for a bad subtask id or a missing `gears/<N>/userid`. */
function rowDecision(task: AclTaskInput, row: { subtask: string; item: string }, mode: AclMode, lists: RepoAclLists, policy: RepoPolicy): AclRowResult {
  const subtask = task.subtasks.get(row.subtask);
  const base = { subtask: row.subtask, item: row.item };
  if (!DIGITS.test(row.subtask)) return { ...base, code: 1, step: '6.3', reason: `invalid subtask id ${row.subtask}` };
  if (!subtask) return { ...base, code: 1, step: '6.3', reason: `subtask ${row.subtask} has no gears/${row.subtask}/userid` };
  return { ...base, ...subtaskDecision(subtask, row.item, mode, lists, policy) };
}

function skipReason(task: AclTaskInput): TaskSkip | null {
  return task.state.toUpperCase() !== 'EPERM' ? 'not-eperm' : task.testOnly ? 'test-only' : task.swift ? 'swift' : null;
}

/** `girar task ls --needs-approval=<group>` for one task (§4): only EPERM tasks that are neither test-only nor swift are asked. */
export function taskNeedsApproval(task: AclTaskInput, group: ApprovalGroup, acl: AclView): TaskApproval {
  const skipped = skipReason(task);
  if (skipped) return { listed: false, code: null, skipped, rows: [] };
  const lists = acl.lists(task.repo);
  const policy = acl.policy(task.repo);
  const rows = task.checkAcl.map((row) => rowDecision(task, row, group, lists, policy));
  const code = aggregateRowCodes(rows.map((r) => r.code));
  return { listed: code === 0, code, skipped: null, rows };
}

export interface AclFileProblem {
  file: string;
  reason: string;
}

interface Loaded<T> {
  /** mtime, size and inode of the last version tried, read or not. */
  signature: string | null;
  data: T | null;
  problem: string | null;
}

/** The ACL lists of `$ACL_DIR`, kept loaded; only files whose mtime, size or inode changed are read again. */
export class AclDirectory implements AclView {
  private readonly wanted = new Set<string>();
  private readonly packages = new Map<string, Loaded<PackagesList>>();
  private readonly groups = new Map<string, Loaded<GroupsList>>();
  private readonly policies = new Map<string, RepoPolicy>();
  private readonly repoPattern = new RegExp(REPO_NAME_PATTERN);
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: GirarAclConfig,
    private readonly options: { log?: Logger } = {},
  ) {
    for (const repo of Object.keys(config.repos)) this.wanted.add(repo);
  }

  /**
   * Stats the lists of every repo asked about so far (configured, passed here, or queried) and
   * re-reads the changed ones. Concurrent calls run one after another.
   */
  refresh(signal?: AbortSignal, repos: Iterable<string> = []): Promise<void> {
    for (const repo of repos) this.want(repo);
    const run = this.queue.then(() => this.refreshAll(signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * As `taskNeedsApproval`. A repo whose lists were never looked for yet is skipped
   * (`acl-not-loaded`) until the next refresh, rather than judged as if its ACL file were missing.
   */
  needsApproval(task: AclTaskInput, group: ApprovalGroup): TaskApproval {
    this.want(task.repo);
    if (!this.packages.has(task.repo)) return { listed: false, code: null, skipped: skipReason(task) ?? 'acl-not-loaded', rows: [] };
    return taskNeedsApproval(task, group, this);
  }

  lists(repo: string): RepoAclLists {
    this.want(repo);
    return { packages: this.packages.get(repo)?.data ?? null, groups: this.groups.get(repo)?.data ?? null };
  }

  policy(repo: string): RepoPolicy {
    let policy = this.policies.get(repo);
    if (!policy) {
      policy = resolvePolicy(this.config, repo);
      this.policies.set(repo, policy);
    }
    return policy;
  }

  /** Current problems, one per list file: missing, unreadable, too large, not UTF-8 or with malformed lines. */
  problems(): AclFileProblem[] {
    const out: AclFileProblem[] = [];
    for (const [kind, loaded] of [['packages', this.packages], ['groups', this.groups]] as const) {
      for (const [repo, file] of loaded) if (file.problem) out.push({ file: this.path(kind, repo), reason: file.problem });
    }
    return out.sort((a, b) => a.file.localeCompare(b.file));
  }

  private want(repo: string): void {
    if (this.repoPattern.test(repo)) this.wanted.add(repo);
  }

  private path(kind: 'packages' | 'groups', repo: string): string {
    return join(this.config.dir, `list.${kind}.${repo}`);
  }

  private async refreshAll(signal: AbortSignal | undefined): Promise<void> {
    for (const repo of [...this.wanted].sort()) {
      await this.refreshFile('packages', repo, this.packages, packagesBuilder, signal);
      await this.refreshFile('groups', repo, this.groups, groupsBuilder, signal);
    }
  }

  private async refreshFile<T extends ParsedList>(
    kind: 'packages' | 'groups',
    repo: string,
    into: Map<string, Loaded<T>>,
    builder: () => ListBuilder<T>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    signal?.throwIfAborted();
    const file = this.path(kind, repo);
    const slot = into.get(repo) ?? { signature: null, data: null, problem: null };
    into.set(repo, slot);
    const report = (problem: string | null) => {
      if (problem && problem !== slot.problem) this.options.log?.warn({ file, problem }, `girar acl list ${file}: ${problem}`);
      slot.problem = problem;
    };
    let info;
    try {
      info = await stat(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        // §6.2.1: without list.packages girar denies every check; without list.groups no group has members.
        slot.signature = null;
        slot.data = null;
        report(kind === 'packages' ? 'missing: girar denies every ACL check in this repo' : 'missing: no group has members');
      } else {
        slot.signature = null;
        report(`cannot stat (${code ?? String(err)}); keeping the previous version`);
      }
      return;
    }
    const signature = `${info.mtimeMs}:${info.size}:${info.ino}`;
    if (signature === slot.signature) return;
    // The signature is recorded only once this version's outcome is known: a read that fails or is
    // aborted half-way is tried again next time.
    const settle = (problem: string | null) => {
      slot.signature = signature;
      report(problem);
    };
    if (!info.isFile()) return settle('not a regular file; keeping the previous version');
    const cap = this.config.max_file_bytes;
    if (info.size > cap) return settle(`larger than max_file_bytes (${info.size} > ${cap}); keeping the previous version`);
    let bytes: Buffer;
    try {
      bytes = await readCapped(file, cap, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      return report(`cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); keeping the previous version`);
    }
    if (bytes.length > cap) return report(`larger than max_file_bytes (> ${cap}); keeping the previous version`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return settle('not valid UTF-8; keeping the previous version');
    }
    const data = await parseInSlices(text, builder(), signal);
    slot.data = data;
    settle(data.malformedLines > 0 ? `${data.malformedLines} malformed line(s) skipped (first: line ${data.firstMalformedLine})` : null);
    this.options.log?.debug({ file, bytes: bytes.length }, 'girar acl list loaded');
  }
}

/** Reads at most `cap + 1` bytes, so a file that grew past the cap after its stat is noticed without reading it all. */
async function readCapped(file: string, cap: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= cap) {
      signal?.throwIfAborted();
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, cap + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}
