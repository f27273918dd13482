/** APB test helpers: the recorded payloads, and the generic fake upstream under its APB name. */
import { readFileSync } from 'node:fs';

export { FakeUpstream as FakeApbEndpoint, gate, type FakeAnswer, type FakeRoute } from '../../test-support/fake-upstream.js';

export function apbFixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}
