/**
 * The reader against generated trees: every task of every kind cross-checked with the info.json
 * girar itself wrote beside it, needs_approval against the generator's own ACL outcome, and
 * golden JSON for a hand-checked set of tasks (testdata/generated-golden.json; regenerate with
 * UPDATE_GOLDEN=1 after a deliberate change, then check the diff by hand).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aclInput } from './adapter.js';
import { AclDirectory } from './acl.js';
import { parseGirarAclConfig } from './acl-config.js';
import { BatchRunner } from './batch.js';
import { generateTree, type GeneratedTask, type GeneratedTree } from './generator.js';
import { infoMessage } from './generator-info.js';
import type { TreeTaskRead } from './reader.js';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const GOLDEN_FILE = fileURLToPath(new URL('./testdata/generated-golden.json', import.meta.url));
/** One task of each kind, picked by category from the seed-7 tree (see goldenIds). */
const GOLDEN_CATEGORIES = ['gear', 'srpm-only', 'copy', 'legacy-copy', 'delete', 'mixed', 'image', 'deleted-subtask', 'aborted', 'eperm-tester', 'eperm-maint', 'eperm-disapproved'];

describe('the reader on a generated tree', () => {
  let root: string;
  let tree: GeneratedTree;
  let runner: BatchRunner;
  const reads = new Map<number, TreeTaskRead>();

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'girar-gen-'));
    tree = generateTree({ root, tasks: 160, seed: 7, now: NOW });
    runner = new BatchRunner({ maxFileBytes: 1024 * 1024, timeZone: 'UTC', passwdFile: tree.passwdFile });
    const jobs = tree.tasks.filter((t) => !t.category.startsWith('broken:')).map((t) => ({ id: t.id, dir: t.dir, archived: t.archived, force: true }));
    for (const out of runner.run({ now: NOW, jobs })) {
      if (out.kind === 'read') reads.set(out.id, out.task);
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const wellFormed = (): GeneratedTask[] => tree.tasks.filter((t) => !t.category.startsWith('broken:'));

  it('reads every well-formed task, live and archived', () => {
    const missing = wellFormed().filter((t) => !reads.has(t.id)).map((t) => `${t.id} ${t.category}`);
    expect(missing).toEqual([]);
    expect(wellFormed().filter((t) => t.archived).length).toBeGreaterThan(10);
  });

  it("agrees with the info.json girar wrote for each task, except where taskoteka's shape differs on purpose", () => {
    let compared = 0;
    for (const t of wellFormed()) {
      const infoPath = join(t.dir, 'info.json');
      if (!existsSync(infoPath)) continue;
      const info = JSON.parse(readFileSync(infoPath, 'utf8')) as Record<string, unknown>;
      const mine = structuredClone(reads.get(t.id)!.detail) as unknown as Record<string, unknown>;
      // Differences by design (girar/README.md): `updated` and `age` are computed, the message
      // is served as written (info.json squeezes blanks and quotes to `_`), EVR and per-arch
      // results are taskoteka's additions. (What the archiver dropped, the reader takes from the
      // archived info.json: flags, `fetched`, the relax_* keys.)
      for (const o of [info, mine]) {
        delete o.updated;
        delete o.age;
      }
      if (typeof mine.message === 'string') mine.message = infoMessage(Buffer.from(mine.message)); // girar's tr -cd '[:print:]' | tr -s '[:space:]"' _
      for (const sub of Object.values((mine.subtasks ?? {}) as Record<string, Record<string, unknown>>)) {
        for (const k of ['epoch', 'version', 'release', 'build']) delete sub[k];
      }
      expect(JSON.stringify(mine), `task ${t.id} (${t.category}${t.archived ? ', archived' : ''})`).toBe(JSON.stringify(info));
      compared += 1;
    }
    expect(compared).toBeGreaterThan(150);
  });

  it('applies the try_iter rule: no arch result from an earlier try or iteration', () => {
    for (const t of wellFormed()) {
      const d = reads.get(t.id)!.detail;
      if (d.try === undefined || d.iter === undefined) continue;
      for (const [n, sub] of Object.entries(d.subtasks ?? {})) {
        for (const arch of Object.keys(sub.build ?? {})) {
          const ti = join(t.dir, 'build', n, arch, 'try_iter');
          if (existsSync(ti)) expect(readFileSync(ti, 'utf8'), `${t.id}/${n}/${arch}`).toBe(`${d.try}.${d.iter}`);
        }
      }
    }
    expect(wellFormed().some((t) => t.features.includes('stale-try-iter'))).toBe(true);
  });

  it("lists for needs_approval exactly the EPERM tasks girar's ACL logic would", async () => {
    const acl = new AclDirectory(parseGirarAclConfig({ dir: tree.aclDir, default: { maint_group: '@maint', tester_group: '@tester' } }));
    const eperm = wellFormed().filter((t) => t.state === 'EPERM' && !t.archived);
    await acl.refresh(undefined, new Set(eperm.map((t) => t.repo)));
    expect(eperm.length).toBeGreaterThan(10);
    const got = eperm.map((t) => {
      const input = aclInput(reads.get(t.id)!);
      const group = acl.needsApproval(input, 'maint').listed ? 'maint' : acl.needsApproval(input, 'tester').listed ? 'tester' : null;
      return [t.id, t.category, group];
    });
    const expected = eperm.map((t) => [t.id, t.category, reads.get(t.id)!.detail.test_only || reads.get(t.id)!.detail.swift ? null : (t.needsApproval ?? null)]);
    expect(got).toEqual(expected);
    expect(new Set(got.map((g) => g[2]))).toEqual(new Set(['maint', 'tester', null]));
  });

  it('matches the hand-checked golden JSON', () => {
    const ids = goldenIds(tree);
    const actual: Record<string, unknown> = {};
    for (const [category, id] of ids) actual[`${category} ${id}`] = reads.get(id)!.detail;
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN_FILE, `${JSON.stringify(actual, null, 1)}\n`);
    const golden = JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(actual)).toEqual(Object.keys(golden));
    for (const key of Object.keys(golden)) expect(JSON.stringify(actual[key]), key).toBe(JSON.stringify(golden[key]));
  });
});

/** The first live task of each golden category, plus the first archived task. */
function goldenIds(tree: GeneratedTree): [string, number][] {
  const out: [string, number][] = [];
  for (const c of GOLDEN_CATEGORIES) {
    const t = tree.tasks.find((x) => x.category === c && !x.archived);
    if (t) out.push([c, t.id]);
  }
  const archived = tree.tasks.find((x) => x.archived && !x.category.startsWith('broken:'));
  if (archived) out.push([`archived ${archived.category}`, archived.id]);
  return out;
}
