/**
 * The `girar` source: ALT Linux girar build tasks, read through taskoteka's HTTP API
 * (`transport: taskoteka`) or from the `/tasks` tree itself (`transport: fs`).
 * See README.md in this folder for what is polled, the state -> phase table and the config keys.
 */
import { demoStepMs, type DemoContext, type DemoInstance, type SourceAdapter, type SourceDefinition } from '../source.js';
import { GirarTaskotekaAdapter } from './adapter.js';
import { girarConfigSchema, girarSchemaFor, validateGirarConfig } from './config.js';
import { GirarFsAdapter } from './fs/adapter.js';
import { GIRAR_DEFAULT_STATES } from './normalize.js';
import { GirarSimulator } from './simulator.js';
import { demoTree } from './fs/demo.js';

export { girarConfigSchema, parseGirarConfig, type GirarConfig } from './config.js';
export { GIRAR_STATES, GIRAR_PHASES, GIRAR_DEFAULT_STATES, girarPhase, archPhase, normalizeTask } from './normalize.js';
export { TaskotekaClient, type TaskotekaEvent, type TaskList } from './client.js';
export { GirarSimulator, GIRAR_TRANSITIONS, type GirarSimulatorOptions } from './simulator.js';

export const girarSource: SourceDefinition<typeof girarConfigSchema> = {
  kind: 'girar',
  description: 'ALT Linux girar build tasks via the taskoteka HTTP API (GET /tasks, /tasks/{id}, SSE /events) or the /tasks tree itself',
  configSchema: girarConfigSchema,
  configSchemaFor: girarSchemaFor,
  defaultStates: GIRAR_DEFAULT_STATES,
  lifecycle: { runStartStates: ['BUILDING'] },
  validate: validateGirarConfig,
  create(config, ctx): SourceAdapter {
    if (config.transport === 'fs') {
      const fs = new GirarFsAdapter(config, ctx);
      return {
        poll: (signal) => fs.poll(signal),
        restore: (held) => fs.restore(held),
        problems: () => fs.problems(),
        close: () => fs.close(),
        ...(config.taskoteka_api ? { taskotekaCompat: fs.compatBackend() } : {}),
      };
    }
    const adapter = new GirarTaskotekaAdapter(config, ctx);
    return {
      poll: (signal) => adapter.poll(signal),
      refresh: (hint, signal) => adapter.refresh(hint, signal),
      restore: (held) => adapter.restore(held),
      ...(config.taskoteka_api ? { taskotekaCompat: adapter.compatBackend() } : {}),
      // Without the stream the periodic poll alone keeps the state; only the latency differs.
      ...(config.stream ? { stream: (signal: AbortSignal, sink) => adapter.stream(signal, sink) } : {}),
    };
  },
  async demo(ctx: DemoContext): Promise<DemoInstance[]> {
    const sim = new GirarSimulator({ clock: ctx.clock, seed: 1 });
    const url = await sim.listen(0, '127.0.0.1');
    sim.start({ stepMs: demoStepMs(ctx, 1500) });
    ctx.log.debug({ url }, 'girar simulator listening');
    const viaTaskoteka: DemoInstance = { config: { transport: 'taskoteka', url }, url, close: () => sim.close() };
    try {
      return [viaTaskoteka, await demoTree(ctx)];
    } catch (err) {
      await viaTaskoteka.close();
      throw err;
    }
  },
};
