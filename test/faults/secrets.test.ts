/**
 * Secrets never leak: distinctive secrets are planted in every kind's credentials (URL userinfo,
 * tokens in query strings, header values, the APB farm token, the karajo password, the Koji key
 * path and passphrase), failures are provoked (401/403 pages that echo the request back, refused
 * connections, HTML and truncated payloads, a TLS handshake with a plain-HTTP server), and every
 * output of the exporter is searched for them: its debug log, /api/v1/sources, /metrics,
 * /openapi.json, error bodies and the SSE stream.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { MAIN_JS } from '../support/exporter-process.js';
import type { Fault } from '../support/fault-proxy.js';
import { requireTool } from '../support/tools.js';
import { startFarm, type Farm } from './farm.js';

const openssl = requireTool('openssl', 'openssl');

const S = {
  girarUser: 'girarUSERs3cr3tQ1',
  girarPass: 'girarPASSs3cr3tQ2',
  girarHeader: 'girarHEADERs3cr3tQ3',
  apbToken: 'apbFARMTOKENs3cr3tQ4',
  apbPass: 'apbPASSs3cr3tQ5',
  karajoPass: 'karajoPASSs3cr3tQ6',
  karajoHeader: 'karajoHEADERs3cr3tQ7',
  cuirassQuery: 'cuirassQUERYs3cr3tQ8',
  cuirassPass: 'cuirassPASSs3cr3tQ9',
  kojiPassphrase: 'kojiPASSPHRASEs3cr3tR1',
  kojiKeyDir: 'kojiKEYPATHs3cr3tR2',
};

/** Each secret as it could appear: raw, percent-encoded, and inside a Basic auth header. */
function forms(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, v] of Object.entries(S)) {
    out.set(v, name);
    out.set(encodeURIComponent(v), name);
  }
  out.set(Buffer.from(`${S.girarUser}:${S.girarPass}`).toString('base64'), 'girar basic auth');
  return out;
}

let farm: Farm | undefined;
let keyDir: string | undefined;
let events = '';
const stopEvents = new AbortController();
const collected: { where: string; text: string }[] = [];

function withUserinfo(url: unknown, user: string, pass: string): string {
  const u = new URL(String(url));
  u.username = user;
  u.password = pass;
  return u.toString().replace(/\/$/, String(url).endsWith('/') ? '/' : '');
}

beforeAll(async () => {
  if (!openssl) return;
  keyDir = await mkdtemp(join(tmpdir(), `buildscope-${S.kojiKeyDir}-`));
  const key = join(keyDir, 'client.key');
  const cert = join(keyDir, 'client.crt');
  execFileSync(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=exporter', '-passout', `pass:${S.kojiPassphrase}`], { stdio: 'ignore' });
  farm = await startFarm({
    withoutFs: true,
    waitUp: false,
    args: ['--log.level=debug'],
    // The karajo simulator knows the planted password: logins succeed when nothing is faulted.
    karajoUsers: [{ name: 'exporter', password: S.karajoPass }],
    edit(block, kind) {
      switch (kind) {
        case 'girar':
          return { ...block, url: withUserinfo(block.url, S.girarUser, S.girarPass), headers: { authorization: `Bearer ${S.girarHeader}` } };
        case 'apb':
          // Server URLs with credentials are refused by the config check (see below).
          return { ...block, farm: { ...(block.farm as Record<string, unknown>), token: S.apbToken } };
        case 'karajo':
          return { ...block, user: { name: 'exporter', password: S.karajoPass }, headers: { 'x-karajo-auth': S.karajoHeader } };
        // cuirass has no credentials (its config refuses userinfo and queries in the URL: see below).
        case 'koji':
          return { ...block, url: String(block.url).replace('http://', 'https://'), tls: { cert_file: cert, key_file: key, key_passphrase: S.kojiPassphrase } };
        default:
          return block;
      }
    },
  });
  const url = farm.exporter.url;
  void (async () => {
    try {
      const res = await fetch(`${url}/api/v1/events`, { signal: stopEvents.signal });
      const decoder = new TextDecoder();
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) events += decoder.decode(chunk, { stream: true });
    } catch {
      // Stopped at the end.
    }
  })();
}, 120_000);

afterAll(async () => {
  stopEvents.abort();
  await farm?.close();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

async function collect(phase: string): Promise<void> {
  if (!farm) return;
  const url = farm.exporter.url;
  for (const path of [
    '/api/v1/sources',
    '/metrics',
    '/openapi.json',
    '/api/v1/workers',
    '/api/v1/jobs',
    '/api/v1/tasks?limit=5',
    '/api/v1/tasks/f-karajo/no-such-job%2F1/log',
    '/api/v1/tasks/f-girar/1/log',
    '/api/v1/tasks/nope/1',
    '/api/v1/summary?by=source',
    '/-/ready',
  ]) {
    const res = await fetch(`${url}${path}`);
    collected.push({ where: `${phase} ${path} (${res.status})`, text: await res.text() });
  }
}

const FAULTS: [string, Fault][] = [
  ['401 echoing the request', { type: 'status', status: 401, echo: true }],
  ['403 echoing the request', { type: 'status', status: 403, echo: true }],
  ['refused', { type: 'refuse' }],
  ['HTML page', { type: 'html' }],
  ['truncated payload', { type: 'truncate', fraction: 0.3 }],
];
// A successful poll between faults resets each source's failure backoff (doubling from the 1 s
// interval per consecutive failure): five faults in a row backed sources off past a minute, and
// waiting for their next poll timed out on a loaded machine.
const PHASES: [string, Fault][] = FAULTS.flatMap(([name, fault]): [string, Fault][] => [
  [name, fault],
  [`passing through after ${name}`, { type: 'pass' }],
]);

describe('planted secrets in URLs the config refuses', () => {
  it('the config check names the key, never the credentials', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'buildscope-secrets-check-'));
    try {
      const config = join(dir, 'bad.yaml');
      writeFileSync(
        config,
        JSON.stringify({
          sources: [
            { name: 'a', kind: 'apb', servers: [{ url: `http://apb:${S.apbPass}@127.0.0.1:1/` }] },
            { name: 'c', kind: 'cuirass', url: `http://ci:${S.cuirassPass}@127.0.0.1:1/?api_key=${S.cuirassQuery}` },
          ],
        }),
      );
      const run = spawnSync(process.execPath, [MAIN_JS, `--config.file=${config}`, '--config.check'], { encoding: 'utf8' });
      expect(run.status).not.toBe(0);
      const out = `${run.stdout}${run.stderr}`;
      expect(out).toMatch(/servers\/0\/url: .*without credentials/);
      for (const secret of [S.apbPass, S.cuirassPass, S.cuirassQuery]) expect(out).not.toContain(secret);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!openssl)('planted secrets', () => {
  it('never appear in the log, the API, /metrics, /openapi.json, error bodies or the event stream', async () => {
    if (!farm) throw new Error('no farm');
    const f = farm;
    for (const [phase, fault] of PHASES) {
      const since = Date.now();
      await f.setFault(fault);
      // A poll of every source under this fault (Koji fails its TLS handshake whatever the fault,
      // and is backing off further and further).
      let waiting: string[] = [];
      await waitUntil(
        async () => {
          const view = await f.sourcesView();
          waiting = view.filter((s) => s.kind !== 'koji' && !(s.last_poll !== null && Date.parse(s.last_poll) > since + 200)).map((s) => `${s.name} (last poll ${s.last_poll ?? 'never'}, next ${(s as { next_poll?: string | null }).next_poll ?? '?'}, failures ${s.consecutive_failures}, last error ${s.last_error?.message.slice(0, 200) ?? 'none'})`);
          return waiting.length === 0 ? true : undefined;
        },
        // A source that failed several times while a slower one was still reaching the fault
        // backs off (1 s doubling per failure, up to 5 min): give its next poll time to come.
        fault.type === 'pass' ? 150_000 : 60_000,
        { what: `every source polled under "${phase}"` },
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; still waiting for ${waiting.join(', ')}`);
      });
      await collect(phase);
    }
    const view = await f.sourcesView();
    const code = await f.exporter.stop();
    expect(code).toBe(0);
    collected.push({ where: 'stdout', text: f.exporter.stdout() }, { where: 'stderr (debug log)', text: f.exporter.stderr() }, { where: 'SSE stream', text: events });
    const leaks: string[] = [];
    for (const { where, text } of collected) {
      for (const [secret, name] of forms()) {
        const at = text.indexOf(secret);
        if (at >= 0) leaks.push(`${name} in ${where}: ...${text.slice(Math.max(0, at - 120), at + secret.length + 40)}...`);
      }
    }
    expect(leaks.slice(0, 10)).toEqual([]);
    // The failures were provoked and reported (not silently skipped): every source saw errors.
    const log = `${f.exporter.stdout()}${f.exporter.stderr()}`;
    expect(log.length).toBeGreaterThan(10_000);
    for (const s of view) if (s.name !== 'control') expect(s.polls.failed, s.name).toBeGreaterThan(0);
    expect(log).toMatch(/HTTP 401/);
    expect(log).toMatch(/HTTP 403/);
    expect(log).toMatch(/ECONNREFUSED/);
    expect(events).toMatch(/^(event|id|data):/m);
  }, 600_000);
});
