/** `GET /metrics`: the Prometheus text exposition, rendered from the store at request time. */
import type { FastifyInstance } from 'fastify';
import type { ExporterMetrics } from './index.js';

export async function metricsRoute(app: FastifyInstance, opts: { metrics: ExporterMetrics }): Promise<void> {
  const { metrics } = opts;
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    const { contentType, body, failures } = await metrics.render();
    for (const { family, error } of failures) {
      request.log.warn({ err: error, family }, 'metrics: collector failed; family left out of this response');
    }
    return reply.type(contentType).header('cache-control', 'no-store').send(body);
  });
}
