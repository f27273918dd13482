#!/usr/bin/env node
/**
 * The baseline of the HTTP benchmarks: a bare fastify server, no schemas, no hooks, that answers
 * constant bodies. Usage: node baseline-server.mjs <routes.json> [<metrics.txt>]
 *   routes.json: { "/path": <JSON value> }: each path answers its value (fastify's JSON.stringify).
 *   metrics.txt: exposition text: GET /metrics renders a bare prom-client registry holding the
 *   same series with constant values.
 * Prints `listening on http://127.0.0.1:PORT` once ready.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { baselineRegistry } from './lib/exposition.mjs';

const [routesFile, metricsFile] = process.argv.slice(2);
if (!routesFile) {
  console.error('usage: node baseline-server.mjs <routes.json> [<metrics.txt>]');
  process.exit(2);
}
const routes = JSON.parse(readFileSync(routesFile, 'utf8'));
const app = Fastify({ logger: false });
for (const [path, body] of Object.entries(routes)) app.get(path, async () => body);
if (metricsFile) {
  const registry = baselineRegistry(readFileSync(metricsFile, 'utf8'));
  app.get('/metrics', async (_req, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening on ${address}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
