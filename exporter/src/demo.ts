/**
 * Demo mode: start every registered kind's simulator on loopback and configure one source
 * per kind pointing at it, so a newcomer sees a live farm with no config file. At `speed` > 1
 * (`--demo.speed`, the soak test) the simulators run on a clock that much faster, step that much
 * more often, and the sources poll more often (every max(1 s, 5 s / speed)).
 */
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import type { SourceConfig } from './config/schema.js';
import { registry } from './sources/registry.js';
import type { DemoInstance } from './sources/source.js';
import { ScaledClock, type Clock } from './util/clock.js';

export interface DemoFarm {
  sources: SourceConfig[];
  /** The speed factor the farm runs at (1 = real time). */
  speed: number;
  /** The simulators' clock (ahead of the wall clock when speed > 1). */
  clock: Clock;
  simulators: { kind: string; name: string; url: string }[];
  close(): Promise<void>;
}

/** The demo sources' poll interval in seconds at `speed`. */
export function demoIntervalSeconds(speed: number): number {
  return Math.max(1, 5 / speed);
}

export async function startDemoFarm(log: Logger, wallClock: Clock, options: { speed?: number } = {}): Promise<DemoFarm> {
  const speed = options.speed ?? 1;
  const clock = speed === 1 ? wallClock : new ScaledClock(wallClock, speed);
  const running: { kind: string; instance: DemoInstance }[] = [];
  try {
    for (const [kind, def] of Object.entries(registry)) {
      if (!def.demo) continue;
      const made = await def.demo({ log: log.child({ simulator: kind }), clock, speed });
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
    return { name: instance.name ?? `demo-${kind}`, kind, intervalSeconds: demoIntervalSeconds(speed), timeoutSeconds: 10, settings };
  });
  return {
    sources,
    speed,
    clock,
    simulators: running.map((r) => ({ kind: r.kind, name: r.instance.name ?? `demo-${r.kind}`, url: r.instance.url })),
    close: async () => {
      await Promise.allSettled(running.map((r) => r.instance.close()));
    },
  };
}
