/** Liveness and readiness probes: `/-/healthy` always answers; `/-/ready` once every source polled once. */
import { Type } from '@sinclair/typebox';
import type { ApiDeps, ApiInstance } from './deps.js';
import { ApiError } from './errors.js';
import { ErrorSchema } from './schemas.js';

export function registerHealthRoutes(app: ApiInstance, deps: ApiDeps): void {
  app.get(
    '/-/healthy',
    {
      config: { authArea: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Liveness probe',
        description: 'Always 200 while the process serves HTTP.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'Alive' }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/-/ready',
    {
      config: { authArea: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness probe',
        description: '200 once every configured source has finished its first poll attempt (successful or not); 503 before, naming the sources still awaited.',
        response: { 200: Type.Object({ status: Type.Literal('ready') }, { description: 'Ready' }), 503: { ...ErrorSchema, description: 'Not ready yet' } },
      },
    },
    async () => {
      if (deps.ready()) return { status: 'ready' as const };
      const waiting = deps.health
        .health()
        .filter((h) => h.lastPollAt === undefined)
        .map((h) => h.name);
      throw new ApiError(503, waiting.length > 0 ? `not ready: waiting for the first poll of: ${waiting.join(', ')}` : 'not ready: the sources are starting', { 'Retry-After': '5' });
    },
  );
}
