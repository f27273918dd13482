import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './generator-cli.js';
import { readInfoInput, renderInfoJson } from './generator-info.js';
import { isGirarTransition, TreeMutator, type MutationRecord } from './generator-mutator.js';
import { listing, NOW, removeRoot, tempRoot, walkFiles } from './generator-test-helpers.js';
import { generateTree, type GeneratedTree } from './generator.js';

const roots: string[] = [];
function root(): string {
  const r = tempRoot();
  roots.push(r);
  return r;
}
afterAll(() => roots.forEach(removeRoot));

/** Every well-formed task has exactly one index link, under its state, to its directory. */
function checkIndex(tree: GeneratedTree): void {
  const links = new Map<string, string[]>();
  const index = `${tree.tasksDir}/index`;
  for (const repo of readdirSync(index)) {
    for (const state of readdirSync(`${index}/${repo}`)) {
      for (const id of readdirSync(`${index}/${repo}/${state}`)) links.set(id, [...(links.get(id) ?? []), `${repo}/${state}`]);
    }
  }
  for (const t of tree.tasks.filter((x) => !x.category.startsWith('broken:'))) {
    const where = links.get(String(t.id)) ?? [];
    if (t.archived) {
      expect(where.length).toBeLessThanOrEqual(1);
      if (where.length === 1) expect(where[0]).toBe(`${t.repo}/done`);
      continue;
    }
    const state = readFileSync(`${t.dir}/task/state`, 'utf8');
    expect(state).toBe(`${t.state}\n`);
    expect(where).toEqual([`${t.repo}/${t.state.toLowerCase()}`]);
    expect(realpathSync(`${index}/${t.repo}/${t.state.toLowerCase()}/${t.id}`)).toBe(realpathSync(t.dir));
  }
}

function run(tree: GeneratedTree, seed: number, steps: number, check = false): MutationRecord[] {
  let now = NOW;
  const m = new TreeMutator({ tree, seed, now: () => (now += 45_000) });
  const records: MutationRecord[] = [];
  for (let i = 0; i < steps; i++) {
    const step = m.step();
    expect(step.length).toBeGreaterThan(0);
    records.push(...step);
    if (check) checkIndex(tree);
  }
  return records;
}

describe('TreeMutator', () => {
  it('makes girar transitions only and keeps the index consistent', () => {
    const tree = generateTree({ root: root(), tasks: 60, seed: 21, now: NOW });
    const records = run(tree, 4, 120, true);
    for (const r of records) {
      if (r.kind === 'create') expect([r.from, r.to]).toEqual([undefined, 'NEW']);
      else if (r.kind === 'archive') expect([r.from, r.to]).toEqual(['DONE', undefined]);
      else if (r.to !== undefined) expect(isGirarTransition(r.from ?? '', r.to), `${r.kind} ${r.from} -> ${r.to}`).toBe(true);
    }
    const kinds = new Set(records.map((r) => r.kind));
    for (const k of ['create', 'run', 'select', 'build-progress', 'finish-build', 'commit', 'archive']) expect(kinds).toContain(k);
    const maxId = Number(readFileSync(`${tree.tasksDir}/.max-task-id`, 'utf8'));
    expect(maxId).toBe(Math.max(...tree.tasks.map((t) => t.id)));
  });

  it('writes files as girar does: info.json from the files, archive copies without empty files', () => {
    const tree = generateTree({ root: root(), tasks: 50, seed: 8, now: NOW });
    const records = run(tree, 2, 100);
    const logins = new Map(readFileSync(tree.passwdFile, 'utf8').trim().split('\n').map((l) => {
      const [u, , uid] = l.split(':');
      return [Number(uid), (u ?? '').replace(/^alt_/, '')];
    }));
    for (const t of tree.tasks.filter((x) => !x.archived && !x.category.startsWith('broken:'))) {
      const text = readFileSync(`${t.dir}/info.json`, 'utf8');
      const updated = (JSON.parse(text) as { updated: number }).updated;
      expect(renderInfoJson(readInfoInput(t.dir, t.id, updated, 'UTC', (uid) => logins.get(uid) ?? '?'))).toBe(text);
    }
    const archivedNow = records.filter((r) => r.kind === 'archive').map((r) => r.id);
    expect(archivedNow.length).toBeGreaterThan(0);
    for (const id of archivedNow) {
      const t = tree.tasks.find((x) => x.id === id);
      expect(t?.archived).toBe(true);
      expect(existsSync(`${tree.tasksDir}/${id}`)).toBe(false);
      for (const e of walkFiles(t?.dir ?? '')) expect(e.size).toBeGreaterThan(0);
      expect(readlinkSync(`${tree.tasksDir}/index/${t?.repo}/done/${id}`)).toBe(`../../../archive/done/_${Math.floor(id / 1024)}/${id}`);
    }
    const progress = records.filter((r) => r.kind === 'build-progress' && /started|built|failed/.test(r.detail ?? ''));
    expect(progress.length).toBeGreaterThan(0);
    const shared = records.find((r) => r.kind === 'share');
    if (shared) {
      const t = tree.tasks.find((x) => x.id === shared.id);
      if (t && !t.archived) expect(typeof (JSON.parse(readFileSync(`${t.dir}/info.json`, 'utf8')) as { shared: boolean }).shared).toBe('boolean');
    }
    for (const t of tree.tasks.filter((x) => !x.archived && x.try !== undefined && x.state !== 'NEW')) {
      const log = readFileSync(`${t.dir}/logs/events.${t.try}.${t.iter}.log`, 'utf8').trimEnd().split('\n');
      expect(log[log.length - 1]).toMatch(/ :: (task #\d+ for \S+ [A-Z]+|.*resumed by .*:|.*started by .*:|.*iteration \d+)$/);
    }
    expect(lstatSync(tree.tasksDir).isDirectory()).toBe(true);
  });

  it('pruneArchive keeps the newest archived tasks and drops the rest (copy and index link), so the tree stays bounded', () => {
    const tree = generateTree({ root: root(), tasks: 40, seed: 5, now: NOW });
    let now = NOW;
    const m = new TreeMutator({ tree, seed: 9, now: () => (now += 45_000) });
    const files = () => walkFiles(tree.root).length;
    for (let i = 0; i < 200; i++) m.step();
    const archivedBefore = tree.tasks.filter((t) => t.archived);
    expect(archivedBefore.length).toBeGreaterThan(10);
    const sizeBefore = files();
    const dropped = m.pruneArchive(5);
    expect(dropped).toBe(archivedBefore.length - 5);
    const kept = tree.tasks.filter((t) => t.archived).map((t) => t.id);
    expect(kept).toEqual(archivedBefore.map((t) => t.id).sort((a, b) => a - b).slice(-5));
    for (const t of archivedBefore.filter((x) => !kept.includes(x.id))) {
      expect(existsSync(t.dir)).toBe(false);
      expect(existsSync(`${tree.tasksDir}/index/${t.repo}/done/${t.id}`)).toBe(false);
    }
    expect(files()).toBeLessThan(sizeBefore);
    checkIndex(tree);
    // The mutator goes on from the pruned tree.
    for (let i = 0; i < 20; i++) m.step();
    checkIndex(tree);
  });

  it('is deterministic for the same tree, seed and clock', () => {
    const a = generateTree({ root: root(), tasks: 30, seed: 5, now: NOW });
    const b = generateTree({ root: root(), tasks: 30, seed: 5, now: NOW });
    expect(run(a, 7, 60)).toEqual(run(b, 7, 60));
    expect(listing(b.root)).toEqual(listing(a.root));
  });
});

describe('generator CLI', () => {
  it('rejects bad flags with a clear message', () => {
    const errors: string[] = [];
    const err = (l: string): void => void errors.push(l);
    expect(runCli(['--tasks', '5'], () => {}, err)).toBe(2);
    expect(errors[0]).toMatch(/--out DIR is required/);
    expect(runCli(['--out', '/nonexistent-x', '--tasks', 'many'], () => {}, err)).toBe(2);
    expect(errors.at(-2)).toMatch(/--tasks must be an integer/);
    expect(runCli(['--out', '/x', '--tasks', '1', '--now', 'yesterday'], () => {}, err)).toBe(2);
    expect(errors.at(-2)).toMatch(/--now must be an ISO time/);
    expect(runCli(['--out', '/x', '--bogus'], () => {}, err)).toBe(2);
    expect(errors.at(-2)).toMatch(/bogus/);
  });

  it('writes a tree, prints a one-line summary and needs --force for a non-empty dir', () => {
    const dir = root();
    writeFileSync(`${dir}/keep`, 'x');
    const out: string[] = [];
    const errors: string[] = [];
    const args = ['--out', dir, '--tasks', '12', '--seed', '3', '--now', '2026-03-20T12:00:00Z'];
    expect(runCli(args, (l) => out.push(l), (l) => errors.push(l))).toBe(2);
    expect(errors[0]).toMatch(/not empty .*--force/);
    expect(runCli([...args, '--force'], (l) => out.push(l), (l) => errors.push(l))).toBe(0);
    expect(runCli([...args, '--force'], (l) => out.push(l), (l) => errors.push(l))).toBe(0);
    expect(out).toHaveLength(2);
    const summary = JSON.parse(out[0] ?? '{}') as Record<string, unknown>;
    expect(summary).toMatchObject({ live: 12, archived: 3, broken: 10 });
    expect(summary.files).toBeGreaterThan(500);
    expect(existsSync(`${dir}/keep`)).toBe(true);
    expect(existsSync(`${dir}/tasks/.max-task-id`)).toBe(true);
  });
});
