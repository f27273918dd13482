/**
 * The plugin's entry point (webpack bundles it into dist/module.js, an AMD module Grafana loads):
 * the datasource class with its config, query and variable editors.
 */
import { DataSourcePlugin, type DataSourceInstanceSettings } from '@grafana/data';
import { ConfigEditor } from './components/ConfigEditor.js';
import { QueryEditor } from './components/QueryEditor.js';
import { VariableQueryEditor } from './components/VariableQueryEditor.js';
import { DataSource } from './datasource.js';
import type { BuildscopeOptions, BuildscopeQuery, BuildscopeSecureOptions } from './types.js';

/** The datasource with the variable editor wired in (datasource.ts stays free of React components). */
export class BuildscopeDataSource extends DataSource {
  constructor(instanceSettings: DataSourceInstanceSettings<BuildscopeOptions>) {
    super(instanceSettings, VariableQueryEditor);
  }
}

export const plugin = new DataSourcePlugin<DataSource, BuildscopeQuery, BuildscopeOptions, BuildscopeSecureOptions>(BuildscopeDataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
