/**
 * The build output (grafana-plugin/dist, made by `npm run build`): the files Grafana loads, a
 * plugin.json with version and date filled in, and a module.js that is an AMD module asking only
 * for what Grafana provides, whose plugin works when handed those modules (as Grafana's loader
 * does): the datasource runs "Save & test" over HTTP and the config editor renders with React.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import * as React from 'react';
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import * as rxjs from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { installHttpBackendSrv, sendJson, startServer } from './helpers.js';
import { pluginJsonProblems, readPluginJson } from './plugin-json-rules.js';

const PLUGIN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(PLUGIN_DIR, 'dist');
const pkg = JSON.parse(readFileSync(join(PLUGIN_DIR, 'package.json'), 'utf8')) as { version: string };

/** What Grafana's plugin loader provides to plugins (create-plugin's externals that the bundle may ask for). */
const PROVIDED: Record<string, unknown> = {
  '@grafana/data': grafanaData,
  '@grafana/runtime': grafanaRuntime,
  '@grafana/ui': grafanaUi,
  react: React,
  rxjs,
};

interface Loaded {
  deps: string[];
  exports: Record<string, unknown>;
}

/** Run dist/module.js with an AMD `define` as Grafana's SystemJS does, handing it PROVIDED. */
function loadAmd(code: string): Loaded {
  let deps: string[] = [];
  let exports: Record<string, unknown> | undefined;
  const define = (d: string[], factory: (...mods: unknown[]) => Record<string, unknown>) => {
    deps = d;
    exports = factory(...d.map((name) => PROVIDED[name]));
  };
  (define as unknown as { amd: object }).amd = {};
  new Function('define', code)(define);
  if (!exports) throw new Error('dist/module.js did not call define()');
  return { deps, exports };
}

/** Render with react-dom into jsdom, let `check` look at the DOM, and return the text shown. */
async function renderText(element: React.ReactElement, check?: (container: HTMLElement) => void): Promise<string> {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
  try {
    await act(async () => root.render(element));
    check?.(container);
    return container.textContent ?? '';
  } finally {
    await act(async () => root.unmount());
    container.remove();
  }
}

describe.runIf(existsSync(join(DIST, 'module.js')) || process.env.CI)('dist/ (npm run build)', () => {
  let loaded: Loaded;

  beforeAll(() => {
    if (!existsSync(join(DIST, 'module.js'))) throw new Error('grafana-plugin/dist/module.js is missing: run `npm run build` first');
    loaded = loadAmd(readFileSync(join(DIST, 'module.js'), 'utf8'));
  });

  it('holds module.js, plugin.json, the logo, README.md and CHANGELOG.md', () => {
    for (const file of ['module.js', 'plugin.json', 'img/logo.svg', 'README.md', 'CHANGELOG.md']) expect(existsSync(join(DIST, file)), file).toBe(true);
    expect(readFileSync(join(DIST, 'README.md'), 'utf8')).toBe(readFileSync(join(PLUGIN_DIR, 'README.md'), 'utf8'));
    expect(readFileSync(join(DIST, 'CHANGELOG.md'), 'utf8')).toBe(readFileSync(join(PLUGIN_DIR, 'CHANGELOG.md'), 'utf8'));
    expect(readFileSync(join(DIST, 'img/logo.svg'), 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('plugin.json: the source’s, with the package version and the build date', () => {
    const built = readPluginJson(DIST);
    const source = readPluginJson(join(PLUGIN_DIR, 'src'));
    expect(pluginJsonProblems(built, DIST, true)).toEqual([]);
    expect(built.info.version).toBe(pkg.version);
    expect(Math.abs(Date.parse(built.info.updated) - Date.now())).toBeLessThan(45 * 86_400_000);
    expect({ ...built, info: { ...built.info, version: '%VERSION%', updated: '%TODAY%' } }).toEqual(source);
  });

  it('module.js is an AMD module that asks only for what Grafana provides', () => {
    expect(loaded.deps.length).toBeGreaterThan(0);
    for (const dep of loaded.deps) expect(Object.keys(PROVIDED), dep).toContain(dep);
    const code = readFileSync(join(DIST, 'module.js'), 'utf8');
    // Bundled copies of what must be external would show their internals.
    expect(code).not.toMatch(/__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED|react\.production\.min|createStyles2?\(\) \{/);
  });

  it('exports the datasource plugin: its class runs "Save & test" over HTTP, its editors are wired', async () => {
    const plugin = loaded.exports.plugin as grafanaData.DataSourcePlugin<grafanaData.DataSourceApi>;
    expect(plugin).toBeInstanceOf(grafanaData.DataSourcePlugin);
    expect(plugin.components.ConfigEditor).toBeTypeOf('function');
    expect(plugin.components.QueryEditor).toBeTypeOf('function');
    const server = await startServer((req, res) => {
      if (req.url === '/-/ready') return sendJson(res, 200, { status: 'ready' });
      return sendJson(res, 200, { sources: [{ name: 'alt', kind: 'girar', up: true, last_error: null }] });
    });
    try {
      installHttpBackendSrv();
      const ds = new plugin.DataSourceClass({ id: 1, uid: 'u', type: 'buildscope-buildfarm-datasource', name: 'b', url: server.url, jsonData: { url: server.url }, meta: {} } as never);
      expect(ds.annotations?.processEvents).toBeTypeOf('function');
      await expect(ds.testDatasource()).resolves.toMatchObject({ status: 'success', message: `Connected to the exporter at ${server.url}: 1 source up (alt).` });
      // The variable editor is the real one (module.ts wires it into the class Grafana gets).
      const editor = (ds.variables as unknown as { editor: React.ComponentType<Record<string, unknown>> }).editor;
      const text = await renderText(React.createElement(editor, { query: { refId: 'v', field: 'repo' }, datasource: ds, onChange: () => {}, onRunQuery: () => {} }));
      expect(text).toMatch(/Values of/);
    } finally {
      await server.close();
    }
  });

  it('the bundled config editor renders with the host’s React (JSX through createElement)', async () => {
    const plugin = loaded.exports.plugin as grafanaData.DataSourcePlugin<grafanaData.DataSourceApi>;
    const options = { jsonData: { url: 'http://exporter:10870' }, secureJsonFields: {}, secureJsonData: {} };
    const text = await renderText(React.createElement(plugin.components.ConfigEditor!, { options, onOptionsChange: () => {} } as never), (c) => {
      expect((c.querySelector('#buildscope-config-url') as HTMLInputElement | null)?.value).toBe('http://exporter:10870');
    });
    expect(text).toMatch(/Exporter URL/);
  });
});
