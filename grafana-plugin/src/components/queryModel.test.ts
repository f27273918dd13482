// @vitest-environment jsdom
import './testing/jsdom-shims.js';
import { describe, expect, it } from 'vitest';
import { QUERY_TYPES, type BuildscopeQuery } from '../types.js';
import { mergeOptions, singleSource } from './options.js';
import { normalizeQuery, parseCount, toQueryType, withList, withValue } from './queryModel.js';
import { assertValidQuery } from './testing/validQuery.js';

const RICH: BuildscopeQuery[] = [
  { refId: 'A', queryType: 'tasks', source: ['alt'], kind: ['girar'], state: ['BUILDING'], phase: ['running'], repo: ['p11'], owner: ['$owner'], arch: ['x86_64'], q: 'gcc', sort: 'updated', order: 'asc', limit: 5, useTimeRange: false },
  { refId: 'A', queryType: 'summary', by: 'owner', source: ['alt', 'apb'], state: ['ALL'], q: 'x' },
  { refId: 'A', queryType: 'task', source: '$source', id: '42' },
  { refId: 'A', queryType: 'workers', source: ['apb'] },
  { refId: 'A', queryType: 'jobs' },
  { refId: 'A', queryType: 'events', source: ['alt'], types: ['task_new'], maxRows: 10 },
];

describe('toQueryType', () => {
  it('every query -> every type is a valid query of that type, with refId, hide and datasource kept', () => {
    for (const from of RICH) {
      for (const type of QUERY_TYPES) {
        const q = toQueryType({ ...from, hide: true, datasource: { uid: 'bs' } }, type);
        assertValidQuery(q);
        expect(q).toMatchObject({ queryType: type, refId: 'A', hide: true, datasource: { uid: 'bs' } });
      }
    }
  });

  it('keeps the filters the new type understands, nothing more', () => {
    const [tasks, summary, task, workers] = RICH as [BuildscopeQuery, BuildscopeQuery, BuildscopeQuery, BuildscopeQuery];
    expect(toQueryType(tasks, 'summary')).toEqual({
      refId: 'A', version: 1, queryType: 'summary', by: 'state',
      source: ['alt'], kind: ['girar'], state: ['BUILDING'], phase: ['running'], repo: ['p11'], owner: ['$owner'], arch: ['x86_64'], q: 'gcc',
    });
    expect(toQueryType(summary, 'tasks')).toEqual({ refId: 'A', version: 1, queryType: 'tasks', source: ['alt', 'apb'], state: ['ALL'], q: 'x' });
    expect(toQueryType(summary, 'task')).toEqual({ refId: 'A', version: 1, queryType: 'task', source: 'alt', id: '' });
    expect(toQueryType(task, 'events')).toEqual({ refId: 'A', version: 1, queryType: 'events', source: ['$source'] });
    expect(toQueryType(workers, 'jobs')).toEqual({ refId: 'A', version: 1, queryType: 'jobs', source: ['apb'] });
    expect(toQueryType({ refId: 'A', queryType: 'task', source: '', id: '1' }, 'tasks')).toEqual({ refId: 'A', version: 1, queryType: 'tasks' });
  });

  it('the same type leaves the query as it is', () => {
    for (const q of RICH) expect(toQueryType(q, q.queryType)).toEqual({ ...q, version: 1 });
  });
});

describe('helpers', () => {
  it('normalizeQuery: a new query is a tasks query, an older one is migrated, a current one kept as it is', () => {
    expect(normalizeQuery({ refId: 'Z' })).toEqual({ refId: 'Z', version: 1, queryType: 'tasks' });
    expect(normalizeQuery({ refId: 'Z', queryType: 'bogus' } as never)).toEqual({ refId: 'Z', version: 1, queryType: 'tasks' });
    expect(normalizeQuery({ refId: 'Z', queryType: 'detail', taskId: 5, source: 'alt' } as never)).toEqual({ refId: 'Z', version: 1, queryType: 'task', source: 'alt', id: '5' });
    const current = { ...RICH[2]!, version: 1 };
    expect(normalizeQuery(current)).toBe(current);
  });

  it('withList / withValue drop empty values', () => {
    expect(withList({ a: 1, source: ['x'] }, 'source', [])).toEqual({ a: 1 });
    expect(withList({ a: 1 }, 'state', ['X'])).toEqual({ a: 1, state: ['X'] });
    expect(withValue({ a: 1, q: 'x' }, 'q', '')).toEqual({ a: 1 });
    expect(withValue({ a: 1 }, 'limit', 5)).toEqual({ a: 1, limit: 5 });
  });

  it('parseCount', () => {
    expect(parseCount('', 10)).toEqual({});
    expect(parseCount(' 7 ', 10)).toEqual({ value: 7 });
    expect(parseCount('0', 10).error).toBe('between 1 and 10');
    expect(parseCount('11', 10).error).toBe('between 1 and 10');
    expect(parseCount('1e3', 10000).error).toBe('a whole number');
    expect(parseCount('-1', 10).error).toBe('a whole number');
  });

  it('mergeOptions: variables first, then values, then selected values neither lists, once each', () => {
    expect(mergeOptions(['$a'], ['x', 'y'], ['y', 'gone', '$a']).map((o) => o.value)).toEqual(['$a', 'x', 'y', 'gone']);
    expect(mergeOptions(['$a'], [])[0]).toEqual({ label: '$a', value: '$a', description: 'template variable' });
  });

  it('singleSource', () => {
    expect(singleSource(['alt'])).toBe('alt');
    expect(singleSource(['alt', 'apb'])).toBeUndefined();
    expect(singleSource('')).toBeUndefined();
    expect(singleSource('$s')).toBe('$s');
    expect(singleSource(undefined)).toBeUndefined();
  });
});
