/** The `web:` access-control and limit keys of the config file. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kindSchemas } from '../sources/registry.js';
import { ConfigError, demoConfig, parseConfig, type ConfigProblem } from './load.js';
import { DEFAULT_WEB_SETTINGS } from './schema.js';

const SOURCES = 'sources:\n  - name: alt\n    kind: girar\n    url: http://127.0.0.1:9/\n    stream: false\n';
const dir = mkdtempSync(join(tmpdir(), 'web-settings-test-'));
const file = join(dir, 'buildscope.yaml');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(web: string, env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
  try {
    parseConfig(`web:\n${web}\n${SOURCES}`, file, kindSchemas, {}, env);
  } catch (err) {
    return (err as ConfigError).problems;
  }
  return [];
}

describe('web settings', () => {
  it('defaults: every area auto, no tokens, CORS off, 1200 requests a minute, 8192-byte targets', () => {
    expect(parseConfig(SOURCES, file, kindSchemas).web).toEqual(DEFAULT_WEB_SETTINGS);
    expect(DEFAULT_WEB_SETTINGS).toEqual({ auth: { metrics: 'auto', api: 'auto', events: 'auto' }, bearerTokens: [], corsOrigins: [], rateLimit: { max: 1200, windowSeconds: 60 }, maxUrlLength: 8192 });
  });

  it('the demo farm runs without the API rate limit, otherwise with the defaults', () => {
    expect(demoConfig([]).web).toEqual({ ...DEFAULT_WEB_SETTINGS, rateLimit: { max: 0, windowSeconds: 60 } });
  });

  it('reads every key; tokens from a file (relative to the config) or the environment', () => {
    writeFileSync(join(dir, 'grafana.token'), 'tok-from-file-0123456789\n');
    const cfg = parseConfig(
      `web:
  auth: {metrics: none, api: bearer, events: any}
  bearer_tokens:
    - {name: grafana, token_file: grafana.token}
    - {name: ci, token: '\${CI_TOKEN}'}
  cors: {allowed_origins: ['https://grafana.example.org', 'http://localhost:3000']}
  rate_limit: {max: 50, window: 10s}
  max_url_length: 4096
${SOURCES}`,
      file,
      kindSchemas,
      {},
      { CI_TOKEN: 'tok-from-env-0123456789' },
    );
    expect(cfg.web).toEqual({
      auth: { metrics: 'none', api: 'bearer', events: 'any' },
      bearerTokens: [
        { name: 'grafana', token: 'tok-from-file-0123456789' },
        { name: 'ci', token: 'tok-from-env-0123456789' },
      ],
      corsOrigins: ['https://grafana.example.org', 'http://localhost:3000'],
      rateLimit: { max: 50, windowSeconds: 10 },
      maxUrlLength: 4096,
    });
  });

  it('refuses bad values, naming the key and never the token', () => {
    expect(problems('  auth: {api: sometimes}')[0]?.path).toBe('/web/auth/api');
    expect(problems('  auth: {apii: none}')).toEqual([{ path: '/web/auth/apii', message: 'unknown key "apii" (did you mean "api"?)' }]);
    expect(problems('  auth: {api: bearer}')).toEqual([{ path: '/web/auth/api', message: 'api is "bearer" but web.bearer_tokens is empty; add a token or choose another mode' }]);
    expect(problems('  bearer_tokens: [{name: a, token: short-secret}]')).toEqual([
      { path: '/web/bearer_tokens/0', message: 'the token of "a" must be at least 16 characters without white space (got 12 characters); e.g. openssl rand -hex 32' },
    ]);
    expect(JSON.stringify(problems('  bearer_tokens: [{name: a, token: short-secret}]'))).not.toContain('short-secret');
    expect(problems('  bearer_tokens: [{name: a}]')).toEqual([{ path: '/web/bearer_tokens/0', message: 'give exactly one of token (e.g. token: ${GRAFANA_TOKEN}) or token_file' }]);
    expect(problems('  bearer_tokens: [{name: a, token_file: nope.token}]')).toEqual([{ path: '/web/bearer_tokens/0/token_file', message: `cannot read ${join(dir, 'nope.token')}: ENOENT` }]);
    expect(
      problems('  bearer_tokens: [{name: a, token: aaaaaaaaaaaaaaaaaaaa}, {name: a, token: bbbbbbbbbbbbbbbbbbbb}]'),
    ).toEqual([{ path: '/web/bearer_tokens/1/name', message: 'duplicate token name "a"; names must be unique' }]);
    expect(problems('  cors: {allowed_origins: ["https://grafana.example.org/path"]}')[0]?.message).toMatch(/^expected an origin such as https:\/\/grafana.example.org/);
    expect(problems('  rate_limit: {max: -1}')[0]?.path).toBe('/web/rate_limit/max');
    expect(problems('  rate_limit: {window: 0s}')).toEqual([{ path: '/web/rate_limit/window', message: 'window must be between 1s and 1d, got "0s"' }]);
    expect(problems('  max_url_length: 100')[0]?.path).toBe('/web/max_url_length');
  });
});
