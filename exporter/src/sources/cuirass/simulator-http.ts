/**
 * The Cuirass simulator's HTTP answers (guix-cuirass src/cuirass/http.scm url-handler): Hydra-style
 * JSON without envelope in build->hydra-build / evaluation->json-object / specification->json-object
 * key order, HTTP 500 for missing or too large `nr`, 404 text/plain "Resource not found: <uri>",
 * gzip build logs, HTML status pages, and the injectable faults. Pure functions of the model.
 */
import { gzipSync } from 'node:zlib';
import { queueOrder, type CuirassModel, type SimBuild, type SimEvaluation, type SimSpec } from './simulator-model.js';

/** Fault modes (`setMode`): besides `down` and `slow` (sim-http.ts), 'huge' answers a ~24 MiB JSON array. */
export type CuirassMode = 'ok' | 'down' | 'html' | 'malformed' | 'error500' | 'slow' | 'huge';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Guile's sanitize-response adds the charset to a string body's type. */
const JSON_TYPE = 'application/json;charset=utf-8';
const TEXT_TYPE = 'text/plain;charset=utf-8';
const XHTML_TYPE = 'application/xhtml+xml;charset=utf-8';
const json = (status: number, value: unknown): Reply => ({ status, headers: { 'content-type': JSON_TYPE }, body: Buffer.from(JSON.stringify(value)) });
const text = (status: number, body: string): Reply => ({ status, headers: { 'content-type': TEXT_TYPE }, body: Buffer.from(body) });
const error = (status: number, message: string): Reply => json(status, { error: message });
const notFound = (uri: string): Reply => text(404, `Resource not found: ${uri}`);
const html = (title: string): Reply => ({
  status: 200, headers: { 'content-type': XHTML_TYPE },
  body: Buffer.from(`<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`),
});
/** Guile's web server answers an exception in the handler with a bare 500. */
const crash = (): Reply => ({ status: 500, headers: {}, body: Buffer.alloc(0) });

/** build->hydra-build, in its key order. */
export function buildJson(b: SimBuild): Record<string, unknown> {
  const finished = b.status >= 0;
  return {
    id: b.id, evaluation: b.evaluation, jobset: b.spec, job: b.job, timestamp: finished ? b.stoptime : b.timestamp,
    starttime: b.starttime, stoptime: b.stoptime, derivation: b.derivation,
    buildoutputs: Object.fromEntries(Object.entries(b.outputs).map(([name, path]) => [name, { path }])),
    system: b.system, nixname: b.nixname, buildstatus: b.status, weather: b.weather, busy: b.status === -1 ? 1 : 0,
    priority: b.priority, finished: finished ? 1 : 0, buildproducts: [],
  };
}

/** evaluation->json-object: the Evaluations row, then the checkouts as an array. */
export function evaluationJson(e: SimEvaluation): Record<string, unknown> {
  return { id: e.id, specification: e.spec, status: e.status, timestamp: e.timestamp, checkouttime: e.checkouttime, evaltime: e.evaltime, checkouts: e.checkouts.map((c) => ({ ...c })) };
}

/** specification->json-object. */
export function specificationJson(s: SimSpec): Record<string, unknown> {
  return {
    name: s.name, build: s.build, channels: s.channels.map((c) => ({ ...c })), 'build-outputs': [], notifications: [],
    period: s.period, priority: s.priority, systems: [...s.systems],
  };
}

/** request-parameters: split on & and =, no URL-decoding; a piece without exactly one = is dropped;
 * only id and nr become numbers (an unparsable one is #f, i.e. absent); the last duplicate wins. */
export function parseQuery(query: string): Map<string, string | number> {
  const out = new Map<string, string | number>();
  if (query === '') return out;
  for (const piece of query.split('&')) {
    const kv = piece.split('=');
    if (kv.length !== 2) continue;
    const [key, value] = kv as [string, string];
    if (key === 'id' || key === 'nr') {
      if (/^[+-]?\d+$/.test(value)) out.set(key, Number(value));
      else out.delete(key);
    } else out.set(key, value);
  }
  return out;
}

export function buildLog(b: SimBuild): string {
  const lines = [`Building ${b.derivation} on ${b.system}`, `starting phase \`set-SOURCE-DATE-EPOCH'`, `starting phase \`unpack'`, `starting phase \`build'`];
  if (b.status === 0) lines.push(`phase \`build' succeeded after ${Math.max(1, b.stoptime - b.starttime)} seconds`, `successfully built ${b.derivation}`);
  else if (b.status > 0) lines.push(`error: in phase 'build': uncaught exception`, `build of ${b.derivation} failed`);
  return `${lines.join('\n')}\n`;
}

/** Filters db-get-builds applies from the query string (plain equality on the column). */
const FILTERS: Record<string, (b: SimBuild) => string> = {
  jobset: (b) => b.spec, job: (b) => b.job, system: (b) => b.system, evaluation: (b) => String(b.evaluation),
  derivation: (b) => b.derivation, id: (b) => String(b.id),
};

function builds(model: CuirassModel, params: Map<string, string | number>, pending: boolean): Reply {
  const nr = params.get('nr');
  if (typeof nr !== 'number') return error(500, 'Parameter not defined');
  if (nr > 1000) return error(500, 'Maximum limit exceeded');
  const ev = params.get('evaluation');
  if (typeof ev === 'string' && !/^\d+$/.test(ev)) return crash();
  let list = model.builds.filter((b) => (pending ? b.status < 0 : b.status >= 0));
  for (const [key, get] of Object.entries(FILTERS)) {
    const want = params.get(key);
    if (want !== undefined) list = list.filter((b) => get(b) === String(want));
  }
  list.sort(pending ? queueOrder : (a, b) => b.evaluation - a.evaluation || b.id - a.id);
  return json(200, list.slice(0, Math.max(0, nr)).map(buildJson));
}

/** Route a GET (url-handler matches on the method: anything else is "not found"). `raw` is the request target. */
export function route(model: CuirassModel, method: string, raw: string): Reply {
  const q = raw.indexOf('?');
  const query = q < 0 ? '' : raw.slice(q + 1).split('#')[0] ?? '';
  let parts: string[];
  try {
    parts = (q < 0 ? raw : raw.slice(0, q)).split('/').filter((p) => p !== '').map(decodeURIComponent);
  } catch {
    return crash();
  }
  if (method !== 'GET') return notFound(raw);
  const params = parseQuery(query);
  const [a, b, c, d] = parts;
  const n = parts.length;
  if (n === 0) return html('Cuirass');
  if (a === 'specifications' || a === 'jobsets') return json(200, model.specs.map(specificationJson));
  if (a === 'build' && b !== undefined) {
    const build = /^\d+$/.test(b) ? model.build(Number(b)) : b.endsWith('.drv') ? model.builds.find((x) => x.derivation === `/gnu/store/${b}`) : undefined;
    if (n === 2) return build ? json(200, buildJson(build)) : error(404, `Build with ID ${b} doesn't exist.`);
    if (n === 3 && (c === 'details' || c === 'log')) return build ? html(`Build ${build.id}`) : error(404, `Build with ID ${b} doesn't exist.`);
    if (n === 4 && c === 'log' && d === 'raw') {
      if (!build || build.status < -1) return notFound(raw);
      return { status: 200, headers: { 'content-type': TEXT_TYPE, 'content-encoding': 'gzip', 'content-disposition': 'inline' }, body: gzipSync(buildLog(build)) };
    }
  }
  if (a === 'eval' && b !== undefined && n === 4 && c === 'log' && d === 'raw') {
    const ev = /^\d+$/.test(b) ? model.evaluation(Number(b)) : undefined;
    if (!ev) return notFound(raw);
    return { status: 200, headers: { 'content-type': TEXT_TYPE, 'content-encoding': 'gzip', 'content-disposition': 'inline' }, body: gzipSync(`Evaluating ${ev.spec}, evaluation ${ev.id}\n`) };
  }
  if (a === 'output' && n === 2) {
    const path = `/gnu/store/${b ?? ''}`;
    const build = model.builds.find((x) => Object.values(x.outputs).includes(path));
    if (!build) return error(404, `Output with ID ${b ?? ''} doesn't exist.`);
    const name = Object.entries(build.outputs).find(([, p]) => p === path)?.[0] ?? 'out';
    return json(200, { name, derivation: build.derivation, build: buildJson(build) });
  }
  if (a === 'api' && n === 2) {
    if (b === 'queue') return builds(model, params, true);
    if (b === 'latestbuilds') return builds(model, params, false);
    if (b === 'evaluation') {
      const id = params.get('id');
      if (typeof id !== 'number') return error(500, 'Parameter not defined!');
      const ev = model.evaluation(id);
      return ev ? json(200, evaluationJson(ev)) : crash();
    }
    if (b === 'evaluations') {
      const nr = params.get('nr');
      if (typeof nr !== 'number') return error(500, 'Parameter not defined!');
      const spec = params.get('spec');
      const list = model.evaluations.filter((e) => spec === undefined || e.spec === spec).sort((x, y) => y.id - x.id);
      return json(200, list.slice(0, Math.max(0, nr)).map(evaluationJson));
    }
    if (b === 'jobs') {
      const ev = params.get('evaluation');
      if (ev === undefined) return error(500, 'Parameter not defined!');
      const names = typeof params.get('names') === 'string' ? String(params.get('names')).split(',') : undefined;
      const system = params.get('system');
      const list = model.builds.filter((x) => String(x.evaluation) === String(ev) && (!names || names.includes(x.job)) && (system === undefined || x.system === system));
      return json(200, list.map((x) => ({ build: x.id, status: x.status, name: x.job })));
    }
  }
  if (n === 1 && (a === 'status' || a === 'workers' || a === 'metrics')) return html(a === 'status' ? 'Running builds' : a === 'workers' ? 'Workers status' : 'Global metrics');
  if (n === 2 && (a === 'jobset' || a === 'eval' || a === 'machine' || a === 'dashboard')) return html(b ?? '');
  return notFound(raw);
}

const NGINX_502 = '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>\n';
const HUGE_BYTES = 24 * 1024 * 1024;
let hugeBody: Buffer | undefined;

/** A valid JSON array of builds, far above a few MiB. */
function huge(): Buffer {
  if (!hugeBody) {
    const one = JSON.stringify({ id: 1, evaluation: 1, jobset: 'guix', job: 'hello.x86_64-linux', timestamp: 0, starttime: 0, stoptime: 0, derivation: `/gnu/store/${'0'.repeat(32)}-hello-2.12.1.drv`, buildoutputs: { out: { path: `/gnu/store/${'1'.repeat(32)}-hello-2.12.1` } }, system: 'x86_64-linux', nixname: 'hello-2.12.1', buildstatus: -2, weather: -1, busy: 0, priority: 9, finished: 0, buildproducts: [] });
    hugeBody = Buffer.from(`[${Array.from({ length: Math.ceil(HUGE_BYTES / (one.length + 1)) }, () => one).join(',')}]`);
  }
  return hugeBody;
}

/** The mode's distortion of a normal reply ('down' and 'slow' are done by the server). */
export function faulty(reply: Reply, mode: CuirassMode): Reply {
  switch (mode) {
    case 'html':
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: Buffer.from(NGINX_502) };
    case 'error500':
      return { status: 500, headers: {}, body: Buffer.alloc(0) };
    case 'malformed': {
      const full = reply.body.toString('latin1');
      return { status: reply.status, headers: reply.headers, body: Buffer.from(full.slice(0, Math.max(1, Math.floor(full.length / 2))), 'latin1') };
    }
    case 'huge':
      return { status: 200, headers: { 'content-type': JSON_TYPE }, body: huge() };
    default:
      return reply;
  }
}
