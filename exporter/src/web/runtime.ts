/**
 * The web config file at run time: the config in force, TLS for the server (Node https), and
 * reloading. At most about once a second, on a new connection or request, the file and the
 * certificate, key and client CA files it names are checked (mtime and size); when one changed
 * the file is re-read and, when valid, takes effect for new connections (`setSecureContext`) and
 * requests. A file that became invalid keeps the last good config in force and logs the problem
 * once (never a secret).
 */
import { statSync } from 'node:fs';
import type { Server as NetServer, Socket } from 'node:net';
import { createSecureContext, type SecureContextOptions, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import type { AuthMode, WebSettings } from '../config/schema.js';
import type { UsersSource } from './authenticator.js';
import { loadWebConfigFile, referencedFiles, secureContextOptions, WebConfigError, type ClientAuthType, type WebConfig } from './web-config.js';

const CHECK_INTERVAL_MS = 1000;

/** What the app needs from the web config file (see ApiDeps.webConfig). */
export interface WebConfigSource extends UsersSource {
  /** Reload if the file changed (cheap: throttled). */
  check(): void;
  /** Extra response headers from http_server_config.headers. */
  headers(): Readonly<Record<string, string>>;
}

function signatureOf(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${f}:${s.mtimeMs}:${s.size}:${s.ino}`;
      } catch {
        return `${f}:missing`;
      }
    })
    .join('|');
}

function clientCertOptions(auth: ClientAuthType): { requestCert: boolean; rejectUnauthorized: boolean } {
  return { requestCert: auth !== 'NoClientCert', rejectUnauthorized: auth === 'RequireAndVerifyClientCert' };
}

/** The problems of an auth setup that can never admit anyone (an area needing basic auth without users). */
export function authSetupProblems(settings: Pick<WebSettings, 'auth'>, web: WebConfig | undefined): string[] {
  const needsUsers = (Object.entries(settings.auth) as [string, AuthMode][]).filter(([, mode]) => mode === 'basic');
  if (needsUsers.length === 0 || (web?.users.size ?? 0) > 0) return [];
  const where = web ? `the web config file ${web.file} has no basic_auth_users` : 'no --web.config.file with basic_auth_users is given';
  return needsUsers.map(([area]) => `web.auth.${area} is "basic" but ${where}; add users or choose another mode`);
}

export class WebRuntime implements WebConfigSource {
  private config: WebConfig;
  private tlsOptions: SecureContextOptions | undefined;
  private signature: string;
  private failedSignature: string | undefined;
  private lastCheck = Number.NEGATIVE_INFINITY;
  private server: TlsServer | undefined;
  private log: FastifyBaseLogger | undefined;

  /** Load and check the file; throws WebConfigError (naming the file and the problem). */
  constructor(
    readonly file: string,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.config = loadWebConfigFile(file);
    this.tlsOptions = secureContextOptions(this.config, createSecureContext);
    this.signature = signatureOf([file, ...referencedFiles(this.config)]);
  }

  get current(): WebConfig {
    return this.config;
  }

  users(): ReadonlyMap<string, string> {
    return this.config.users;
  }

  headers(): Readonly<Record<string, string>> {
    return this.config.headers;
  }

  /** The `https` server options when the file configures TLS (undefined: plain HTTP). */
  httpsOptions(): (SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean }) | undefined {
    const tls = this.config.tls;
    if (!tls || !this.tlsOptions) return undefined;
    return { ...this.tlsOptions, ...clientCertOptions(tls.clientAuth) };
  }

  /**
   * Hook the server: check for changes before each new connection's TLS handshake starts (so a
   * new certificate is used at once), and enforce the client-certificate policies Node's options
   * cannot express (RequireAnyClientCert, VerifyClientCertIfGiven, client_allowed_sans).
   */
  attach(server: NetServer, log: FastifyBaseLogger): void {
    this.log = log;
    server.prependListener('connection', () => this.check());
    if (this.config.tls) {
      this.server = server as TlsServer;
      server.prependListener('secureConnection', (socket: TLSSocket) => this.verifyClient(socket));
    }
  }

  private verifyClient(socket: TLSSocket): void {
    const tls = this.config.tls;
    if (!tls) return;
    const cert = socket.getPeerCertificate();
    const hasCert = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
    let reason: string | undefined;
    if (tls.clientAuth === 'RequireAnyClientCert' && !hasCert) reason = 'no client certificate';
    else if (tls.clientAuth === 'VerifyClientCertIfGiven' && hasCert && !socket.authorized) reason = `client certificate not verified (${String(socket.authorizationError)})`;
    else if (tls.clientAuth === 'RequireAndVerifyClientCert' && !socket.authorized) reason = `client certificate not verified (${String(socket.authorizationError)})`;
    else if (tls.clientAllowedSans.length > 0) {
      const sans = (cert.subjectaltname ?? '').split(',').map((s) => s.trim().replace(/^[^:]+:/, ''));
      if (!sans.some((s) => tls.clientAllowedSans.includes(s))) reason = 'client certificate has none of client_allowed_sans';
    }
    if (reason === undefined) return;
    this.log?.info({ peer: (socket as Socket).remoteAddress, reason }, 'TLS client refused');
    socket.destroy();
  }

  /** Reload when the file or a file it names changed (at most once per CHECK_INTERVAL_MS). */
  check(): void {
    const now = this.now();
    if (now - this.lastCheck < CHECK_INTERVAL_MS) return;
    this.lastCheck = now;
    const signature = signatureOf([this.file, ...referencedFiles(this.config)]);
    if (signature === this.signature || signature === this.failedSignature) return;
    try {
      this.reload();
      this.signature = signatureOf([this.file, ...referencedFiles(this.config)]);
      this.failedSignature = undefined;
    } catch (err) {
      this.failedSignature = signature;
      const message = err instanceof WebConfigError ? err.message : `web config file ${this.file}: ${(err as Error).message}`;
      this.log?.error({ file: this.file }, `${message}; keeping the last good web config`);
    }
  }

  private reload(): void {
    const next = loadWebConfigFile(this.file);
    if (Boolean(next.tls) !== Boolean(this.config.tls)) {
      throw new WebConfigError(this.file, [`switching between ${this.config.tls ? 'HTTPS' : 'HTTP'} and ${next.tls ? 'HTTPS' : 'HTTP'} needs a restart`]);
    }
    const tlsOptions = secureContextOptions(next, createSecureContext);
    if (this.server && tlsOptions && next.tls) {
      this.server.setSecureContext(tlsOptions);
      // Read by Node for each new connection.
      Object.assign(this.server, clientCertOptions(next.tls.clientAuth));
    }
    this.config = next;
    this.tlsOptions = tlsOptions;
    this.log?.info({ file: this.file, tls: Boolean(next.tls), users: next.users.size }, 'web config reloaded');
  }
}
