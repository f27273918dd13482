import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { girarAclConfigSchema, parseGirarAclConfig, resolvePolicy, type RepoPolicy } from './acl-config.js';
import {
  AclDirectory,
  aggregateRowCodes,
  checkPerms,
  explainPerms,
  parseGroupsList,
  parsePackagesList,
  subtaskDecision,
  taskNeedsApproval,
  type AclExitCode,
  type AclSubtaskInput,
  type AclTaskInput,
  type AclView,
  type RepoAclLists,
} from './acl.js';

const PACKAGES = [
  'foo\talice bob @qa',
  'orphan\t@nobody',
  'open\tcarol *',
  'everyone\tcarol @everybody',
  'grouped\t@team',
  'bare',
  '',
].join('\n');
const GROUPS = ['@qa\tquinn quentin', '@team\ttina', '@maint\tmike mia', '@tester\tted tess', ''].join('\n');
const LISTS: RepoAclLists = { packages: parsePackagesList(PACKAGES), groups: parseGroupsList(GROUPS) };
const NO_PACKAGES: RepoAclLists = { packages: null, groups: LISTS.groups };

function policy(overrides: Record<string, unknown> = {}): RepoPolicy {
  const config = parseGirarAclConfig({ default: { superusers: ['sam', '_sam'], maint_group: 'maint', tester_group: '@tester', ...overrides } });
  return resolvePolicy(config, 'sisyphus');
}
const POLICY = policy();

describe('acl-config', () => {
  it('fills defaults, adds root and normalizes group names', () => {
    const config = parseGirarAclConfig({});
    expect(config).toEqual({
      dir: '/var/lib/girar/acl',
      max_file_bytes: 67108864,
      default: { superusers: [], maint_group: null, tester_group: null, deny_unlisted: false, users_allowed_unlisted: [] },
      repos: {},
    });
    const p = resolvePolicy(parseGirarAclConfig({ default: { maint_group: 'maint', tester_group: '@tester' } }), 'p10');
    expect([...p.superusers]).toEqual(['root']);
    expect([p.maintGroup, p.testerGroup]).toEqual(['@maint', '@tester']);
  });

  it('merges per-repo overrides key by key over `default`, replacing lists', () => {
    const config = parseGirarAclConfig({
      default: { superusers: ['ops'], maint_group: 'maint', deny_unlisted: true, users_allowed_unlisted: ['bot'] },
      repos: { sisyphus: { superusers: ['sam'], tester_group: 'tester' }, p10: { maint_group: null } },
    });
    const sis = resolvePolicy(config, 'sisyphus');
    expect([...sis.superusers].sort()).toEqual(['root', 'sam']);
    expect([sis.maintGroup, sis.testerGroup, sis.denyUnlisted, [...sis.usersAllowedUnlisted]]).toEqual(['@maint', '@tester', true, ['bot']]);
    expect(resolvePolicy(config, 'p10').maintGroup).toBeNull();
    expect(resolvePolicy(config, 'constructor').maintGroup).toBe('@maint');
  });

  it.each([
    ['an unknown key', { foo: 1 }],
    ['an unknown per-repo key', { repos: { p10: { maintgroup: 'x' } } }],
    ['a bad repo name', { repos: { 'Bad Repo': {} } }],
    ['a login with a space', { default: { superusers: ['a b'] } }],
    ['a group with a space', { default: { maint_group: 'x y' } }],
    ['a relative dir', { dir: 'acl' }],
    ['a tiny cap', { max_file_bytes: 10 }],
  ])('rejects %s', (_what, raw) => {
    expect(() => parseGirarAclConfig(raw)).toThrow(/invalid girar acl config/);
  });

  it('has no default of its own, so an optional `acl` key stays absent', () => {
    expect(Value.Default(Type.Object({ acl: Type.Optional(girarAclConfigSchema) }), {})).toEqual({});
  });
});

describe('list parsing (§6.1)', () => {
  it('reads packages: leader first, members after, groups expanded once with their leader', () => {
    expect(LISTS.packages?.packages.get('foo')).toEqual({ leader: 'alice', members: ['bob', '@qa'] });
    expect([...(LISTS.groups?.groups.get('@qa') ?? [])]).toEqual(['quinn', 'quentin']);
  });

  it('skips blank lines, accepts CRLF and a space separator, merges repeated names, counts malformed lines', () => {
    const p = parsePackagesList('\n\nfoo\talice\r\n\nbar carol dave\n  indented\tx\nfoo\tbob\nlonely\n');
    expect([...p.packages.keys()]).toEqual(['foo', 'bar']);
    expect(p.packages.get('foo')).toEqual({ leader: 'alice', members: ['bob'] });
    expect(p.packages.get('bar')).toEqual({ leader: 'carol', members: ['dave'] });
    expect([p.malformedLines, p.firstMalformedLine, [...p.invalid]]).toEqual([2, 6, ['lonely']]);
    const g = parseGroupsList('@a\tx y\nnoat\tz\n@\tq\n@b\n@a\tw\n');
    expect([...(g.groups.get('@a') ?? [])]).toEqual(['x', 'y', 'w']);
    expect([g.malformedLines, g.firstMalformedLine]).toEqual([3, 2]);
  });
});

describe('checkPerms = girar-check-perms (§6.2)', () => {
  const denyUnlisted = policy({ deny_unlisted: true, users_allowed_unlisted: ['uma'] });
  it.each<[string, string, string, RepoAclLists, RepoPolicy, boolean, string]>([
    ['6.2.1 ACL file missing: deny, even a superuser', 'sam', 'foo', NO_PACKAGES, POLICY, false, '6.2.1'],
    ['6.2.1 ACL file missing: deny a @group too', 'mike', '@maint', NO_PACKAGES, POLICY, false, '6.2.1'],
    ['6.2.2 superuser', 'sam', 'foo', LISTS, POLICY, true, '6.2.2'],
    ['6.2.2 root is always a superuser', 'root', 'foo', LISTS, POLICY, true, '6.2.2'],
    ['6.2.3 + 6.2.4 anyone (maintainers assumed) may build an unlisted package', 'zed', 'unlisted', LISTS, POLICY, true, '6.2.4'],
    ['6.2.4 deny_unlisted denies an unlisted package', 'zed', 'unlisted', LISTS, denyUnlisted, false, '6.2.4'],
    ['6.2.4 ... except for users_allowed_unlisted', 'uma', 'unlisted', LISTS, denyUnlisted, true, '6.2.4'],
    ['6.2.4 a listed name without owners is an invalid entry: deny', 'zed', 'bare', LISTS, POLICY, false, '6.2.4'],
    ['6.2.5 the leader', 'alice', 'foo', LISTS, POLICY, true, '6.2.5'],
    ['6.2.5 leader @nobody (orphaned)', 'zed', 'orphan', LISTS, POLICY, true, '6.2.5'],
    ['6.2.5 `*` listed', 'zed', 'open', LISTS, POLICY, true, '6.2.5'],
    ['6.2.5 `@everybody` listed', 'zed', 'everyone', LISTS, POLICY, true, '6.2.5'],
    ['6.2.6 a listed user', 'bob', 'foo', LISTS, POLICY, true, '6.2.6'],
    ['6.2.6 member of a listed group', 'quentin', 'foo', LISTS, POLICY, true, '6.2.6'],
    ['6.2.6 the leader of a listed group is a member', 'quinn', 'foo', LISTS, POLICY, true, '6.2.6'],
    ['6.2.6 member of the leading group', 'tina', 'grouped', LISTS, POLICY, true, '6.2.6'],
    ['6.2.6 groups need list.groups', 'quinn', 'foo', { packages: LISTS.packages, groups: null }, POLICY, false, '6.2.8'],
    ['6.2.8 otherwise deny', 'zed', 'foo', LISTS, POLICY, false, '6.2.8'],
    ['6.2.8 @maint gives no package rights', 'mike', 'foo', LISTS, POLICY, false, '6.2.8'],
    ['@group: a member', 'mia', '@maint', LISTS, POLICY, true, '6.2.6'],
    ['@group: package rights do not make a member', 'alice', '@maint', LISTS, POLICY, false, '6.2.8'],
    ['@group: a superuser passes 6.2.2 first', 'sam', '@maint', LISTS, POLICY, true, '6.2.2'],
  ])('%s', (_name, user, item, lists, pol, allow, step) => {
    expect(explainPerms(user, item, 'sisyphus', lists, pol)).toMatchObject({ allow, step });
    expect(checkPerms(user, item, 'sisyphus', lists, pol)).toBe(allow);
  });
});

const sub = (author: string, approvedBy: string[] = [], disapprovedBy: string[] = []): AclSubtaskInput => ({ id: '100', author, approvedBy, disapprovedBy });
type Codes = [normal: AclExitCode, maint: AclExitCode, tester: AclExitCode];

describe('subtaskDecision = girar-check-subtask-perms (§6.3) in normal / maint / tester modes', () => {
  const noMaint = policy({ maint_group: null });
  const noTester = policy({ tester_group: null });
  const noGroups = policy({ maint_group: null, tester_group: null });
  it.each<[string, AclSubtaskInput, Codes, string, RepoPolicy?, RepoAclLists?]>([
    ['6.3.1 a superuser disapproval denies, even for the leader', sub('alice', [], ['sam']), [1, 1, 1], '6.3.1'],
    ['6.3.1 a superuser disapproval beats a superuser author', sub('sam', [], ['root']), [1, 1, 1], '6.3.1'],
    ['6.3.2 the author is a superuser', sub('sam'), [0, 77, 77], '6.3.2'],
    ['6.3.3 a superuser approved', sub('zed', ['root']), [0, 77, 77], '6.3.3'],
    ['6.3.4 qualified disapproval: by someone with package rights, even for the leader', sub('alice', ['mike', 'ted'], ['bob']), [1, 1, 1], '6.3.4'],
    ['6.3.4 qualified disapproval: by a @maint member', sub('zed', [], ['mike']), [1, 1, 1], '6.3.4'],
    ['6.3.4 qualified disapproval: by a @tester member', sub('zed', ['mike'], ['tess']), [1, 1, 1], '6.3.4'],
    ['6.3.4 an unqualified disapproval is ignored', sub('alice', [], ['zed']), [0, 77, 77], '6.3.5'],
    ['6.3.5 the author has package rights', sub('bob'), [0, 77, 77], '6.3.5'],
    ['6.3.6 an approver has package rights', sub('zed', ['quinn']), [0, 77, 77], '6.3.6'],
    ['6.3.7/8 maint-only approval: needs @tester', sub('zed', ['mike']), [1, 77, 0], '6.3.8'],
    ['6.3.7/8 an author in @maint counts as a maint approval', sub('mia'), [1, 77, 0], '6.3.8'],
    ['6.3.7/8 tester-only approval: needs @maint (maint-first)', sub('zed', ['ted']), [1, 0, 77], '6.3.8'],
    ['6.3.7/8 both maint and tester approved', sub('zed', ['ted', 'mike']), [0, 77, 77], '6.3.8'],
    ['6.3.7/8 maint author plus a tester approval', sub('mia', ['tess']), [0, 77, 77], '6.3.8'],
    ['6.3.9 no approvals: maint is asked first, tester mode denies', sub('zed'), [1, 0, 1], '6.3.9'],
    ['6.3.9 approvals without rights count as none', sub('zed', ['zoe']), [1, 0, 1], '6.3.9'],
    ['6.3.3 approvals are read with the glob [a-z]*: `_sam` never counts', sub('zed', ['_sam']), [1, 0, 1], '6.3.9'],
    ['6.3.8 no maint group: a tester approval never suffices, maint mode cannot answer 0', sub('zed', ['ted']), [1, 1, 77], '6.3.9', noMaint],
    ['6.3.9 no maint group: nothing to ask for', sub('zed'), [1, 1, 1], '6.3.9', noMaint],
    ['6.3.8 no tester group: a maint approval never suffices, tester mode cannot answer 0', sub('zed', ['mike']), [1, 77, 1], '6.3.9', noTester],
    ['6.3.9 no groups at all', sub('zed', ['mike', 'ted']), [1, 1, 1], '6.3.9', noGroups],
    ['6.2.1 inside 6.3: ACL file missing, nobody has rights, so maint is asked', sub('alice', ['bob']), [1, 0, 1], '6.3.9', POLICY, NO_PACKAGES],
  ])('%s', (_name, subtask, [normal, maint, tester], step, pol = POLICY, lists = LISTS) => {
    const got = (['normal', 'maint', 'tester'] as const).map((mode) => subtaskDecision(subtask, 'foo', mode, lists, pol));
    expect(got.map((d) => d.code)).toEqual([normal, maint, tester]);
    expect(got[0]?.step).toBe(step);
    for (const d of got) expect(d.reason).not.toBe('');
  });
});

describe('task level = girar-check-task-perms + girar task ls --needs-approval (§4, §6.3)', () => {
  it.each<[AclExitCode[], AclExitCode]>([
    [[0], 0],
    [[0, 77, 0], 0],
    [[77, 77], 77],
    [[], 77],
    [[0, 1], 1],
    [[1, 0], 1],
    [[77, 1, 0], 1],
  ])('rows %j aggregate to %i', (codes, want) => {
    expect(aggregateRowCodes(codes)).toBe(want);
  });

  const view: AclView = { lists: () => LISTS, policy: () => POLICY };
  const task = (subtasks: AclSubtaskInput[], extra: Partial<AclTaskInput> = {}): AclTaskInput => ({
    id: '1',
    repo: 'sisyphus',
    state: 'EPERM',
    testOnly: false,
    swift: false,
    checkAcl: subtasks.map((s) => ({ subtask: s.id, item: 'foo' })),
    subtasks: new Map(subtasks.map((s) => [s.id, s])),
    ...extra,
  });
  const at = (id: string, s: AclSubtaskInput): AclSubtaskInput => ({ ...s, id });
  const listed = (t: AclTaskInput) => [taskNeedsApproval(t, 'maint', view), taskNeedsApproval(t, 'tester', view)].map((r) => `${r.listed}/${r.code}/${r.skipped}`);

  it.each<[string, AclTaskInput, string[]]>([
    ['§4 only EPERM tasks are asked', task([sub('zed')], { state: 'PENDING' }), ['false/null/not-eperm', 'false/null/not-eperm']],
    ['§4 test-only tasks are skipped', task([sub('zed')], { testOnly: true }), ['false/null/test-only', 'false/null/test-only']],
    ['§4 swift tasks are skipped', task([sub('zed')], { swift: true }), ['false/null/swift', 'false/null/swift']],
    ['no approvals: listed for maint only', task([sub('zed')]), ['true/0/null', 'false/1/null']],
    ['maint approved: listed for tester only', task([sub('zed', ['mike'])]), ['false/77/null', 'true/0/null']],
    ['an allowed row (77) does not hide a row that needs maint', task([at('100', sub('bob')), at('200', sub('zed'))]), ['true/0/null', 'false/1/null']],
    ['a maint-approved row (77) and an unapproved row: maint is still asked', task([at('100', sub('zed', ['mike'])), at('200', sub('zed'))]), ['true/0/null', 'false/1/null']],
    ['a qualified disapproval on one row hides the task', task([at('100', sub('zed')), at('200', sub('zed', [], ['bob']))]), ['false/1/null', 'false/1/null']],
    ['everything allowed: nothing needed', task([sub('bob')]), ['false/77/null', 'false/77/null']],
    ['a row without its subtask (no gears/N/userid) is denied', task([sub('zed')], { checkAcl: [{ subtask: '300', item: 'foo' }] }), ['false/1/null', 'false/1/null']],
    ['a row with a bad subtask id is denied', task([sub('zed')], { checkAcl: [{ subtask: '1x', item: 'foo' }] }), ['false/1/null', 'false/1/null']],
    ['an empty plan/check_acl needs nothing', task([], {}), ['false/77/null', 'false/77/null']],
  ])('%s', (_name, t, want) => {
    expect(listed(t)).toEqual(want);
  });
});

describe('AclDirectory', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  const directory = (extra: Record<string, unknown> = {}) =>
    new AclDirectory(parseGirarAclConfig({ dir, default: { maint_group: 'maint', tester_group: 'tester' }, ...extra }));
  const eperm = (author: string, approvedBy: string[] = []): AclTaskInput => ({
    id: '7',
    repo: 'sisyphus',
    state: 'EPERM',
    testOnly: false,
    swift: false,
    checkAcl: [{ subtask: '100', item: 'foo' }],
    subtasks: new Map([['100', { id: '100', author, approvedBy, disapprovedBy: [] }]]),
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'acl-'));
    writeFileSync(file('list.packages.sisyphus'), 'foo\talice bob\n');
    writeFileSync(file('list.groups.sisyphus'), '@maint\tmike\n@tester\tted\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the lists of the repos asked about and decides with them', async () => {
    const acl = directory();
    expect(acl.needsApproval(eperm('zed'), 'maint')).toMatchObject({ listed: false, skipped: 'acl-not-loaded' });
    await acl.refresh(undefined, ['../etc']);
    expect(acl.needsApproval(eperm('zed'), 'maint')).toMatchObject({ listed: true, code: 0 });
    expect(acl.needsApproval(eperm('zed', ['mike']), 'tester')).toMatchObject({ listed: true, code: 0 });
    expect(acl.needsApproval(eperm('bob'), 'maint')).toMatchObject({ listed: false, code: 77 });
    expect(acl.problems()).toEqual([]);
  });

  it('6.2.1 a missing list.packages means "ACL file missing: deny", and is reported', async () => {
    unlinkSync(file('list.packages.sisyphus'));
    const acl = directory();
    await acl.refresh(undefined, ['sisyphus']);
    expect(acl.lists('sisyphus').packages).toBeNull();
    expect(acl.needsApproval(eperm('bob'), 'maint').rows[0]).toMatchObject({ code: 0, step: '6.3.9' });
    expect(acl.problems()).toEqual([{ file: file('list.packages.sisyphus'), reason: expect.stringMatching(/^missing/) }]);
  });

  it('re-reads only files whose mtime or size changed', async () => {
    const path = file('list.packages.sisyphus');
    const mtime = 1_700_000_000; // whole seconds, so utimes can restore it exactly
    utimesSync(path, mtime, mtime);
    const acl = directory({ repos: { sisyphus: {} } });
    await acl.refresh();
    writeFileSync(path, 'foo\tzelda bob\n'); // same size, new leader, mtime put back
    utimesSync(path, mtime, mtime);
    expect(statSync(path).size).toBe('foo\talice bob\n'.length);
    await acl.refresh();
    expect(acl.lists('sisyphus').packages?.packages.get('foo')?.leader).toBe('alice');
    utimesSync(path, mtime, mtime + 5);
    await acl.refresh();
    expect(acl.lists('sisyphus').packages?.packages.get('foo')?.leader).toBe('zelda');
  });

  it('keeps the previous version of a file that is not UTF-8 or too large, and reports it', async () => {
    const acl = directory({ max_file_bytes: 1024 });
    await acl.refresh(undefined, ['sisyphus']);
    writeFileSync(file('list.packages.sisyphus'), Buffer.from([0x66, 0x6f, 0x6f, 0x09, 0xff, 0xfe, 0x0a]));
    writeFileSync(file('list.groups.sisyphus'), `@maint\t${'m '.repeat(600)}\n`);
    await acl.refresh();
    expect(acl.lists('sisyphus').packages?.packages.get('foo')?.leader).toBe('alice');
    expect(acl.lists('sisyphus').groups?.groups.get('@maint')?.has('mike')).toBe(true);
    expect(acl.problems().map((p) => p.reason)).toEqual([expect.stringMatching(/max_file_bytes/), expect.stringMatching(/UTF-8/)]);
    writeFileSync(file('list.packages.sisyphus'), 'foo\tbob\nbroken\n');
    utimesSync(file('list.packages.sisyphus'), new Date(), new Date(Date.now() + 10_000));
    await acl.refresh();
    expect(acl.lists('sisyphus').packages?.packages.get('foo')?.leader).toBe('bob');
    expect(acl.problems()[1]?.reason).toBe('1 malformed line(s) skipped (first: line 2)');
  });

  it('drops a list that was deleted after loading', async () => {
    const acl = directory();
    await acl.refresh(undefined, ['sisyphus']);
    unlinkSync(file('list.groups.sisyphus'));
    await acl.refresh();
    expect(acl.lists('sisyphus').groups).toBeNull();
    expect(acl.needsApproval(eperm('zed', ['mike']), 'tester')).toMatchObject({ listed: false });
  });

  it('stops when the signal is aborted', async () => {
    const acl = directory();
    await expect(acl.refresh(AbortSignal.abort(), ['sisyphus'])).rejects.toThrow();
    await acl.refresh();
    expect(acl.lists('sisyphus').packages).not.toBeNull();
  });
});
