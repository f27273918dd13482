/** karajo test helpers: its answers (the envelope, always gzip) and an adapter for source `cron`. */
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import type { FakeAnswer } from '../../test-support/fake-upstream.js';
import { ManualClock, type Clock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import { KarajoAdapter } from './adapter.js';
import { parseKarajoConfig } from './config.js';

export const ENVIRONMENT_PATH = '/karajo/api/environment';

/** karajo's answer: the body as JSON, gzip-encoded, as karajo always sends it. */
export function karajoAnswer(body: unknown, status = 200): FakeAnswer {
  return { status, body: gzipSync(JSON.stringify(body)), headers: { 'content-encoding': 'gzip' } };
}

export function karajoAdapter(url: string, extra: Record<string, unknown> = {}, clock: Clock = new ManualClock(Date.parse('2023-01-09T00:00:30Z'))): KarajoAdapter {
  return new KarajoAdapter(parseKarajoConfig({ url, ...extra }), { name: 'cron', log: pino({ level: 'silent' }), clock, http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
}
