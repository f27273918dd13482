/**
 * Hostile input: where the farm token or URL credentials can still reach the API. The token itself is
 * never formatted into a message, but upstream bodies are (HTTP error snippets, "starts with ..."
 * of a non-JSON body), and a proxy or debug page that echoes request headers puts it there.
 * An admin farm shows real server URLs, which are published as worker.url unredacted.
 */
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../source.js';
import { ApbAdapter } from './adapter.js';
import { apbAdapter, apbFixture, fakeEndpoints, type FakeRoute } from './apb-test-helpers.js';

const TOKEN = 'tok-review-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const FARM = apbFixture('farm-GET-farm.json');

const fake = fakeEndpoints();

const adapterFor = (block: Record<string, unknown>): ApbAdapter => apbAdapter(block);

/** An upstream (or the proxy in front of it) that echoes the request's Authorization header. */
const echo =
  (status: number, json: boolean): FakeRoute =>
  (req) => ({ status, contentType: json ? 'application/json' : 'text/plain', body: json ? JSON.stringify({ detail: `bad request; headers were ${req.headers.authorization ?? ''}` }) : `Authorization: ${req.headers.authorization ?? ''}\n` });

describe('hostile input: secrets', () => {
  it('the farm token does not reach endpoint health when the farm echoes it in an error body', async () => {
    const farm = await fake({ '/farm': echo(500, true), '/builds/latest': echo(200, false) });
    const adapter = adapterFor({ farm: { url: farm.url, token: TOKEN } });
    await adapter.poll(AbortSignal.timeout(5000)).catch(() => undefined);
    const health = JSON.stringify(adapter.endpoints());
    // before the fix: "... answered HTTP 500: {\"detail\":\"bad request; headers were Bearer tok-review-...\"}"
    expect(health).not.toContain(TOKEN);
  });

  it('the farm token does not reach the problems (status-api failure messages) when echoed', async () => {
    const listing = JSON.stringify({ builds: [{ id: 'f1', server_url: '127---1', server_arch: 'x86_64', pkgname: 'p', display_name: null, status: 'building', start_time: null, end_time: null, created_at: null, username: null }] });
    const farm = await fake({ '/farm': { body: FARM }, '/builds/latest': { body: listing }, '/build/f1/status-api': echo(502, true) });
    const adapter = adapterFor({ farm: { url: farm.url, token: TOKEN } });
    await adapter.poll(AbortSignal.timeout(5000));
    expect(JSON.stringify(adapter.problems())).not.toContain(TOKEN);
  });

  it('server URLs an admin farm shows are published without their credentials', async () => {
    const farmJson = JSON.parse(FARM) as { servers: { url: string }[] };
    (farmJson.servers[0] as { url: string }).url = 'http://apb:s3cret-pass@ppc64le-9.example:8000';
    const farm = await fake({ '/farm': { body: JSON.stringify(farmJson) }, '/builds/latest': { body: '{"builds":[]}' } });
    const snap = (await adapterFor({ farm: { url: farm.url, token: TOKEN } }).poll(AbortSignal.timeout(5000))) as Snapshot;
    // before the fix: worker.url "http://apb:s3cret-pass@ppc64le-9.example:8000" (farm.ts workers(): url: entry.url)
    expect(JSON.stringify(snap.workers)).not.toContain('s3cret-pass');
  });
});
