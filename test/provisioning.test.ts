/**
 * The provisioning files (provisioning/): they parse, have what Grafana, Prometheus and
 * Alertmanager need, agree with the uids the dashboards and alert rules use, and pass the
 * upstream checkers (promtool check config, amtool check-config).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUILDSCOPE_PLUGIN_ID, BUILDSCOPE_UID, BUILDSCOPE_VAR, PROMETHEUS_UID, PROMETHEUS_VAR } from '../dashboards/src/datasources.js';
import { requireTool } from './support/tools.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const P = (path: string) => join(ROOT, path);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

function isObj(v: Json | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function yamlFile(path: string): Obj {
  const doc = parse(readFileSync(P(path), 'utf8')) as Json;
  if (!isObj(doc)) throw new Error(`${path}: not a YAML mapping`);
  return doc;
}

/**
 * A tiny structural schema: each key's expected type; `?` suffix = optional. Unknown keys are
 * reported too (a typo such as `allowUIUpdates` is silently ignored by Grafana).
 */
type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array';
function checkShape(where: string, value: Json | undefined, shape: Record<string, Kind>): string[] {
  if (!isObj(value)) return [`${where}: expected a mapping`];
  const problems: string[] = [];
  const known = new Set<string>();
  for (const [rawKey, kind] of Object.entries(shape)) {
    const optional = rawKey.endsWith('?');
    const key = optional ? rawKey.slice(0, -1) : rawKey;
    known.add(key);
    const v = value[key];
    if (v === undefined) {
      if (!optional) problems.push(`${where}.${key}: missing`);
      continue;
    }
    const actual = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
    if (actual !== kind) problems.push(`${where}.${key}: expected ${kind}, got ${actual}`);
  }
  for (const key of Object.keys(value)) if (!known.has(key)) problems.push(`${where}.${key}: not a field Grafana reads here`);
  return problems;
}

const DATASOURCES = 'provisioning/grafana/datasources/buildscope.yaml';
const DASHBOARD_PROVIDER = 'provisioning/grafana/dashboards/buildscope.yaml';
const NOTIFICATIONS_EXAMPLE = 'provisioning/grafana/alerting/notifications.yaml.example';
const PROMETHEUS = 'provisioning/prometheus/prometheus.yml';
const ALERTMANAGER = 'provisioning/alertmanager/alertmanager.yml';
const GENERATED = 'dashboards/generated';

describe('Grafana datasources (provisioning/grafana/datasources)', () => {
  const file = yamlFile(DATASOURCES);
  const list = Array.isArray(file.datasources) ? file.datasources.filter(isObj) : [];
  const byUid = new Map(list.map((d) => [d.uid, d]));

  it('has the provisioning file shape Grafana reads (apiVersion 1, datasources with name/type/access/uid)', () => {
    expect(file.apiVersion).toBe(1);
    const problems = checkShape('file', file, { 'apiVersion': 'number', 'datasources': 'array', 'deleteDatasources?': 'array', 'prune?': 'boolean' });
    list.forEach((d, i) =>
      problems.push(
        ...checkShape(`datasources[${i}]`, d, {
          'name': 'string',
          'type': 'string',
          'access': 'string',
          'uid': 'string',
          'orgId?': 'number',
          'url?': 'string',
          'isDefault?': 'boolean',
          'editable?': 'boolean',
          'version?': 'number',
          'jsonData?': 'object',
          'secureJsonData?': 'object',
          'basicAuth?': 'boolean',
          'basicAuthUser?': 'string',
          'withCredentials?': 'boolean',
        }),
      ),
    );
    expect(problems).toEqual([]);
    expect(list.length).toBe((file.datasources as Json[]).length);
    for (const d of list) expect(['proxy', 'direct'], `${String(d.name)}.access`).toContain(d.access);
    // Names and uids are what Grafana keys datasources on.
    expect(new Set(list.map((d) => d.name)).size).toBe(list.length);
    expect(byUid.size).toBe(list.length);
  });

  it('provides the Prometheus datasource under the uid the dashboards and alert rules use', () => {
    const prom = byUid.get(PROMETHEUS_UID);
    expect(prom, `no datasource with uid ${PROMETHEUS_UID}`).toBeDefined();
    expect(prom?.type).toBe('prometheus');
    expect(prom?.access).toBe('proxy');
    expect(prom?.url).toBe('${PROMETHEUS_URL}');
  });

  it("provides the plugin datasource under its uid, with the fields the plugin's routes read", () => {
    const ds = byUid.get(BUILDSCOPE_UID);
    expect(ds, `no datasource with uid ${BUILDSCOPE_UID}`).toBeDefined();
    expect(ds?.type).toBe(BUILDSCOPE_PLUGIN_ID);
    expect(ds?.access).toBe('proxy');
    const pluginJson = JSON.parse(readFileSync(P('grafana-plugin/src/plugin.json'), 'utf8')) as { id: string; routes: { url: string; headers?: { content: string }[] }[] };
    expect(pluginJson.id).toBe(BUILDSCOPE_PLUGIN_ID);
    // Every {{ .JsonData.x }} / {{ .SecureJsonData.y }} the routes use is provisioned.
    const routeText = JSON.stringify(pluginJson.routes);
    const jsonKeys = [...routeText.matchAll(/\.JsonData\.(\w+)/g)].map((m) => m[1]);
    const secureKeys = [...routeText.matchAll(/\.SecureJsonData\.(\w+)/g)].map((m) => m[1]);
    expect(jsonKeys.length).toBeGreaterThan(0);
    const jsonData = isObj(ds?.jsonData) ? ds.jsonData : {};
    const secure = isObj(ds?.secureJsonData) ? ds.secureJsonData : {};
    for (const key of jsonKeys) expect(jsonData, `jsonData.${key}`).toHaveProperty(key as string);
    for (const key of secureKeys) expect(secure, `secureJsonData.${key}`).toHaveProperty(key as string);
    expect(jsonData.url).toBe('${BUILDSCOPE_EXPORTER_URL}');
    expect(secure.token).toBe('${BUILDSCOPE_TOKEN}');
    // The base URL without /api: the routes append it.
    expect(String(jsonData.url)).not.toMatch(/\/api\/?$/);
  });

  it('uses only environment variables the README documents', () => {
    const text = readFileSync(P(DATASOURCES), 'utf8');
    const readme = readFileSync(P('provisioning/README.md'), 'utf8');
    const vars = new Set([...text.replace(/^\s*#.*$/gm, '').matchAll(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g)].map((m) => m[1] as string));
    expect([...vars].sort()).toEqual(['BUILDSCOPE_EXPORTER_URL', 'BUILDSCOPE_TOKEN', 'PROMETHEUS_URL']);
    for (const v of vars) expect(readme, `provisioning/README.md documents ${v}`).toContain(v);
  });
});

describe('Grafana dashboard provider (provisioning/grafana/dashboards)', () => {
  const file = yamlFile(DASHBOARD_PROVIDER);

  it('has the provider shape Grafana reads: a file provider into the "Build farms" folder, read-only in the UI', () => {
    expect(file.apiVersion).toBe(1);
    const providers = Array.isArray(file.providers) ? file.providers : [];
    expect(providers).toHaveLength(1);
    const problems = checkShape('file', file, { apiVersion: 'number', providers: 'array' });
    const p = providers[0];
    problems.push(
      ...checkShape('providers[0]', p, {
        'name': 'string',
        'orgId?': 'number',
        'type': 'string',
        'folder?': 'string',
        'folderUid?': 'string',
        'disableDeletion?': 'boolean',
        'updateIntervalSeconds?': 'number',
        'allowUiUpdates?': 'boolean',
        'options': 'object',
      }),
    );
    if (isObj(p)) problems.push(...checkShape('providers[0].options', p.options, { 'path': 'string', 'foldersFromFilesStructure?': 'boolean' }));
    expect(problems).toEqual([]);
    if (!isObj(p) || !isObj(p.options)) throw new Error('no provider');
    expect(p.type).toBe('file');
    expect(p.folder).toBe('Build farms');
    expect(p.allowUiUpdates).toBe(false);
    expect(p.options.foldersFromFilesStructure).toBe(false);
    expect(String(p.options.path)).toMatch(/^\//);
    // Grafana requires folder uids of at most 40 characters of [a-zA-Z0-9-_].
    expect(String(p.folderUid)).toMatch(/^[\w-]{1,40}$/);
  });
});

describe('Grafana notification example (provisioning/grafana/alerting)', () => {
  it('is not loaded by Grafana (not *.yaml/*.yml/*.json) and parses to contact points and a policy tree', () => {
    expect(NOTIFICATIONS_EXAMPLE).not.toMatch(/\.(ya?ml|json)$/);
    const file = yamlFile(NOTIFICATIONS_EXAMPLE);
    expect(file.apiVersion).toBe(1);
    const contactPoints = Array.isArray(file.contactPoints) ? file.contactPoints.filter(isObj) : [];
    const names = new Set(contactPoints.map((c) => c.name));
    expect(names.size).toBeGreaterThan(0);
    for (const cp of contactPoints) {
      const receivers = Array.isArray(cp.receivers) ? cp.receivers.filter(isObj) : [];
      expect(receivers.length).toBeGreaterThan(0);
      for (const r of receivers) {
        expect(String(r.uid)).toMatch(/^[\w-]{1,40}$/);
        expect(typeof r.type).toBe('string');
        expect(isObj(r.settings)).toBe(true);
      }
    }
    // Every receiver a policy names is one of the contact points.
    const policies = Array.isArray(file.policies) ? file.policies.filter(isObj) : [];
    expect(policies).toHaveLength(1);
    const used: Json[] = [];
    const walk = (p: Obj) => {
      used.push(p.receiver ?? null);
      for (const r of Array.isArray(p.routes) ? p.routes.filter(isObj) : []) walk(r);
    };
    policies.forEach(walk);
    for (const r of used) if (r !== null) expect(names, `receiver ${String(r)}`).toContain(r);
    expect(policies[0]?.receiver).not.toBeNull();
  });

  it('leaves every other file in the directory loadable by Grafana', () => {
    for (const name of readdirSync(P('provisioning/grafana/alerting'))) {
      if (/\.(ya?ml|json)$/.test(name)) expect(() => yamlFile(`provisioning/grafana/alerting/${name}`)).not.toThrow();
      else expect(name, 'a file Grafana skips (with a warning) must be an example').toMatch(/\.example$/);
    }
  });
});

describe('dashboards reference only provisioned datasources', () => {
  const files = existsSync(P(GENERATED)) ? readdirSync(P(GENERATED)).filter((n) => n.endsWith('.json')) : [];
  const variables = new Map([
    [PROMETHEUS_VAR, { uid: PROMETHEUS_UID, type: 'prometheus' }],
    [BUILDSCOPE_VAR, { uid: BUILDSCOPE_UID, type: BUILDSCOPE_PLUGIN_ID }],
  ]);
  const provisioned = new Map(
    (yamlFile(DATASOURCES).datasources as Json[]).filter(isObj).map((d) => [String(d.uid), String(d.type)]),
  );
  // Grafana's built-in pseudo datasources.
  const builtin = new Set(['grafana', '-- Grafana --', '-- Mixed --', '-- Dashboard --', '__expr__']);

  /** Every `datasource` value anywhere in the dashboard, with its JSON path. */
  function refs(node: Json, path: string, out: { path: string; ref: Json }[]): void {
    if (Array.isArray(node)) node.forEach((v, i) => refs(v, `${path}[${i}]`, out));
    else if (isObj(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'datasource') out.push({ path: `${path}.${k}`, ref: v });
        refs(v, `${path}.${k}`, out);
      }
    }
  }

  it('dashboards/generated holds the generated dashboards', () => {
    expect(files.length, `dashboards in ${GENERATED}`).toBeGreaterThan(0);
  });

  it.each(files)('%s', (name) => {
    const dashboard = JSON.parse(readFileSync(P(`${GENERATED}/${name}`), 'utf8')) as Json;
    if (!isObj(dashboard)) throw new Error('not a JSON object');
    const problems: string[] = [];
    // The datasource variables default to the provisioned uids and are of the right type.
    const templating = isObj(dashboard.templating) && Array.isArray(dashboard.templating.list) ? dashboard.templating.list.filter(isObj) : [];
    const declared = new Set<string>();
    for (const v of templating) {
      if (v.type !== 'datasource') continue;
      const want = variables.get(String(v.name));
      if (!want) {
        problems.push(`variable ${String(v.name)}: a datasource variable the provisioning does not know`);
        continue;
      }
      declared.add(String(v.name));
      if (v.query !== want.type) problems.push(`variable ${String(v.name)}: lists ${String(v.query)}, expected ${want.type}`);
      const current = isObj(v.current) ? v.current.value : undefined;
      if (current !== want.uid) problems.push(`variable ${String(v.name)}: defaults to ${JSON.stringify(current)}, expected ${want.uid}`);
      if (provisioned.get(want.uid) !== want.type) problems.push(`variable ${String(v.name)}: ${want.uid} is not provisioned as ${want.type}`);
    }
    const found: { path: string; ref: Json }[] = [];
    refs(dashboard, '$', found);
    for (const { path, ref } of found) {
      if (isObj(ref)) {
        const uid = String(ref.uid ?? '');
        const type = ref.type === undefined ? undefined : String(ref.type);
        const variable = /^\$\{(\w+)\}$|^\$(\w+)$/.exec(uid);
        if (variable) {
          const vname = variable[1] ?? variable[2] ?? '';
          const want = variables.get(vname);
          if (!want || !declared.has(vname)) problems.push(`${path}: uses $${vname}, which the dashboard does not declare as a datasource variable`);
          else if (type !== undefined && type !== want.type) problems.push(`${path}: type ${type} on $${vname} (${want.type})`);
        } else if (provisioned.has(uid)) {
          if (type !== undefined && type !== provisioned.get(uid)) problems.push(`${path}: type ${type}, provisioned ${uid} is ${provisioned.get(uid)}`);
        } else if (!builtin.has(uid) && !(type && builtin.has(type))) problems.push(`${path}: uid ${JSON.stringify(uid)} is not provisioned`);
      } else if (typeof ref === 'string') {
        // Legacy string refs are datasource names: only the variables are portable.
        if (!/^\$\{?\w+\}?$/.test(ref) && !builtin.has(ref)) problems.push(`${path}: datasource by name ${JSON.stringify(ref)}`);
      } else if (ref !== null) problems.push(`${path}: unexpected datasource value ${JSON.stringify(ref)}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('Prometheus and Alertmanager configs', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('prometheus.yml scrapes the exporter, loads rules/*.yml and sends to Alertmanager', () => {
    const config = yamlFile(PROMETHEUS);
    expect(config.rule_files).toEqual(['rules/*.yml']);
    const jobs = Array.isArray(config.scrape_configs) ? config.scrape_configs.filter(isObj) : [];
    const job = jobs.find((j) => j.job_name === 'buildscope');
    expect(job?.scrape_interval).toBe('15s');
    expect(JSON.stringify(job?.static_configs)).toContain('127.0.0.1:10870');
    expect(JSON.stringify(config.alerting)).toContain('127.0.0.1:9093');
    // The datasource's timeInterval matches the scrape interval ($__rate_interval's floor).
    const prom = (yamlFile(DATASOURCES).datasources as Json[]).filter(isObj).find((d) => d.uid === PROMETHEUS_UID);
    expect(isObj(prom?.jsonData) ? prom.jsonData.timeInterval : undefined).toBe(job?.scrape_interval);
  });

  it('promtool check config passes on a copy with the rule files (which it checks too)', (ctx) => {
    const promtool = requireTool('promtool', 'prometheus');
    if (!promtool) return ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), 'buildscope-provisioning-'));
    dirs.push(dir);
    cpSync(P(PROMETHEUS), join(dir, 'prometheus.yml'));
    const rules = P('provisioning/prometheus/rules');
    const ruleFiles = existsSync(rules) ? readdirSync(rules).filter((n) => n.endsWith('.yml')) : [];
    cpSync(rules, join(dir, 'rules'), { recursive: true });
    if (ruleFiles.length === 0) writeFileSync(join(dir, 'rules/empty.yml'), 'groups: []\n');
    const out = execFileSync(promtool, ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/SUCCESS: .*prometheus\.yml is valid/);
    expect(out).toContain(`SUCCESS: ${Math.max(ruleFiles.length, 1)} rule files found`);
  });

  it('amtool check-config passes on alertmanager.yml', (ctx) => {
    const amtool = requireTool('amtool', 'prometheus-alertmanager');
    if (!amtool) return ctx.skip();
    const out = execFileSync(amtool, ['check-config', P(ALERTMANAGER)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toContain('SUCCESS');
  });

  it('alertmanager.yml routes every severity the rules use and inhibits on labels the rules set', () => {
    const am = yamlFile(ALERTMANAGER);
    const text = JSON.stringify(am);
    const rulesDir = P('provisioning/prometheus/rules');
    const ruleFiles = existsSync(rulesDir) ? readdirSync(rulesDir).filter((n) => n.endsWith('.yml')) : [];
    const alerts: Obj[] = [];
    for (const f of ruleFiles) {
      const doc = parse(readFileSync(join(rulesDir, f), 'utf8')) as Json;
      const groups = isObj(doc) && Array.isArray(doc.groups) ? doc.groups.filter(isObj) : [];
      for (const g of groups) for (const r of Array.isArray(g.rules) ? g.rules.filter(isObj) : []) if (typeof r.alert === 'string') alerts.push(r);
    }
    const severities = new Set(alerts.map((a) => (isObj(a.labels) ? String(a.labels.severity) : 'none')));
    for (const s of severities) expect(text, `a route for severity ${s}`).toContain(`severity=\\"${s}\\"`);
    // The source-down inhibition names alerts that exist.
    const names = new Set(alerts.map((a) => String(a.alert)));
    if (alerts.length > 0) {
      expect(names).toContain('BuildfarmSourceDown');
      expect(names).toContain('BuildfarmSourceStale');
    }
  });
});
