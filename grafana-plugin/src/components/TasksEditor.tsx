/**
 * The fields of tasks and summary queries: the task filters both share (seven multi-selects and
 * the full-text search), then the tasks query's sort, order, limit and time-range switch, or the
 * summary's "by" field.
 */
import { InlineField, InlineFieldRow, InlineSwitch, RadioButtonGroup, Select } from '@grafana/ui';
import type { SelectableValue } from '@grafana/data';
import { FILTER_FIELDS, SUMMARY_FIELDS, type FilterField, type SummaryQuery, type TasksQuery } from '../types.js';
import { CommitInput } from './CommitInput.js';
import { FieldMultiSelect, fieldLabel, LABEL_WIDTH } from './FieldSelects.js';
import { singleSource, type FieldValuesSource } from './options.js';
import { MAX_LIMIT, parseCount, SORT_KEYS, withList, withValue } from './queryModel.js';

type FilterQuery = TasksQuery | SummaryQuery;

interface Props<Q extends FilterQuery> {
  query: Q;
  datasource: FieldValuesSource;
  /** Report a new query; `run` also runs it. */
  update: (next: Q, run?: boolean) => void;
}

/** Multi-selects for the seven filter fields, and the search box. */
export function TaskFiltersEditor<Q extends FilterQuery>({ query, datasource, update }: Props<Q>) {
  const source = singleSource(query.source);
  return (
    <>
      <InlineFieldRow>
        {FILTER_FIELDS.map((field: FilterField) => (
          <FieldMultiSelect
            key={field}
            datasource={datasource}
            refId={query.refId}
            field={field}
            value={query[field]}
            source={source}
            width={field === 'source' || field === 'owner' ? 30 : 24}
            onChange={(values) => update(withList(query, field, values))}
          />
        ))}
      </InlineFieldRow>
      <InlineFieldRow>
        <CommitInput
          id={`buildscope-${query.refId}-q`}
          label="Search"
          tooltip="Full-text search: space-separated terms, all must match (case-insensitive substrings of id, owner, repo, state, message and package fields). Press Enter to run."
          placeholder="e.g. python3 p11"
          width={60}
          value={query.q ?? ''}
          validate={(text) => (text.trim().length > 200 ? 'at most 200 characters' : undefined)}
          onCommit={(text) => update(withValue(query, 'q', text.trim()))}
        />
      </InlineFieldRow>
    </>
  );
}

const SORT_OPTIONS: Array<SelectableValue<string>> = SORT_KEYS.map((k) => ({ label: k, value: k }));
const ORDER_OPTIONS: Array<SelectableValue<'desc' | 'asc'>> = [
  { label: 'Newest first', value: 'desc' },
  { label: 'Oldest first', value: 'asc' },
];

/** Tasks query: filters, then sort / order / limit / time range. */
export function TasksEditor({ query, datasource, update }: Props<TasksQuery>) {
  return (
    <>
      <TaskFiltersEditor query={query} datasource={datasource} update={update} />
      <InlineFieldRow>
        <InlineField label="Sort" labelWidth={LABEL_WIDTH} tooltip="Sort key (exporter default: id)." htmlFor={`buildscope-${query.refId}-sort`}>
          <Select<string>
            inputId={`buildscope-${query.refId}-sort`}
            width={16}
            options={SORT_OPTIONS}
            value={query.sort ?? null}
            placeholder="id"
            isClearable
            onChange={(item: SelectableValue<string> | null) => update(withValue(query, 'sort', item?.value))}
          />
        </InlineField>
        <InlineField label="Order" tooltip="Exporter default: newest first.">
          <RadioButtonGroup<'desc' | 'asc'> options={ORDER_OPTIONS} value={query.order ?? 'desc'} onChange={(order) => update({ ...query, order })} />
        </InlineField>
        <CommitInput
          id={`buildscope-${query.refId}-limit`}
          label="Limit"
          tooltip={`Rows to fetch, 1..${MAX_LIMIT} (default 100).`}
          placeholder="100"
          width={10}
          value={query.limit === undefined ? '' : String(query.limit)}
          validate={(text) => parseCount(text, MAX_LIMIT).error}
          onCommit={(text) => update(withValue(query, 'limit', parseCount(text, MAX_LIMIT).value))}
        />
        <InlineField label="Use time range" tooltip="Only tasks updated within the dashboard's time range." htmlFor={`buildscope-${query.refId}-timerange`}>
          <InlineSwitch
            id={`buildscope-${query.refId}-timerange`}
            value={query.useTimeRange !== false}
            onChange={(e) => update({ ...query, useTimeRange: e.currentTarget.checked })}
          />
        </InlineField>
      </InlineFieldRow>
    </>
  );
}

const BY_OPTIONS: Array<SelectableValue<FilterField>> = SUMMARY_FIELDS.map((f) => ({ label: fieldLabel(f), value: f }));

/** Summary query: the "by" field, then the filters. */
export function SummaryEditor({ query, datasource, update }: Props<SummaryQuery>) {
  return (
    <>
      <InlineFieldRow>
        <InlineField label="Count by" labelWidth={LABEL_WIDTH} tooltip="One row per value of this field, largest first." htmlFor={`buildscope-${query.refId}-by`}>
          <Select<FilterField>
            inputId={`buildscope-${query.refId}-by`}
            width={20}
            options={BY_OPTIONS}
            value={query.by}
            onChange={(item: SelectableValue<FilterField>) => item.value && update({ ...query, by: item.value })}
          />
        </InlineField>
      </InlineFieldRow>
      <TaskFiltersEditor query={query} datasource={datasource} update={update} />
    </>
  );
}
