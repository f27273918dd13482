/**
 * The taskoteka README's examples, answered by buildscope from a /tasks tree that holds those
 * tasks: written as girar would (files and mtimes), read by the fs transport, served by the
 * taskoteka-compatible API. Every answer must have the README's shape, key order included.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_NOW, FIXTURE_ZONE, README_ARCHIVED, README_ITEMS } from '../../../api/compat/test-helpers.js';
import { buildExporter, type Exporter } from '../../../app.js';
import { parseConfig } from '../../../config/load.js';
import { HandTree } from '../../../test-support/girar-tree.js';
import { ManualClock } from '../../../util/clock.js';
import { zonedToUtc } from '../../../util/time-zone.js';
import { kindSchemas } from '../../registry.js';
import type { TaskListItem } from '../upstream.js';

/** Epoch seconds of a Moscow wall time as girar writes it (`%FT%T`, no zone). */
const moscow = (wall: string): number => Math.floor(zonedToUtc(Date.parse(`${wall}Z`), FIXTURE_ZONE) / 1000);

function writeItem(hand: HandTree, base: string, item: TaskListItem, stateAt: number): void {
  const t = `${base}${item.id}`;
  hand
    .file(`${t}/task/id`, `${item.id}\n`, moscow(item.created))
    .file(`${t}/task/owner`, `${item.owner}\n`)
    .file(`${t}/task/repo`, `${item.repo}\n`)
    .file(`${t}/task/try`, `${item.try}\n`, stateAt - 600)
    .file(`${t}/task/iter`, `${item.iter}\n`, stateAt - 600)
    .file(`${t}/task/message`, `${item.message}\n`)
    .file(`${t}/logs/events.${item.try}.${item.iter}.log`, `task #${item.id} for ${item.repo} ${item.state}\n`, moscow(item.build_time!));
  if (item.fail_early) hand.file(`${t}/task/fail-early`, '');
  if (item.test_only) hand.file(`${t}/task/test-only`, '');
  for (const [n, s] of Object.entries(item.subtasks ?? {})) {
    hand.file(`${t}/gears/${n}/userid`, `${s.userid}\n`).file(`${t}/gears/${n}/dir`, `${s.dir}\n`).file(`${t}/gears/${n}/tag_name`, `${s.tag_name}\n`);
    hand.file(`${t}/gears/${n}/tag_id`, '0123456789abcdef0123456789abcdef01234567\n').file(`${t}/gears/${n}/tag_author`, `${s.userid} <${s.userid}@altlinux.org>\n`);
    hand.dir(`${t}/acl/approved/${n}`).dir(`${t}/acl/disapproved/${n}`);
    hand.file(`${t}/build/${n}/pkgname`, `${s.pkgname}\n`);
  }
  if (item.subtasks) chmodSync(hand.path(`${t}/gears`), 0o2755);
  hand.file(`${t}/task/state`, `${item.state}\n`, stateAt);
}

describe('the taskoteka README examples, from a /tasks tree', () => {
  const hand = new HandTree();
  const clock = new ManualClock(FIXTURE_NOW);
  let exporter: Exporter;
  const get = async (path: string) => {
    const res = await exporter.app.inject({ method: 'GET', url: `/compat/taskoteka/alt${path}` });
    return { status: res.statusCode, headers: res.headers, body: res.json() as unknown, text: res.body };
  };

  beforeAll(async () => {
    const items = README_ITEMS as Record<string, TaskListItem>;
    for (const item of Object.values(items)) writeItem(hand, '', item, Math.floor(FIXTURE_NOW / 1000) - 3600);
    // The archived task, as the archiver keeps it (no empty files), under archive/done/_<id/1024>/.
    const a = README_ARCHIVED;
    const base = `archive/done/_${Math.floor(a.taskid / 1024)}/`;
    const stateAt = Math.floor(FIXTURE_NOW / 1000) - 22 * 7 * 86400 - 3600;
    writeItem(hand, base, { id: a.taskid, state: a.state, repo: a.repo, owner: a.owner, created: '2025-10-10T10:00:00', build_time: a.build_time!, age: 0, test_only: false, fail_early: false, try: a.try!, iter: a.iter!, message: a.message! }, stateAt);
    const t = `${base}${a.taskid}`;
    const sub = a.subtasks!['1']!;
    hand.file(`${t}/gears/1/userid`, 'grenka\n').file(`${t}/gears/1/dir`, `${sub.dir}\n`).file(`${t}/gears/1/tag_name`, `${sub.tag_name}\n`);
    hand.file(`${t}/gears/1/tag_id`, `${sub.tag_id}\n`).file(`${t}/gears/1/tag_author`, `${sub.tag_author}\n`);
    hand.file(`${t}/build/1/pkgname`, 'python3\n').file(`${t}/plan/add-src`, 'python3\t3.13.0-alt1\tpython3-3.13.0-alt1.src.rpm\tpath\t1\n');
    for (const arch of ['aarch64', 'i586', 'x86_64']) hand.file(`${t}/build/1/${arch}/status`, 'swept\n').file(`${t}/build/1/${arch}/try_iter`, '85.1');
    hand.file(`${t}/task/state`, 'DONE\n', stateAt);

    const yaml = [
      'sources:',
      '  - name: alt',
      '    kind: girar',
      '    transport: fs',
      `    tasks_dir: ${hand.tasks}`,
      `    archive_dir: ${join(hand.tasks, 'archive/done')}`,
      `    time_zone: ${FIXTURE_ZONE}`,
      '    io_threads: 0',
      '',
    ].join('\n');
    writeFileSync(join(hand.root, 'buildscope.yaml'), yaml);
    const config = parseConfig(yaml, join(hand.root, 'buildscope.yaml'), kindSchemas, { listenAddress: '127.0.0.1:0', journalPath: join(hand.root, 'journal.db') });
    exporter = await buildExporter(config, { log: pino({ level: 'silent' }), clock });
    await exporter.runners.pollAll();
  });
  afterAll(async () => {
    await exporter?.close();
    hand.remove();
  });

  it('GET /tasks: the active task, exactly as the README shows it', async () => {
    const res = await get('/tasks');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-api-version']).toBe('1.6.0');
    expect(res.headers['x-cache-age']).toBe('0');
    expect(JSON.stringify(res.body)).toBe(JSON.stringify([README_ITEMS[411555]]));
  });

  it('GET /tasks?q=p11+EPERM+lib: the README search result, with matches', async () => {
    const res = await get('/tasks?q=p11+EPERM+lib');
    const expected = [
      { ...README_ITEMS[411543], matches: ['300/dir:lib', '300/pkgname:lib', 'repo:p11', 'state:eperm'] },
      { ...README_ITEMS[411469], matches: ['100/dir:lib', '100/pkgname:lib', 'message:lib', 'repo:p11', 'state:eperm'] },
    ];
    expect(JSON.stringify(res.body)).toBe(JSON.stringify(expected));
  });

  it('the other list examples: user, state and repo filters, ALL, brief', async () => {
    expect(((await get('/tasks?user=rider')).body as { id: number }[]).map((t) => t.id)).toEqual([411555]);
    expect(((await get('/tasks?state=EPERM&repo=sisyphus')).body as unknown[]).length).toBe(0);
    expect(((await get('/tasks?state=EPERM&repo=p11')).body as { id: number }[]).map((t) => t.id)).toEqual([411543, 411469]);
    expect(((await get('/tasks?state=BUILDING,FAILING')).body as { id: number }[]).map((t) => t.id)).toEqual([411555]);
    expect((await get('/tasks?brief=true&state=ALL')).body).toEqual([411555, 411543, 411469]);
  });

  it('GET /tasks/389466: the archived task read on demand, as the README shows it', async () => {
    const res = await get('/tasks/389466');
    expect(res.status).toBe(200);
    const { updated: _u, ...body } = res.body as Record<string, unknown>;
    const { updated: _e, ...expected } = README_ARCHIVED;
    expect(JSON.stringify(body)).toBe(JSON.stringify(expected));
    expect((await get('/tasks/389466?brief=true')).text).toBe('389466');
  });

  it('errors: not found, needs_approval without an ACL dir, a bad query', async () => {
    expect(await get('/tasks/999999')).toMatchObject({ status: 404, body: { error: 'task 999999 not found' } });
    expect((await get('/tasks?needs_approval=maint')).status).toBe(503);
    expect((await get('/tasks?needs_approval=nobody')).status).toBe(400);
    expect((await get('/tasks?q=a')).status).toBe(400);
  });

  it('GET /owners and /health', async () => {
    expect((await get('/owners')).body).toEqual(['lav', 'rider', 'zerg']);
    expect((await get('/health')).body).toEqual({ status: 'ok', total_tasks: 3, active_tasks: 3 });
  });

  it('the main API holds the same tasks, with times from the mtimes', async () => {
    const res = await exporter.app.inject({ method: 'GET', url: '/api/v1/tasks/alt/411555' });
    const task = res.json() as { created: string; attrs: Record<string, unknown>; native: unknown };
    expect(task.created).toBe('2026-03-16T09:22:27Z'); // 12:22:27 in Moscow
    expect(task.attrs.build_time).toBe('2026-03-16T14:15:28Z');
  });
});
