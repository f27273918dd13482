/**
 * The `cuirass` source: GNU Guix Cuirass builds, evaluations and the queue. See README.md in this
 * folder for what is polled, the status -> phase tables and the metrics.
 */
import { serveDemo, type DemoContext, type DemoInstance, type SourceAdapter, type SourceDefinition } from '../source.js';
import { CuirassAdapter } from './adapter.js';
import { cuirassConfigSchema, validateCuirassConfig } from './config.js';
import { CuirassSimulator } from './simulator.js';

export { cuirassConfigSchema, parseCuirassConfig, type CuirassConfig } from './config.js';
export { BUILD_STATUSES, EVALUATION_STATUSES, buildStatus } from './normalize.js';

export const cuirassSource: SourceDefinition<typeof cuirassConfigSchema> = {
  kind: 'cuirass',
  description: 'GNU Guix Cuirass builds, evaluations and queue (GET /api/queue, /api/latestbuilds, /api/evaluations, /specifications)',
  configSchema: cuirassConfigSchema,
  validate: validateCuirassConfig,
  create(config, ctx): SourceAdapter {
    const adapter = new CuirassAdapter(config, ctx);
    return { poll: (signal) => adapter.poll(signal), restore: (held) => adapter.restore(held), problems: () => adapter.problems() };
  },
  async demo(ctx: DemoContext): Promise<DemoInstance> {
    return serveDemo(ctx, 'cuirass', new CuirassSimulator({ clock: ctx.clock, seed: 6 }), 1000);
  },
};
