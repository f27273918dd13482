/**
 * Options for the editors' selects: the exporter's distinct values of a field (through the
 * datasource's `getFieldValues`, i.e. `/api/v1/values/{field}`) plus the dashboard's template
 * variables as `$name`, plus whatever the query already holds (so a saved value never vanishes
 * from the select because the exporter no longer lists it).
 */
import { useEffect, useMemo, useState } from 'react';
import type { SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import type { FilterField } from '../types.js';

/** What the editors need from the datasource (DataSource implements it). */
export interface FieldValuesSource {
  getFieldValues(field: FilterField, source?: string): Promise<string[]>;
}

/** The dashboard's template variables as `$name`; none outside a dashboard (or without a TemplateSrv). */
export function templateVariableNames(): string[] {
  try {
    return getTemplateSrv()
      .getVariables()
      .map((v) => `$${v.name}`);
  } catch {
    return [];
  }
}

export function toOptions(values: readonly string[], description?: string): Array<SelectableValue<string>> {
  return values.map((value) => (description ? { label: value, value, description } : { label: value, value }));
}

/** Variables first, then the values, then any selected value neither lists; no duplicates. */
export function mergeOptions(variables: readonly string[], values: readonly string[], selected: readonly string[] = []): Array<SelectableValue<string>> {
  const seen = new Set<string>();
  const out: Array<SelectableValue<string>> = [];
  const add = (list: readonly string[], description?: string) => {
    for (const v of list) {
      if (seen.has(v)) continue;
      seen.add(v);
      out.push(description ? { label: v, value: v, description } : { label: v, value: v });
    }
  };
  add(variables, 'template variable');
  add(values);
  add(selected);
  return out;
}

export interface FieldOptions {
  options: Array<SelectableValue<string>>;
  loading: boolean;
  error?: string;
}

/**
 * The options of one field's select. `source` restricts the values to one source (the exporter's
 * `?source=`); it is passed only when the query names exactly one.
 */
export function useFieldOptions(datasource: FieldValuesSource, field: FilterField, selected: readonly string[] = [], source?: string): FieldOptions {
  const [values, setValues] = useState<string[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    setLoading(true);
    datasource.getFieldValues(field, source).then(
      (list) => {
        if (!live) return;
        setValues(list);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setValues([]);
        setError(e instanceof Error ? e.message : String(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [datasource, field, source]);
  const variables = useMemo(templateVariableNames, []);
  const selectedKey = selected.join('\u0000');
  // eslint-disable-next-line react-hooks/exhaustive-deps -- selectedKey stands for selected
  const options = useMemo(() => mergeOptions(variables, values, selected), [variables, values, selectedKey]);
  return error === undefined ? { options, loading } : { options, loading, error };
}

/** The one source a query names, for restricting other fields' values; undefined for none or several. */
export function singleSource(source: readonly string[] | string | undefined): string | undefined {
  if (typeof source === 'string') return source || undefined;
  return source?.length === 1 ? source[0] : undefined;
}
