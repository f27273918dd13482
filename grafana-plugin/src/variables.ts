/**
 * Template variables, both ways:
 * - into queries: filters (lists that may hold `$var`, multi-value variables, `$__all`) become the
 *   exporter's comma lists through `getTemplateSrv().replace` with a comma formatter; a variable
 *   set to All means "no filter" on that field;
 * - out of the exporter: query variables (CustomVariableSupport) list a field's distinct values
 *   from `/api/v1/values/{field}`, optionally for one source.
 */
import { CustomVariableSupport, createDataFrame, FieldType, type DataQueryRequest, type DataQueryResponse, type QueryEditorProps, type ScopedVars } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import type { DataQuery } from '@grafana/schema';
import type { ComponentType } from 'react';
import { from, map, type Observable } from 'rxjs';
import type { Params } from './api.js';
import { migrateVariableQuery } from './migrations.js';
import type { BuildscopeOptions, BuildscopeQuery, FilterField, TaskFilters, VariableQuery } from './types.js';
import type { DataSource } from './datasource.js';

/** Grafana's value of a variable set to "All". */
export const ALL_VALUE = '$__all';
/** The exporter's "every value" (`state=ALL` also lifts the default-states rule). */
export const EXPORTER_ALL = 'ALL';

/** `$name`, `${name}`, `${name:format}`, `[[name]]`: a whole entry that is one variable. */
const VARIABLE_REF = /^(?:\$(\w+)|\$\{(\w+)(?:[.:][^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\])$/;

function holdsAll(value: unknown): boolean {
  return value === ALL_VALUE || (Array.isArray(value) && value.includes(ALL_VALUE));
}

/** Whether the dashboard variable `name` is set to All (a repeated panel's scoped value wins). */
export function isAllSelected(name: string, scopedVars?: ScopedVars): boolean {
  const scoped = scopedVars?.[name];
  if (scoped) return holdsAll(scoped.value);
  try {
    const variable = getTemplateSrv()
      .getVariables()
      .find((v) => v.name === name) as { current?: { value?: unknown } } | undefined;
    return holdsAll(variable?.current?.value);
  } catch {
    return false;
  }
}

/** The TemplateSrv formatter: a multi-value variable becomes `a,b,c` (the exporter's lists). */
export function commaFormatter(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => String(v)).join(',');
  return value === undefined || value === null ? '' : String(value);
}

function spaceFormatter(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => String(v)).join(' ');
  return value === undefined || value === null ? '' : String(value);
}

/** A text with variables replaced (multi values comma-joined), trimmed. */
export function interpolateText(text: string | undefined, scopedVars?: ScopedVars): string {
  if (!text) return '';
  return getTemplateSrv().replace(text, scopedVars, commaFormatter).trim();
}

/**
 * A filter list with variables replaced: undefined = no filter (empty, or every entry empty);
 * `['ALL']` = every value (an entry that is a variable set to All, or the literal `ALL`).
 */
export function interpolateList(values: readonly string[] | undefined, scopedVars?: ScopedVars): string[] | undefined {
  if (!values || values.length === 0) return undefined;
  const srv = getTemplateSrv();
  const out: string[] = [];
  for (const raw of values) {
    const m = VARIABLE_REF.exec(raw.trim());
    const name = m?.[1] ?? m?.[2] ?? m?.[3];
    if (name !== undefined && isAllSelected(name, scopedVars)) return [EXPORTER_ALL];
    for (const part of srv.replace(raw, scopedVars, commaFormatter).split(',')) {
      const value = part.trim();
      // Only Grafana's All and the exporter's own `ALL` mean every value: a repo or owner named "all" is a value.
      if (value === ALL_VALUE || value === EXPORTER_ALL) return [EXPORTER_ALL];
      if (value && !out.includes(value)) out.push(value);
    }
  }
  return out.length ? out : undefined;
}

/**
 * The query parameters of `/api/v1/tasks` and `/api/v1/summary` for these filters. All (or `ALL`)
 * on a field means no filter on it: the parameter is left out, except `state`, which is sent as
 * `state=ALL` (leaving it out would apply the kinds' default states, itself a filter). Phase All
 * likewise asks for every state when no state is given.
 */
export function filterParams(filters: TaskFilters, scopedVars?: ScopedVars): Params {
  const params: Params = {};
  let phaseAll = false;
  for (const field of ['source', 'kind', 'state', 'phase', 'repo', 'owner', 'arch'] as const) {
    const list = interpolateList(filters[field], scopedVars);
    if (!list) continue;
    const all = list.length === 1 && list[0] === EXPORTER_ALL;
    if (!all) params[field] = list;
    else if (field === 'state') params.state = EXPORTER_ALL;
    else if (field === 'phase') phaseAll = true;
  }
  if (phaseAll && params.state === undefined) params.state = EXPORTER_ALL;
  const q = filters.q ? getTemplateSrv().replace(filters.q, scopedVars, spaceFormatter).trim() : '';
  if (q) params.q = q;
  return params;
}

/** A source list for workers, jobs and events (`?source=`); All or empty = every source. */
export function sourceParam(sources: readonly string[] | undefined, scopedVars?: ScopedVars): string[] | undefined {
  const list = interpolateList(sources, scopedVars);
  return list && !(list.length === 1 && list[0] === EXPORTER_ALL) ? list : undefined;
}

/** The editor's query: CustomVariableSupport needs a DataQuery (refId). */
export type VariableEditorQuery = VariableQuery & DataQuery;
export type VariableEditor = ComponentType<QueryEditorProps<DataSource, BuildscopeQuery, BuildscopeOptions, VariableEditorQuery>>;

/** Shown when no editor was wired in (tests; module.ts passes the real one). */
const NoEditor: VariableEditor = () => null;

/** A field's distinct values, as a template variable's options. */
export class BuildscopeVariableSupport extends CustomVariableSupport<DataSource, VariableEditorQuery, BuildscopeQuery, BuildscopeOptions> {
  editor: VariableEditor;

  constructor(
    private readonly datasource: DataSource,
    editor?: VariableEditor,
  ) {
    super();
    this.editor = editor ?? NoEditor;
  }

  query(request: DataQueryRequest<VariableEditorQuery>): Observable<DataQueryResponse> {
    const target = request.targets[0];
    const query = migrateVariableQuery(target);
    if (!query) {
      return from(Promise.reject(new Error(`not a buildscope variable query: ${JSON.stringify(target)}; choose a field (source, kind, state, phase, repo, owner, arch)`)));
    }
    return from(this.datasource.variableValues(query, request.scopedVars)).pipe(
      map((values) => ({
        data: [
          createDataFrame({
            refId: target?.refId ?? 'variable',
            name: query.field,
            fields: [
              { name: 'text', type: FieldType.string, values },
              { name: 'value', type: FieldType.string, values },
            ],
          }),
        ],
      })),
    );
  }
}

export type { FilterField };
