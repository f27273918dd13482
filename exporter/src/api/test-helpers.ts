/**
 * Test support for the API: a config, a fake health provider, hand-built girar and koji tasks,
 * and an app with a real Store behind the API. Used by the `*.test.ts` files beside it.
 */
import type { ApiDeps } from './deps.js';
import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { DEFAULT_WEB_SETTINGS, type AppConfig, type WebSettings } from '../config/schema.js';
import type { WebConfigSource } from '../web/runtime.js';
import { MAX_BODY_BYTES } from '../web/server.js';
import type { Phase, Subtask, Task } from '../model/task.js';
import type { TaskotekaCompatBackend } from '../sources/girar/compat-backend.js';
import type { SourceHealth, HealthProvider } from '../sources/health.js';
import { Store } from '../store/store.js';
import { ManualClock } from '../util/clock.js';
import type { Authenticator } from './auth.js';
import { frameworkErrorOptions } from './errors.js';
import { registerApi } from './index.js';

export const GIRAR_DEFAULT_STATES = new Map([['girar', { active: ['AWAITING', 'BUILDING', 'COMMITTING', 'FAILING', 'PENDING', 'POSTPONED'], hiddenWhenPersonal: ['DONE'] }]]);

export interface ConfigOverrides {
  api?: Partial<AppConfig['api']>;
  events?: Partial<AppConfig['events']>;
  /** Access control and limits (default: DEFAULT_WEB_SETTINGS). */
  web?: Partial<WebSettings>;
}

export function testConfig(overrides: ConfigOverrides = {}): AppConfig {
  return {
    listenAddress: '127.0.0.1:0',
    logLevel: 'error',
    demo: false,
    api: { default_page_size: 100, max_page_size: 1000, search_result_cap: 500, ...overrides.api },
    events: {
      buffer_size: 10_000,
      heartbeatSeconds: 15,
      max_connections: 1024,
      max_connections_per_ip: 64,
      maxLifetimeSeconds: 1800,
      coalesceMs: 0,
      client_buffer: 1024,
      ip_header: 'x-real-ip',
      trusted_proxies: [],
      ...overrides.events,
    },
    journal: {},
    sources: [],
    ...(overrides.web ? { web: { ...DEFAULT_WEB_SETTINGS, ...overrides.web } } : {}),
  };
}

export class FakeHealth implements HealthProvider {
  constructor(public entries: SourceHealth[] = []) {}
  health(): SourceHealth[] {
    return this.entries;
  }
}

export function sourceHealth(name: string, kind: string, more: Partial<SourceHealth> = {}): SourceHealth {
  return { name, kind, up: true, intervalSeconds: 30, consecutiveFailures: 0, polls: { ok: 0, failed: 0 }, ...more };
}

const PHASE_OF: Record<string, Phase> = {
  NEW: 'queued',
  AWAITING: 'queued',
  POSTPONED: 'queued',
  PENDING: 'queued',
  BUILDING: 'running',
  COMMITTING: 'running',
  FAILING: 'running',
  EPERM: 'blocked',
  TESTED: 'success',
  DONE: 'success',
  FAILED: 'failed',
  SWEPT: 'canceled',
};

export function gearSubtask(id: string, pkg: string, owner: string, archs: string[] = ['x86_64']): Subtask {
  const dir = `/gears/${pkg[0] ?? 'x'}/${pkg}.git`;
  return {
    id,
    type: 'repo',
    package: pkg,
    label: dir,
    owner,
    archs: archs.map((arch) => ({ arch, status: 'built', phase: 'success' })),
    fields: { dir, pkgname: pkg, userid: owner, tag_name: `1.0-alt1` },
  };
}

export function girarTask(id: string, state: string, repo: string, owner: string, more: Partial<Task> = {}): Task {
  const subtasks = more.subtasks ?? [gearSubtask('100', `pkg${id}`, owner)];
  return {
    source: 'alt',
    kind: 'girar',
    id,
    state,
    phase: PHASE_OF[state] ?? 'unknown',
    owner,
    repo,
    message: `task ${id}`,
    created: '2026-03-16T10:00:00Z',
    updated: '2026-03-16T12:00:00Z',
    archs: [...new Set(subtasks.flatMap((s) => s.archs.map((a) => a.arch)))].sort(),
    subtasks,
    url: `https://git.altlinux.org/tasks/${id}/`,
    native: { taskid: Number(id), state, repo, owner },
    ...more,
  };
}

/**
 * The girar fixture: 5 tasks in active states (BUILDING, AWAITING, FAILING, POSTPONED, PENDING),
 * 8 in others (EPERM x3, NEW, FAILED, TESTED, SWEPT, DONE x2).
 */
export function girarTasks(): Task[] {
  return [
    girarTask('411555', 'BUILDING', 'p11', 'rider', {
      message: 'update PDAL',
      subtasks: [gearSubtask('100', 'pdal', 'rider', ['aarch64', 'x86_64']), gearSubtask('200', 'grass', 'rider', ['aarch64', 'x86_64'])],
      updated: '2026-03-16T17:15:28Z',
      created: '2026-03-16T12:22:27Z',
      attrs: { try: 2, iter: 1, test_only: false },
    }),
    girarTask('411543', 'EPERM', 'p11', 'zerg', {
      message: 'update',
      subtasks: [
        {
          id: '300',
          type: 'repo',
          package: 'nvidia_glx_libs_580.142',
          archs: [{ arch: 'x86_64', status: 'built', phase: 'success' }],
          fields: { dir: '/people/zerg/packages/nvidia_glx_libs_580.142.git', pkgname: 'nvidia_glx_libs_580.142', tag_name: '580.142.-alt1', userid: 'zerg' },
        },
      ],
      updated: '2026-03-16T12:38:04Z',
    }),
    girarTask('411470', 'EPERM', 'p11', 'lav', {
      message: 'security update',
      subtasks: [{ id: '100', type: 'repo', package: 'libcurl', archs: [{ arch: 'x86_64', status: 'built', phase: 'success' }], fields: { dir: '/gears/l/libcurl.git', pkgname: 'libcurl' } }],
      updated: '2026-03-15T15:31:29Z',
    }),
    girarTask('411469', 'EPERM', 'sisyphus', 'lav', {
      message: 'Debian libcurl compatibility',
      subtasks: [{ id: '100', type: 'repo', package: 'libcurl4-gnutls', archs: [{ arch: 'x86_64', status: 'built', phase: 'success' }], fields: { dir: '/gears/l/libcurl4-gnutls.git', pkgname: 'libcurl4-gnutls' } }],
      updated: '2026-03-15T15:31:29Z',
    }),
    girarTask('411600', 'AWAITING', 'sisyphus', 'rider', { updated: '2026-03-16T13:00:00Z' }),
    girarTask('411601', 'FAILED', 'sisyphus', 'zerg', { updated: '2026-03-16T09:00:00Z' }),
    girarTask('411602', 'NEW', 'p10', 'rider', { updated: '2026-03-16T08:00:00Z' }),
    girarTask('411603', 'FAILING', 'p10', 'lav', { subtasks: [gearSubtask('100', 'gcc', 'lav', ['i586', 'x86_64'])], updated: '2026-03-16T14:00:00Z' }),
    girarTask('411604', 'POSTPONED', 'sisyphus', 'cas', { updated: '2026-03-16T11:00:00Z' }),
    girarTask('411605', 'PENDING', 'sisyphus', 'vt', { updated: '2026-03-16T11:30:00Z' }),
    girarTask('411606', 'TESTED', 'p11', 'vt', { updated: '2026-03-16T07:00:00Z' }),
    girarTask('411607', 'SWEPT', 'p11', 'cas', { updated: '2026-03-14T07:00:00Z' }),
    girarTask('389466', 'DONE', 'sisyphus', 'grenka', { message: 'Python3.13', updated: '2025-10-10T16:12:42Z' }),
    girarTask('389467', 'DONE', 'sisyphus', 'rider', { message: 'old pdal', updated: '2025-10-11T16:12:42Z' }),
  ];
}

/** A second source of another kind, without default-state rules: every state is listed. */
export function kojiTasks(): Task[] {
  const kojiTask = (id: string, state: string, phase: Phase, owner: string, updated: string): Task => ({
    source: 'fedora',
    kind: 'koji',
    id,
    state,
    phase,
    owner,
    repo: 'f42',
    updated,
    archs: ['x86_64'],
    subtasks: [],
    native: { id: Number(id), method: 'build' },
  });
  return [kojiTask('7001', 'OPEN', 'running', 'kojiadmin', '2026-03-16T12:30:00Z'), kojiTask('7002', 'CLOSED', 'success', 'rider', '2026-03-16T06:00:00Z')];
}

export interface TestApi {
  app: FastifyInstance;
  store: Store;
  health: FakeHealth;
  clock: ManualClock;
  config: AppConfig;
  setReady(ready: boolean): void;
}

export interface TestApiOptions extends ConfigOverrides {
  /** Fill the store with girarTasks() and kojiTasks() (default true). */
  fill?: boolean;
  authenticator?: Authenticator;
  /** The web config file's users and headers (default: none). */
  webConfig?: WebConfigSource;
  /** girar sources served under /compat/taskoteka/<name>/. */
  taskotekaBackends?: ReadonlyMap<string, TaskotekaCompatBackend>;
  /** Sources that read task logs on demand. */
  taskLogs?: ApiDeps['taskLogs'];
  /** Add routes (e.g. `/metrics`, which needs the store and health) after the API and before ready. */
  extraRoutes?: (app: FastifyInstance, parts: { store: Store; health: FakeHealth }) => void;
}

export async function buildTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const config = testConfig(options);
  const clock = new ManualClock();
  const store = new Store({ defaultStates: GIRAR_DEFAULT_STATES, clock, eventBufferSize: config.events.buffer_size, searchResultCap: config.api.search_result_cap });
  const health = new FakeHealth([sourceHealth('alt', 'girar'), sourceHealth('fedora', 'koji')]);
  if (options.fill !== false) {
    store.apply('alt', 'girar', { type: 'snapshot', tasks: girarTasks() });
    store.apply('fedora', 'koji', { type: 'snapshot', tasks: kojiTasks() });
  }
  let ready = true;
  // As app.ts builds it, as far as the API's errors go.
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, ...frameworkErrorOptions });
  await registerApi(app, {
    store,
    health,
    config,
    clock,
    version: '9.8.7-test',
    ready: () => ready,
    ...(options.authenticator ? { authenticator: options.authenticator } : {}),
    ...(options.webConfig ? { webConfig: options.webConfig } : {}),
    ...(options.taskotekaBackends ? { taskotekaBackends: options.taskotekaBackends } : {}),
    ...(options.taskLogs ? { taskLogs: options.taskLogs } : {}),
  });
  options.extraRoutes?.(app, { store, health });
  await app.ready();
  return { app, store, health, clock, config, setReady: (r) => (ready = r) };
}

/**
 * Send raw bytes to a listening server (`base` as `app.listen` returns it) and collect what comes
 * back until the server closes the connection: for requests node:http refuses to send (a raw
 * non-ASCII byte in the path) and for pipelined requests on one connection. Rejects, with what
 * arrived so far, when the connection is still open after `timeoutMs`.
 */
export function rawHttp(base: string, payload: Buffer | string, timeoutMs = 5000): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(url.port), url.hostname, () => socket.write(payload));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${timeoutMs} ms; received: ${JSON.stringify(Buffer.concat(chunks).toString('utf8'))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** The status, headers (lower-case names) and body of each HTTP/1.1 response in a raw exchange. */
export function parseRawResponses(text: string): { status: number; headers: Record<string, string>; body: string }[] {
  const responses: { status: number; headers: Record<string, string>; body: string }[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) break;
    const [statusLine = '', ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.slice(headEnd + 4);
    const length = headers['content-length'] === undefined ? 0 : Number(headers['content-length']);
    const body = Buffer.from(rest, 'utf8').subarray(0, length).toString('utf8');
    rest = rest.slice(body.length);
    responses.push({ status: Number(statusLine.split(' ')[1]), headers, body });
  }
  return responses;
}
