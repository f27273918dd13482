/**
 * Demo mode: start every registered kind's simulator on loopback and configure one source
 * per kind pointing at it, so a newcomer sees a live farm with no config file.
 */
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import type { SourceConfig } from './config/schema.js';
import { registry } from './sources/registry.js';
import type { DemoInstance } from './sources/source.js';
import type { Clock } from './util/clock.js';

export interface DemoFarm {
  sources: SourceConfig[];
  simulators: { kind: string; name: string; url: string }[];
  close(): Promise<void>;
}

export async function startDemoFarm(log: Logger, clock: Clock): Promise<DemoFarm> {
  const running: { kind: string; instance: DemoInstance }[] = [];
  try {
    for (const [kind, def] of Object.entries(registry)) {
      if (!def.demo) continue;
      const made = await def.demo({ log: log.child({ simulator: kind }), clock });
      for (const instance of Array.isArray(made) ? made : [made]) running.push({ kind, instance });
    }
  } catch (err) {
    await Promise.allSettled(running.map((r) => r.instance.close()));
    throw err;
  }
  const sources = running.map(({ kind, instance }): SourceConfig => {
    const def = registry[kind];
    const schema = def?.configSchemaFor?.(instance.config) ?? def?.configSchema;
    const settings = schema ? (Value.Default(schema, structuredClone(instance.config)) as Record<string, unknown>) : instance.config;
    return { name: instance.name ?? `demo-${kind}`, kind, intervalSeconds: 5, timeoutSeconds: 10, settings };
  });
  return {
    sources,
    simulators: running.map((r) => ({ kind: r.kind, name: r.instance.name ?? `demo-${r.kind}`, url: r.instance.url })),
    close: async () => {
      await Promise.allSettled(running.map((r) => r.instance.close()));
    },
  };
}
