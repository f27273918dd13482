/**
 * Config keys of a `koji` source block. The core config validates the common keys (`name`,
 * `kind`, `interval`, `timeout`) and strips them before this schema sees the block.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DURATION_PATTERN, parseDuration } from '../../util/duration.js';
import { DEFAULT_MAX_BODY_BYTES } from '../http.js';

/**
 * Task methods exported by name in method-labelled metrics; any other method is `other`. Koji's
 * methods are a small fixed set (kojid's handlers), so this bounds the `method` label.
 */
export const DEFAULT_METHODS = [
  'build', 'buildArch', 'buildSRPMFromSCM', 'buildNotification', 'tagBuild', 'tagNotification',
  'newRepo', 'createrepo', 'distRepo', 'createdistrepo', 'waitrepo', 'chainbuild',
  'image', 'createImage', 'livecd', 'createLiveCD', 'livemedia', 'createLiveMedia', 'appliance',
  'buildContainer', 'createContainer', 'maven', 'buildMaven', 'wrapperRPM', 'runroot', 'vmExec', 'dependantTask',
];

const durationKey = (description: string, def: string) => Type.String({ pattern: DURATION_PATTERN, default: def, description });

export const kojiConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$',
      errorMessage: 'expected the http:// or https:// URL of the hub\'s XML-RPC endpoint, without credentials, query or fragment (e.g. https://koji.fedoraproject.org/kojihub)',
      description: 'The hub\'s XML-RPC URL (ends in /kojihub on a standard install).',
    }),
    web_url: Type.Optional(Type.String({
      pattern: '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$',
      errorMessage: 'expected the http:// or https:// base URL of kojiweb (e.g. https://koji.fedoraproject.org/koji)',
      description: 'Base URL of kojiweb, for links to task, build and host pages. Default: `url` with /kojihub replaced by /koji.',
    })),
    tls: Type.Optional(Type.Object({
      cert_file: Type.Optional(Type.String({ minLength: 1, description: 'Client certificate (PEM) for hubs that require one.' })),
      key_file: Type.Optional(Type.String({ minLength: 1, description: 'Its private key (PEM). Never logged.' })),
      key_passphrase: Type.Optional(Type.String({ description: 'Passphrase of an encrypted key. A secret: use ${ENV}.' })),
      ca_file: Type.Optional(Type.String({ minLength: 1, description: 'CA bundle (PEM) the hub\'s certificate is checked against, instead of the system store.' })),
    }, { additionalProperties: false, description: 'TLS client settings for an https hub.' })),
    methods: Type.Array(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.]{0,63}$' }), {
      maxItems: 100,
      uniqueItems: true,
      default: DEFAULT_METHODS,
      description: 'Task methods named in the `method` label; any other is `other`.',
    }),
    look_back: durationKey('How far back the first poll reads finished tasks and builds (they are shown, not counted).', '1h'),
    page_size: Type.Integer({ minimum: 10, maximum: 5000, default: 500, description: 'Rows asked for per listing call (queryOpts.limit); a full page is continued on the next poll.' }),
    keep_finished: durationKey('How long a finished task or build stays in the exporter after it ended.', '6h'),
    max_tasks: Type.Integer({ minimum: 100, maximum: 1_000_000, default: 20_000, description: 'Tasks and builds held at most; the oldest finished go first.' }),
    audit_budget: Type.Integer({ minimum: 0, maximum: 2000, default: 100, description: 'Unfinished tasks re-read by id per poll (longest unchecked first), so one missed change is corrected.' }),
    channels_interval: durationKey('How often the hosts of each channel are read again (listHosts per channel).', '10m'),
    host_stale_after: durationKey('A host whose last check-in (update_ts) is older than this is down.', '5m'),
    overlap: durationKey('Each incremental listing starts this far before the newest time already seen, for rows committed late.', '2m'),
    max_body_bytes: Type.Integer({ minimum: 1024, default: DEFAULT_MAX_BODY_BYTES, description: 'Largest response accepted, in bytes.' }),
  },
  { additionalProperties: false },
);

export type KojiConfig = Static<typeof kojiConfigSchema>;

export function parseKojiConfig(raw: unknown): KojiConfig {
  const value = Value.Default(kojiConfigSchema, structuredClone(raw));
  const first = Value.Errors(kojiConfigSchema, value).First();
  if (first) throw new Error(`invalid koji source config at ${first.path || '/'}: ${first.message}`);
  const problems = validateKojiConfig(value as KojiConfig);
  if (problems[0]) throw new Error(`invalid koji source config at ${problems[0].path}: ${problems[0].message}`);
  return value as KojiConfig;
}

const RANGES: [key: 'look_back' | 'keep_finished' | 'channels_interval' | 'host_stale_after' | 'overlap', min: number, max: number][] = [
  ['look_back', 0, 7 * 86_400],
  ['keep_finished', 60, 30 * 86_400],
  ['channels_interval', 10, 86_400],
  ['host_stale_after', 30, 86_400],
  ['overlap', 0, 3600],
];

export function validateKojiConfig(config: KojiConfig): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const [key, min, max] of RANGES) {
    const s = parseDuration(config[key]);
    if (s === undefined || s < min || s > max) out.push({ path: `/${key}`, message: `${key} must be between ${min}s and ${max}s, got ${JSON.stringify(config[key])}` });
  }
  const tls = config.tls;
  if (tls) {
    if ((tls.cert_file === undefined) !== (tls.key_file === undefined)) out.push({ path: '/tls', message: 'tls.cert_file and tls.key_file go together: give both for a client certificate, or neither' });
    if (tls.key_passphrase !== undefined && tls.key_file === undefined) out.push({ path: '/tls/key_passphrase', message: 'tls.key_passphrase needs tls.key_file' });
    if (!config.url.startsWith('https://')) out.push({ path: '/tls', message: 'tls settings need an https:// url' });
  }
  return out;
}

/** kojiweb's base: `web_url`, else the hub URL with its trailing /kojihub replaced by /koji. */
export function webBase(config: Pick<KojiConfig, 'url' | 'web_url'>): string {
  if (config.web_url) return config.web_url.replace(/\/+$/, '');
  const hub = config.url.replace(/\/+$/, '');
  return /\/kojihub$/.test(hub) ? hub.replace(/\/kojihub$/, '/koji') : hub;
}
