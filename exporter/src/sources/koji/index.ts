/**
 * The `koji` source: a Koji hub's tasks, builds, hosts and channels over XML-RPC (`multiCall`).
 * See README.md in this folder for the calls made, the call budget per poll, the state -> phase
 * tables and the metrics.
 */
import { demoStepMs, type DemoContext, type DemoInstance, type SourceAdapter, type SourceDefinition } from '../source.js';
import { KojiAdapter } from './adapter.js';
import { kojiConfigSchema, validateKojiConfig, type KojiConfig } from './config.js';
import { KojiSimulator } from './simulator.js';
import { unreadableTlsFiles } from './tls.js';

export { kojiConfigSchema, parseKojiConfig, DEFAULT_METHODS, type KojiConfig } from './config.js';
export { TASK_STATE_PHASES, BUILD_STATE_PHASES, isBuildTaskId } from './normalize.js';

export const kojiSource: SourceDefinition<typeof kojiConfigSchema> = {
  kind: 'koji',
  description: 'Koji hub tasks, builds, hosts and channels over XML-RPC (POST /kojihub, batched with multiCall)',
  configSchema: kojiConfigSchema,
  validate: (config: KojiConfig) => [...validateKojiConfig(config), ...unreadableTlsFiles(config.tls)],
  labelValues: (config) => ({ method: config.methods }),
  create(config, ctx): SourceAdapter {
    const adapter = new KojiAdapter(config, ctx);
    return {
      poll: (signal) => adapter.poll(signal),
      restore: (held) => adapter.restore(held),
      problems: () => adapter.problems(),
      endpoints: () => adapter.endpoints(),
      close: () => adapter.close(),
    };
  },
  async demo(ctx: DemoContext): Promise<DemoInstance> {
    const sim = new KojiSimulator({ clock: ctx.clock, seed: 7, offlineEvery: true });
    const base = await sim.listen('127.0.0.1');
    sim.start({ stepMs: demoStepMs(ctx, 1000) });
    const url = `${base}/kojihub`;
    ctx.log.debug({ url }, 'koji hub simulator listening');
    return {
      config: { url, web_url: `${base}/koji` },
      url,
      close: async () => {
        sim.stop();
        await sim.close();
      },
    };
  },
};
