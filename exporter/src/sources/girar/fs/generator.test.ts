import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKEN_REASONS } from './generator-broken.js';
import { readInfoInput, renderInfoJson } from './generator-info.js';
import { listing, NOW, removeRoot, tempRoot, walkFiles } from './generator-test-helpers.js';
import { rowAllowed, world } from './generator-world.js';
import { generateTree, GIRAR_STATES, planTree, stateQuota, type GeneratedTask, type GeneratedTree } from './generator.js';

const NOW_S = Math.floor(NOW / 1000);
const roots: string[] = [];
function root(): string {
  const r = tempRoot();
  roots.push(r);
  return r;
}
afterAll(() => roots.forEach(removeRoot));

const wellFormed = (t: GeneratedTask): boolean => !t.archived && !t.category.startsWith('broken:');
const read = (p: string): string => readFileSync(p, 'utf8');
const mtime = (p: string): number => Math.floor(lstatSync(p).mtimeMs / 1000);
const mode = (p: string): number => lstatSync(p).mode & 0o7777;

function passwdLogins(tree: GeneratedTree): Map<number, string> {
  return new Map(read(tree.passwdFile).trim().split('\n').map((l) => {
    const [user, , uid] = l.split(':');
    return [Number(uid), (user ?? '').replace(/^alt_/, '')];
  }));
}

describe('generateTree determinism', () => {
  it('writes byte-identical trees (content, modes, mtimes, links) for the same options', () => {
    const a = root();
    const b = root();
    generateTree({ root: a, tasks: 40, seed: 11, now: NOW });
    generateTree({ root: b, tasks: 40, seed: 11, now: NOW });
    const la = listing(a);
    expect(la.length).toBeGreaterThan(3000);
    expect(listing(b)).toEqual(la);
    expect(planTree({ tasks: 40, seed: 12, now: NOW }).live.map((m) => m.owner)).not.toEqual(planTree({ tasks: 40, seed: 11, now: NOW }).live.map((m) => m.owner));
  });

  it('refuses a root that already has a tasks directory, and bad options', () => {
    const r = root();
    generateTree({ root: r, tasks: 1, seed: 1, now: NOW, broken: false });
    expect(() => generateTree({ root: r, tasks: 1, seed: 1, now: NOW })).toThrow(/already exists/);
    expect(() => planTree({ tasks: -1, seed: 1, now: NOW })).toThrow(RangeError);
    expect(() => planTree({ tasks: 1, seed: 1, now: NOW, timeZone: 'Mars/Olympus' })).toThrow(/time zone/);
  });
});

describe('generated layout', () => {
  let tree: GeneratedTree;
  let live: GeneratedTask[];
  beforeAll(() => {
    tree = generateTree({ root: root(), tasks: 120, seed: 3, now: NOW, timeZone: 'Europe/Moscow' });
    live = tree.tasks.filter(wellFormed);
  });

  it('keeps .max-task-id, increasing ids and per-repo index dirs for all 13 states', () => {
    expect(read(`${tree.tasksDir}/.max-task-id`)).toBe(`${tree.maxId}\n`);
    expect(Math.max(...tree.tasks.map((t) => t.id))).toBe(tree.maxId);
    expect(new Set(tree.tasks.map((t) => t.id)).size).toBe(tree.tasks.length);
    expect(Math.min(...tree.tasks.map((t) => t.id))).toBe(400000);
    for (const repo of ['sisyphus', 'p11', 'p10', 'c10f2']) {
      expect(readdirSync(`${tree.tasksDir}/index/${repo}`).sort()).toEqual(GIRAR_STATES.map((s) => s.toLowerCase()).sort());
    }
    for (const t of live) {
      const link = `${tree.tasksDir}/index/${t.repo}/${t.state.toLowerCase()}/${t.id}`;
      expect(readlinkSync(link)).toBe(`../../../${t.id}`);
      expect(read(`${t.dir}/task/state`)).toBe(`${t.state}\n`);
      expect(mode(t.dir)).toBe(0o775);
    }
    for (const name of ['.archived', 'stale', '.rm', 'README']) expect(existsSync(`${tree.tasksDir}/${name}`)).toBe(true);
    expect(mode(`${tree.tasksDir}/stale`)).toBe(0o1770);
  });

  it('writes task/ files as girar does', () => {
    for (const t of live) {
      const d = `${t.dir}/task`;
      expect(read(`${d}/id`)).toBe(`${t.id}\n`);
      expect(read(`${d}/owner`)).toBe(`${t.owner}\n`);
      expect(read(`${d}/repo`)).toBe(`${t.repo}\n`);
      expect(mtime(`${d}/state`)).toBeGreaterThanOrEqual(mtime(`${d}/id`));
      expect(mtime(`${d}/state`)).toBeLessThanOrEqual(NOW_S);
      if (t.features.includes('never-run')) {
        expect(existsSync(`${d}/try`) || existsSync(`${d}/iter`)).toBe(false);
        expect(read(`${d}/run`)).toBe('');
      } else {
        expect(read(`${d}/try`)).toBe(`${t.try}\n`);
        expect(read(`${d}/iter`)).toBe(`${t.iter}\n`);
        expect(read(`${d}/run`)).toMatch(/^[a-z0-9]+\n$/);
      }
      for (const flag of ['test-only', 'fail-early', 'swift', 'abort']) if (existsSync(`${d}/${flag}`)) expect(statSync(`${d}/${flag}`).size).toBe(0);
      if (t.state === 'POSTPONED' || existsSync(`${d}/depends`)) expect(read(`${d}/depends`)).toMatch(/^(\d+\n)+$/);
      if (existsSync(`${d}/message`)) expect(statSync(`${d}/message`).size).toBeLessThanOrEqual(1025);
    }
    expect(live.filter((t) => t.state === 'TESTED').every((t) => existsSync(`${t.dir}/task/test-only`))).toBe(true);
    expect(live.filter((t) => t.state === 'SWEPT').every((t) => existsSync(`${t.dir}/task/swift`))).toBe(true);
    expect(live.some((t) => (t.iter ?? 0) > 1)).toBe(true);
  });

  it('numbers subtasks in octal steps and sets the share modes', () => {
    let inserted = 0;
    for (const t of live) {
      const nums = readdirSync(`${t.dir}/gears`);
      for (const n of nums) {
        expect(n).toMatch(/^[1-7][0-7]*$/);
        if (parseInt(n, 8) % 0o100 !== 0) inserted++;
        expect(mode(`${t.dir}/gears/${n}`)).toBe(0o2775);
        if (readdirSync(`${t.dir}/gears/${n}`).length > 1) {
          expect(existsSync(`${t.dir}/acl/approved/${n}`)).toBe(true);
          expect([0o3775, 0o2775]).toContain(mode(`${t.dir}/acl/approved/${n}`));
        }
      }
      const shared = JSON.parse(read(`${t.dir}/info.json`)).shared as boolean;
      for (const d of ['gears', 'acl/approved', 'acl/disapproved']) expect(mode(`${t.dir}/${d}`)).toBe(shared ? 0o2775 : 0o2755);
    }
    expect(inserted).toBeGreaterThan(0);
    expect(live.some((t) => t.features.includes('deleted-subtask'))).toBe(true);
  });

  it('writes per-arch results with the try_iter rule (no newline, stale ones, empty failures)', () => {
    let stale = 0;
    let failed = 0;
    for (const t of live) {
      if (!existsSync(`${t.dir}/build`)) continue;
      for (const n of readdirSync(`${t.dir}/build`)) {
        expect(read(`${t.dir}/build/${n}/pkgname`)).toMatch(/^\S+\n$/);
        for (const arch of readdirSync(`${t.dir}/build/${n}`).filter((a) => a !== 'pkgname')) {
          const a = `${t.dir}/build/${n}/${arch}`;
          const status = read(`${a}/status`);
          expect(['built\n', 'cached\n', 'swept\n', 'excluded\n', '']).toContain(status);
          if (status === 'excluded\n') expect(read(`${a}/excluded`)).toMatch(/^ExclusiveArch: /);
          expect(read(`${a}/log`)).toMatch(/^\[\d\d:\d\d:\d\d\] /);
          if (!existsSync(`${a}/try_iter`)) {
            expect(status).toBe('');
            failed++;
            continue;
          }
          const ti = read(`${a}/try_iter`);
          expect(ti).toMatch(/^\d+\.\d+$/);
          if (ti !== `${t.try}.${t.iter}`) stale++;
          expect(mtime(`${a}/status`)).toBe(mtime(`${a}/try_iter`));
        }
      }
    }
    expect(stale).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
    expect(live.filter((t) => t.state === 'BUILDING' || t.state === 'FAILING').some((t) => t.features.includes('in-progress'))).toBe(true);
  });

  it('writes events logs, approvals and plan files in girar formats', () => {
    for (const t of live.filter((x) => x.try !== undefined)) {
      const log = `${t.dir}/logs/events.${t.try}.${t.iter}.log`;
      const lines = read(log).trimEnd().split('\n');
      for (const l of lines) expect(l).toMatch(/^\d{4}-[A-Z][a-z]{2}-\d\d \d\d:\d\d:\d\d :: /);
      expect(lines[lines.length - 1]).toMatch(new RegExp(`:: task #${t.id} for ${t.repo} [A-Z]+$`));
      const info = JSON.parse(read(`${t.dir}/info.json`)) as { build_time?: string };
      const local = new Date((mtime(log) + 3 * 3600) * 1000).toISOString().slice(0, 19);
      expect(info.build_time).toBe(local);
    }
    const approvals = live.flatMap((t) => ['approved', 'disapproved'].flatMap((kind) =>
      existsSync(`${t.dir}/acl/${kind}`) ? readdirSync(`${t.dir}/acl/${kind}`).flatMap((n) =>
        readdirSync(`${t.dir}/acl/${kind}/${n}`).map((login) => ({ kind, login, text: read(`${t.dir}/acl/${kind}/${n}/${login}`) }))) : []));
    expect(approvals.some((a) => a.kind === 'disapproved')).toBe(true);
    for (const t of live) {
      for (const n of existsSync(`${t.dir}/acl/disapproved`) ? readdirSync(`${t.dir}/acl/disapproved`) : []) {
        const approvers = new Set(readdirSync(`${t.dir}/acl/approved/${n}`));
        for (const login of readdirSync(`${t.dir}/acl/disapproved/${n}`)) expect(approvers.has(login)).toBe(false);
      }
    }
    for (const a of approvals) expect(a.text).toMatch(new RegExp(`^\\d{4}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\\d\\d \\d\\d:\\d\\d:\\d\\d :: ${a.kind} by ${a.login}\\n`));
    for (const t of live.filter((x) => ['EPERM', 'PENDING', 'DONE', 'TESTED'].includes(x.state))) {
      expect(read(`${t.dir}/plan/check_acl`)).toMatch(/^([1-7][0-7]*\t\S+\n)+$/);
      expect(read(`${t.dir}/plan/add-src`)).toMatch(/^([^\t\n]+\t[^\t\n]+\t\S+\.src\.rpm\t\S+\t[1-7][0-7]*\n)*$/);
    }
  });

  it('writes info.json as girar-task-make-info-json would from the files', () => {
    const logins = passwdLogins(tree);
    const order = ['updated', 'taskid', 'shared', 'fail_early', 'test_only', 'swift', 'aborted_by', 'repo', 'state', 'try', 'iter', 'depends', 'age', 'build_time', 'message', 'owner', 'subtasks'];
    for (const t of live) {
      const text = read(`${t.dir}/info.json`);
      const info = JSON.parse(text) as Record<string, unknown>;
      const keys = Object.keys(info);
      expect(keys).toEqual(order.filter((k) => keys.includes(k)));
      expect(info.updated).toBe(mtime(`${t.dir}/info.json`));
      expect(info.state).toBe(t.state);
      if (typeof info.message === 'string') expect(info.message).toMatch(/^[\x21\x23-\x7e]*$/);
      const again = renderInfoJson(readInfoInput(t.dir, t.id, info.updated as number, 'Europe/Moscow', (uid) => logins.get(uid) ?? '?'));
      expect(again).toBe(text);
    }
  });

  it('records who aborted (the owner of task/abort) and EPERM approval needs', () => {
    const aborted = live.filter((t) => t.abortedBy !== undefined);
    expect(aborted.length).toBeGreaterThan(0);
    const logins = passwdLogins(tree);
    for (const t of aborted) {
      expect(t.state).toBe('FAILED');
      expect(JSON.parse(read(`${t.dir}/info.json`)).aborted_by).toBe(t.abortedBy);
      if (process.getuid?.() === 0) expect(logins.get(statSync(`${t.dir}/task/abort`).uid)).toBe(t.abortedBy);
    }
    const eperm = live.filter((t) => t.state === 'EPERM');
    expect(eperm.every((t) => t.needsApproval !== undefined && t.category.startsWith('eperm-'))).toBe(true);
  });

  it('archives DONE tasks as the archiver leaves them', () => {
    const archived = tree.tasks.filter((t) => t.archived);
    expect(archived.length).toBe(30);
    expect(Math.max(...archived.map((t) => t.id))).toBeLessThan(Math.min(...live.map((t) => t.id)));
    for (const t of archived) {
      expect(t.state).toBe('DONE');
      expect(t.dir).toBe(`${tree.archiveDir}/_${Math.floor(t.id / 1024)}/${t.id}`);
      for (const e of walkFiles(t.dir)) {
        expect(e.size).toBeGreaterThan(0);
        expect(e.path).not.toMatch(/\/pkg\.tar$|check-git-inheritance|\/plan\/next\./);
      }
      expect(existsSync(`${t.dir}/task/test-only`)).toBe(false);
    }
    const links = archived.filter((t) => existsSync(`${tree.tasksDir}/index/${t.repo}/done/${t.id}`));
    expect(links.length).toBeGreaterThan(0);
    for (const t of links) expect(readlinkSync(`${tree.tasksDir}/index/${t.repo}/done/${t.id}`)).toBe(`../../../archive/done/_${Math.floor(t.id / 1024)}/${t.id}`);
  });

  it('writes ACL lists and a passwd line for every login used', () => {
    for (const repo of ['sisyphus', 'p11', 'p10', 'c10f2']) {
      const pkgs = read(`${tree.aclDir}/list.packages.${repo}`).trimEnd().split('\n');
      expect([...new Set(pkgs)].sort()).toEqual(pkgs);
      for (const l of pkgs) expect(l).toMatch(/^\S+\t(@?[\w.-]+)( @?[\w.*-]+)*$/);
      expect(pkgs.some((l) => l.includes('\t@nobody'))).toBe(true);
      expect(pkgs.some((l) => l.endsWith(' @everybody'))).toBe(true);
      const groups = read(`${tree.aclDir}/list.groups.${repo}`);
      for (const g of ['@maint', '@tester', '@qa']) expect(groups).toMatch(new RegExp(`^${g}\\t`, 'm'));
    }
    const users = new Set(passwdLogins(tree).values());
    for (const line of read(tree.passwdFile).trimEnd().split('\n')) expect(line).toMatch(/^alt_([a-z0-9]+):x:(\d+):\d+::\/people\/\1:\/bin\/sh$/);
    for (const t of live) {
      expect(users.has(t.owner)).toBe(true);
      for (const n of readdirSync(`${t.dir}/gears`)) expect(users.has(read(`${t.dir}/gears/${n}/userid`).trim())).toBe(true);
    }
  });

  it('includes every broken entry', () => {
    expect(tree.broken.map((b) => b.reason).sort()).toEqual([...BROKEN_REASONS].sort());
    const by = new Map(tree.broken.map((b) => [b.reason, b]));
    const at = (r: (typeof BROKEN_REASONS)[number]): string => by.get(r)?.path ?? '';
    expect(existsSync(at('no-state'))).toBe(false);
    expect(by.get('no-state')?.id).toBe(tree.maxId);
    expect(statSync(at('empty-state')).size).toBe(0);
    expect(existsSync(at('no-owner'))).toBe(false);
    expect(existsSync(at('no-repo'))).toBe(false);
    expect(statSync(at('oversized-message')).size).toBe(2 * 1024 * 1024);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(at('invalid-utf8-message')))).toThrow();
    expect(readlinkSync(at('symlink-outside'))).toBe('/etc/hostname');
    expect(readlinkSync(at('owner-symlink-inside'))).toBe('run');
    const inside = tree.tasks.find((t) => t.category === 'broken:owner-symlink-inside');
    expect(read(at('owner-symlink-inside'))).toBe(`${inside?.owner}\n`);
    expect(lstatSync(at('file-not-dir')).isFile()).toBe(true);
    expect(live.map((t) => String(t.id))).toContain(readlinkSync(at('task-dir-symlink')));
    const none = planTree({ tasks: 10, seed: 3, now: NOW, broken: false });
    expect(none.broken).toEqual([]);
  });
});

describe('state and repo mix', () => {
  it('matches a live girar for 2000 tasks (planned in memory, as generateTree writes it)', () => {
    const started = performance.now();
    const plan = planTree({ tasks: 2000, seed: 5, now: NOW });
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(5000);
    const share = (f: (m: (typeof plan.live)[number]) => boolean): number => plan.live.filter(f).length / plan.live.length;
    const expected: Record<string, number> = {
      DONE: 0.2, EPERM: 0.12, FAILED: 0.15, TESTED: 0.15, NEW: 0.1, AWAITING: 0.05, POSTPONED: 0.03, BUILDING: 0.04,
      FAILING: 0.01, PENDING: 0.05, COMMITTING: 0.01, SWEPT: 0.08,
    };
    for (const [state, p] of Object.entries(expected)) expect(Math.abs(share((m) => m.state === state) - p)).toBeLessThan(0.01);
    expect(plan.live.filter((m) => m.state === 'FAILURE')).toHaveLength(1);
    for (const [repo, p] of [['sisyphus', 0.55], ['p11', 0.25], ['p10', 0.15], ['c10f2', 0.05]] as const) {
      expect(Math.abs(share((m) => m.repo === repo) - p)).toBeLessThan(0.04);
    }
    expect(new Set(plan.live.map((m) => m.owner)).size).toBeGreaterThan(130);
    const subtasks = plan.live.reduce((a, m) => a + m.subtasks.length, 0) / plan.live.length;
    expect(subtasks).toBeGreaterThan(3.3);
    expect(subtasks).toBeLessThan(4.5);
    expect(Math.max(...plan.live.map((m) => m.subtasks.length))).toBeLessThanOrEqual(20);
    const needs = new Set(plan.live.filter((m) => m.state === 'EPERM').map((m) => m.needsApproval));
    expect([...needs].sort()).toEqual(['maint', 'tester', null].sort());
    for (const m of plan.live) {
      const age = NOW / 1000 - m.stateS;
      if (['DONE', 'FAILED', 'TESTED', 'EPERM', 'SWEPT'].includes(m.state)) expect(age).toBeGreaterThanOrEqual(1800);
      expect(age).toBeLessThan(28 * 86400);
      expect(m.createdS).toBeLessThan(m.stateS);
    }
    expect(stateQuota(49)).not.toContain('FAILURE');
    // The ACL outcome fits the state: committed or committable tasks pass, EPERM ones do not.
    const w = world();
    for (const m of plan.live) {
      const rows = m.subtasks.filter((s) => s.pkg).map((s) => ({
        pkg: s.pkg as string, author: s.userid, approvers: s.approved.map((a) => a.login), disapprovers: s.disapproved.map((a) => a.login),
      }));
      const allowed = rows.every((r) => rowAllowed(w, r));
      if (m.state === 'EPERM') expect(allowed, `EPERM ${m.id}`).toBe(false);
      if (['SWEPT', 'PENDING', 'COMMITTING', 'DONE'].includes(m.state)) expect(allowed, `${m.state} ${m.id}`).toBe(true);
    }
  });
});
