// @vitest-environment jsdom
import './testing/jsdom-shims.js';
import { cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildscopeQuery, EventsQuery, SummaryQuery, TaskDetailQuery, TasksQuery } from '../types.js';
import { QueryEditor, type Props } from './QueryEditor.js';
import { assertValidQuery, chooseOption, fakeDatasource, installTemplateVariables, lastCall, optionsOf } from './testing/fakes.js';
import { renderControlled } from './testing/Harness.js';

function setup(query: Partial<BuildscopeQuery> & { refId: string }) {
  const fake = fakeDatasource();
  const user = userEvent.setup();
  const r = renderControlled<BuildscopeQuery, Props>(QueryEditor, query as BuildscopeQuery, { datasource: fake.datasource });
  const last = <Q extends BuildscopeQuery>() => {
    const q = lastCall<Q>(r.onChange);
    assertValidQuery(q);
    return q;
  };
  return { ...r, ...fake, user, last };
}

beforeEach(() => installTemplateVariables(['source', 'owner']));
afterEach(cleanup);

describe('QueryEditor: tasks', () => {
  it('shows a new query as a tasks query with every filter, search, sort, order, limit and time-range field', async () => {
    const { getFieldValues } = setup({ refId: 'A' });
    for (const label of ['Source', 'Kind', 'State', 'Phase', 'Repo', 'Owner', 'Arch', 'Search', 'Sort', 'Limit', 'Use time range']) {
      expect(screen.getByLabelText(label), label).toBeTruthy();
    }
    expect(screen.getByRole('radio', { name: 'Tasks' })).toHaveProperty('checked', true);
    expect(screen.getByRole('radio', { name: 'Newest first' })).toHaveProperty('checked', true);
    expect(screen.getByLabelText('Use time range')).toHaveProperty('checked', true);
    await waitFor(() => expect(getFieldValues).toHaveBeenCalledTimes(7));
    expect(getFieldValues.mock.calls.map((c) => c[0]).sort()).toEqual(['arch', 'kind', 'owner', 'phase', 'repo', 'source', 'state']);
  });

  it('offers the exporter values and the dashboard variables as $name', async () => {
    const { user } = setup({ refId: 'A', queryType: 'tasks' });
    await waitFor(async () => expect(await optionsOf(user, 'State')).toEqual(['$source', '$owner', 'AWAITING', 'BUILDING', 'DONE', 'EPERM']));
  });

  it('a select change reports a valid tasks query and runs it; a variable is kept as $name', async () => {
    const { user, onChange, onRunQuery, last } = setup({ refId: 'A', queryType: 'tasks' });
    await chooseOption(user, 'State', 'BUILDING');
    expect(last<TasksQuery>()).toMatchObject({ refId: 'A', queryType: 'tasks', state: ['BUILDING'] });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    await chooseOption(user, 'Source', '$source');
    expect(last<TasksQuery>()).toMatchObject({ state: ['BUILDING'], source: ['$source'] });
    expect(onChange).toHaveBeenCalledTimes(2);
    expect(onRunQuery).toHaveBeenCalledTimes(2);
  });

  it('restricts the other fields’ values to the one selected source', async () => {
    const { getFieldValues } = setup({ refId: 'A', queryType: 'tasks', source: ['alt'] });
    await waitFor(() => expect(getFieldValues).toHaveBeenCalledWith('state', 'alt'));
    expect(getFieldValues).toHaveBeenCalledWith('source', undefined);
  });

  it('search runs on Enter (not per keystroke) and on blur; an unchanged blur does nothing', async () => {
    const { user, onChange, onRunQuery, last } = setup({ refId: 'A', queryType: 'tasks' });
    await user.type(screen.getByLabelText('Search'), 'python3 p11');
    expect(onChange).not.toHaveBeenCalled();
    await user.keyboard('{Enter}');
    expect(last<TasksQuery>()).toMatchObject({ queryType: 'tasks', q: 'python3 p11' });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    await user.tab();
    expect(onChange).toHaveBeenCalledTimes(1);
    await user.clear(screen.getByLabelText('Search'));
    await user.tab();
    expect(last<TasksQuery>().q).toBeUndefined();
    expect(onRunQuery).toHaveBeenCalledTimes(2);
  });

  it('limit: refuses out-of-range values inline, commits a valid one as a number', async () => {
    const { user, onChange, last } = setup({ refId: 'A', queryType: 'tasks' });
    const limit = screen.getByLabelText('Limit');
    await user.type(limit, '5000');
    await user.tab();
    expect(await screen.findByText('between 1 and 1000')).toBeTruthy();
    expect(onChange).not.toHaveBeenCalled();
    await user.clear(limit);
    await user.type(limit, '50{Enter}');
    expect(last<TasksQuery>().limit).toBe(50);
    expect(screen.queryByText('between 1 and 1000')).toBeNull();
  });

  it('sort, order and the time-range switch report and run at once', async () => {
    const { user, onRunQuery, last } = setup({ refId: 'A', queryType: 'tasks' });
    await chooseOption(user, 'Sort', 'updated');
    expect(last<TasksQuery>().sort).toBe('updated');
    await user.click(screen.getByRole('radio', { name: 'Oldest first' }));
    expect(last<TasksQuery>().order).toBe('asc');
    await user.click(screen.getByLabelText('Use time range'));
    expect(last<TasksQuery>()).toMatchObject({ sort: 'updated', order: 'asc', useTimeRange: false });
    expect(onRunQuery).toHaveBeenCalledTimes(3);
  });
});

describe('QueryEditor: switching the query type', () => {
  const filtered: TasksQuery = { refId: 'B', queryType: 'tasks', source: ['alt', '$source'], state: ['BUILDING'], q: 'gcc', limit: 20, hide: false };

  it('tasks -> summary keeps every filter and adds by=state; summary -> tasks keeps them too', async () => {
    const { user, onRunQuery, last } = setup(filtered);
    await user.click(screen.getByRole('radio', { name: 'Summary' }));
    expect(last<SummaryQuery>()).toEqual({ refId: 'B', hide: false, version: 1, queryType: 'summary', by: 'state', source: ['alt', '$source'], state: ['BUILDING'], q: 'gcc' });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(screen.getByLabelText('Count by')).toBeTruthy();
    await chooseOption(user, 'Count by', 'Owner');
    expect(last<SummaryQuery>().by).toBe('owner');
    await user.click(screen.getByRole('radio', { name: 'Tasks' }));
    expect(last<TasksQuery>()).toMatchObject({ queryType: 'tasks', source: ['alt', '$source'], state: ['BUILDING'], q: 'gcc' });
  });

  it('tasks -> workers, jobs, events keep only the sources; -> task detail takes the first source', async () => {
    for (const [type, label] of [['workers', 'Workers'], ['jobs', 'Jobs'], ['events', 'Events']] as const) {
      const { user, last, unmount } = setup(filtered);
      await user.click(screen.getByRole('radio', { name: label }));
      expect(last()).toEqual({ refId: 'B', hide: false, version: 1, queryType: type, source: ['alt', '$source'] });
      unmount();
    }
    const { user, last } = setup(filtered);
    await user.click(screen.getByRole('radio', { name: 'Task detail' }));
    expect(last<TaskDetailQuery>()).toEqual({ refId: 'B', hide: false, version: 1, queryType: 'task', source: 'alt', id: '' });
    await user.click(screen.getByRole('radio', { name: 'Jobs' }));
    expect(last()).toEqual({ refId: 'B', hide: false, version: 1, queryType: 'jobs', source: ['alt'] });
  });

  it('every type -> every other type yields a valid query', async () => {
    const { user, onChange } = setup({ refId: 'C' });
    for (const label of ['Summary', 'Task detail', 'Workers', 'Events', 'Jobs', 'Tasks', 'Events', 'Summary', 'Workers', 'Task detail', 'Tasks']) {
      await user.click(screen.getByRole('radio', { name: label }));
    }
    expect(onChange).toHaveBeenCalledTimes(11);
    for (const [q] of onChange.mock.calls) assertValidQuery(q);
  });
});

describe('QueryEditor: task detail, workers, jobs, events', () => {
  it('task detail runs only once both the source and the id are set', async () => {
    const { user, onChange, onRunQuery, last } = setup({ refId: 'A', queryType: 'task', source: '', id: '' });
    await user.type(screen.getByLabelText('Task id'), '411523{Enter}');
    expect(last<TaskDetailQuery>()).toEqual({ refId: 'A', version: 1, queryType: 'task', source: '', id: '411523' });
    expect(onRunQuery).not.toHaveBeenCalled();
    await chooseOption(user, 'Source', 'alt');
    expect(last<TaskDetailQuery>()).toEqual({ refId: 'A', version: 1, queryType: 'task', source: 'alt', id: '411523' });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(onChange).toHaveBeenCalledTimes(2);
  });

  it('workers and jobs have a source multi-select', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'workers' });
    await chooseOption(user, 'Source', 'apb');
    expect(last()).toEqual({ refId: 'A', version: 1, queryType: 'workers', source: ['apb'] });
    expect(screen.queryByLabelText('State')).toBeNull();
  });

  it('events: sources, event types (the nine types and the worker_*, job_* prefixes) and max rows', async () => {
    const { user, onRunQuery, last } = setup({ refId: 'A', queryType: 'events' });
    expect(await optionsOf(user, 'Event types')).toEqual([
      'task_new', 'task_updated', 'task_removed', 'worker_*', 'worker_new', 'worker_updated', 'worker_removed', 'job_*', 'job_new', 'job_updated', 'job_removed',
    ]);
    await chooseOption(user, 'Event types', 'task_updated');
    await chooseOption(user, 'Event types', 'worker_*');
    expect(last<EventsQuery>()).toEqual({ refId: 'A', version: 1, queryType: 'events', types: ['task_updated', 'worker_*'] });
    await user.type(screen.getByLabelText('Max rows'), '0');
    await user.tab();
    expect(await screen.findByText('between 1 and 100000')).toBeTruthy();
    await user.clear(screen.getByLabelText('Max rows'));
    await user.type(screen.getByLabelText('Max rows'), '500{Enter}');
    expect(last<EventsQuery>()).toEqual({ refId: 'A', version: 1, queryType: 'events', types: ['task_updated', 'worker_*'], maxRows: 500 });
    expect(onRunQuery).toHaveBeenCalledTimes(3);
  });
});
