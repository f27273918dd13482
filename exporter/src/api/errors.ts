/**
 * Every error the API returns is `{"error": "<what is wrong and what to do>"}` with a 4xx/5xx
 * status: our own ApiErrors, fastify's schema validation failures (rewritten to name the
 * parameter), unknown routes, and internal failures (logged, never leaked as stack traces).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** An error meant for the client: its message is the `error` text of the response. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: 400 | 401 | 403 | 404 | 429 | 503,
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
