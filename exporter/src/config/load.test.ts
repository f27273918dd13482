import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kindSchemas } from '../sources/registry.js';
import { ConfigError, loadConfigFile, parseConfig, type ConfigProblem } from './load.js';

const dir = fileURLToPath(new URL('./testdata/', import.meta.url));
const env = { BUILDSCOPE_TEST_TOKEN: 's3cret-token' };

/** One bad file per rule, with the exact problems it must produce. */
const BAD: Record<string, ConfigProblem[]> = {
  'bad-yaml-syntax.yaml': [{ path: '', message: 'YAML syntax error: Sequence item without - indicator at line 4, column 1:' }],
  'bad-not-a-mapping.yaml': [{ path: '', message: 'the file must hold a YAML mapping with at least a `sources` list' }],
  'bad-no-sources.yaml': [{ path: '/sources', message: 'missing required key "sources"' }],
  'bad-empty-sources.yaml': [{ path: '/sources', message: 'expected a list of at least one source, got []' }],
  'bad-unknown-top-key.yaml': [
    { path: '/sources', message: 'missing required key "sources"' },
    { path: '/sorces', message: 'unknown key "sorces" (did you mean "sources"?)' },
  ],
  'bad-unknown-kind.yaml': [{ path: '/sources/0/kind', message: 'unknown kind "kojii"; known kinds: girar, apb, karajo, cuirass, koji' }],
  'bad-duplicate-name.yaml': [{ path: '/sources/1/name', message: 'duplicate source name "alt" (also /sources/0/name); names must be unique' }],
  'bad-name-pattern.yaml': [{ path: '/sources/0/name', message: 'expected a name of letters, digits, _ . - (starting with a letter or _, at most 63 characters), got "alt linux"' }],
  'bad-interval.yaml': [{ path: '/sources/0/interval', message: 'expected a duration such as 30s, 5m or 1h30m, got "30 seconds"' }],
  'bad-interval-zero.yaml': [{ path: '/sources/0/interval', message: 'interval must be between 1s and 24h, got "0s"' }],
  'bad-interval-too-long.yaml': [
    { path: '/sources/0/interval', message: 'interval must be between 1s and 24h, got "4w"' },
    { path: '/sources/0/timeout', message: 'timeout must be between 100ms and 1h, got "2h"' },
  ],
  'bad-events-durations.yaml': [
    { path: '/events/heartbeat_interval', message: 'heartbeat_interval must be between 1s and 1h, got "0s"' },
    { path: '/events/max_lifetime', message: 'max_lifetime must be between 10s and 168h, got "30d"' },
  ],
  'bad-events-coalesce.yaml': [{ path: '/events/write_coalesce', message: 'write_coalesce must be between 0s and 1s, got "5s"' }],
  'bad-girar-resync.yaml': [{ path: '/sources/0/resync_interval', message: 'resync_interval must be between 1s and 1d, got "2d"' }],
  'bad-page-sizes.yaml': [{ path: '/api/default_page_size', message: 'default_page_size (100) must not exceed max_page_size (50)' }],
  'bad-listen-address.yaml': [{ path: '/web/listen_address', message: 'listen_address must be host:port, :port or [ipv6]:port, got "localhost"' }],
  'bad-log-level.yaml': [{ path: '/log/level', message: 'expected one of debug, info, warn, error, got "verbose"' }],
  'bad-env-missing.yaml': [{ path: '/sources/0/headers/authorization', message: 'environment variable BUILDSCOPE_UNSET_VARIABLE is not set' }],
  'bad-events-limit.yaml': [{ path: '/events/max_connections', message: 'expected integer to be greater or equal to 1, got 0' }],
  'bad-girar-missing-url.yaml': [{ path: '/sources/0/url', message: 'missing required key "url"' }],
  'bad-girar-unknown-key.yaml': [{ path: '/sources/0/detail_concurency', message: 'unknown key "detail_concurency" (did you mean "detail_concurrency"?)' }],
  'bad-girar-url.yaml': [{ path: '/sources/0/url', message: 'expected an http:// or https:// URL of the taskoteka API, without a query or fragment, got "ftp://git.altlinux.org/tasks/api"' }],
  'bad-girar-url-query.yaml': [{ path: '/sources/0/url', message: 'expected an http:// or https:// URL of the taskoteka API, without a query or fragment, got "https://git.altlinux.org/tasks/api?token=redacted"' }],
  'bad-girar-time-zone.yaml': [{ path: '/sources/0/time_zone', message: 'unknown time zone "Moscow"; use an IANA name such as UTC or Europe/Moscow' }],
  'bad-girar-transport.yaml': [{ path: '/sources/0/transport', message: 'expected one of taskoteka, fs, got "amqp"' }],
  'bad-apb-nothing-to-poll.yaml': [{ path: '/sources/0/servers', message: 'an apb source needs at least one of `servers` (build server URLs) or `farm` (the farm URL)' }],
  'bad-apb-server-url.yaml': [{ path: '/sources/0/servers/0/url', message: 'expected the http:// or https:// base URL of an apb-server, without credentials, query or fragment (e.g. http://ppc64le-1:8000), got "http://redacted@ppc64le-1.example:8000/"' }],
  'bad-apb-duplicate-server.yaml': [{ path: '/sources/0/servers/1', message: 'server "ppc64le-1.example:8000" is configured twice (also at /servers/0); give each a distinct url or name' }],
  'bad-apb-farm-time-zone.yaml': [{ path: '/sources/0/farm/time_zone', message: 'unknown time zone "CEST"; use an IANA name such as UTC or Europe/Berlin' }],
  'bad-apb-wait.yaml': [{ path: '/sources/0/wait', message: 'wait (10s) must not exceed server_timeout (5s)' }],
  'bad-apb-builds-limit.yaml': [{ path: '/sources/0/builds_limit', message: 'expected integer to be less or equal to 1000, got 5000' }],
  'bad-karajo-url.yaml': [{ path: '/sources/0/url', message: 'expected the http:// or https:// base URL of the karajo server, without credentials, query or fragment (e.g. http://127.0.0.1:31937), got "http://redacted@127.0.0.1:31937/"' }],
  'bad-karajo-user.yaml': [{ path: '/sources/0/user/password', message: 'missing required key "password"' }],
  'bad-cuirass-limits.yaml': [{ path: '/sources/0/queue_limit', message: 'expected integer to be less or equal to 1000, got 5000' }],
  'bad-cuirass-url.yaml': [{ path: '/sources/0/url', message: 'expected the http:// or https:// base URL of `cuirass web`, without credentials, query or fragment (e.g. https://ci.guix.gnu.org), got "ci.guix.gnu.org"' }],
  'bad-koji-tls.yaml': [
    { path: '/sources/0/tls', message: 'tls.cert_file and tls.key_file go together: give both for a client certificate, or neither' },
    { path: '/sources/0/tls/key_passphrase', message: 'tls.key_passphrase needs tls.key_file' },
    { path: '/sources/0/tls', message: 'tls settings need an https:// url' },
    { path: '/sources/0/tls/cert_file', message: 'cannot read "/nonexistent/buildscope/koji.crt" (ENOENT)' },
  ],
  'bad-koji-limits.yaml': [
    { path: '/sources/0/methods/1', message: '"drop table" does not match the pattern ^[A-Za-z][A-Za-z0-9_.]{0,63}$' },
    { path: '/sources/0/page_size', message: 'expected integer to be greater or equal to 10, got 0' },
  ],
  'bad-koji-durations.yaml': [
    { path: '/sources/0/keep_finished', message: 'keep_finished must be between 60s and 2592000s, got "10s"' },
    { path: '/sources/0/overlap', message: 'overlap must be between 0s and 3600s, got "2h"' },
  ],
  'bad-many-problems.yaml': [
    { path: '/log/level', message: 'expected one of debug, info, warn, error, got "loud"' },
    { path: '/sources/0/interval', message: 'expected a duration such as 30s, 5m or 1h30m, got "soon"' },
    { path: '/sources/0/url', message: 'missing required key "url"' },
    { path: '/sources/1/kind', message: 'unknown kind "buildbot"; known kinds: girar, apb, karajo, cuirass, koji' },
  ],
};

async function problemsOf(file: string): Promise<ConfigProblem[]> {
  try {
    await loadConfigFile(`${dir}${file}`, kindSchemas, {}, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config files', () => {
  it('has a test case for every bad file in testdata/', () => {
    const files = readdirSync(dir).filter((f) => f.startsWith('bad-'));
    expect(files.sort()).toEqual(Object.keys(BAD).sort());
  });

  for (const [file, expected] of Object.entries(BAD)) {
    it(`${file} is rejected with its exact problems`, async () => {
      expect(await problemsOf(file)).toEqual(expected);
    });
  }

  it('loads a full good file with defaults filled, env expanded and the result frozen', async () => {
    const cfg = await loadConfigFile(`${dir}good-full.yaml`, kindSchemas, {}, env);
    expect(cfg.listenAddress).toBe('127.0.0.1:10870');
    expect(cfg.logLevel).toBe('debug');
    expect(cfg.api).toEqual({ default_page_size: 100, max_page_size: 500, search_result_cap: 500 });
    expect(cfg.events).toMatchObject({ heartbeatSeconds: 10, max_connections_per_ip: 16, max_connections: 1024, maxLifetimeSeconds: 1800 });
    expect(cfg.sources).toEqual([
      {
        name: 'alt',
        kind: 'girar',
        intervalSeconds: 60,
        timeoutSeconds: 45,
        settings: expect.objectContaining({ transport: 'taskoteka', url: 'https://git.altlinux.org/tasks/api', stream: true, headers: { authorization: 'Bearer s3cret-token' } }),
      },
    ]);
    expect(Object.isFrozen(cfg.sources[0]?.settings)).toBe(true);
  });

  it('accepts the shipped example config (examples/buildscope.yaml)', async () => {
    const cfg = await loadConfigFile(fileURLToPath(new URL('../../../examples/buildscope.yaml', import.meta.url)), kindSchemas, {}, {});
    expect(cfg.sources.map((s) => [s.name, s.kind, s.intervalSeconds])).toEqual([['alt', 'girar', 60], ['archpower', 'apb', 30], ['cron', 'karajo', 30], ['guix-ci', 'cuirass', 60], ['fedora', 'koji', 60]]);
  });

  it('lets flags override the file', async () => {
    const cfg = await loadConfigFile(`${dir}good-full.yaml`, kindSchemas, { listenAddress: ':9999', logLevel: 'warn' }, env);
    expect([cfg.listenAddress, cfg.logLevel]).toEqual([':9999', 'warn']);
  });

  it('names an unreadable file', async () => {
    await expect(loadConfigFile(`${dir}does-not-exist.yaml`, kindSchemas)).rejects.toThrow(/does-not-exist.yaml: 1 problem:\n {2}\/: cannot read the file: ENOENT/);
  });

  it('never prints a secret header value in a problem', () => {
    const text = 'sources:\n  - name: alt\n    kind: girar\n    url: https://x.org\n    headers:\n      authorization: 12345678\n';
    try {
      parseConfig(text, 'inline.yaml', kindSchemas);
      expect.unreachable('should have failed');
    } catch (err) {
      expect((err as Error).message).not.toContain('12345678');
      expect((err as ConfigError).problems).toEqual([{ path: '/sources/0/headers/authorization', message: 'expected string, got <redacted>' }]);
    }
  });

  it('never prints credentials of a URL, nor a value taken from the environment', () => {
    const withUserinfo = 'sources:\n  - name: alt\n    kind: girar\n    url: ftp://user:hunter2@host/api\n';
    const fromEnv = 'sources:\n  - name: alt\n    kind: girar\n    url: ${TASKOTEKA_URL}\n';
    const problems = (text: string, env: NodeJS.ProcessEnv = {}) => {
      try {
        parseConfig(text, 'inline.yaml', kindSchemas, {}, env);
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    };
    expect(problems(withUserinfo)).toEqual([{ path: '/sources/0/url', message: 'expected an http:// or https:// URL of the taskoteka API, without a query or fragment, got "ftp://redacted@host/api"' }]);
    expect(problems(fromEnv, { TASKOTEKA_URL: 'gopher://secret-host/x' })).toEqual([{ path: '/sources/0/url', message: 'expected an http:// or https:// URL of the taskoteka API, without a query or fragment, got <redacted>' }]);
  });
});

describe('journal settings', () => {
  const base = 'sources:\n  - name: alt\n    kind: girar\n    url: http://127.0.0.1:9/\n';
  it('default to data/buildscope.db; off with enabled: false; the flag overrides both', () => {
    expect(parseConfig(base, 'a.yaml', kindSchemas).journal).toEqual({ path: 'data/buildscope.db' });
    expect(parseConfig(`journal:\n  enabled: false\n${base}`, 'a.yaml', kindSchemas).journal).toEqual({});
    expect(parseConfig(`journal:\n  enabled: false\n${base}`, 'a.yaml', kindSchemas, { journalPath: 'j.db' }).journal).toEqual({ path: 'j.db' });
  });

  it('name every bad key', () => {
    let err: unknown;
    try {
      parseConfig(`journal:\n  path: ""\n  enabled: yes please\n  size: 1\n${base}`, 'a.yaml', kindSchemas);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const paths = (err as ConfigError).problems.map((p) => p.path).sort();
    expect(paths).toEqual(['/journal/enabled', '/journal/path', '/journal/size']);
  });
});
