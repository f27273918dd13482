/**
 * Hostile input: single hostile/malformed values that make ApbAdapter.poll() throw something other than
 * a SourceError, which takes the whole source down (every server and the farm), every poll, for
 * as long as the value is listed. Expected: the bad build/entry is left out (or its bad field
 * ignored) and the other endpoints keep working.
 */
import { describe, expect, it } from 'vitest';
import { SourceError } from '../errors.js';
import type { Snapshot } from '../source.js';
import { ApbAdapter } from './adapter.js';
import { apbAdapter, apbFixture, fakeEndpoints } from './apb-test-helpers.js';

const ROOT = apbFixture('server-GET-root.json');
const HEALTH = apbFixture('server-GET-health.json');

const fake = fakeEndpoints();

const adapterFor = (block: Record<string, unknown>): ApbAdapter => apbAdapter(block);

/** poll() may only resolve, or reject with a SourceError (PartialPollError included). */
async function pollSafely(a: ApbAdapter): Promise<Snapshot | SourceError> {
  try {
    return (await a.poll(AbortSignal.timeout(8000))) as Snapshot;
  } catch (err) {
    if (err instanceof SourceError) return err;
    throw err;
  }
}

describe('hostile input: one bad value must not crash the apb poll', () => {
  it('a build id with a lone surrogate (valid JSON "\\ud800") in a server listing', async () => {
    const good = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': { body: '{"builds":[]}' } });
    const listing = '{"builds":[{"build_id":"x\\ud800","pkgname":"p","status":"completed","start_time":null,"end_time":null,"duration":1}],"total":1}';
    const bad = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': { body: listing } });
    const a = adapterFor({ servers: [{ url: good.url, name: 'good' }, { url: bad.url, name: 'bad' }], detail_budget: 0 });
    // URIError: URI malformed (normalize.ts buildTask: encodeURIComponent(s.id) for task.url)
    const snap = await pollSafely(a);
    expect(snap).not.toBeInstanceOf(SourceError);
    expect((snap as Snapshot).workers?.map((w) => w.id).sort()).toEqual(['bad', 'good']);
  });

  it('an artifact filename with a lone surrogate and no download_url in a status-api record', async () => {
    const listing = '{"builds":[{"build_id":"b1","pkgname":"p","status":"completed","start_time":null,"end_time":null,"duration":1}],"total":1}';
    const record = '{"build_id":"b1","pkgname":"p","status":"completed","packages":[{"filename":"p\\udc00.pkg.tar.zst","size":1}],"logs":[]}';
    const s = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': { body: listing }, '/build/b1/status-api': { body: record } });
    const a = adapterFor({ servers: [{ url: s.url, name: 's' }] });
    // URIError from artifactsOf: encodeURIComponent(file.filename)
    const snap = await pollSafely(a);
    expect(snap).not.toBeInstanceOf(SourceError);
  });

  it('an epoch far in the future (1e13 s) in a status-api record', async () => {
    const listing = '{"builds":[{"build_id":"b1","pkgname":"p","status":"building","start_time":null,"end_time":null,"duration":0}],"total":1}';
    const record = '{"build_id":"b1","pkgname":"p","status":"building","created_at":1795500000,"start_time":1e13}';
    const s = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': { body: listing }, '/build/b1/status-api': { body: record } });
    const a = adapterFor({ servers: [{ url: s.url, name: 's' }] });
    // RangeError: Invalid time value (normalize.ts epochToIso -> isoUtc(new Date(1e16)))
    const snap = await pollSafely(a);
    expect(snap).not.toBeInstanceOf(SourceError);
    expect((snap as Snapshot).tasks.map((t) => t.id)).toEqual(['b1']);
  });

  it("a farm server whose info has _cached_at far in the future", async () => {
    const farm = JSON.parse(apbFixture('farm-GET-farm.json')) as { servers: { info: Record<string, unknown> }[] };
    (farm.servers[0] as { info: Record<string, unknown> }).info._cached_at = 1e300;
    const f = await fake({ '/farm': { body: JSON.stringify(farm) }, '/builds/latest': { body: '{"builds":[]}' } });
    const a = adapterFor({ farm: { url: f.url } });
    // RangeError from farm.ts reachability(): isoUtc(Math.round(cachedAt * 1000))
    const snap = await pollSafely(a);
    expect(snap).not.toBeInstanceOf(SourceError);
  });
});
