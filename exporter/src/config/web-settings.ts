/** The `web:` access-control and limit keys of the config file, turned into WebSettings (token files read). */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDuration } from '../util/duration.js';
import type { ConfigProblem } from './problems.js';
import { DEFAULT_WEB_SETTINGS, type FileConfig, type WebSettings } from './schema.js';

/** Bearer tokens shorter than this are refused: they could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

export function webSettings(web: FileConfig['web'], file: string, problems: ConfigProblem[]): WebSettings {
  const d = DEFAULT_WEB_SETTINGS;
  const tokens: { name: string; token: string }[] = [];
  const names = new Set<string>();
  (web?.bearer_tokens ?? []).forEach((t, i) => {
    const at = `/web/bearer_tokens/${i}`;
    if (names.has(t.name)) problems.push({ path: `${at}/name`, message: `duplicate token name "${t.name}"; names must be unique` });
    names.add(t.name);
    if ((t.token === undefined) === (t.token_file === undefined)) {
      problems.push({ path: at, message: 'give exactly one of token (e.g. token: ${GRAFANA_TOKEN}) or token_file' });
      return;
    }
    let token = t.token;
    if (t.token_file !== undefined) {
      const path = isAbsolute(t.token_file) ? t.token_file : resolve(dirname(resolve(file)), t.token_file);
      try {
        token = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        problems.push({ path: `${at}/token_file`, message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
        return;
      }
    }
    // Never echo the token: only its length.
    if (token === undefined || token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      problems.push({ path: at, message: `the token of "${t.name}" must be at least ${MIN_TOKEN_LENGTH} characters without white space (got ${token?.length ?? 0} characters); e.g. openssl rand -hex 32` });
      return;
    }
    tokens.push({ name: t.name, token });
  });
  const auth = { ...d.auth, ...(web?.auth ?? {}) };
  for (const [area, mode] of Object.entries(auth)) {
    if (mode === 'bearer' && (web?.bearer_tokens ?? []).length === 0) {
      problems.push({ path: `/web/auth/${area}`, message: `${area} is "bearer" but web.bearer_tokens is empty; add a token or choose another mode` });
    }
  }
  const windowSeconds = web?.rate_limit ? parseDuration(web.rate_limit.window) : d.rateLimit.windowSeconds;
  if (windowSeconds !== undefined && (windowSeconds < 1 || windowSeconds > 86_400)) {
    problems.push({ path: '/web/rate_limit/window', message: `window must be between 1s and 1d, got "${web?.rate_limit?.window ?? ''}"` });
  }
  return {
    auth,
    bearerTokens: tokens,
    corsOrigins: web?.cors?.allowed_origins ?? [],
    rateLimit: { max: web?.rate_limit?.max ?? d.rateLimit.max, windowSeconds: windowSeconds ?? d.rateLimit.windowSeconds },
    maxUrlLength: web?.max_url_length ?? d.maxUrlLength,
  };
}
