import { chmodSync, writeFileSync, utimesSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HandTree } from '../../../test-support/girar-tree.js';
import { BatchRunner, type TaskOutcome } from './batch.js';
import { normalizeTreeTask } from './normalize.js';
import { parseStamp, readTaskDir, sameSignature, signatureOf, splitEvr } from './reader.js';
import { TaskDirReader, scratchBuffer } from './safe-read.js';

const T0 = 1772700000; // 2026-03-05T08:40:00Z
const STATE_AT = 1772714401; // 2026-03-05T12:40:01Z
const NOW_MS = (STATE_AT + 3 * 86400) * 1000;
const buf = scratchBuffer(4096);

function read(tree: HandTree, id: number, opts: { archived?: boolean; dir?: string; users?: Map<number, string>; timeZone?: string } = {}) {
  const dir = new TaskDirReader(opts.dir ?? tree.path(String(id)), 4095, buf);
  return readTaskDir(dir, id, { timeZone: opts.timeZone ?? 'UTC', now: NOW_MS, archived: opts.archived ?? false, users: opts.users ?? new Map() });
}

/** The task of the reference's info.json example, extended with every subtask kind. Hand-checked against reference/girar.md §3 and §5. */
function writeGolden(tree: HandTree, id = 412345): void {
  const t = `${id}`;
  tree
    .file(`${t}/task/id`, `${id}\n`, T0)
    .file(`${t}/task/owner`, 'jdoe\n')
    .file(`${t}/task/repo`, 'sisyphus\n')
    .file(`${t}/task/try`, '2\n', T0 + 100)
    .file(`${t}/task/iter`, '1\n', T0 + 100)
    .file(`${t}/task/run`, 'jdoe\n')
    .file(`${t}/task/message`, 'rebuild against new libfoo\n')
    .file(`${t}/task/test-only`, '')
    .file(`${t}/task/version`, 'abc123\n')
    .file(`${t}/logs/events.1.1.log`, '2026-Mar-04 10:00:00 :: task #412345 for sisyphus FAILED\n', T0 - 86400)
    .file(`${t}/logs/events.2.1.log`, '2026-Mar-05 12:40:01 :: task #412345 for sisyphus TESTED\n', STATE_AT)
    // 100: a gear subtask; i586 failed (empty status, no try_iter), aarch64 is stale (try 1).
    .file(`${t}/gears/100/userid`, 'jdoe\n', T0 + 10)
    .file(`${t}/gears/100/dir`, '/people/jdoe/packages/foo.git\n')
    .file(`${t}/gears/100/tag_name`, '1.2-alt1\n')
    .file(`${t}/gears/100/tag_id`, '0123456789abcdef0123456789abcdef01234567\n')
    .file(`${t}/gears/100/tag_author`, 'Joe "JD" Doe <jdoe@altlinux.org>\n')
    .file(`${t}/gears/100/sid`, 'gear:0123456789abcdef0123456789abcdef01234567\n')
    .file(`${t}/gears/100/pkg.tar`, 'tar', 1772713800) // fetched 2026-03-05T12:30:00Z
    .file(`${t}/acl/approved/100/alice`, '2026-Mar-05 12:34:56 :: approved by alice\nTested on x86_64, works for me.\n')
    .file(`${t}/build/100/pkgname`, 'foo\n')
    .file(`${t}/build/100/x86_64/status`, 'built\n', STATE_AT - 60)
    .file(`${t}/build/100/x86_64/try_iter`, '2.1')
    .file(`${t}/build/100/i586/status`, '', STATE_AT - 120)
    .file(`${t}/build/100/aarch64/status`, 'built\n', T0 - 86400)
    .file(`${t}/build/100/aarch64/try_iter`, '1.1')
    .file(`${t}/check-git-inheritance/100`, 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef\n')
    .file(`${t}/plan/add-src`, 'foo\t1.2-alt1\tfoo-1.2-alt1.src.rpm\t/tasks/412345/build/100/x86_64/srpm/foo-1.2-alt1.src.rpm\t100\n')
    // 200: removed with delsub: only userid is left.
    .file(`${t}/gears/200/userid`, 'jdoe\n', T0 + 20)
    .dir(`${t}/acl/approved/200`)
    // 300: an srpm subtask with an epoch in nevr, disapproved.
    .file(`${t}/gears/300/userid`, 'bob\n', T0 + 30)
    .file(`${t}/gears/300/srpm`, 'bar-2.0-alt1.src.rpm\n')
    .file(`${t}/gears/300/bar-2.0-alt1.src.rpm`, 'rpm')
    .file(`${t}/gears/300/nevr`, 'bar\t1:2.0-alt1\n')
    .file(`${t}/acl/disapproved/300/carol`, '2026-Mar-05 13:00:00 :: disapproved by carol\nNeeds a changelog entry.\n\n')
    .file(`${t}/build/300/pkgname`, 'bar\n')
    .file(`${t}/build/300/x86_64/status`, 'cached\n', STATE_AT - 30)
    .file(`${t}/build/300/x86_64/try_iter`, '2.1')
    // 400: delete; 500: a legacy copy; 1000 (octal after 700): a modern copy = rebuild from p11.
    .file(`${t}/gears/400/userid`, 'jdoe\n', T0 + 40)
    .file(`${t}/gears/400/package`, 'oldpkg\n')
    .file(`${t}/gears/500/userid`, 'jdoe\n', T0 + 50)
    .file(`${t}/gears/500/package`, 'baz\n')
    .file(`${t}/gears/500/copy_repo`, 'p10\n')
    .file(`${t}/gears/1000/userid`, 'jdoe\n', T0 + 60)
    .file(`${t}/gears/1000/package`, 'qux\n')
    .file(`${t}/gears/1000/rebuild_from`, 'p11\n')
    .file(`${t}/gears/1000/srpm`, 'qux-3-alt2.src.rpm\n')
    .file(`${t}/gears/1000/nevr`, 'qux\t3-alt2\n')
    .file(`${t}/build/repo/x86_64/base.bloat`, 'x') // build/repo is not a subtask
    .file(`${t}/info.json`, '{"stale": true}\n');
  chmodSync(tree.path(`${t}/gears`), 0o2755);
  utimesSync(tree.path(`${t}/plan`), T0 + 200, T0 + 200);
  tree.file(`${t}/task/state`, 'TESTED\n', STATE_AT);
}

const GOLDEN = {
  updated: 1772715600, // the newest stamp read: carol's disapproval, 2026-03-05T13:00:00Z
  taskid: 412345,
  shared: false,
  fail_early: false,
  test_only: true,
  repo: 'sisyphus',
  state: 'TESTED',
  try: 2,
  iter: 1,
  age: 0,
  build_time: '2026-03-05T12:40:01',
  message: 'rebuild against new libfoo',
  owner: 'jdoe',
  subtasks: {
    '100': {
      dir: '/people/jdoe/packages/foo.git',
      tag_name: '1.2-alt1',
      tag_id: '0123456789abcdef0123456789abcdef01234567',
      tag_author: 'Joe JD Doe <jdoe@altlinux.org>',
      fetched: '2026-03-05T12:30:00',
      type: 'repo',
      approved_by: ['alice'],
      pkgname: 'foo',
      relax_git_inheritance_check_for_commit: 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef',
      userid: 'jdoe',
      version: '1.2',
      release: 'alt1',
      build: { i586: 'failed', x86_64: 'built' },
    },
    '200': { userid: 'jdoe' },
    '300': {
      srpm: 'bar-2.0-alt1.src.rpm',
      type: 'srpm',
      disapproved_by: ['carol'],
      pkgname: 'bar',
      userid: 'bob',
      epoch: 1,
      version: '2.0',
      release: 'alt1',
      build: { x86_64: 'cached' },
    },
    '400': { type: 'delete', package: 'oldpkg', userid: 'jdoe' },
    '500': { copy_repo: 'p10', type: 'copy', package: 'baz', userid: 'jdoe' },
    '1000': { srpm: 'qux-3-alt2.src.rpm', rebuild_from: 'p11', type: 'srpm', userid: 'jdoe', version: '3', release: 'alt2' },
  },
};

describe('readTaskDir', () => {
  let tree: HandTree;
  beforeEach(() => {
    tree = new HandTree();
  });
  afterEach(() => tree.remove());

  it('builds the exact girar task show --json / taskoteka detail, key order included', () => {
    writeGolden(tree);
    const out = read(tree, 412345);
    expect(JSON.stringify(out.detail)).toBe(JSON.stringify(GOLDEN));
    expect(Object.keys(out.detail.subtasks ?? {})).toEqual(['100', '200', '300', '400', '500', '1000']);
    expect(out.problems).toBeUndefined();
    expect(out.building).toBeUndefined();
    expect(out.createdMs).toBe(T0 * 1000);
    expect(out.stateMtimeMs).toBe(STATE_AT * 1000);
    expect(out.buildTimeMs).toBe(STATE_AT * 1000);
    expect(out.checkAcl).toBeUndefined(); // only read for EPERM
  });

  it('gives the model per-arch phases, approvals with time and comment, and mtime-exact times', () => {
    writeGolden(tree);
    const out = read(tree, 412345);
    const task = normalizeTreeTask('alt', out, { taskUrl: 'https://git.altlinux.org/tasks/{id}/', timeZone: 'UTC' });
    expect(task.subtasks.map((s) => [s.id, s.type, s.archs])).toEqual([
      ['100', 'repo', [{ arch: 'i586', status: 'failed', phase: 'failed' }, { arch: 'x86_64', status: 'built', phase: 'success' }]],
      ['200', 'deleted', []],
      ['300', 'srpm', [{ arch: 'x86_64', status: 'cached', phase: 'success' }]],
      ['400', 'delete', []],
      ['500', 'copy', []],
      ['1000', 'srpm', []],
    ]);
    expect(task).toMatchObject({ created: '2026-03-05T08:40:00Z', stateSince: '2026-03-05T12:40:01Z', finished: '2026-03-05T12:40:01Z', phase: 'success', archs: ['i586', 'x86_64'] });
    expect(task.subtasks[0]?.approvals).toEqual([{ by: 'alice', verdict: 'approved', at: '2026-03-05T12:34:56Z', comment: 'Tested on x86_64, works for me.' }]);
    expect(task.native).toBe(out.detail);
    expect(out.approvals).toEqual([
      { subtask: '100', verdict: 'approved', by: 'alice', at: Date.UTC(2026, 2, 5, 12, 34, 56), comment: 'Tested on x86_64, works for me.' },
      { subtask: '300', verdict: 'disapproved', by: 'carol', at: Date.UTC(2026, 2, 5, 13, 0, 0), comment: 'Needs a changelog entry.' },
    ]);
  });

  it('writes build_time and fetched in the configured server zone, without a zone', () => {
    writeGolden(tree);
    const out = read(tree, 412345, { timeZone: 'Europe/Moscow' });
    expect(out.detail.build_time).toBe('2026-03-05T15:40:01');
    expect(out.detail.subtasks?.['100']?.fetched).toBe('2026-03-05T15:30:00');
  });

  it('shows an in-progress arch as running while BUILDING, leaving it out of the native build map', () => {
    writeGolden(tree);
    tree.file('412345/task/state', 'BUILDING\n', STATE_AT + 10);
    const out = read(tree, 412345);
    expect(out.detail.subtasks?.['100']?.build).toEqual({ x86_64: 'built' });
    expect(out.building).toEqual([{ subtask: '100', arch: 'i586' }]);
    const task = normalizeTreeTask('alt', out, { taskUrl: 'x/{id}', timeZone: 'UTC' });
    expect(task.subtasks[0]?.archs).toEqual([
      { arch: 'i586', status: '', phase: 'running' },
      { arch: 'x86_64', status: 'built', phase: 'success' },
    ]);
  });

  it('reads flags, share, abort (login from the file owner), depends and FAILURE', () => {
    writeGolden(tree);
    tree.file('412345/task/swift', '').file('412345/task/fail-early', '').file('412345/task/abort', '').file('412345/task/depends', '412300\n412301\n');
    chmodSync(tree.path('412345/gears'), 0o2775);
    tree.file('412345/task/state', 'FAILURE\n', STATE_AT);
    const uid = process.getuid?.() ?? 0;
    const out = read(tree, 412345, { users: new Map([[uid, 'alt_mike']]) });
    const d = out.detail as unknown as Record<string, unknown>;
    expect(Object.keys(d).slice(0, 8)).toEqual(['updated', 'taskid', 'shared', 'fail_early', 'test_only', 'swift', 'aborted_by', 'repo']);
    expect(d).toMatchObject({ shared: true, fail_early: true, swift: true, aborted_by: 'mike', state: 'FAILURE', depends: [412300, 412301] });
    expect(read(tree, 412345).detail.aborted_by).toBe(String(uid)); // an unknown uid stays numeric
  });

  it('reads an archived copy, where the archiver deleted empty files: a missing status is a failure', () => {
    tree
      .file('_402/412345/task/id', '412345\n', T0)
      .file('_402/412345/task/owner', 'jdoe\n')
      .file('_402/412345/task/repo', 'p11\n')
      .file('_402/412345/task/try', '1\n')
      .file('_402/412345/task/iter', '1\n')
      .file('_402/412345/task/state', 'DONE\n', STATE_AT)
      .file('_402/412345/gears/100/userid', 'jdoe\n')
      .file('_402/412345/gears/100/package', 'gone\n')
      .file('_402/412345/build/100/pkgname', 'gone\n')
      .file('_402/412345/build/100/x86_64/log', '[00:00:01] error\n');
    const out = read(tree, 412345, { archived: true, dir: tree.path('_402/412345') });
    expect(out.detail.test_only).toBe(false);
    expect(out.detail.subtasks?.['100']?.build).toEqual({ x86_64: 'failed' });
  });

  it('takes EVR from plan/add-src only when the plan is newer than the latest try/iter bump', () => {
    writeGolden(tree);
    utimesSync(tree.path('412345/plan'), T0, T0); // older than try/iter (T0+100): stale (girar bug #40728)
    expect(read(tree, 412345).detail.subtasks?.['100']?.version).toBeUndefined();
    tree.file('412345/task/state', 'DONE\n', STATE_AT); // DONE: the plan is the committed one
    expect(read(tree, 412345).detail.subtasks?.['100']).toMatchObject({ version: '1.2', release: 'alt1' });
  });

  it('reads plan/check_acl for EPERM tasks', () => {
    writeGolden(tree);
    tree.file('412345/plan/check_acl', '100\tfoo\n300\tbar\n').file('412345/task/state', 'EPERM\n', STATE_AT);
    expect(read(tree, 412345).checkAcl).toEqual([
      { subtask: '100', item: 'foo' },
      { subtask: '300', item: 'bar' },
    ]);
  });

  describe('bad input', () => {
    const runner = new BatchRunner({ maxFileBytes: 4095, timeZone: 'UTC' });
    const one = (id: number): TaskOutcome => runner.run({ now: NOW_MS, jobs: [{ id, dir: tree.path(String(id)), force: true }] })[0]!;

    it('rejects a task without state, owner or repo, and an empty state (mid-write)', () => {
      tree.file('1/task/owner', 'a\n').file('1/task/repo', 'p11\n');
      tree.file('2/task/state', '\n').file('2/task/owner', 'a\n').file('2/task/repo', 'p11\n');
      tree.file('3/task/state', 'NEW\n').file('3/task/repo', 'p11\n');
      tree.file('4/task/state', 'NEW\n').file('4/task/owner', 'a\n');
      expect(one(1)).toMatchObject({ kind: 'problem', reason: 'incomplete', path: 'task/state' });
      expect(one(2)).toMatchObject({ kind: 'problem', reason: 'mid_write', path: 'task/state' });
      expect(one(3)).toMatchObject({ kind: 'problem', reason: 'incomplete', path: 'task/owner' });
      expect(one(4)).toMatchObject({ kind: 'problem', reason: 'incomplete', path: 'task/repo' });
      expect(one(5)).toEqual({ id: 5, kind: 'gone' });
    });

    it('skips oversized, non-UTF-8 and outside-pointing files, counting each, and keeps the rest', () => {
      writeGolden(tree);
      tree.file('412345/task/message', 'x'.repeat(5000));
      writeFileSync(tree.path('412345/gears/100/tag_name'), Buffer.from([0x31, 0xff, 0xfe, 0x0a]));
      tree.link('412345/gears/100/tag_id', '/etc/hostname');
      tree.link('412345/gears/300/srpm', '../../task/repo'); // inside the task: followed
      const out = read(tree, 412345);
      expect(out.detail.message).toBeUndefined();
      expect(out.detail.subtasks?.['100']).toMatchObject({ tag_name: '', tag_id: '' });
      expect(out.detail.subtasks?.['300']?.srpm).toBe('sisyphus');
      expect(out.problems).toEqual([
        { path: 'task/message', reason: 'too_large' },
        { path: 'gears/100/tag_name', reason: 'not_utf8' },
        { path: 'gears/100/tag_id', reason: 'symlink_outside' },
      ]);
    });

    it('never follows a subtask dir that is a symlink out of the task', () => {
      writeGolden(tree);
      tree.dir('elsewhere/gears/600').file('elsewhere/gears/600/userid', 'evil\n');
      tree.link('412345/gears/600', tree.path('elsewhere/gears/600'));
      const out = read(tree, 412345);
      expect(out.detail.subtasks?.['600']).toBeUndefined();
      expect(out.problems).toContainEqual({ path: 'gears/600', reason: 'symlink_outside' });
    });

    it('counts non-numeric try, iter and depends as bad values', () => {
      writeGolden(tree);
      tree.file('412345/task/try', 'two\n').file('412345/task/depends', '1\nx\n');
      const out = read(tree, 412345);
      expect(out.detail.try).toBeUndefined();
      expect(out.detail.depends).toEqual([1]);
      expect(out.problems?.map((p) => p.reason)).toEqual(['bad_value', 'bad_value']);
    });
  });

  describe('signatures', () => {
    const sig = (state: string, subtasks: string[] = ['100']) => signatureOf(new TaskDirReader(tree.path('412345'), 4095, buf), state, subtasks);

    it('is one stat (state mtime, size, inode) for cold states, null while running', () => {
      writeGolden(tree);
      expect(sig('TESTED')).toHaveLength(3);
      expect(sig('BUILDING')).toBeNull();
      expect(sig('NEW')).toHaveLength(3 + 2 + 1 + 2);
      expect(sig('EPERM', ['100', '300'])).toHaveLength(3 + 2 + 4);
    });

    it('changes on a state rewrite, a share toggle, a new flag and a new approval', () => {
      writeGolden(tree);
      const a = sig('NEW');
      expect(sameSignature(a, sig('NEW'))).toBe(true);
      tree.file('412345/task/state', 'NEW\n', STATE_AT + 1);
      const b = sig('NEW');
      expect(sameSignature(a, b)).toBe(false);
      chmodSync(tree.path('412345/gears'), 0o2775); // ctime moves
      const c = sig('NEW');
      expect(sameSignature(b, c)).toBe(false);
      tree.file('412345/task/swift', '');
      utimesSync(tree.path('412345/task'), STATE_AT + 5, STATE_AT + 5);
      const d = sig('NEW');
      expect(sameSignature(c, d)).toBe(false);
      tree.file('412345/acl/approved/100/bob', '2026-Mar-06 10:00:00 :: approved by bob\n');
      utimesSync(tree.path('412345/acl/approved/100'), STATE_AT + 9, STATE_AT + 9);
      expect(sameSignature(d, sig('NEW'))).toBe(false);
    });
  });
});

describe('parsers', () => {
  it('parses approval stamps as UTC and refuses others', () => {
    expect(parseStamp('2026-Mar-05 12:34:56 :: approved by jdoe')).toBe(Date.UTC(2026, 2, 5, 12, 34, 56));
    expect(parseStamp('2026-Foo-05 12:34:56 :: approved by jdoe')).toBeUndefined();
    expect(parseStamp('garbage')).toBeUndefined();
  });

  it('splits EVRs', () => {
    expect(splitEvr('1.2-alt1')).toEqual({ version: '1.2', release: 'alt1' });
    expect(splitEvr('2:1.0-rc1-alt0.1')).toEqual({ epoch: 2, version: '1.0-rc1', release: 'alt0.1' });
    expect(splitEvr('nodash')).toEqual({});
  });
});
