/**
 * Upstream links keep the exporter's URL as it is: the data links ask for `:raw` (Grafana's default
 * data link format, UriEncode, would turn `%20` into `%2520`), and annotations put the URL in the
 * href HTML-escaped rather than `encodeURI`d; the task message is HTML-escaped too.
 */
import { describe, expect, it } from 'vitest';
import { rangeOf, tasksToAnnotations } from '../src/annotations.js';
import { filterParams } from '../src/variables.js';
import { installTemplateSrv } from './helpers.js';
import { tasksFrame, UPSTREAM_LINK_URL } from '../src/frames.js';
import { jobsFrame, workersFrame } from '../src/frames-ops.js';
import type { ExporterTask } from '../src/types.js';

const URL_WITH_ESCAPES = 'http://karajo.example/karajo/job_exec/log/?id=build%20docs&counter=7';

const task: ExporterTask = {
  source: 'k',
  kind: 'karajo',
  id: 'build docs#7',
  state: 'failed',
  phase: 'failed',
  owner: 'bob',
  repo: 'build docs',
  message: 'a <b>bold</b> & "quoted" message',
  finished: '2026-01-02T03:04:05Z',
  updated: '2026-01-02T03:04:06Z',
  archs: [],
  subtasks: [],
  url: URL_WITH_ESCAPES,
};

describe('upstream links', () => {
  it('data links on tasks, workers and jobs use the url field raw', () => {
    expect(UPSTREAM_LINK_URL).toBe('${__data.fields.url:raw}');
    const tasks = tasksFrame({ total: 1, offset: 0, limit: 100, truncated: false, items: [task] }, 'A', Date.now(), false);
    expect(tasks.fields.find((f) => f.name === 'id')!.config.links?.[0]?.url).toBe(UPSTREAM_LINK_URL);
    expect(tasks.fields.find((f) => f.name === 'url')!.values[0]).toBe(URL_WITH_ESCAPES);
    const workers = workersFrame([{ source: 'a', kind: 'apb', id: 'w1', name: 'w1', url: URL_WITH_ESCAPES }], 'B');
    const jobs = jobsFrame([{ source: 'k', kind: 'karajo', id: 'j', name: 'j', url: URL_WITH_ESCAPES }], 'C');
    for (const frame of [workers, jobs]) expect(frame.fields.find((f) => f.name === 'name')!.config.links?.[0]?.url).toBe(UPSTREAM_LINK_URL);
  });

  it('annotations link the URL as the exporter gave it and escape the message', () => {
    const frame = tasksFrame({ total: 1, offset: 0, limit: 100, truncated: false, items: [task] }, 'Anno', Date.now(), false);
    const [event] = tasksToAnnotations([frame]);
    expect(event!.time).toBe(Date.parse('2026-01-02T03:04:05Z'));
    expect(event!.text).toContain(`<a href="http://karajo.example/karajo/job_exec/log/?id=build%20docs&#38;counter=7"`);
    expect(event!.text).not.toContain('%2520');
    expect(event!.text).toContain('k task build docs#7: a &#60;b&#62;bold&#60;/b&#62; &#38; &#34;quoted&#34; message');
    // What a browser makes of the href: the URL itself.
    const a = document.createElement('div');
    a.innerHTML = event!.text!;
    expect(a.querySelector('a')!.getAttribute('href')).toBe(URL_WITH_ESCAPES);
    expect(a.textContent).toContain('a <b>bold</b> & "quoted" message');
  });
});

describe('annotations keep the tasks that finished inside the range asked for', () => {
  it('reads the range the datasource put in the frame meta and drops tasks finished before it', () => {
    const inside: ExporterTask = { ...task, id: 'in', finished: '2026-01-02T03:04:05Z' };
    const before: ExporterTask = { ...task, id: 'before', finished: '2026-01-01T00:00:00Z', updated: '2026-01-02T03:00:00Z' };
    const frame = tasksFrame({ total: 2, offset: 0, limit: 100, truncated: false, items: [inside, before] }, 'A', Date.now(), false);
    frame.meta = { ...frame.meta, custom: { ...frame.meta?.custom, rangeFrom: Date.parse('2026-01-02T00:00:00Z'), rangeTo: Date.parse('2026-01-03T00:00:00Z') } };
    const range = rangeOf([frame]);
    expect(range?.from.valueOf()).toBe(Date.parse('2026-01-02T00:00:00Z'));
    expect(tasksToAnnotations([frame], range).map((a) => a.text?.includes('task in'))).toEqual([true]);
    expect(rangeOf([{ ...frame, meta: {} }])).toBeUndefined();
  });
});

describe('a value named "all" is a value', () => {
  it('filters on a repo literally called all; only Grafana All and the exporter ALL lift the filter', () => {
    installTemplateSrv();
    expect(filterParams({ repo: ['all'], owner: ['All'] })).toEqual({ repo: ['all'], owner: ['All'] });
    expect(filterParams({ repo: ['ALL'], state: ['ALL'] })).toEqual({ state: 'ALL' });
  });
});
