/** Subtasks of a planned task: kinds, numbers, package data and approvals (reference §3.3, §3.4, §6.3). */
import type { Rng } from '../prng.js';
import { subtaskBetween, subtaskNumber, type Evr, type SubtaskKind, type SubtaskModel } from './generator-model.js';
import { approvalComment } from './generator-text.js';
import { hasRights, type Package, type World } from './generator-world.js';

const COUNT: readonly (readonly [number, number])[] = [
  [1, 30], [2, 20], [3, 13], [4, 9], [5, 7], [6, 5], [7, 3], [8, 3], [10, 3], [12, 2], [15, 2], [20, 2],
];

const packageCache = new Map<string, { own: Package[]; denied: Package[] }>();

/** Packages `login` may build, and listed ones it may not (for EPERM tasks). */
function packagesOf(w: World, login: string): { own: Package[]; denied: Package[] } {
  let v = packageCache.get(login);
  if (!v) {
    v = {
      own: w.packages.filter((p) => hasRights(w, login, p.name)),
      denied: w.packages.filter((p) => !hasRights(w, login, p.name) && p.name !== 'regular-images'),
    };
    packageCache.set(login, v);
  }
  return v;
}

export function pickPackage(rng: Rng, w: World, login: string, mode: 'own' | 'denied'): Package {
  const { own, denied } = packagesOf(w, login);
  if (mode === 'denied' && denied.length > 0) return rng.pick(denied);
  if (own.length > 0 && rng.chance(0.9)) return rng.pick(own);
  return rng.pick(w.packages);
}

export interface SubtaskPlanOptions {
  repo: string;
  owner: string;
  /** The first subtask's package must be one the owner has no rights on (EPERM). */
  deniedFirst: boolean;
  /** Only delete subtasks (a "delete" task). */
  deleteOnly: boolean;
  image: boolean;
  /** Never userids other than the owner (EPERM tasks keep their ACL outcome simple). */
  ownerOnly: boolean;
  /** Allow a deleted subtask (delsub before the first run). */
  allowDeleted: boolean;
}

function bumpEvr(rng: Rng, evr: Evr, repo: string): Evr {
  const out: Evr = { ...evr };
  if (rng.chance(0.4)) {
    const parts = evr.version.split('.');
    const last = Number(parts[parts.length - 1]);
    if (Number.isFinite(last) && parts.length > 1) parts[parts.length - 1] = String(last + rng.int(1, 3));
    out.version = parts.join('.');
    out.release = 'alt1';
  } else {
    out.release = `alt${Number(evr.release.slice(3)) + 1}`;
  }
  if (repo !== 'sisyphus' && rng.chance(0.3)) out.release = `alt0.${repo}.${rng.int(1, 3)}`;
  return out;
}

function kindFor(rng: Rng, first: boolean, o: SubtaskPlanOptions): SubtaskKind {
  if (o.deleteOnly) return 'delete';
  if (first) return rng.weighted([['gear', 85], ['srpm', 10], ['rebuild-gear', 4], ['rebuild-srpm', 1]] as const);
  return rng.weighted([
    ['gear', 72], ['srpm', 8], ['rebuild-gear', 6], ['rebuild-srpm', 3], ['copy', 0.4], ['delete', 8],
    ['deleted', o.allowDeleted ? 3 : 0],
  ] as const);
}

/** Subtasks with numbers and kinds; `addedS` is filled in by the caller (it knows the timeline). */
export function planSubtasks(rng: Rng, w: World, o: SubtaskPlanOptions): SubtaskModel[] {
  const count = o.deleteOnly ? rng.int(1, 3) : rng.weighted(COUNT);
  const numbers = Array.from({ length: count }, (_, i) => subtaskNumber(i));
  if (count >= 3 && rng.chance(0.15)) numbers[count - 1] = subtaskBetween(numbers[0] as string, numbers[1] as string);
  const used = new Set<string>();
  return numbers.map((n, i) => {
    const userid = o.ownerOnly || rng.chance(0.88) ? o.owner : rng.weighted(w.weights);
    const pkg = o.image && i === 0
      ? w.byName.get('regular-images') as Package
      : pickPackage(rng, w, userid, i === 0 && o.deniedFirst ? 'denied' : 'own');
    const name = used.has(pkg.name) ? pickPackage(rng, w, userid, 'own') : pkg;
    used.add(name.name);
    return makeSubtask(rng, w, n, userid, o.image && i === 0 ? 'gear' : kindFor(rng, i === 0, o), name, o.repo, o.image && i === 0);
  });
}

function makeSubtask(rng: Rng, w: World, n: string, userid: string, kind: SubtaskKind, p: Package, repo: string, image: boolean): SubtaskModel {
  const s: SubtaskModel = { n, userid, addedS: 0, kind, approved: [], disapproved: [] };
  if (kind === 'deleted') return s;
  s.pkg = p.name;
  if (kind === 'delete' || kind === 'copy') {
    s.package = p.name;
    if (kind === 'copy') s.copyRepo = repo === 'sisyphus' ? 'p11' : 'sisyphus';
    return s;
  }
  const rebuild = kind === 'rebuild-gear' || kind === 'rebuild-srpm';
  const evr = rebuild ? { ...p.evr } : bumpEvr(rng, p.evr, repo);
  s.evr = evr;
  const vr = `${evr.version}-${evr.release}`;
  if (rebuild) {
    s.package = p.name;
    s.rebuildFrom = repo === 'sisyphus' || rng.chance(0.7) ? 'sisyphus' : 'p11';
  }
  if (kind === 'gear' || kind === 'rebuild-gear') {
    const author = rng.chance(0.85) ? (w.byLogin.get(userid) ?? rng.pick(w.persons)) : rng.pick(w.persons);
    const letter = p.name.charAt(0).toLowerCase();
    s.dir = rebuild || rng.chance(0.3) ? `/gears/${letter}/${p.name}.git` : `/people/${userid}/packages/${p.name}.git`;
    s.tagName = vr;
    s.tagId = rng.hex(40);
    s.tagAuthor = `${author.name} <${author.login}@altlinux.org>`;
    if (image) s.specType = 'img';
    if (rng.chance(0.015)) s.relaxGit = rng.hex(40);
  } else {
    s.srpm = `${p.name}-${vr}.src.rpm`;
    s.sha1 = rng.hex(40);
  }
  if (rng.chance(0.01)) s.relaxLastchange = `${evr.epoch !== undefined ? `${evr.epoch}:` : ''}${p.evr.version}-${p.evr.release}`;
  return s;
}

/** A subtask `task add` appends to an existing task (gear, srpm or delete). */
export function addedSubtask(rng: Rng, w: World, n: string, userid: string, repo: string): SubtaskModel {
  const kind = rng.weighted([['gear', 80], ['srpm', 10], ['delete', 10]] as const);
  return makeSubtask(rng, w, n, userid, kind, pickPackage(rng, w, userid, 'own'), repo, false);
}

/** An approval time in [from, to] (or `from` when the interval is empty). */
function between(rng: Rng, from: number, to: number): number {
  return to > from ? rng.int(from, to) : from;
}

function firstPerson(w: World, acl: readonly string[] | undefined): string | undefined {
  const leader = acl?.[0];
  return leader && !leader.startsWith('@') && w.byLogin.has(leader) ? leader : undefined;
}

/** Approvals that let every subtask pass the ACL check (girar-check-subtask-perms rule 6 or 8). */
export function approveForCommit(rng: Rng, w: World, subs: SubtaskModel[], beforeS: number): void {
  for (const s of subs) {
    if (!s.pkg || hasRights(w, s.userid, s.pkg)) continue;
    const from = Math.min(s.addedS + 60, beforeS);
    const leader = firstPerson(w, w.byName.get(s.pkg)?.acl);
    if (leader && leader !== s.userid) {
      s.approved.push({ login: leader, atS: between(rng, from, beforeS), comment: approvalComment(rng, false) });
    } else {
      const m = rng.pick([...w.maint].filter((l) => !w.tester.has(l) && l !== s.userid));
      const t = rng.pick([...w.tester].filter((l) => !w.maint.has(l) && l !== s.userid));
      s.approved.push({ login: m, atS: between(rng, from, beforeS), comment: approvalComment(rng, false) });
      s.approved.push({ login: t, atS: between(rng, from, beforeS), comment: approvalComment(rng, false) });
    }
  }
}

/** Courtesy approvals and an unqualified disapproval now and then; none changes the ACL outcome. */
export function decorateApprovals(rng: Rng, w: World, subs: SubtaskModel[], beforeS: number): void {
  for (const s of subs) {
    if (!s.pkg) continue;
    const pkg = s.pkg;
    const taken = new Set([s.userid, ...s.approved.map((a) => a.login), ...s.disapproved.map((a) => a.login)]);
    if (rng.chance(0.03)) {
      const login = rng.weighted(w.weights);
      if (!taken.has(login)) {
        s.approved.push({ login, atS: between(rng, s.addedS + 30, beforeS), comment: approvalComment(rng, false) });
        taken.add(login);
      }
    }
    if (rng.chance(0.02)) {
      const unqualified = w.persons.map((p) => p.login).filter((l) => !taken.has(l) && !w.maint.has(l) && !w.tester.has(l) && !hasRights(w, l, pkg));
      if (unqualified.length > 0) {
        s.disapproved.push({ login: rng.pick(unqualified), atS: between(rng, s.addedS + 30, beforeS), comment: approvalComment(rng, true) });
      }
    }
  }
}

export type EpermScenario = 'none' | 'tester' | 'maint' | 'disapproved';

/**
 * Approvals on the subtasks the owner may not build, so that `girar-check-task-perms
 * --mode=needs-approval-by-*` gives: none/tester-only -> needs @maint; maint-only -> needs
 * @tester; a qualified disapproval -> denied (listed for neither).
 */
export function epermApprovals(rng: Rng, w: World, subs: SubtaskModel[], scenario: EpermScenario, window: { fromS: number; toS: number }): void {
  for (const s of subs) {
    const pkg = s.pkg;
    if (!pkg || hasRights(w, s.userid, pkg)) continue;
    const at = (): number => between(rng, Math.max(window.fromS, s.addedS + 60), window.toS);
    const without = (group: ReadonlySet<string>, other: ReadonlySet<string>): string[] =>
      [...group].filter((l) => !other.has(l) && !hasRights(w, l, pkg) && l !== s.userid);
    if (scenario === 'tester' || scenario === 'maint') {
      const candidates = scenario === 'tester' ? without(w.tester, w.maint) : without(w.maint, w.tester);
      if (candidates.length > 0) s.approved.push({ login: rng.pick(candidates), atS: at(), comment: approvalComment(rng, false) });
    } else if (scenario === 'disapproved') {
      const leader = firstPerson(w, w.byName.get(pkg)?.acl);
      const by = leader && leader !== s.userid && rng.chance(0.6) ? leader : rng.pick([...w.maint].filter((l) => l !== s.userid));
      s.disapproved.push({ login: by, atS: at(), comment: approvalComment(rng, true) });
      const approvers = without(w.tester, w.maint).filter((l) => l !== by);
      if (approvers.length > 0 && rng.chance(0.5)) s.approved.push({ login: rng.pick(approvers), atS: at(), comment: approvalComment(rng, false) });
    }
  }
}
