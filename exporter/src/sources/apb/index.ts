/**
 * The `apb` source: Arch POWER's APB build servers (apb-server) and farm (apb-farm).
 * See README.md in this folder for what is polled, the status -> phase table and the metrics.
 */
import { demoStepMs, type DemoContext, type DemoInstance, type SourceAdapter, type SourceDefinition } from '../source.js';
import { ApbAdapter } from './adapter.js';
import { apbConfigSchema, validateApbConfig } from './config.js';
import { ApbSimulator } from './simulator.js';

export { apbConfigSchema, parseApbConfig, type ApbConfig } from './config.js';
export { APB_PHASES, apbPhase } from './normalize.js';

/** The demo farm's build servers (the idle-CPU benchmark runs the same farm, frozen). */
export const DEMO_SERVERS = [
  { name: 'ppc64le-1', arch: 'powerpc64le', maxConcurrent: 2, cores: 32 },
  { name: 'ppc64le-2', arch: 'powerpc64le', maxConcurrent: 2, cores: 16 },
  { name: 'ppc64-1', arch: 'powerpc64', maxConcurrent: 1, cores: 8 },
  { name: 'riscv64-1', arch: 'riscv64', maxConcurrent: 1, cores: 4 },
] as const;

export const apbSource: SourceDefinition<typeof apbConfigSchema> = {
  kind: 'apb',
  description: "Arch POWER APB build servers (each server's GET /, /health, /builds/latest, /build/{id}/status-api) and the APB farm (GET /farm, /builds/latest)",
  configSchema: apbConfigSchema,
  validate: validateApbConfig,
  create(config, ctx): SourceAdapter {
    const adapter = new ApbAdapter(config, ctx);
    return {
      poll: (signal) => adapter.poll(signal),
      restore: (held) => adapter.restore(held),
      problems: () => adapter.problems(),
      endpoints: () => adapter.endpoints(),
      close: () => adapter.close(),
    };
  },
  async demo(ctx: DemoContext): Promise<DemoInstance> {
    const sim = new ApbSimulator({
      clock: ctx.clock,
      seed: 4,
      servers: DEMO_SERVERS.map((s) => ({ ...s })),
      farm: { token: 'demo-farm-token' },
      rootDelayMs: 1000,
    });
    const { farmUrl, servers } = await sim.listen('127.0.0.1');
    sim.start({ stepMs: demoStepMs(ctx, 1500) });
    ctx.log.debug({ farmUrl, servers: servers.map((s) => s.url) }, 'apb simulator listening');
    // Three servers are polled directly; the fourth is known only through the farm.
    const direct = servers.slice(0, 3).map((s) => ({ url: s.url, name: s.name, arch: s.arch }));
    return {
      config: { servers: direct, ...(farmUrl ? { farm: { url: farmUrl, token: 'demo-farm-token' } } : {}), wait: '2s', server_timeout: '5s' },
      url: farmUrl ?? servers[0]?.url ?? '',
      close: async () => {
        sim.stop();
        await sim.close();
      },
    };
  },
};
