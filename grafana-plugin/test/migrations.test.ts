/** Saved queries, variable queries and annotations of version 0 brought to the current shapes. */
import { describe, expect, it } from 'vitest';
import { prepareAnnotation } from '../src/annotations.js';
import { migrateQuery, migrateVariableQuery } from '../src/migrations.js';
import { QUERY_VERSION, type BuildscopeQuery } from '../src/types.js';

const v = QUERY_VERSION;

describe('migrateQuery', () => {
  it.each([
    ['no queryType: a tasks table', { refId: 'A' }, { refId: 'A', queryType: 'tasks', version: v }],
    [
      'comma strings and plural names become lists',
      { refId: 'A', sources: 'alt, beta', states: 'BUILDING,FAILING', repo: 'p11', owners: ['ldv', 'ldv', ''], arches: 'x86_64' },
      { refId: 'A', queryType: 'tasks', version: v, source: ['alt', 'beta'], state: ['BUILDING', 'FAILING'], repo: ['p11'], owner: ['ldv'], arch: ['x86_64'] },
    ],
    ['search with `query` text', { refId: 'B', queryType: 'search', query: ' lib p11 ' }, { refId: 'B', queryType: 'tasks', version: v, q: 'lib p11' }],
    [
      'tasks options as strings and old names',
      { refId: 'A', queryType: 'tasks', limit: '50', sortBy: 'stateSince', order: 'ASC', timeFilter: 'false' },
      { refId: 'A', queryType: 'tasks', version: v, limit: 50, sort: 'state_since', order: 'asc', useTimeRange: false },
    ],
    ['a limit over the maximum is capped', { refId: 'A', limit: 5000 }, { refId: 'A', queryType: 'tasks', version: v, limit: 1000 }],
    ['task detail with taskId', { refId: 'T', queryType: 'detail', source: 'alt', taskId: 411523 }, { refId: 'T', queryType: 'task', version: v, source: 'alt', id: '411523' }],
    ['task detail as "source/id"', { refId: 'T', queryType: 'taskDetail', task: 'alt/411523' }, { refId: 'T', queryType: 'task', version: v, source: 'alt', id: '411523' }],
    ['task detail with a source list', { refId: 'T', queryType: 'task', sources: ['alt', 'beta'], id: '7' }, { refId: 'T', queryType: 'task', version: v, source: 'alt', id: '7' }],
    ['summary with groupBy (plural)', { refId: 'S', queryType: 'counts', groupBy: 'repos', phase: 'failed' }, { refId: 'S', queryType: 'summary', version: v, by: 'repo', phase: ['failed'] }],
    ['summary without a field counts by state', { refId: 'S', queryType: 'summary' }, { refId: 'S', queryType: 'summary', version: v, by: 'state' }],
    [
      'events with old names',
      { refId: 'E', queryType: 'stream', sources: 'alt', eventTypes: 'task_new,task_updated', limit: '200' },
      { refId: 'E', queryType: 'events', version: v, source: ['alt'], types: ['task_new', 'task_updated'], maxRows: 200 },
    ],
    ['workers keep only their sources', { refId: 'W', queryType: 'workers', source: 'apb', by: 'state', q: 'x' }, { refId: 'W', queryType: 'workers', version: v, source: ['apb'] }],
    ['jobs', { refId: 'J', queryType: 'Jobs' }, { refId: 'J', queryType: 'jobs', version: v }],
    [
      'Grafana’s keys are kept',
      { refId: 'A', hide: true, key: 'k', datasource: { type: 'buildscope-buildfarm-datasource', uid: 'bs' } },
      { refId: 'A', hide: true, key: 'k', datasource: { type: 'buildscope-buildfarm-datasource', uid: 'bs' }, queryType: 'tasks', version: v },
    ],
    ['an unknown type is a tasks table', { refId: 'A', queryType: 'frobnicate', owner: 'ldv' }, { refId: 'A', queryType: 'tasks', version: v, owner: ['ldv'] }],
  ])('%s', (_what, saved, expected) => {
    const migrated = migrateQuery(saved);
    expect(migrated).toEqual(expected);
    expect(migrateQuery(migrated)).toEqual(migrated);
  });

  it('leaves current queries as they are (the same object)', () => {
    const q: BuildscopeQuery = { refId: 'A', queryType: 'summary', by: 'arch', version: v, source: ['$source'] };
    expect(migrateQuery(q)).toBe(q);
  });
});

describe('migrateVariableQuery', () => {
  it.each([
    ['repos', { field: 'repo' }],
    ['state', { field: 'state' }],
    ['arches', { field: 'arch' }],
    ['repo?source=alt', { field: 'repo', source: 'alt' }],
    ['owners(alt)', { field: 'owner', source: 'alt' }],
    ['values(kind)', { field: 'kind' }],
    [{ field: 'sources' }, { field: 'source' }],
    [{ refId: 'v', field: 'repo', source: '$src' }, { field: 'repo', source: '$src' }],
    [{ values: 'owners', source: '' }, { field: 'owner' }],
    [{ query: 'repos' }, { field: 'repo' }],
  ])('%j', (saved, expected) => {
    expect(migrateVariableQuery(saved)).toEqual(expected);
  });

  it.each(['', 'colour', { field: 'colour' }, null, 42])('%j is not a variable query', (saved) => {
    expect(migrateVariableQuery(saved)).toBeUndefined();
  });
});

describe('annotations', () => {
  it('version 0 kept the filters on the annotation: they move into a tasks target', () => {
    const anno = prepareAnnotation({ name: 'Failures', enable: true, iconColor: 'red', phases: ['failed'], sources: 'alt', repo: 'p11' } as never);
    expect(anno).toEqual({
      name: 'Failures',
      enable: true,
      iconColor: 'red',
      target: { refId: 'Anno', queryType: 'tasks', version: v, phase: ['failed'], source: ['alt'], repo: ['p11'], sort: 'updated', order: 'desc', limit: 1000, useTimeRange: true },
    });
  });

  it('a target without phases gets failed and success', () => {
    const anno = prepareAnnotation({ name: 'Tasks', enable: true, iconColor: 'blue', target: { refId: 'Anno', queryType: 'tasks', version: v, owner: ['ldv'] } } as never);
    expect(anno.target).toMatchObject({ queryType: 'tasks', owner: ['ldv'], phase: ['failed', 'success'] });
  });
});
