/**
 * Every error the API returns is `{"error": "<what is wrong and what to do>"}` with a 4xx/5xx
 * status: our own ApiErrors, fastify's schema validation failures (rewritten to name the
 * parameter), unknown routes, internal failures (logged, never leaked as stack traces), and the
 * errors fastify and Node raise before any route runs (`frameworkErrorOptions`: a path that is not
 * valid percent-encoding, a request the HTTP parser rejects).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

/** An error meant for the client: its message is the `error` text of the response. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: 400 | 401 | 403 | 404 | 413 | 414 | 429 | 502 | 503 | 504,
    message: string,
    /** Extra response headers, e.g. `Retry-After`. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, message);
}

export function notFound(message: string): ApiError {
  return new ApiError(404, message);
}

export interface ErrorBody {
  error: string;
}

/** One ajv error as fastify attaches it to a validation failure. */
interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

const CONTEXT_NOUN: Record<string, string> = {
  querystring: 'query parameter',
  params: 'path parameter',
  headers: 'header',
  body: 'body field',
};

/** A client-facing sentence for a schema validation failure, naming the parameter. */
export function describeValidation(context: string | undefined, issues: readonly ValidationIssue[], input: unknown): string {
  const noun = CONTEXT_NOUN[context ?? ''] ?? 'parameter';
  const issue = issues[0];
  if (!issue) return `invalid ${noun}`;
  if (issue.keyword === 'required' && typeof issue.params.missingProperty === 'string') {
    return `${noun} "${issue.params.missingProperty}" is required`;
  }
  if (issue.keyword === 'additionalProperties' && typeof issue.params.additionalProperty === 'string') {
    return `unknown ${noun} "${issue.params.additionalProperty}"`;
  }
  const name = issue.instancePath.split('/').filter(Boolean)[0] ?? '';
  const given = valueOf(input, name);
  const shown = given === undefined ? '' : ` (got ${JSON.stringify(given)})`;
  let rule = issue.message ?? 'is invalid';
  if (issue.keyword === 'enum' && Array.isArray(issue.params.allowedValues)) {
    rule = `must be one of: ${issue.params.allowedValues.map(String).join(', ')}`;
  }
  return `${noun} "${name}" ${rule}${shown}`;
}

function valueOf(input: unknown, name: string): unknown {
  if (input === null || typeof input !== 'object' || name === '') return undefined;
  return (input as Record<string, unknown>)[name];
}

function inputOf(request: FastifyRequest, context: string | undefined): unknown {
  switch (context) {
    case 'querystring':
      return request.query;
    case 'params':
      return request.params;
    case 'headers':
      return request.headers;
    default:
      return undefined;
  }
}

/** Install the JSON error handler and the JSON 404 handler on the (root) instance. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) {
      return reply.code(err.statusCode).headers(err.headers).send({ error: err.message } satisfies ErrorBody);
    }
    if (err.validation) {
      const message = describeValidation(err.validationContext, err.validation as ValidationIssue[], inputOf(request, err.validationContext));
      return reply.code(400).send({ error: `${message}; see /openapi.json for the parameters of ${request.routeOptions.url ?? request.url}` } satisfies ErrorBody);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: `the request body is too large (at most ${request.routeOptions.bodyLimit ?? 0} bytes): the API is read-only and takes no request bodies` } satisfies ErrorBody);
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status < 500) {
      return reply.code(status).send({ error: err.message } satisfies ErrorBody);
    }
    request.log.error({ err }, 'request failed');
    return reply.code(status).send({ error: `internal error while serving ${request.method} ${request.url}; the exporter log has the details` } satisfies ErrorBody);
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? request.url;
    return reply.code(404).send({ error: `no route ${request.method} ${path}; the API is described at /openapi.json` } satisfies ErrorBody);
  });
}

/**
 * The answer to a request fastify could not route: `FST_ERR_BAD_URL` (the path is not valid
 * percent-encoded UTF-8, e.g. `/api/v1/tasks/alt/%ff`) and `FST_ERR_ASYNC_CONSTRAINT`. Without it
 * fastify answers them with its own `{"error":"Bad Request","code":...}` body.
 */
export function frameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_BAD_URL') {
    const path = request.url.split('?')[0] ?? request.url;
    void reply.code(400).send({
      error: `the path ${path} is not valid percent-encoding: encode every byte outside printable ASCII as UTF-8 %XX escapes (e.g. %C3%A9 for é) and a literal % as %25`,
    } satisfies ErrorBody);
    return;
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status < 500) {
    void reply.code(status).send({ error: err.message } satisfies ErrorBody);
    return;
  }
  request.log.error({ err }, 'request failed before routing');
  void reply.code(500).send({ error: `internal error while serving ${request.method} ${request.url}; the exporter log has the details` } satisfies ErrorBody);
}

/** What Node's HTTP parser (llhttp) attaches to the errors it raises on malformed requests. */
interface ClientError extends Error {
  code?: string;
  reason?: unknown;
}

/** Status and `error` text for a request Node's HTTP parser rejected before fastify saw it. */
export function describeClientError(err: ClientError): { status: 400 | 408 | 431; error: string } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, error: 'the request did not arrive in time; send it again' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: 'the request headers are too large; send fewer or shorter headers' };
    case 'HPE_INVALID_URL':
      return { status: 400, error: 'the request target is not a valid URL: bytes outside printable ASCII must be percent-encoded as UTF-8, e.g. %C3%A9 for é' };
    default: {
      const reason = typeof err.reason === 'string' && err.reason !== '' ? `: ${err.reason}` : '';
      return { status: 400, error: `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'}${reason})` };
    }
  }
}

/**
 * Node's `clientError`: a request its HTTP parser rejected (a raw non-ASCII or control byte in the
 * path, a malformed request line or header, too large headers). fastify's default writes
 * `{"error":"Bad Request","message":"Client Error"}`; this writes our `{"error": ...}` instead, then
 * closes the connection (the parser cannot go on after an error), as Node and fastify do.
 */
export function clientErrorHandler(this: FastifyInstance, err: ClientError, socket: Socket): void {
  // A reset connection has nobody to answer; a socket with a response under way must not get a second one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, error } = describeClientError(err);
  this.log.debug({ err }, 'malformed request');
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ error } satisfies ErrorBody);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** The options of `Fastify(...)` that keep errors raised before routing in the `{"error": ...}` shape. */
export const frameworkErrorOptions = {
  frameworkErrors: frameworkError,
  clientErrorHandler,
} satisfies Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'>;
