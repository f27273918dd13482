/**
 * Links between the generated dashboards: every `/d/<uid>` a dashboard links to (top-bar links,
 * panel links, data links) opens a dashboard buildscope ships, and the Overview's per-kind links
 * reach a dashboard for every kind the exporter knows (the Sources table's data link builds the
 * uid from the row's `kind`).
 */
import { describe, expect, it } from 'vitest';
import { registry } from '../../exporter/src/sources/registry.js';
import { DASHBOARDS } from '../src/dashboards/index.js';
import { KIND_DASHBOARDS } from '../src/dashboards/overview.js';
import { DASHBOARD_DIR, renderOutputs } from '../src/outputs.js';

const KIND_FIELD = '${__data.fields.kind}';

const dashboards = [...renderOutputs()]
  .filter(([path]) => path.startsWith(`${DASHBOARD_DIR}/`))
  .map(([path, content]) => ({ file: path.slice(DASHBOARD_DIR.length + 1), json: JSON.parse(content) as unknown }));
const uids = new Set(DASHBOARDS.map((d) => d.uid));
const kinds = Object.keys(registry);

/** Every `url` string anywhere in a dashboard's JSON. */
function urls(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) urls(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'url' && typeof v === 'string') out.push(v);
      else urls(v, out);
    }
  }
  return out;
}

/** The dashboard uids a `/d/...` url can open, with the row's kind substituted for each known kind. */
function targetUids(url: string): string[] {
  const path = /^\/d\/([^/?#]+)/.exec(url)?.[1];
  if (path === undefined) return [];
  return path.includes(KIND_FIELD) ? kinds.map((k) => path.split(KIND_FIELD).join(k)) : [path];
}

describe('dashboard links', () => {
  it('the dashboards link to each other', () => {
    expect(dashboards.flatMap(({ json }) => urls(json)).filter((u) => u.startsWith('/d/')).length).toBeGreaterThan(0);
  });

  it.each(dashboards.map((d) => [d.file, d.json] as const))('%s links only to shipped dashboards', (_file, json) => {
    const broken = urls(json).flatMap((u) => targetUids(u).filter((uid) => !uids.has(uid)).map((uid) => `${u} -> ${uid}`));
    expect(broken, `links to dashboards that are not generated (${[...uids].join(', ')})`).toEqual([]);
  });

  it('the Overview links a dashboard for every kind the exporter knows', () => {
    expect(KIND_DASHBOARDS.map((k) => k.kind).sort()).toEqual([...kinds].sort());
    for (const { kind } of KIND_DASHBOARDS) expect(uids.has(`buildscope-${kind}`), kind).toBe(true);
  });
});
