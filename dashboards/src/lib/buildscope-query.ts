/**
 * Targets for the buildscope plugin datasource, typed by the plugin's own query model, so a
 * dashboard cannot hold a query the plugin does not understand (checked again on the generated
 * JSON by dashboards/test/dashboards.test.ts through the plugin's `migrateQuery`, and run against
 * the demo exporter by grafana-plugin/test/exporter/dashboards.test.ts).
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { QUERY_VERSION, type BuildscopeQuery } from '../../../grafana-plugin/src/types.js';
import { buildscopeRef } from '../datasources.js';

/** A plugin query as a dashboard stores it (refId and datasource filled in here). */
export type BuildscopeTarget = BuildscopeQuery & cog.Dataquery;

/** Distributes Omit over the union, so each query type keeps its own fields. */
type WithoutBase<Q> = Q extends BuildscopeQuery ? Omit<Q, 'refId' | 'datasource' | 'version'> : never;
export type BuildscopeQuerySpec = WithoutBase<BuildscopeQuery>;

export class BuildscopeQueryBuilder implements cog.Builder<cog.Dataquery> {
  constructor(
    private readonly spec: BuildscopeQuerySpec,
    private readonly refId = 'A',
  ) {}

  build(): BuildscopeTarget {
    const query = { ...this.spec, refId: this.refId, datasource: buildscopeRef, version: QUERY_VERSION } as BuildscopeQuery;
    return Object.assign(query, { _implementsDataqueryVariant() {} });
  }
}

/** A plugin target: `buildscope({ queryType: 'tasks', state: ['FAILED'] })`. */
export function buildscope(spec: BuildscopeQuerySpec, refId = 'A'): BuildscopeQueryBuilder {
  return new BuildscopeQueryBuilder(spec, refId);
}
