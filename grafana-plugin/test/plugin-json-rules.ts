/**
 * The rules Grafana's plugin.json schema and plugin loader apply, as a check (no schema download):
 * used on src/plugin.json (plugin-json.test.ts) and on the built dist/plugin.json (build.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PluginJson {
  id: string;
  type: string;
  name: string;
  info: { author?: { name?: string; url?: string }; description?: string; keywords?: string[]; logos: { small: string; large: string }; links?: Array<{ name: string; url: string }>; version: string; updated: string };
  dependencies: { grafanaDependency: string; plugins?: unknown[] };
  routes?: Array<{ path: string; url: string; method?: string; headers?: Array<{ name: string; content: string }> }>;
  [key: string]: unknown;
}

export function readPluginJson(dir: string): PluginJson {
  return JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8')) as PluginJson;
}

/** Grafana's id rule (plugin.schema.json). */
export const ID_PATTERN = /^[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource)$/;

const VERSION = String.raw`v?(0|[1-9]\d*|x|X|\*)(\.(0|[1-9]\d*|x|X|\*)(\.(0|[1-9]\d*|x|X|\*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?)?)?`;
const COMPARATOR = new RegExp(`^(<=|>=|<|>|=|~|\\^)?${VERSION}$`);
const HYPHEN = new RegExp(`^${VERSION}\\s+-\\s+${VERSION}$`);

/** Whether `range` is a semver range (node-semver's grammar: `||`-separated sets of comparators or hyphen ranges). */
export function isSemverRange(range: string): boolean {
  if (!range.trim()) return false;
  return range.split('||').every((set) => {
    const s = set.trim().replace(/(<=|>=|<|>|=|~|\^)\s+/g, '$1');
    if (!s) return false;
    if (HYPHEN.test(s)) return true;
    return s.split(/\s+/).every((c) => COMPARATOR.test(c));
  });
}

/** Every problem Grafana would have with a plugin.json (empty = valid). `built`: placeholders must be filled. */
export function pluginJsonProblems(p: PluginJson, dir: string, built: boolean): string[] {
  const problems: string[] = [];
  const need = (ok: unknown, what: string) => {
    if (!ok) problems.push(what);
  };
  need(typeof p.type === 'string' && ['app', 'panel', 'datasource', 'renderer', 'secretsmanager'].includes(p.type), `type must be app, panel, datasource, renderer or secretsmanager (got ${String(p.type)})`);
  need(typeof p.name === 'string' && p.name.trim() !== '', 'name is required');
  need(typeof p.id === 'string' && ID_PATTERN.test(p.id), `id must match ${ID_PATTERN} (got ${String(p.id)})`);
  need(typeof p.id === 'string' && p.id.endsWith(`-${p.type}`), 'id must end with the type');
  const info = p.info ?? ({} as PluginJson['info']);
  need(typeof info === 'object', 'info is required');
  if (info.author !== undefined) need(typeof info.author.name === 'string' && info.author.name.trim() !== '', 'info.author.name must be a non-empty string');
  for (const size of ['small', 'large'] as const) {
    const logo = info.logos?.[size];
    need(typeof logo === 'string' && logo !== '', `info.logos.${size} is required`);
    if (typeof logo === 'string' && logo) need(existsSync(join(dir, logo)), `info.logos.${size} (${logo}) does not exist in ${dir}`);
  }
  need(typeof info.version === 'string' && info.version !== '', 'info.version is required');
  need(typeof info.updated === 'string' && info.updated !== '', 'info.updated is required');
  if (built) {
    need(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(info.version), `info.version must be a semver version (got ${info.version})`);
    need(/^\d{4}-\d{2}-\d{2}$/.test(info.updated) && !Number.isNaN(Date.parse(info.updated)), `info.updated must be YYYY-MM-DD (got ${info.updated})`);
  } else {
    need(info.version === '%VERSION%' && info.updated === '%TODAY%', 'the source plugin.json keeps %VERSION% and %TODAY% for the build to fill');
  }
  for (const link of info.links ?? []) need(typeof link.name === 'string' && /^https?:\/\//.test(link.url), `info.links entries need a name and an http(s) url (${JSON.stringify(link)})`);
  need(Array.isArray(info.keywords ?? []), 'info.keywords must be a list');
  need(typeof p.dependencies?.grafanaDependency === 'string' && isSemverRange(p.dependencies.grafanaDependency), `dependencies.grafanaDependency must be a semver range (got ${String(p.dependencies?.grafanaDependency)})`);
  for (const route of p.routes ?? []) {
    need(typeof route.path === 'string' && typeof route.url === 'string', `routes need a path and a url (${JSON.stringify(route)})`);
    for (const h of route.headers ?? []) need(typeof h.name === 'string' && typeof h.content === 'string', 'route headers need a name and a content');
  }
  return problems;
}
