/**
 * src/plugin.json against the rules Grafana's plugin.json schema and plugin loader apply (checked
 * here, no schema download), and its data proxy routes against Grafana's route matching.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ID_PATTERN, isSemverRange, pluginJsonProblems, readPluginJson, type PluginJson } from './plugin-json-rules.js';

const PLUGIN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(PLUGIN_DIR, 'src');

/**
 * Where Grafana's data proxy sends `/api/datasources/proxy/uid/<uid>/<proxyPath>`: the first route
 * whose path is a prefix of proxyPath (pkg/api/pluginproxy: `strings.HasPrefix`), its url template
 * filled from jsonData / secureJsonData, plus proxyPath without the route's path (`TrimPrefix`),
 * and the route's headers.
 */
function proxy(p: PluginJson, proxyPath: string, jsonData: Record<string, string>, secure: Record<string, string>) {
  const route = (p.routes ?? []).find((r) => proxyPath.startsWith(r.path));
  if (!route) return undefined;
  const fill = (t: string) => t.replace(/\{\{\s*\.JsonData\.(\w+)\s*\}\}/g, (_m, k: string) => jsonData[k] ?? '').replace(/\{\{\s*\.SecureJsonData\.(\w+)\s*\}\}/g, (_m, k: string) => secure[k] ?? '');
  const base = new URL(fill(route.url));
  const rest = proxyPath.slice(route.path.length);
  const path = `${base.pathname.replace(/\/$/, '')}/${rest.replace(/^\//, '')}`.replace(/\/$/, rest === '' ? '' : '/');
  return { url: `${base.origin}${path}`, headers: Object.fromEntries((route.headers ?? []).map((h) => [h.name, fill(h.content)])) };
}

describe('src/plugin.json', () => {
  const p = readPluginJson(SRC);

  it('passes Grafana’s plugin.json rules', () => {
    expect(pluginJsonProblems(p, SRC, false)).toEqual([]);
    expect(p).toMatchObject({ id: 'buildscope-buildfarm-datasource', type: 'datasource', metrics: true, annotations: true, streaming: true, backend: false });
    expect(p.dependencies.grafanaDependency).toBe('>=11.0.0');
    expect(p.info.author?.name).toBeTruthy();
    expect(p.info.description).toBeTruthy();
    expect(p.info.keywords?.length).toBeGreaterThan(0);
  });

  it('the checks catch what Grafana refuses', () => {
    const bad = { ...p, id: 'Buildscope_datasource', type: 'widget', name: '', info: { ...p.info, logos: { small: 'img/none.svg', large: '' }, version: '' }, dependencies: { grafanaDependency: 'eleven' } };
    expect(pluginJsonProblems(bad as PluginJson, SRC, false)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^type must be/),
        'name is required',
        expect.stringMatching(/^id must match/),
        expect.stringMatching(/^info\.logos\.small \(img\/none\.svg\) does not exist/),
        'info.logos.large is required',
        'info.version is required',
        expect.stringMatching(/^dependencies\.grafanaDependency must be a semver range/),
      ]),
    );
    for (const ok of ['>=11.0.0', '^11.0.0', '>=11.0.0 <14', '>= 11.0.0', '11.x || >=12.1.0-pre', '10.4.0 - 12.0.0', '*']) expect(isSemverRange(ok), ok).toBe(true);
    for (const no of ['', 'eleven', '>=11.0.0 <', '=>11', '11.0.0.0']) expect(isSemverRange(no), no).toBe(false);
    for (const id of ['grafana-piechart-panel', 'buildscope-buildfarm-datasource', 'acme-app']) expect(ID_PATTERN.test(id), id).toBe(true);
    for (const id of ['buildscope-datasource-panel-x', 'BuildScope-datasource', 'buildscope_datasource', 'a-b-c-datasource']) expect(ID_PATTERN.test(id), id).toBe(false);
  });

  it('routes the exporter’s /api/v1/* and /-/ready through the data proxy, with the bearer token', () => {
    const json = { url: 'http://exporter:10870' };
    const secure = { token: 's3cret' };
    for (const path of ['api/v1/tasks?state=ALL', 'api/v1/tasks/alt/411523', 'api/v1/events', 'api/v1/sources', 'api/v1/values/repo']) {
      expect(proxy(p, path, json, secure)?.url).toBe(`http://exporter:10870/${path}`);
    }
    expect(proxy(p, '-/ready', json, secure)).toEqual({ url: 'http://exporter:10870/-/ready', headers: { Authorization: 'Bearer s3cret' } });
    expect(proxy(p, 'api/v1/tasks', json, secure)?.headers).toEqual({ Authorization: 'Bearer s3cret' });
    // An exporter behind a reverse proxy under a path prefix.
    expect(proxy(p, 'api/v1/jobs', { url: 'https://ci.example.org/buildscope' }, {})?.url).toBe('https://ci.example.org/buildscope/api/v1/jobs');
    // Nothing else of the exporter (/metrics, /compat) is reachable through the datasource.
    expect(proxy(p, 'metrics', json, secure)).toBeUndefined();
    expect(proxy(p, 'compat/taskoteka/alt/tasks', json, secure)).toBeUndefined();
  });
});
