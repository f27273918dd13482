/** Writes one planned task as girar lays out `/tasks/<id>/` (reference §3). */
import { chownSync } from 'node:fs';
import { evrString, isBuildKind, type ArchResult, type Approval, type IterationModel, type SubtaskModel, type TaskModel } from './generator-model.js';
import type { TreeWriter } from './generator-fs.js';
import { infoFromModel, renderInfoJson } from './generator-info.js';
import { elapsed, stampUtc } from './generator-time.js';

export interface TaskWriteEnv {
  zone: string;
  /** uid of `alt_<login>` when files should be chowned (running as root), else undefined. */
  uidOf?: (login: string) => number | undefined;
}

/** What the girar archiver leaves out (reference §2); empty files and dirs are dropped as well. */
export function archiveExcluded(path: string): boolean {
  return path.endsWith('/pkg.tar') || path.includes('/check-git-inheritance/') || path.includes('/check-lastchange-inheritance/')
    || path.includes('/plan/next.') || path.endsWith('.hash.xz') || path.includes('/plan/arepo-');
}

const line = (v: string | number): string => `${v}\n`;

export function writeTask(w: TreeWriter, dir: string, m: TaskModel, env: TaskWriteEnv): void {
  w.dir(dir, 0o775, m.createdS);
  const t = `${dir}/task`;
  w.dir(t, 0o775, m.createdS);
  w.file(`${t}/id`, line(m.id), m.createdS);
  w.file(`${t}/owner`, line(m.owner), m.createdS);
  w.file(`${t}/repo`, line(m.repo), m.createdS);
  w.file(`${t}/state`, m.state ? line(m.state) : '', m.stateS);
  if (m.try !== undefined) {
    w.file(`${t}/try`, line(m.try), m.tryS ?? m.stateS);
    w.file(`${t}/iter`, line(m.iter ?? 1), m.iterS ?? m.stateS);
  }
  w.file(`${t}/run`, m.run ? line(m.run) : '', m.run ? (m.tryS ?? m.createdS) : m.createdS);
  if (m.message) w.file(`${t}/message`, m.message, m.tryS ?? m.createdS);
  const flagS = m.tryS ?? m.createdS;
  if (m.testOnly) w.file(`${t}/test-only`, '', flagS);
  if (m.failEarly) w.file(`${t}/fail-early`, '', flagS);
  if (m.swift) w.file(`${t}/swift`, '', flagS);
  if (m.abort) {
    w.file(`${t}/abort`, '', m.abort.atS);
    const uid = env.uidOf?.(m.abort.by);
    if (uid !== undefined) chownSync(`${t}/abort`, uid, uid);
  }
  if (m.depends.length > 0) w.file(`${t}/depends`, m.depends.map(line).join(''), m.state === 'POSTPONED' ? m.stateS : (m.iterS ?? m.stateS));
  if (m.version) w.file(`${t}/version`, line(m.version.hash), m.version.atS);

  const gears = `${dir}/gears`;
  const acl = `${dir}/acl`;
  const shared = m.shared ? 0o2775 : 0o2755;
  w.dir(gears, shared, m.createdS);
  w.dir(acl, 0o775, m.createdS);
  w.dir(`${acl}/approved`, shared, m.createdS);
  w.dir(`${acl}/disapproved`, shared, m.createdS);
  for (const s of m.subtasks) writeSubtask(w, dir, m.owner, s);

  if (m.iterations.length > 0) {
    w.dir(`${dir}/logs`, 0o775, m.iterations[0]?.mtimeS ?? m.createdS);
    for (const it of m.iterations) w.file(`${dir}/logs/events.${it.try}.${it.iter}.log`, eventsLog(m, it), it.mtimeS);
  }
  if (m.planS !== undefined) writePlan(w, dir, m, m.planS);
  w.file(`${dir}/info.json`, renderInfoJson(infoFromModel(m, env.zone)), m.infoS);
  // girar-task-new runs as the owner, so the task directory belongs to alt_<owner>.
  const uid = env.uidOf?.(m.owner);
  if (uid !== undefined) chownSync(dir, uid, uid);
}

/** `gears/<N>/`, `acl/{approved,disapproved}/<N>/`, `build/<N>/` and check-* files of one subtask. */
export function writeSubtask(w: TreeWriter, dir: string, owner: string, s: SubtaskModel): void {
  const g = `${dir}/gears/${s.n}`;
  w.dir(g, 0o2775, s.addedS);
  w.file(`${g}/userid`, line(s.userid), s.addedS);
  if (s.kind === 'deleted') return;
  const at = s.addedS;
  if (s.package) w.file(`${g}/package`, line(s.package), at);
  if (s.copyRepo) w.file(`${g}/copy_repo`, line(s.copyRepo), at);
  if (s.rebuildFrom) w.file(`${g}/rebuild_from`, line(s.rebuildFrom), at);
  if (s.dir) {
    w.file(`${g}/dir`, line(s.dir), at);
    w.file(`${g}/tag_name`, line(s.tagName ?? ''), at);
    w.file(`${g}/tag_id`, line(s.tagId ?? ''), at);
    w.file(`${g}/tag_author`, line(s.tagAuthor ?? ''), at);
    w.file(`${g}/sid`, line(`gear:${s.tagId}`), at);
    if (s.specType) w.file(`${g}/type`, line(s.specType), at);
    w.file(`${g}/pkg.tar`, `${s.pkg}-${s.tagName}/\0ustar\0`, s.fetchedS ?? at);
  }
  if (s.srpm) {
    w.file(`${g}/srpm`, line(s.srpm), at);
    w.file(`${g}/${s.srpm}`, Buffer.concat([Buffer.from([0xed, 0xab, 0xee, 0xdb, 3, 0, 0, 1]), Buffer.from(s.srpm)]), at);
    w.file(`${g}/sid`, line(`srpm:${s.sha1}`), at);
  }
  if (s.evr && s.pkg && (s.srpm || s.rebuildFrom)) w.file(`${g}/nevr`, `${s.pkg}\t${evrString(s.evr)}\n`, at);
  if (s.relaxGit) {
    w.dir(`${dir}/check-git-inheritance`, 0o775, at);
    w.file(`${dir}/check-git-inheritance/${s.n}`, line(s.relaxGit), at + 30);
  }
  if (s.relaxLastchange) {
    w.dir(`${dir}/check-lastchange-inheritance`, 0o775, at);
    w.file(`${dir}/check-lastchange-inheritance/${s.n}`, line(s.relaxLastchange), at + 30);
  }
  const own = s.userid === owner ? 0o3775 : 0o2775;
  writeApprovals(w, `${dir}/acl/approved/${s.n}`, own, at, s.approved, 'approved');
  writeApprovals(w, `${dir}/acl/disapproved/${s.n}`, own, at, s.disapproved, 'disapproved');
  if (s.builds && s.pkg && isBuildKind(s.kind)) writeBuilds(w, dir, s);
}

function writeApprovals(w: TreeWriter, d: string, mode: number, atS: number, list: Approval[], verb: string): void {
  w.dir(d, mode, atS);
  for (const a of list) {
    w.file(`${d}/${a.login}`, `${stampUtc(a.atS)} :: ${verb} by ${a.login}\n${a.comment.map(line).join('')}`, a.atS);
  }
}

function writeBuilds(w: TreeWriter, dir: string, s: SubtaskModel): void {
  const b = `${dir}/build/${s.n}`;
  const results = s.builds ?? [];
  const firstS = Math.min(...results.map((r) => r.startS));
  w.dir(`${dir}/build`, 0o775, firstS);
  w.dir(b, 0o775, firstS);
  w.file(`${b}/pkgname`, line(s.pkg ?? ''), firstS);
  for (const r of results) {
    const a = `${b}/${r.arch}`;
    w.dir(a, 0o775, r.startS);
    w.file(`${a}/status`, r.status ? line(r.status) : '', r.finishS);
    if (r.tryIter !== undefined) w.file(`${a}/try_iter`, r.tryIter, r.finishS);
    if (r.excludedReason) w.file(`${a}/excluded`, r.excludedReason, r.finishS);
    w.file(`${a}/log`, buildLog(s, r), r.logS);
  }
}

/** A short hsh build log with `[HH:MM:SS]` elapsed-time stamps. */
function buildLog(s: SubtaskModel, r: ArchResult): string {
  const total = Math.max(0, r.logS - r.startS);
  const vr = s.evr ? `${s.evr.version}-${s.evr.release}` : '';
  if (r.status === 'excluded') return `${elapsed(0)} ${r.arch}: build excluded by ${(r.excludedReason ?? '').trim()}\n`;
  const out = [
    `${elapsed(0)} hsh-rebuild: ${s.pkg}-${vr}.src.rpm for ${r.arch}`,
    `${elapsed(total * 0.1)} Installing build dependencies`,
    `${elapsed(total * 0.2)} Building target platforms: ${r.arch}`,
  ];
  if (r.inProgress) return `${out.join('\n')}\n`;
  if (r.status === '') {
    out.push(`${elapsed(total * 0.9)} error: Bad exit status from /usr/src/tmp/rpm-tmp.${10000 + (r.startS % 90000)} (%build)`);
    out.push(`${elapsed(total)} hsh-rebuild: build failed`);
  } else {
    out.push(`${elapsed(total * 0.9)} Wrote: /usr/src/RPM/RPMS/${r.arch}/${s.pkg}-${vr}.${r.arch}.rpm`);
    out.push(`${elapsed(total)} hsh-rebuild: ${r.status === 'cached' ? 'reused cached build' : 'build OK'}`);
  }
  return `${out.join('\n')}\n`;
}

function eventsLog(m: TaskModel, it: IterationModel): string {
  const task = `task #${m.id} for ${m.repo}`;
  return it.lines.map((l) => `${stampUtc(l.atS)} :: ${l.msg.replace('#{task}', task)}\n`).join('');
}

function writePlan(w: TreeWriter, dir: string, m: TaskModel, atS: number): void {
  const p = `${dir}/plan`;
  w.dir(p, 0o775, atS);
  const rows = m.subtasks.filter((s) => s.kind !== 'deleted' && s.pkg);
  w.file(`${p}/check_acl`, rows.map((s) => `${s.n}\t${s.pkg}\n`).join(''), atS);
  const built = m.subtasks.filter((s) => isBuildKind(s.kind) && s.evr && s.builds);
  w.file(`${p}/add-src`, built.map((s) => {
    const evr = s.evr as NonNullable<SubtaskModel['evr']>;
    const file = `${s.pkg}-${evr.version}-${evr.release}.src.rpm`;
    return `${s.pkg}\t${evrString(evr)}\t${file}\t/tasks/${m.id}/build/${s.n}/x86_64/srpm\t${s.n}\n`;
  }).join(''), atS);
}
