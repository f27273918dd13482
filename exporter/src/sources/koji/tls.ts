/**
 * TLS client settings for an https hub: a client certificate and key (hubs that require one)
 * and a CA bundle. Files are read when the source first polls, so a missing file fails this
 * source with a clear error and leaves the others running. Key material never reaches a message.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { SourceError } from '../errors.js';
import type { KojiConfig } from './config.js';

export function tlsAgent(tls: NonNullable<KojiConfig['tls']>): Agent {
  const read = (what: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new SourceError('config', `cannot read tls.${what} ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}; check the path and that the exporter's user may read it`);
    }
  };
  const cert = read('cert_file', tls.cert_file);
  const key = read('key_file', tls.key_file);
  const ca = read('ca_file', tls.ca_file);
  return new Agent({
    connect: {
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(tls.key_passphrase !== undefined ? { passphrase: tls.key_passphrase } : {}),
      ...(ca ? { ca } : {}),
    },
  });
}

/** Files named in the tls block that cannot be read now (for `--config.check`); names paths, never contents. */
export function unreadableTlsFiles(tls: KojiConfig['tls']): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const key of ['cert_file', 'key_file', 'ca_file'] as const) {
    const file = tls?.[key];
    if (file === undefined) continue;
    try {
      readFileSync(file, { flag: 'r' }).subarray(0, 0);
    } catch (err) {
      out.push({ path: `/tls/${key}`, message: `cannot read ${JSON.stringify(file)} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    }
  }
  return out;
}
