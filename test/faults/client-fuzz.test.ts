/**
 * Client-side fuzz against the real exporter (demo farm): every route and query parameter that
 * /openapi.json lists gets random and hostile strings (huge, NUL, invalid UTF-8 percent-escapes,
 * unicode, odd numbers, repeated and array params, JSON, path traversal, CRLF), from a fixed seed.
 * Never a 5xx, never a crash, every error a JSON `{"error": "..."}`; malformed Last-Event-ID
 * values on the event stream are answered sensibly.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../exporter/src/sources/girar/prng.js';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startExporter, type ExporterProcess } from '../support/exporter-process.js';

const SEED = 20_260_316;
const REQUESTS = 2500;

const HOSTILE = [
  '',
  ' ',
  'x'.repeat(9000),
  '%00',
  'a%00b',
  '%ff%fe',
  '%C0%AF',
  '%ED%A0%80',
  '%',
  '%zz',
  '%%',
  '\u{1d54f}\u00e4\u4e2d\u202e',
  '-1',
  '-0',
  '0',
  '999999999999999999999999',
  '-999999999999999999999999',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '[]',
  '{"$gt":""}',
  '"},{"a":"',
  '../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f',
  '%0d%0aSet-Cookie:%20x=1',
  "' OR 1=1 --",
  '*',
  '?',
  '#',
  '&',
  '=',
  'true',
  'null',
  '2026-13-45T25:61:61Z',
  '9999-12-31T23:59:59Z',
  '0000-01-01',
  '<script>alert(1)</script>',
];

const ALPHABET = ['a', 'Z', '0', '-', '_', '.', '~', '%20', '%2F', '%00', '%FF', '+', ',', ';', ':', '@', '!', '%E2%82%AC', '\u00e9', '\u4e2d', '%25'];

interface Route {
  path: string;
  query: string[];
  pathParams: string[];
  enums: Map<string, string[]>;
}

let exporter: ExporterProcess;
let routes: Route[] = [];

beforeAll(async () => {
  exporter = await startExporter(['--demo']);
  // /-/ready answers 503 until every source polled once: that one is meant.
  await waitUntil(async () => (await fetch(`${exporter.url}/-/ready`)).ok, 30_000, { what: 'the demo farm ready' });
  const doc = (await (await fetch(`${exporter.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema?: { enum?: string[]; items?: { enum?: string[] } } }[] }>>;
  };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.values(ops).map((op) => {
      const params = op.parameters ?? [];
      const enums = new Map<string, string[]>();
      for (const p of params) {
        const values = p.schema?.enum ?? p.schema?.items?.enum;
        if (values) enums.set(p.name, values);
      }
      return { path, query: params.filter((p) => p.in === 'query').map((p) => p.name), pathParams: params.filter((p) => p.in === 'path').map((p) => p.name), enums };
    }),
  );
}, 90_000);

afterAll(async () => {
  await exporter?.stop();
});

function hostile(rng: Rng, route: Route, name: string): string {
  const r = rng.next();
  const enumValues = route.enums.get(name);
  if (r < 0.15 && enumValues) return encodeURIComponent(enumValues[rng.int(0, enumValues.length - 1)] ?? '');
  if (r < 0.25) return name === 'source' ? 'demo-girar' : name === 'id' ? String(rng.int(1, 500_000)) : 'demo-cuirass';
  if (r < 0.7) {
    const h = HOSTILE[rng.int(0, HOSTILE.length - 1)] ?? '';
    // Most are sent percent-encoded as a browser would; some as the raw escapes above.
    return rng.chance(0.5) ? h : encodeURIComponent(h);
  }
  let s = '';
  const n = rng.int(1, 40);
  for (let i = 0; i < n; i += 1) s += ALPHABET[rng.int(0, ALPHABET.length - 1)] ?? '';
  return s.replace(/[\u0080-\uffff]/g, (c) => encodeURIComponent(c));
}

function target(rng: Rng, route: Route): string {
  let path = route.path;
  for (const p of route.pathParams) path = path.replace(`{${p}}`, hostile(rng, route, p));
  const parts: string[] = [];
  const count = rng.int(0, 4);
  for (let i = 0; i < count; i += 1) {
    const name = rng.chance(0.9) && route.query.length > 0 ? (route.query[rng.int(0, route.query.length - 1)] ?? 'x') : hostile(rng, route, 'unknown');
    const key = rng.chance(0.1) ? `${name}[]` : rng.chance(0.05) ? `${name}[0]` : name;
    // Repeated params: the same key again.
    const times = rng.chance(0.15) ? rng.int(2, 30) : 1;
    for (let t = 0; t < times; t += 1) parts.push(`${key}=${hostile(rng, route, name)}`);
  }
  return parts.length > 0 ? `${path}?${parts.join('&')}` : path;
}

/** One raw HTTP/1.1 request (any bytes in the target); resolves to status, headers and up to 64 KiB of body. */
function raw(port: number, requestTarget: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${requestTarget.slice(0, 200)}`));
    }, 10_000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = split >= 0 ? text.slice(0, split) : text;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      let body = split >= 0 ? text.slice(split + 4) : '';
      if (/transfer-encoding: chunked/i.test(head)) body = dechunk(body);
      resolve({ status, head, body });
    };
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const text = data.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return;
      const head = text.slice(0, split);
      // An event stream never ends: its head is enough.
      if (/content-type: text\/event-stream/i.test(head)) return finish();
      const length = /content-length: (\d+)/i.exec(head)?.[1];
      if (length !== undefined && data.length - split - 4 >= Number(length)) finish();
      else if (/transfer-encoding: chunked/i.test(head) && text.endsWith('0\r\n\r\n')) finish();
      else if (data.length > 65_536) finish();
    });
    socket.on('end', finish);
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(Buffer.from(`GET ${requestTarget} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`, 'latin1'));
  });
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    if (nl < 0) return out + rest;
    const size = parseInt(rest.slice(0, nl), 16);
    if (!size) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}

function checkAnswer(what: string, res: { status: number; head: string; body: string }, problems: string[]): void {
  if (res.status === 0) problems.push(`${what}: no HTTP answer`);
  else if (res.status >= 500) problems.push(`${what}: ${res.status} ${res.body.slice(0, 200)}`);
  else if (res.status >= 400) {
    if (!/content-type: application\/json/i.test(res.head)) problems.push(`${what}: ${res.status} without a JSON body (${res.head.split('\r\n').find((l) => /content-type/i.test(l)) ?? 'no content-type'})`);
    else {
      try {
        const parsed = JSON.parse(res.body) as { error?: unknown };
        if (typeof parsed.error !== 'string' || parsed.error === '') problems.push(`${what}: ${res.status} body without an error message: ${res.body.slice(0, 200)}`);
      } catch {
        problems.push(`${what}: ${res.status} body is not JSON: ${res.body.slice(0, 200)}`);
      }
    }
  }
}

describe('client fuzz', () => {
  it(`${REQUESTS} seeded hostile requests over every route and parameter: no 5xx, every error JSON`, async () => {
    expect(routes.length).toBeGreaterThan(5);
    const port = Number(new URL(exporter.url).port);
    const rng = new Rng(SEED);
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    const started = Date.now();
    const targets: string[] = [];
    for (let i = 0; i < REQUESTS; i += 1) targets.push(target(rng, routes[rng.int(0, routes.length - 1)] as Route));
    // Some raw bytes no client should send: CR/LF, NUL, a space, invalid UTF-8 and a bare %.
    for (const bad of ['/api/v1/tasks?q=a\rb', '/api/v1/tasks?q=\u0000', '/api/v1/tasks/demo-girar/\u00ff', '/api/v1/tasks?q=a b', '/api/v1/summary?by=%', '/api/v1/values/%00', '/api/v1/tasks/%2e%2e/%2e%2e']) targets.push(bad);
    const CONCURRENCY = 16;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < targets.length) {
          const t = targets[next++] as string;
          try {
            const res = await raw(port, t);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            checkAnswer(t.slice(0, 160), res, problems);
          } catch (err) {
            problems.push(`${t.slice(0, 160)}: ${(err as Error).message}`);
          }
        }
      }),
    );
    console.log(`client fuzz: ${targets.length} requests in ${Date.now() - started} ms, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(problems.slice(0, 20)).toEqual([]);
    // Still alive and serving.
    expect((await fetch(`${exporter.url}/-/healthy`)).status).toBe(200);
    expect((await fetch(`${exporter.url}/metrics`)).status).toBe(200);
    expect(exporter.stderr()).not.toMatch(/uncaught|unhandled|FATAL/i);
  }, 120_000);

  it('malformed Last-Event-ID values: never a 5xx; a stream or a JSON 400', async () => {
    const port = Number(new URL(exporter.url).port);
    const problems: string[] = [];
    const values = ['', 'abc', '-1', '0', '1.5', '1e3', '99999999999999999999999999', '9007199254740993', ' 12 ', '0x10', '12abc', '\u00e9\u4e2d', 'x'.repeat(5000), 'null', '[]', '{}'];
    for (const value of values) {
      const asHeader = await raw(port, '/api/v1/events', { 'Last-Event-ID': Buffer.from(value, 'utf8').toString('latin1') });
      if (!(asHeader.status === 200 || asHeader.status === 400)) problems.push(`header ${JSON.stringify(value.slice(0, 40))}: ${asHeader.status}`);
      checkAnswer(`header ${JSON.stringify(value.slice(0, 40))}`, asHeader, problems);
      const asQuery = await raw(port, `/api/v1/events?last_event_id=${encodeURIComponent(value)}`);
      if (!(asQuery.status === 200 || asQuery.status === 400)) problems.push(`query ${JSON.stringify(value.slice(0, 40))}: ${asQuery.status}`);
      checkAnswer(`query ${JSON.stringify(value.slice(0, 40))}`, asQuery, problems);
    }
    expect(problems).toEqual([]);
  }, 60_000);
});
