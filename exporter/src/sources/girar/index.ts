/**
 * The `girar` source: ALT Linux girar build tasks, read through taskoteka's HTTP API.
 * See README.md in this folder for what is polled, the state -> phase table and the config keys.
 */
import type { DemoContext, DemoInstance, SourceAdapter, SourceDefinition } from '../source.js';
import { GirarTaskotekaAdapter } from './adapter.js';
import { girarConfigSchema, validateGirarConfig } from './config.js';
import { GIRAR_DEFAULT_STATES } from './normalize.js';
import { GirarSimulator } from './simulator.js';

export { girarConfigSchema, parseGirarConfig, type GirarConfig } from './config.js';
export { GIRAR_STATES, GIRAR_PHASES, GIRAR_DEFAULT_STATES, girarPhase, archPhase, normalizeTask } from './normalize.js';
export { TaskotekaClient, type TaskotekaEvent, type TaskList } from './client.js';
export { GirarSimulator, GIRAR_TRANSITIONS, type GirarSimulatorOptions } from './simulator.js';

export const girarSource: SourceDefinition<typeof girarConfigSchema> = {
  kind: 'girar',
  description: 'ALT Linux girar build tasks via the taskoteka HTTP API (GET /tasks, /tasks/{id}, SSE /events)',
  configSchema: girarConfigSchema,
  defaultStates: GIRAR_DEFAULT_STATES,
  lifecycle: { runStartStates: ['BUILDING'] },
  validate: validateGirarConfig,
  create(config, ctx): SourceAdapter {
    const adapter = new GirarTaskotekaAdapter(config, ctx);
    return {
      poll: (signal) => adapter.poll(signal),
      refresh: (hint, signal) => adapter.refresh(hint, signal),
      // Without the stream the periodic poll alone keeps the state; only the latency differs.
      ...(config.stream ? { stream: (signal: AbortSignal, sink) => adapter.stream(signal, sink) } : {}),
    };
  },
  async demo(ctx: DemoContext): Promise<DemoInstance> {
    const sim = new GirarSimulator({ clock: ctx.clock, seed: 1 });
    const url = await sim.listen(0, '127.0.0.1');
    sim.start({ stepMs: 1500 });
    ctx.log.debug({ url }, 'girar simulator listening');
    return { config: { transport: 'taskoteka', url }, url, close: () => sim.close() };
  },
};
