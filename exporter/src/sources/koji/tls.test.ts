/**
 * A hub that wants a client certificate: the koji source presents the configured one (PEM files,
 * an encrypted key with its passphrase) and checks the hub against the configured CA. Without the
 * certificate the handshake fails; an unreadable file fails this source with a `config` error that
 * names the file and never its contents. Certificates are made per run with openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../../../../test/support/tools.js';
import { ManualClock } from '../../util/clock.js';
import { SourceError } from '../errors.js';
import { UpstreamHttp } from '../http.js';
import { KojiAdapter } from './adapter.js';
import { parseKojiConfig, validateKojiConfig } from './config.js';
import { KojiSimulator } from './simulator.js';
import { unreadableTlsFiles } from './tls.js';

const openssl = requireTool('openssl', 'openssl');
const PASSPHRASE = 'planted-koji-passphrase-7f3a';

describe.skipIf(!openssl)('koji source over TLS with a client certificate', () => {
  let dir: string;
  let sim: KojiSimulator;
  let base: string;
  const file = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync(openssl as string, args, { stdio: 'ignore' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'buildscope-koji-tls-'));
    // A CA, a server certificate for 127.0.0.1 and a client certificate (with an encrypted key), all signed by the CA.
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '1', '-subj', '/CN=test koji CA');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('hub.key'), '-out', file('hub.csr'), '-subj', '/CN=127.0.0.1');
    writeFileSync(file('hub.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', file('hub.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('hub.crt'), '-days', '1', '-extfile', file('hub.ext'));
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-passout', `pass:${PASSPHRASE}`, '-keyout', file('client.key'), '-out', file('client.csr'), '-subj', '/CN=buildscope');
    ssl('x509', '-req', '-in', file('client.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('client.crt'), '-days', '1');
    sim = new KojiSimulator({ clock: new ManualClock(), manual: true, tls: { cert: readFileSync(file('hub.crt')), key: readFileSync(file('hub.key')), ca: readFileSync(file('ca.crt')), requestCert: true } });
    base = await sim.listen();
  }, 30_000);

  afterAll(async () => {
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const adapter = (tls: Record<string, string>) => new KojiAdapter(parseKojiConfig({ url: `${base}/kojihub`, tls }), { name: 'secure', log: pino({ level: 'silent' }), clock: new ManualClock(), http: new UpstreamHttp(), pollTimeoutSeconds: 10 });

  it('polls with the client certificate and the configured CA', async () => {
    expect(base).toMatch(/^https:/);
    const a = adapter({ cert_file: file('client.crt'), key_file: file('client.key'), key_passphrase: PASSPHRASE, ca_file: file('ca.crt') });
    const snap = await a.poll(AbortSignal.timeout(10_000));
    expect(snap.workers?.length).toBe(4);
    await a.close();
  });

  it('fails the handshake without a client certificate, and says so without the passphrase', async () => {
    const a = adapter({ ca_file: file('ca.crt') });
    const err = (await a.poll(AbortSignal.timeout(10_000)).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.code).toBe('network');
    await a.close();
    const wrong = adapter({ cert_file: file('client.crt'), key_file: file('client.key'), key_passphrase: 'not-it', ca_file: file('ca.crt') });
    const bad = (await wrong.poll(AbortSignal.timeout(10_000)).catch((e: unknown) => e)) as Error;
    expect(bad).toBeInstanceOf(Error);
    expect(bad.message).not.toContain('not-it');
    await wrong.close();
  });

  it('an unreadable file fails only this source with a config error naming the file; --config.check reports it', async () => {
    const missing = file('nope.crt');
    const a = adapter({ cert_file: missing, key_file: file('client.key'), key_passphrase: PASSPHRASE });
    const err = (await a.poll(AbortSignal.timeout(10_000)).catch((e: unknown) => e)) as SourceError;
    expect(err.code).toBe('config');
    expect(err.message).toContain(missing);
    expect(err.message).toContain('ENOENT');
    expect(err.message).not.toContain(PASSPHRASE);
    expect(a.endpoints()[0]).toMatchObject({ reachable: false });
    expect(unreadableTlsFiles({ cert_file: missing, key_file: file('client.key') })).toEqual([{ path: '/tls/cert_file', message: `cannot read ${JSON.stringify(missing)} (ENOENT)` }]);
    expect(readFileSync(file('client.key'), 'utf8')).toContain('ENCRYPTED');
  });

  it('rejects half a key pair and tls on a plain http url', () => {
    const cfg = (tls: Record<string, string>, url = `${base}/kojihub`) => validateKojiConfig({ ...parseKojiConfig({ url }), tls });
    expect(cfg({ cert_file: 'a.crt' })).toEqual([{ path: '/tls', message: expect.stringContaining('go together') as unknown as string }]);
    expect(cfg({ ca_file: 'ca.crt' }, 'http://hub.example/kojihub')).toEqual([{ path: '/tls', message: 'tls settings need an https:// url' }]);
  });
});
