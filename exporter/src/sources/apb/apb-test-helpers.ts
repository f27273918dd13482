/** APB test helpers: the recorded payloads, fake APB endpoints cleaned up after each test (test-support), and an adapter. */
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { ManualClock, type Clock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import { ApbAdapter } from './adapter.js';
import { parseApbConfig } from './config.js';

export { FakeUpstream as FakeApbEndpoint, fakeUpstreams as fakeEndpoints, gate, type FakeAnswer, type FakeRoute } from '../../test-support/fake-upstream.js';

export function apbFixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}


/** An ApbAdapter for source `ap` with short test timings (server_timeout 2s, wait 1s) unless the block says otherwise. */
export function apbAdapter(block: Record<string, unknown>, options: { clock?: Clock; log?: Logger; pollTimeoutSeconds?: number } = {}): ApbAdapter {
  return new ApbAdapter(parseApbConfig({ server_timeout: '2s', wait: '1s', ...block }), {
    name: 'ap',
    log: options.log ?? pino({ level: 'silent' }),
    clock: options.clock ?? new ManualClock(),
    http: new UpstreamHttp(),
    pollTimeoutSeconds: options.pollTimeoutSeconds ?? 10,
  });
}
