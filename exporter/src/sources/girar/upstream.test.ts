import { describe, it, expect } from 'vitest';
import { README_ITEMS } from '../../api/compat/test-helpers.js';
import { parseGirarConfig, validateGirarConfig } from './config.js';
import { approverLogin, checkHealth, checkSseTaskUpdated, checkTaskDetail, checkTaskList, describeInvalid } from './upstream.js';

/** The README's search result item (411543, with its `matches`). */
const item = { ...README_ITEMS[411543]!, matches: ['300/dir:lib', '300/pkgname:lib', 'repo:p11', 'state:eperm'] };

describe('taskoteka payload schemas', () => {
  it('accepts the README search result, unknown extra keys, unknown states and FAILURE', () => {
    expect(checkTaskList.Check([item])).toBe(true);
    expect(checkTaskList.Check([{ ...item, future_field: { x: 1 }, state: 'FAILURE' }, { ...item, state: 'SOMETHING_NEW' }])).toBe(true);
  });

  it('names the JSON path and what was expected for a wrong type', () => {
    const list = [item, item, item, { ...item, try: '2' }];
    expect(checkTaskList.Check(list)).toBe(false);
    expect(describeInvalid(checkTaskList, list)).toBe('/3/try: expected integer, got "2"');
    expect(describeInvalid(checkTaskList, [{ ...item, subtasks: { '100': { dir: 5 } } }])).toBe('/0/subtasks/100/dir: expected string, got 5');
  });

  it('refuses ids and times no real task has, instead of failing later in normalization', () => {
    expect(checkTaskList.Check([{ ...item, id: -5 }])).toBe(false);
    expect(checkTaskList.Check([{ ...item, id: 1e21 }])).toBe(false);
    const detail = { updated: 1760000000, taskid: 5, shared: false, fail_early: false, test_only: false, repo: 'p11', state: 'DONE', age: 0, owner: 'rider' };
    expect(checkTaskDetail.Check(detail)).toBe(true);
    expect(checkTaskDetail.Check({ ...detail, updated: 1e16 })).toBe(false);
    expect(checkTaskDetail.Check({ ...detail, taskid: 0 })).toBe(false);
  });

  it('reports a missing required key', () => {
    const { owner: _owner, ...noOwner } = item;
    expect(describeInvalid(checkTaskList, [noOwner])).toBe('/0/owner: required key is missing');
    expect(describeInvalid(checkTaskList, { tasks: [] })).toBe('/: expected array, got {"tasks":[]}');
  });

  it('validates info.json details, including a deleted subtask and depends', () => {
    const detail = {
      updated: 1760000000,
      taskid: 412345,
      shared: false,
      fail_early: false,
      test_only: true,
      repo: 'sisyphus',
      state: 'TESTED',
      try: 2,
      iter: 1,
      depends: [412300],
      age: 0,
      owner: 'jdoe',
      subtasks: { '100': { dir: '/people/jdoe/packages/foo.git', type: 'repo', userid: 'jdoe', build: { x86_64: 'built' } }, '200': { userid: 'jdoe' } },
    };
    expect(checkTaskDetail.Check(detail)).toBe(true);
    expect(describeInvalid(checkTaskDetail, { ...detail, depends: ['412300'] })).toBe('/depends/0: expected integer, got "412300"');
    expect(describeInvalid(checkTaskDetail, { ...detail, subtasks: { '100': { userid: 'jdoe', build: { x86_64: 1 } } } })).toBe(
      '/subtasks/100/build/x86_64: expected string, got 1',
    );
  });

  it('validates the health body and SSE event data', () => {
    expect(checkHealth.Check({ status: 'ok', total_tasks: 3662, active_tasks: 3155 })).toBe(true);
    expect(checkSseTaskUpdated.Check({ id: 12345, state: 'BUILDING', prev_state: 'NEW', owner: 'rider' })).toBe(true);
    expect(checkSseTaskUpdated.Check({ id: '12345', state: 'BUILDING', prev_state: 'NEW', owner: 'rider' })).toBe(false);
  });

  it('finds the login in approver entries of either shape', () => {
    expect(approverLogin('alice')).toBe('alice');
    expect(approverLogin({ login: 'bob', date: '2026-03-05T12:34:56Z', comment: 'ok' })).toBe('bob');
    expect(approverLogin({ date: 'x' })).toBeUndefined();
  });
});

describe('girar config', () => {
  it('refuses a resync_interval that is not a duration, or is out of range, naming the key', () => {
    expect(() => parseGirarConfig({ url: 'https://x.example/api', resync_interval: 'forever' })).toThrow(/resync_interval/);
    for (const bad of ['0s', '2d']) {
      expect(validateGirarConfig(parseGirarConfig({ url: 'https://x.example/api', resync_interval: bad }))).toEqual([
        { path: '/resync_interval', message: `resync_interval must be between 1s and 1d, got "${bad}"` },
      ]);
    }
    expect(validateGirarConfig(parseGirarConfig({ url: 'https://x.example/api', resync_interval: '30s' }))).toEqual([]);
  });

  it('fills defaults', () => {
    expect(parseGirarConfig({ url: 'https://git.altlinux.org/tasks/api' })).toEqual({
      transport: 'taskoteka',
      url: 'https://git.altlinux.org/tasks/api',
      stream: true,
      resync_interval: '5m',
      detail_concurrency: 4,
      detail_budget: 500,
      max_body_bytes: 64 * 1024 * 1024,
      time_zone: 'UTC',
      task_url: 'https://git.altlinux.org/tasks/{id}/',
      taskoteka_api: true,
    });
    expect(parseGirarConfig({ transport: 'fs' })).toEqual({
      transport: 'fs',
      tasks_dir: '/tasks',
      io_threads: 4,
      max_file_bytes: 1024 * 1024,
      full_reread_interval: '10m',
      passwd_file: '/etc/passwd',
      time_zone: 'UTC',
      task_url: 'https://git.altlinux.org/tasks/{id}/',
      taskoteka_api: true,
    });
  });

  it('rejects unknown keys, bad URLs, out-of-range numbers and other transports', () => {
    expect(() => parseGirarConfig({ url: 'https://x', color: 'red' })).toThrow(/invalid girar source config/);
    expect(() => parseGirarConfig({ url: 'ftp://x' })).toThrow(/\/url/);
    expect(() => parseGirarConfig({})).toThrow(/\/url/);
    expect(() => parseGirarConfig({ url: 'http://x', detail_concurrency: 64 })).toThrow(/\/detail_concurrency/);
    expect(() => parseGirarConfig({ url: 'http://x', detail_budget: 0 })).toThrow(/\/detail_budget/);
    expect(() => parseGirarConfig({ url: 'http://x', transport: 'amqp' })).toThrow(/\/transport/);
    expect(() => parseGirarConfig({ url: 'http://x', transport: 'fs' })).toThrow(/\/url/); // not an fs key
    expect(() => parseGirarConfig({ transport: 'fs', tasks_dir: 'tasks' })).toThrow(/\/tasks_dir/);
    expect(() => parseGirarConfig({ transport: 'fs', io_threads: 65 })).toThrow(/\/io_threads/);
    expect(() => parseGirarConfig({ transport: 'fs', max_file_bytes: 10 })).toThrow(/\/max_file_bytes/);
    expect(() => parseGirarConfig({ url: 'http://x', task_url: 'https://x/tasks/' })).toThrow(/\/task_url/);
  });

  it('never echoes header values in its errors', () => {
    let message = '';
    try {
      parseGirarConfig({ url: 'http://x', headers: { Authorization: 'Bearer s3cret', 'bad header': 'also-s3cret' } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/\/headers/);
    expect(message).not.toMatch(/s3cret/);
  });
});
