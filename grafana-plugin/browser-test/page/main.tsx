/**
 * The browser test page: provides the modules Grafana gives plugins, loads the plugin (the built
 * AMD dist/module.js, or its source when the page was built with `--env source`), points Grafana's
 * services at the page server (whose data proxy path forwards to a live exporter) and renders App.
 */
import './boot.js';
import * as React from 'react';
import * as ReactDOM from 'react-dom';
import * as ReactDOMClient from 'react-dom/client';
import * as jsxRuntime from 'react/jsx-runtime';
import * as emotionCss from '@emotion/css';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaSchema from '@grafana/schema';
import * as grafanaUi from '@grafana/ui';
import * as rxjs from 'rxjs';
import * as rxjsOperators from 'rxjs/operators';
import type { DataSourceJsonData, DataSourceSettings } from '@grafana/data';
import { installDefine, loadAmd, provide } from './amd.js';
import { App, type PluginUnderTest } from './App.js';
import { pageBackendSrv, pageTemplateSrv } from './services.js';

declare const __PLUGIN_FROM_SOURCE__: boolean;

export const DATASOURCE_UID = 'buildscope-browser-test';

const SHARED: Record<string, unknown> = {
  react: React,
  'react-dom': ReactDOM,
  'react-dom/client': ReactDOMClient,
  'react/jsx-runtime': jsxRuntime,
  '@emotion/css': emotionCss,
  '@grafana/data': grafanaData,
  '@grafana/runtime': grafanaRuntime,
  '@grafana/schema': grafanaSchema,
  '@grafana/ui': grafanaUi,
  rxjs,
  'rxjs/operators': rxjsOperators,
};

async function loadPlugin(): Promise<{ plugin: PluginUnderTest; from: string }> {
  if (__PLUGIN_FROM_SOURCE__) {
    const mod = (await import('buildscope-plugin-source')) as { plugin: PluginUnderTest };
    return { plugin: mod.plugin, from: 'source' };
  }
  for (const [name, value] of Object.entries(SHARED)) provide(name, value);
  installDefine();
  const mod = (await loadAmd('/plugin/module.js')) as { plugin?: PluginUnderTest };
  if (!mod.plugin) throw new Error('dist/module.js exports no `plugin`');
  return { plugin: mod.plugin, from: 'dist/module.js' };
}

function settings(pluginId: string): DataSourceSettings {
  return {
    id: 1,
    uid: DATASOURCE_UID,
    orgId: 1,
    name: 'buildscope (browser test)',
    type: pluginId,
    typeName: 'buildscope',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: { url: 'http://exporter:10870' } as DataSourceJsonData,
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
  };
}

async function main(): Promise<void> {
  const status = document.getElementById('status')!;
  grafanaRuntime.setBackendSrv(pageBackendSrv());
  grafanaRuntime.setTemplateSrv(pageTemplateSrv({ source: 'demo-girar' }));
  const { plugin, from } = await loadPlugin();
  const pluginId = (plugin as { meta?: { id?: string } }).meta?.id || 'buildscope-datasource';
  const instanceSettings = {
    id: 1,
    uid: DATASOURCE_UID,
    type: pluginId,
    name: 'buildscope (browser test)',
    // Grafana's data proxy path for this datasource; the page server forwards /api/ and /-/ under it to the exporter.
    url: `${location.origin}/api/datasources/proxy/uid/${DATASOURCE_UID}`,
    access: 'proxy',
    readOnly: false,
    jsonData: { url: 'http://exporter:10870' },
    meta: { id: pluginId, name: 'buildscope', type: 'datasource', module: '/plugin/module.js', baseUrl: '/plugin', info: { logos: {} } },
  };
  const datasource = new plugin.DataSourceClass(instanceSettings);
  status.textContent = `plugin loaded from ${from}`;
  status.dataset.state = 'ready';
  const theme = grafanaData.createTheme({ colors: { mode: 'dark' } });
  ReactDOMClient.createRoot(document.getElementById('root')!).render(
    <grafanaData.ThemeContext.Provider value={theme}>
      <grafanaUi.GlobalStyles />
      <App plugin={plugin} datasource={datasource} settings={settings(pluginId)} />
    </grafanaData.ThemeContext.Provider>,
  );
}

main().catch((e: unknown) => {
  const status = document.getElementById('status')!;
  status.textContent = `failed: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`;
  status.dataset.state = 'failed';
  console.error(e);
});
