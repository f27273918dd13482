/**
 * The template variable editor (the `editor` of the datasource's CustomVariableSupport): which
 * field's distinct values (`/api/v1/values/{field}`), optionally restricted to one source, with a
 * preview of the values the variable gets.
 */
import { useEffect, useState } from 'react';
import { InlineField, InlineFieldRow, Select, Stack, Text } from '@grafana/ui';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import type { DataQuery } from '@grafana/schema';
import type { DataSource } from '../datasource.js';
import { migrateVariableQuery } from '../migrations.js';
import { FILTER_FIELDS, type BuildscopeOptions, type BuildscopeQuery, type FilterField, type VariableQuery } from '../types.js';
import { FieldSelect, fieldLabel, LABEL_WIDTH } from './FieldSelects.js';
import type { FieldValuesSource } from './options.js';

import type { VariableEditorQuery } from '../variables.js';

export type { VariableEditorQuery };

export type Props = QueryEditorProps<DataSource, BuildscopeQuery, BuildscopeOptions, VariableEditorQuery>;

export const DEFAULT_VARIABLE_FIELD: FilterField = 'source';
const REF_ID = 'BuildscopeVariableQuery';

const FIELD_OPTIONS: Array<SelectableValue<FilterField>> = FILTER_FIELDS.map((f) => ({ label: fieldLabel(f), value: f }));

function isField(value: unknown): value is FilterField {
  return typeof value === 'string' && (FILTER_FIELDS as readonly string[]).includes(value);
}

/**
 * The variable query as the editor shows it: what `migrateVariableQuery` makes of the saved one
 * (older string forms like `repos(alt)` included), or the default field for a new variable (Grafana
 * hands it an empty string or an object without our keys).
 */
export function normalizeVariableQuery(query: unknown): VariableEditorQuery {
  const refId = query && typeof query === 'object' && typeof (query as DataQuery).refId === 'string' && (query as DataQuery).refId ? (query as DataQuery).refId : REF_ID;
  const migrated = migrateVariableQuery(query);
  return migrated ? { refId, ...migrated } : { refId, field: DEFAULT_VARIABLE_FIELD };
}

const PREVIEW_COUNT = 10;

export function VariableQueryEditor({ query, datasource, onChange }: Props) {
  const current = normalizeVariableQuery(query);
  const values: FieldValuesSource = datasource;
  // Anything but a current query (a new variable, an older saved shape) is saved anew as the editor shows it.
  const incomplete = typeof query !== 'object' || query === null || !isField((query as Partial<VariableQuery>).field) || (query as { refId?: unknown }).refId !== current.refId;

  // A new variable gets a complete query at once, so what is saved is what the editor shows.
  useEffect(() => {
    if (incomplete) onChange(current);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once, for an incomplete query
  }, [incomplete]);

  const change = (next: VariableEditorQuery) => onChange(normalizeVariableQuery(next));

  return (
    <Stack direction="column" gap={1}>
      <InlineFieldRow>
        <InlineField label="Values of" labelWidth={LABEL_WIDTH} tooltip="The variable's values: this field's distinct values over the exporter's tasks." htmlFor="buildscope-variable-field">
          <Select<FilterField>
            inputId="buildscope-variable-field"
            width={20}
            options={FIELD_OPTIONS}
            value={current.field}
            onChange={(item: SelectableValue<FilterField>) => item.value && change({ ...current, field: item.value })}
          />
        </InlineField>
        {current.field !== 'source' && (
          <FieldSelect
            datasource={values}
            refId="variable"
            field="source"
            label="Source"
            tooltip="Only this source's values (may be a $variable). Empty = every source."
            value={current.source}
            clearable
            placeholder="all sources"
            onChange={(source) => change({ ...current, source })}
          />
        )}
      </InlineFieldRow>
      <VariablePreview datasource={values} field={current.field} source={current.field === 'source' ? undefined : current.source} />
    </Stack>
  );
}

function VariablePreview({ datasource, field, source }: { datasource: FieldValuesSource; field: FilterField; source: string | undefined }) {
  const [state, setState] = useState<{ values?: string[]; error?: string }>({});
  useEffect(() => {
    let live = true;
    setState({});
    datasource.getFieldValues(field, source || undefined).then(
      (list) => live && setState({ values: list }),
      (e: unknown) => live && setState({ error: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, [datasource, field, source]);
  let text: string;
  if (state.error !== undefined) text = `Could not read the values: ${state.error}`;
  else if (!state.values) text = 'Reading the values…';
  else if (state.values.length === 0) text = 'No values yet.';
  else {
    const shown = state.values.slice(0, PREVIEW_COUNT).join(', ');
    const more = state.values.length > PREVIEW_COUNT ? `, … (${state.values.length} in all)` : '';
    text = `Preview: ${shown}${more}`;
  }
  return (
    <Text element="p" color={state.error !== undefined ? 'error' : 'secondary'} data-testid="buildscope-variable-preview">
      {text}
    </Text>
  );
}
