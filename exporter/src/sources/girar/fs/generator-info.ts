/**
 * `info.json` exactly as `girar-task-make-info-json` prints it (reference §5): fixed key order,
 * optional keys, `"swift": true,` without the leading space, no JSON escaping, the message cut to
 * printable ASCII with runs of spaces, `"` and `_` squeezed to one `_`. The input comes either from
 * the generator's model or, for the mutator, from the files of a task directory, as girar reads them.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuildKind, type TaskModel } from './generator-model.js';
import { wallClock } from './generator-time.js';

export interface InfoSubtask {
  n: string;
  dir?: string;
  tagName?: string;
  tagId?: string;
  tagAuthor?: string;
  specType?: string;
  fetched?: string;
  rebuildFrom?: string;
  srpm?: string;
  copyRepo?: string;
  package?: string;
  approvedBy: string[];
  disapprovedBy: string[];
  pkgname?: string;
  relaxGit?: string;
  relaxLastchange?: string;
  userid: string;
}

export interface InfoJsonInput {
  updatedS: number;
  id: number;
  shared: boolean;
  failEarly: boolean;
  testOnly: boolean;
  swift: boolean;
  abortedBy?: string;
  repo: string;
  state: string;
  try?: string;
  iter?: string;
  /** Raw `task/depends` content (ids one per line). */
  depends?: string;
  /** mtime of task/state. */
  stateS: number;
  buildTime?: string;
  message?: Buffer;
  owner: string;
  subtasks: InfoSubtask[];
}

/** `tr -cd '[:print:]' | tr -s '[:space:]"' _` on the raw message bytes. */
export function infoMessage(raw: Buffer): string {
  const out = Buffer.allocUnsafe(raw.length);
  let len = 0;
  let lastUnderscore = false;
  for (const b of raw) {
    if (b < 0x20 || b > 0x7e) continue;
    const c = b === 0x20 || b === 0x22 ? 0x5f : b;
    if (c === 0x5f) {
      if (lastUnderscore) continue;
      lastUnderscore = true;
    } else {
      lastUnderscore = false;
    }
    out[len++] = c;
  }
  return out.toString('latin1', 0, len);
}

export function renderInfoJson(i: InfoJsonInput): string {
  const out: string[] = ['{\n', ` "updated": ${i.updatedS},\n`, ` "taskid": ${i.id},\n`, ` "shared": ${i.shared},\n`,
    ` "fail_early": ${i.failEarly},\n`, ` "test_only": ${i.testOnly},\n`];
  if (i.swift) out.push('"swift": true,\n');
  if (i.abortedBy !== undefined) out.push(` "aborted_by": "${i.abortedBy}",\n`);
  out.push(` "repo": "${i.repo}",\n`, ` "state": "${i.state}",\n`);
  if (i.try) out.push(` "try": ${i.try},\n`);
  if (i.iter) out.push(` "iter": ${i.iter},\n`);
  if (i.depends) out.push(` "depends": [${i.depends.replace(/\s+/g, ',').replace(/,$/, '')}],\n`);
  out.push(` "age": ${Math.floor((i.updatedS - i.stateS) / 604800)},\n`);
  if (i.buildTime !== undefined) out.push(` "build_time": "${i.buildTime}",\n`);
  if (i.message && i.message.length > 0) out.push(` "message": "${infoMessage(i.message)}",\n`);
  out.push(` "owner": "${i.owner}"`);
  if (i.subtasks.length > 0) {
    out.push(',\n "subtasks": {\n');
    out.push(i.subtasks.map(renderSubtask).join(',\n'));
    out.push('\n }');
  }
  out.push('\n}\n');
  return out.join('');
}

function renderSubtask(s: InfoSubtask): string {
  const o: string[] = [`  "${s.n}": {\n`];
  const kv = (k: string, v: string): void => void o.push(`   "${k}": "${v}",\n`);
  if (s.dir) {
    kv('dir', s.dir);
    kv('tag_name', s.tagName ?? '');
    kv('tag_id', s.tagId ?? '');
    kv('tag_author', (s.tagAuthor ?? '').replaceAll('"', ''));
    if (s.specType) kv('spec_type', s.specType);
    if (s.fetched) kv('fetched', s.fetched);
    if (s.rebuildFrom) kv('rebuild_from', s.rebuildFrom);
    kv('type', 'repo');
  } else if (s.srpm) {
    kv('srpm', s.srpm);
    if (s.rebuildFrom) kv('rebuild_from', s.rebuildFrom);
    kv('type', 'srpm');
  } else if (s.package) {
    if (s.copyRepo) {
      kv('copy_repo', s.copyRepo);
      kv('type', 'copy');
    } else {
      kv('type', 'delete');
    }
    kv('package', s.package);
  }
  if (s.approvedBy.length > 0) o.push(`   "approved_by": [${s.approvedBy.map((l) => `"${l}"`).join(',')}],\n`);
  if (s.disapprovedBy.length > 0) o.push(`   "disapproved_by": [${s.disapprovedBy.map((l) => `"${l}"`).join(',')}],\n`);
  if (s.pkgname !== undefined) kv('pkgname', s.pkgname);
  if (s.relaxGit !== undefined) kv('relax_git_inheritance_check_for_commit', s.relaxGit);
  if (s.relaxLastchange !== undefined) kv('relax_lastchange_inheritance_check_for_evr', s.relaxLastchange);
  o.push(`   "userid": "${s.userid}"\n  }`);
  return o.join('');
}

/** The info.json input of a generated task, as girar would read it from the files written for it. */
export function infoFromModel(m: TaskModel, zone: string): InfoJsonInput {
  const current = m.iterations.find((it) => it.try === m.try && it.iter === m.iter);
  return {
    updatedS: m.infoS, id: m.id, shared: m.shared, failEarly: m.failEarly, testOnly: m.testOnly, swift: m.swift,
    ...(m.abort ? { abortedBy: m.abort.by } : {}),
    repo: m.repo, state: m.state,
    ...(m.try !== undefined ? { try: String(m.try), iter: String(m.iter) } : {}),
    ...(m.depends.length > 0 ? { depends: m.depends.map((d) => `${d}\n`).join('') } : {}),
    stateS: m.stateS,
    ...(current ? { buildTime: wallClock(current.mtimeS, zone) } : {}),
    ...(m.message ? { message: m.message } : {}),
    owner: m.owner,
    subtasks: m.subtasks.map((s) => ({
      n: s.n, userid: s.userid,
      ...(s.dir ? { dir: s.dir, tagName: s.tagName, tagId: s.tagId, tagAuthor: s.tagAuthor } : {}),
      ...(s.specType ? { specType: s.specType } : {}),
      ...(s.fetchedS !== undefined ? { fetched: wallClock(s.fetchedS, zone) } : {}),
      ...(s.rebuildFrom ? { rebuildFrom: s.rebuildFrom } : {}),
      ...(s.srpm ? { srpm: s.srpm } : {}),
      ...(s.copyRepo ? { copyRepo: s.copyRepo } : {}),
      ...(s.package ? { package: s.package } : {}),
      approvedBy: s.approved.map((a) => a.login).sort(),
      disapprovedBy: s.disapproved.map((a) => a.login).sort(),
      ...(s.builds && s.pkg && isBuildKind(s.kind) ? { pkgname: s.pkg } : {}),
      ...(s.relaxGit ? { relaxGit: s.relaxGit } : {}),
      ...(s.relaxLastchange ? { relaxLastchange: s.relaxLastchange } : {}),
    })),
  };
}

function cat(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').replace(/\n+$/, '');
  } catch {
    return undefined;
  }
}

function nonEmpty(path: string): string | undefined {
  const v = cat(path);
  return v ? v : undefined;
}

/** Files of `dir` (not dirs), sorted: the approvers in `acl/approved/<N>`. */
function fileNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** girar's `gear_nums`: subtask numbers `[1-7]*` that still have `gears/<N>/userid`, numeric order. */
export function gearNums(taskDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(`${taskDir}/gears`);
  } catch {
    return [];
  }
  return names.filter((n) => /^[1-7][0-7]*$/.test(n) && existsSync(`${taskDir}/gears/${n}/userid`)).sort((a, b) => Number(a) - Number(b));
}

/**
 * Reads a task directory the way `girar-task-make-info-json` does. `loginOfUid` maps the owner
 * of `task/abort` to a login (girar: `stat -c %U` minus the user prefix).
 */
export function readInfoInput(taskDir: string, id: number, updatedS: number, zone: string, loginOfUid: (uid: number) => string): InfoJsonInput {
  const t = `${taskDir}/task`;
  const tryV = nonEmpty(`${t}/try`);
  const iterV = nonEmpty(`${t}/iter`);
  const log = `${taskDir}/logs/events.${tryV ?? ''}.${iterV ?? ''}.log`;
  const depends = existsSync(`${t}/depends`) ? readFileSync(`${t}/depends`, 'utf8') : '';
  const message = existsSync(`${t}/message`) ? readFileSync(`${t}/message`) : undefined;
  return {
    updatedS, id,
    shared: isSharedDir(`${taskDir}/gears`),
    failEarly: existsSync(`${t}/fail-early`), testOnly: existsSync(`${t}/test-only`), swift: existsSync(`${t}/swift`),
    ...(existsSync(`${t}/abort`) ? { abortedBy: loginOfUid(statSync(`${t}/abort`).uid) } : {}),
    repo: cat(`${t}/repo`) ?? '', state: cat(`${t}/state`) ?? '',
    ...(tryV ? { try: tryV } : {}), ...(iterV ? { iter: iterV } : {}),
    ...(depends ? { depends } : {}),
    stateS: Math.floor(statSync(`${t}/state`).mtimeMs / 1000),
    ...(existsSync(log) ? { buildTime: wallClock(Math.floor(statSync(log).mtimeMs / 1000), zone) } : {}),
    ...(message && message.length > 0 ? { message } : {}),
    owner: cat(`${t}/owner`) ?? '',
    subtasks: gearNums(taskDir).map((n) => readSubtask(taskDir, n, zone)),
  };
}

function readSubtask(taskDir: string, n: string, zone: string): InfoSubtask {
  const g = `${taskDir}/gears/${n}`;
  const s: InfoSubtask = { n, userid: cat(`${g}/userid`) ?? '', approvedBy: fileNames(`${taskDir}/acl/approved/${n}`), disapprovedBy: fileNames(`${taskDir}/acl/disapproved/${n}`) };
  const dir = nonEmpty(`${g}/dir`);
  if (dir) {
    Object.assign(s, { dir, tagName: cat(`${g}/tag_name`) ?? '', tagId: cat(`${g}/tag_id`) ?? '', tagAuthor: cat(`${g}/tag_author`) ?? '' });
    const specType = nonEmpty(`${g}/type`);
    if (specType) s.specType = specType;
    const tar = statSync(`${g}/pkg.tar`, { throwIfNoEntry: false });
    if (tar && tar.size > 0) s.fetched = wallClock(Math.floor(tar.mtimeMs / 1000), zone);
  } else if (nonEmpty(`${g}/srpm`)) {
    s.srpm = nonEmpty(`${g}/srpm`);
  } else if (nonEmpty(`${g}/package`)) {
    s.package = nonEmpty(`${g}/package`);
    const copyRepo = nonEmpty(`${g}/copy_repo`);
    if (copyRepo) s.copyRepo = copyRepo;
  }
  const rebuildFrom = nonEmpty(`${g}/rebuild_from`);
  if (rebuildFrom && (s.dir || s.srpm)) s.rebuildFrom = rebuildFrom;
  const pkgname = cat(`${taskDir}/build/${n}/pkgname`);
  if (pkgname !== undefined) s.pkgname = pkgname;
  const relaxGit = cat(`${taskDir}/check-git-inheritance/${n}`);
  if (relaxGit !== undefined) s.relaxGit = relaxGit;
  const relaxEvr = cat(`${taskDir}/check-lastchange-inheritance/${n}`);
  if (relaxEvr !== undefined) s.relaxLastchange = relaxEvr;
  return s;
}

/** girar-task-share: a task is shared when its `gears` directory is group-writable. */
export function isSharedDir(gears: string): boolean {
  const st = lstatSync(gears, { throwIfNoEntry: false });
  return st !== undefined && st.isDirectory() && (st.mode & 0o020) !== 0;
}
