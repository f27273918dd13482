/**
 * "Save & test" when something is wrong, against loopback servers that answer the way the wrong
 * thing would: nothing listening, a 401, Grafana's data proxy's own answers (its 400 for an
 * upstream 401, its 502 for an unreachable upstream), services that are not the exporter, an
 * exporter still starting, and exporters whose sources are down. (The success case runs against
 * the real exporter in exporter/live.test.ts.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/ports.js';
import { installHttpBackendSrv, makeDatasource, sendJson, startServer, type Handler } from './helpers.js';

const servers: Array<{ close(): Promise<void> }> = [];

beforeEach(() => {
  installHttpBackendSrv();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function test(handler: Handler) {
  const server = await startServer(handler);
  servers.push(server);
  return { url: server.url, result: await makeDatasource(server.url).testDatasource() };
}

/** An exporter-like server: `/-/ready` ready, `/api/v1/sources` answering `sources`. */
function exporterWith(sources: unknown[]): Handler {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/-/ready') return sendJson(res, 200, { status: 'ready' });
    if (req.url === '/api/v1/sources') return sendJson(res, 200, { sources });
    return sendJson(res, 404, { error: 'not found' });
  };
}

const source = (name: string, up: boolean, last_error: unknown = null) => ({ name, kind: 'girar', up, interval_seconds: 30, last_error });

describe('Save & test says precisely what is wrong', () => {
  it('nothing listens on the port', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const result = await makeDatasource(url).testDatasource();
    expect(result.status).toBe('error');
    expect(result.message).toBe(`Cannot reach the exporter at ${url}: no answer. Check the URL (scheme, host, port) and that the exporter runs and is reachable from the Grafana server.`);
    expect(result.details?.verboseMessage).toMatch(/ECONNREFUSED|fetch failed/);
  });

  it('Grafana’s data proxy could not connect (502)', async () => {
    const { url, result } = await test((_req, res) => {
      res.writeHead(502);
      res.end();
    });
    expect(result.status).toBe('error');
    expect(result.message).toMatch(new RegExp(`^Cannot reach the exporter at ${url}: Grafana's data proxy answered HTTP 502\\.`));
  });

  it('401 from the exporter, on the API (the probe is public)', async () => {
    const { url, result } = await test((req, res) => {
      if (req.url === '/-/ready') return sendJson(res, 200, { status: 'ready' });
      res.setHeader('www-authenticate', 'Bearer realm="buildscope"');
      return sendJson(res, 401, { error: 'missing or wrong bearer token for the api area' });
    });
    expect(result.status).toBe('error');
    expect(result.message).toBe(
      `The exporter at ${url} refused the credentials (HTTP 401): missing or wrong bearer token for the api area. Set the bearer token the exporter expects (or clear it if the exporter needs none).`,
    );
  });

  it('401 as Grafana’s data proxy reports it (a 400 "Authentication to data source failed")', async () => {
    const { url, result } = await test((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('Authentication to data source failed');
    });
    expect(result.status).toBe('error');
    expect(result.message).toBe(`The exporter at ${url} refused the credentials (HTTP 401). Set the bearer token the exporter expects (or clear it if the exporter needs none).`);
  });

  it('403: a valid token without access to the API', async () => {
    const { result } = await test((req, res) => (req.url === '/-/ready' ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 403, { error: 'token not allowed for the api area' })));
    expect(result.message).toMatch(/denied access to \/api\/v1\/sources \(HTTP 403\): token not allowed for the api area\. The token is valid but not for the API\.$/);
  });

  it('a web page, not the exporter (HTML with 200)', async () => {
    const { url, result } = await test((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>Welcome to nginx!</body></html>');
    });
    expect(result.status).toBe('error');
    expect(result.message).toBe(`${url} is not a buildscope exporter: /-/ready answered HTTP 200 with an HTML page, not {"status":"ready"}.`);
  });

  it('another JSON service (Prometheus-like answers)', async () => {
    const { url, result } = await test((_req, res) => sendJson(res, 200, { status: 'success', data: { resultType: 'vector', result: [] } }));
    expect(result.message).toBe(`${url} is not a buildscope exporter: /-/ready answered HTTP 200 with JSON without the exporter's fields ({"status":"success","data":{"resultType":"vector","result":[]}}), not {"status":"ready"}.`);
  });

  it('a service without /-/ready (404), e.g. the URL has /api appended', async () => {
    const { url, result } = await test((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body>404 Not Found</body></html>');
    });
    expect(result.message).toBe(`${url} is not a buildscope exporter: /-/ready is not found (HTTP 404). Check the URL (the exporter's base URL, e.g. http://exporter:10870, without /api).`);
  });

  it('ready, but /api/v1/sources is not a source list', async () => {
    const { url, result } = await test((req, res) => (req.url === '/-/ready' ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 200, { items: [] })));
    expect(result.message).toBe(`${url} is not a buildscope exporter: /api/v1/sources answered HTTP 200 with JSON without the exporter's fields ({"items":[]}), not a source list.`);
  });

  it('the exporter is still starting (503 naming the sources it waits for)', async () => {
    const { url, result } = await test((_req, res) => sendJson(res, 503, { error: 'not ready: waiting for the first poll of: alt, fedora' }));
    expect(result.message).toBe(`The exporter at ${url} is starting: not ready: waiting for the first poll of: alt, fedora. Try again in a few seconds.`);
  });

  it('no source is up: each down source with its last error', async () => {
    const { url, result } = await test(
      exporterWith([source('alt', false, { code: 'network', message: 'connect ECONNREFUSED 10.0.0.5:443', at: '2026-11-24T06:00:00Z' }), source('fedora', false, { code: 'http', message: 'HTTP 503 from the hub', at: '2026-11-24T06:00:00Z', status: 503 }), source('apb', false)]),
    );
    expect(result.status).toBe('error');
    expect(result.message).toBe(
      `The exporter at ${url} answers, but no source is up (3 configured): alt (network: connect ECONNREFUSED 10.0.0.5:443); fedora (http: HTTP 503 from the hub); apb (no successful poll yet).`,
    );
  });

  it('no source configured', async () => {
    const { url, result } = await test(exporterWith([]));
    expect(result.message).toBe(`The exporter at ${url} has no sources configured: add sources to its config file (docs/configuration.md).`);
  });

  it('some sources down: a warning naming them', async () => {
    const { url, result } = await test(exporterWith([source('alt', true), source('fedora', false, { code: 'timeout', message: 'no answer within 10 s' })]));
    expect(result.status).toBe('warning');
    expect(result.message).toBe(`Connected to the exporter at ${url}: 1 of 2 sources up; down: fedora (timeout: no answer within 10 s).`);
  });

  it('no exporter URL configured', async () => {
    const result = await makeDatasource('/api/datasources/proxy/uid/x', '').testDatasource();
    expect(result.status).toBe('error');
    expect(result.message).toMatch(/^No exporter URL configured/);
  });
});
