/**
 * The query editor: a query type selector, then the fields of that type. Selects, radio buttons and
 * switches report (and run) at once; text fields on blur or Enter. Switching the query type keeps
 * the filters the new type understands (see `toQueryType`).
 */
import { InlineField, InlineFieldRow, RadioButtonGroup, Stack } from '@grafana/ui';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import type { DataSource } from '../datasource.js';
import { QUERY_TYPES, type BuildscopeOptions, type BuildscopeQuery, type EventsQuery, type JobsQuery, type QueryType, type TaskDetailQuery, type WorkersQuery } from '../types.js';
import { CommitInput } from './CommitInput.js';
import { FieldMultiSelect, FieldSelect, FixedMultiSelect, LABEL_WIDTH } from './FieldSelects.js';
import type { FieldValuesSource } from './options.js';
import { EVENT_TYPES, normalizeQuery, parseCount, QUERY_TYPE_LABELS, toQueryType, withList, withValue } from './queryModel.js';
import { SummaryEditor, TasksEditor } from './TasksEditor.js';

export type Props = QueryEditorProps<DataSource, BuildscopeQuery, BuildscopeOptions>;

const TYPE_OPTIONS: Array<SelectableValue<QueryType>> = QUERY_TYPES.map((t) => ({ label: QUERY_TYPE_LABELS[t], value: t }));

const TYPE_HELP: Record<QueryType, string> = {
  tasks: 'A table of tasks (filters, search, sort).',
  task: 'One task: its subtasks × arches build matrix and approvals.',
  summary: 'Task counts by one field (stat, bar and pie panels).',
  workers: 'Build workers: load, queue, health.',
  jobs: 'Scheduled jobs (karajo): status, last and next run.',
  events: 'Live task, worker and job events (streaming).',
};

export const MAX_EVENT_ROWS = 100_000;

export function QueryEditor({ query, datasource, onChange, onRunQuery }: Props) {
  const current = normalizeQuery(query);
  const values: FieldValuesSource = datasource;
  function update<Q extends BuildscopeQuery>(next: Q, run = true) {
    onChange(next);
    if (run) onRunQuery();
  }
  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={LABEL_WIDTH} tooltip={TYPE_HELP[current.queryType]}>
          <RadioButtonGroup<QueryType>
            aria-label="Query type"
            options={TYPE_OPTIONS}
            value={current.queryType}
            onChange={(type) => update(toQueryType(current, type))}
          />
        </InlineField>
      </InlineFieldRow>
      {current.queryType === 'tasks' && <TasksEditor query={current} datasource={values} update={update} />}
      {current.queryType === 'summary' && <SummaryEditor query={current} datasource={values} update={update} />}
      {current.queryType === 'task' && <TaskDetailEditor query={current} datasource={values} update={update} />}
      {(current.queryType === 'workers' || current.queryType === 'jobs') && <SourcesEditor query={current} datasource={values} update={update} />}
      {current.queryType === 'events' && <EventsEditor query={current} datasource={values} update={update} />}
    </Stack>
  );
}

interface SectionProps<Q> {
  query: Q;
  datasource: FieldValuesSource;
  update: (next: Q, run?: boolean) => void;
}

function TaskDetailEditor({ query, datasource, update }: SectionProps<TaskDetailQuery>) {
  // Running needs both the source and the id; until then the query is kept but not run.
  const complete = (q: TaskDetailQuery) => q.source !== '' && q.id !== '';
  return (
    <InlineFieldRow>
      <FieldSelect
        datasource={datasource}
        refId={query.refId}
        field="source"
        value={query.source}
        invalid={query.source === ''}
        tooltip="The source the task belongs to."
        onChange={(source) => {
          const next = { ...query, source };
          update(next, complete(next));
        }}
      />
      <CommitInput
        id={`buildscope-${query.refId}-id`}
        label="Task id"
        tooltip="The task id as the source names it (girar: a number; karajo: job#counter; Cuirass evaluations: eval-N). May be a $variable."
        placeholder="e.g. 411523 or $task"
        width={24}
        value={query.id}
        invalid={query.id === ''}
        onCommit={(id) => {
          const next = { ...query, id: id.trim() };
          update(next, complete(next));
        }}
      />
    </InlineFieldRow>
  );
}

function SourcesEditor({ query, datasource, update }: SectionProps<WorkersQuery | JobsQuery>) {
  return (
    <InlineFieldRow>
      <FieldMultiSelect datasource={datasource} refId={query.refId} field="source" value={query.source} onChange={(source) => update(withList(query, 'source', source))} />
    </InlineFieldRow>
  );
}

function EventsEditor({ query, datasource, update }: SectionProps<EventsQuery>) {
  return (
    <InlineFieldRow>
      <FieldMultiSelect datasource={datasource} refId={query.refId} field="source" value={query.source} onChange={(source) => update(withList(query, 'source', source))} />
      <FixedMultiSelect
        refId={query.refId}
        name="types"
        label="Event types"
        tooltip="Which events to stream; empty = all."
        choices={EVENT_TYPES}
        value={query.types}
        onChange={(types) => update(withList(query, 'types', types))}
      />
      <CommitInput
        id={`buildscope-${query.refId}-maxRows`}
        label="Max rows"
        tooltip={`Events kept in the panel; when it is full the oldest go first (default 1000, at most ${MAX_EVENT_ROWS}).`}
        placeholder="1000"
        width={12}
        value={query.maxRows === undefined ? '' : String(query.maxRows)}
        validate={(text) => parseCount(text, MAX_EVENT_ROWS).error}
        onCommit={(text) => update(withValue(query, 'maxRows', parseCount(text, MAX_EVENT_ROWS).value))}
      />
    </InlineFieldRow>
  );
}
