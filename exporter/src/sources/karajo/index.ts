/**
 * The `karajo` source: karajo's scheduled and HTTP-triggered jobs (JobExec) and periodic HTTP
 * calls (JobHTTP), and their runs. See README.md in this folder for what is polled, the status ->
 * phase table and the metrics.
 */
import { serveDemo, type DemoContext, type DemoInstance, type SourceAdapter, type SourceDefinition } from '../source.js';
import { KarajoAdapter } from './adapter.js';
import { karajoConfigSchema, validateKarajoConfig } from './config.js';
import { KarajoSimulator } from './simulator.js';

export { karajoConfigSchema, parseKarajoConfig, type KarajoConfig } from './config.js';
export { KARAJO_RUN_PHASES, runPhase } from './normalize.js';

export const karajoSource: SourceDefinition<typeof karajoConfigSchema> = {
  kind: 'karajo',
  description: 'karajo jobs (JobExec, JobHTTP) and their runs, from GET /karajo/api/environment (gzip, {code, data} envelope); run logs read on demand',
  configSchema: karajoConfigSchema,
  validate: validateKarajoConfig,
  create(config, ctx): SourceAdapter {
    const adapter = new KarajoAdapter(config, ctx);
    return {
      poll: (signal) => adapter.poll(signal),
      restore: (held) => adapter.restore(held),
      problems: () => adapter.problems(),
      taskLog: (id, signal) => adapter.taskLog(id, signal),
    };
  },
  demo: (ctx: DemoContext) => karajoDemo(ctx),
};

/** The demo karajo simulator; `users` may log in (the demo's has none, so its API needs no login). */
export async function karajoDemo(ctx: DemoContext, users?: { name: string; password: string }[]): Promise<DemoInstance> {
  return serveDemo(ctx, 'karajo', new KarajoSimulator({ clock: ctx.clock, seed: 5, ...(users ? { users } : {}) }), 1000);
}
