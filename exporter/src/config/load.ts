/**
 * Config loading: YAML -> `${ENV}` expansion -> defaults -> validation (every problem, with its
 * path) -> a frozen AppConfig. Flags override the file; `--demo` builds a config without a file.
 */
import { readFile } from 'node:fs/promises';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { parseListenAddress } from '../cli/listen-address.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { COMMON_SOURCE_KEYS, DEFAULT_LISTEN_ADDRESS, DEFAULT_WEB_SETTINGS, fileSchema, type AppConfig, type FileConfig, type SourceConfig } from './schema.js';
import { describeErrors, type ConfigProblem } from './problems.js';
import { webSettings } from './web-settings.js';

export type { ConfigProblem } from './problems.js';

/** Anything that can tell the config schema of a source kind (the source registry). */
export interface KindSchemas {
  kinds(): string[];
  /** The schema of a block of this kind (`block` without the common keys picks a variant). */
  schemaOf(kind: string, block?: Record<string, unknown>): TSchema | undefined;
  /** Further checks of a schema-valid block (paths relative to the block). */
  validate?(kind: string, settings: Record<string, unknown>): ConfigProblem[];
}

export interface Overrides {
  listenAddress?: string;
  logLevel?: AppConfig['logLevel'];
  /** --journal.path: the journal file (also turns the journal on in demo mode). */
  journalPath?: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p.path || '/'}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export async function loadConfigFile(file: string, kinds: KindSchemas, overrides: Overrides = {}, env: NodeJS.ProcessEnv = process.env): Promise<AppConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return parseConfig(text, file, kinds, overrides, env);
}

export function parseConfig(text: string, file: string, kinds: KindSchemas, overrides: Overrides = {}, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: '', message: `YAML syntax error: ${e.message.split('\n')[0]}` })),
    );
  }
  const problems: ConfigProblem[] = [];
  const fromEnv = new Set<string>();
  const raw = expandEnv(doc.toJS() ?? {}, '', env, problems, fromEnv);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '', message: 'the file must hold a YAML mapping with at least a `sources` list' }]);
  }
  const withDefaults = Value.Default(fileSchema, structuredClone(raw)) as unknown;
  problems.push(...describeErrors(fileSchema, withDefaults, '', fromEnv));
  const blocks = (withDefaults as { sources?: unknown }).sources;
  const sources = Array.isArray(blocks) ? checkSources(blocks, kinds, problems, fromEnv) : [];
  if (problems.length > 0) throw new ConfigError(file, problems);
  const cfg = withDefaults as FileConfig;
  checkSettings(cfg, overrides, problems);
  const web = webSettings(cfg.web, file, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);

  return deepFreeze({
    listenAddress: overrides.listenAddress ?? cfg.web?.listen_address ?? DEFAULT_LISTEN_ADDRESS,
    logLevel: overrides.logLevel ?? cfg.log?.level ?? 'info',
    demo: false,
    api: cfg.api,
    events: eventsSettings(cfg.events),
    journal: overrides.journalPath !== undefined ? { path: overrides.journalPath } : cfg.journal.enabled ? { path: cfg.journal.path } : {},
    sources,
    web,
  });
}

/**
 * Bounds of a duration. The upper bounds keep every timer under Node's setTimeout limit
 * (about 24.8 days), beyond which a timer fires at once and a poll loop would spin.
 */
function checkRange(problems: ConfigProblem[], path: string, what: string, raw: unknown, seconds: number | undefined, min: number, max: number): void {
  if (seconds === undefined) return;
  if (seconds < min || seconds > max) {
    problems.push({ path, message: `${what} must be between ${formatDuration(min)} and ${formatDuration(max)}, got "${String(raw)}"` });
  }
}

/** Checks across keys, and of values a schema cannot express. */
function checkSettings(cfg: FileConfig, overrides: Overrides, problems: ConfigProblem[]): void {
  const e = cfg.events;
  checkRange(problems, '/events/heartbeat_interval', 'heartbeat_interval', e.heartbeat_interval, parseDuration(e.heartbeat_interval), 1, 3600);
  checkRange(problems, '/events/max_lifetime', 'max_lifetime', e.max_lifetime, parseDuration(e.max_lifetime), 10, 7 * 86_400);
  checkRange(problems, '/events/write_coalesce', 'write_coalesce', e.write_coalesce, parseDuration(e.write_coalesce), 0, 1);
  if (cfg.api.default_page_size > cfg.api.max_page_size) {
    problems.push({ path: '/api/default_page_size', message: `default_page_size (${cfg.api.default_page_size}) must not exceed max_page_size (${cfg.api.max_page_size})` });
  }
  const listen = cfg.web?.listen_address;
  if (listen !== undefined && overrides.listenAddress === undefined) {
    try {
      parseListenAddress(listen);
    } catch (err) {
      problems.push({ path: '/web/listen_address', message: (err as Error).message.replace('--web.listen-address', 'listen_address') });
    }
  }
}

/** Kind-level checks of each source block that is well-formed enough to have a name and a kind. */
function checkSources(blocks: unknown[], kinds: KindSchemas, problems: ConfigProblem[], fromEnv: ReadonlySet<string>): SourceConfig[] {
  const sources: SourceConfig[] = [];
  const names = new Map<string, number>();
  blocks.forEach((raw, i) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return;
    const block = raw as Record<string, unknown>;
    const at = `/sources/${i}`;
    if (typeof block.name !== 'string' || typeof block.kind !== 'string') return;
    const first = names.get(block.name);
    if (first !== undefined) problems.push({ path: `${at}/name`, message: `duplicate source name "${block.name}" (also /sources/${first}/name); names must be unique` });
    else names.set(block.name, i);
    const settings: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(block)) if (!(COMMON_SOURCE_KEYS as readonly string[]).includes(k)) settings[k] = v;
    const schema = kinds.schemaOf(block.kind, settings);
    if (!schema) {
      problems.push({ path: `${at}/kind`, message: `unknown kind "${block.kind}"; known kinds: ${kinds.kinds().join(', ')}` });
      return;
    }
    const filled = Value.Default(schema, settings) as Record<string, unknown>;
    const schemaProblems = describeErrors(schema, filled, at, fromEnv);
    problems.push(...schemaProblems);
    if (schemaProblems.length === 0) for (const p of kinds.validate?.(block.kind, filled) ?? []) problems.push({ path: `${at}${p.path}`, message: p.message });
    const intervalSeconds = typeof block.interval === 'string' ? parseDuration(block.interval) : undefined;
    const timeoutSeconds = typeof block.timeout === 'string' ? parseDuration(block.timeout) : undefined;
    checkRange(problems, `${at}/interval`, 'interval', block.interval, intervalSeconds, 1, 86_400);
    checkRange(problems, `${at}/timeout`, 'timeout', block.timeout, timeoutSeconds, 0.1, 3600);
    sources.push({ name: block.name, kind: block.kind, intervalSeconds: intervalSeconds ?? 0, timeoutSeconds: timeoutSeconds ?? 0, settings: filled });
  });
  return sources;
}

/** Config for demo mode: the given sources (pointing at simulators) and defaults for the rest. */
export function demoConfig(sources: SourceConfig[], overrides: Overrides = {}): AppConfig {
  const cfg = Value.Default(fileSchema, { sources: [] }) as FileConfig;
  return deepFreeze({
    listenAddress: overrides.listenAddress ?? DEFAULT_LISTEN_ADDRESS,
    logLevel: overrides.logLevel ?? 'info',
    demo: true,
    api: cfg.api,
    events: eventsSettings(cfg.events),
    // The simulators start afresh each run, so the demo keeps nothing unless asked to.
    journal: overrides.journalPath !== undefined ? { path: overrides.journalPath } : {},
    sources,
    // A loopback playground that load and soak tests drive hard: no API rate limit.
    web: { ...DEFAULT_WEB_SETTINGS, rateLimit: { ...DEFAULT_WEB_SETTINGS.rateLimit, max: 0 } },
  });
}

function eventsSettings(e: FileConfig['events']): AppConfig['events'] {
  const { heartbeat_interval, max_lifetime, write_coalesce, ...rest } = e;
  return {
    ...rest,
    heartbeatSeconds: parseDuration(heartbeat_interval) ?? 15,
    maxLifetimeSeconds: parseDuration(max_lifetime) ?? 1800,
    coalesceMs: Math.round((parseDuration(write_coalesce) ?? 0.01) * 1000),
  };
}

/** Replace `${NAME}` in string values from the environment (for secrets kept out of the file). */
function expandEnv(value: unknown, path: string, env: NodeJS.ProcessEnv, problems: ConfigProblem[], fromEnv: Set<string>): unknown {
  if (typeof value === 'string') {
    if (/\$\{[A-Za-z_][A-Za-z0-9_]*\}/.test(value)) fromEnv.add(path);
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) {
        problems.push({ path, message: `environment variable ${name} is not set` });
        return '';
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, `${path}/${i}`, env, problems, fromEnv));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, `${path}/${k}`, env, problems, fromEnv)]));
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
