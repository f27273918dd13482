/** startPrometheus against a real Prometheus: the port race of freePort() is retried, and nothing is left running. */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopTrackedChildren, trackedChildren } from './children.js';
import { freePort } from './ports.js';
import { PORT_ATTEMPTS, startPrometheus, type PrometheusServer } from './prometheus.js';
import { requireTool } from './tools.js';

const prometheusBin = requireTool('prometheus', 'prometheus');

describe.skipIf(!prometheusBin)('startPrometheus', () => {
  /** A port someone else took between freePort() and Prometheus's bind. */
  let squatter: Server;
  let takenPort: number;
  const started: PrometheusServer[] = [];

  /** It accepts connections and never answers, as a port squatter may; closed at the end. */
  const accepted = new Set<Socket>();

  beforeAll(async () => {
    squatter = createServer((socket) => {
      accepted.add(socket);
      socket.once('close', () => accepted.delete(socket));
    });
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    takenPort = (squatter.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const p of started) await p.stop();
    await stopTrackedChildren();
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => squatter?.close(resolve));
  });

  it('retries with a new port when the one it was given is taken by the time Prometheus binds it', async () => {
    const picked: number[] = [];
    const prom = await startPrometheus(prometheusBin as string, {
      targets: [],
      pickPort: async () => {
        const port = picked.length === 0 ? takenPort : await freePort();
        picked.push(port);
        return port;
      },
    });
    started.push(prom);
    expect(picked).toHaveLength(2);
    expect(picked[0]).toBe(takenPort);
    expect(prom.url).toBe(`http://127.0.0.1:${picked[1]}`);
    expect(await prom.query('vector(1)')).toEqual([{ metric: {}, value: 1 }]);
    // The failed attempt is gone; the running one is tracked until stopped.
    expect(trackedChildren()).toHaveLength(1);
    await prom.stop();
    started.pop();
    expect(trackedChildren()).toHaveLength(0);
  });

  it(`gives up after ${PORT_ATTEMPTS} taken ports, naming them, and leaves nothing running`, async () => {
    let picks = 0;
    const start = startPrometheus(prometheusBin as string, {
      targets: [],
      pickPort: async () => {
        picks += 1;
        return takenPort;
      },
    });
    await expect(start).rejects.toThrow(new RegExp(`Prometheus found its port taken ${PORT_ATTEMPTS} times \\(${Array(PORT_ATTEMPTS).fill(takenPort).join(', ')}\\)[\\s\\S]*address already in use`));
    expect(picks).toBe(PORT_ATTEMPTS);
    expect(trackedChildren()).toHaveLength(0);
  });

  it('does not retry other start-up failures', async () => {
    let picks = 0;
    const start = startPrometheus(prometheusBin as string, {
      targets: [],
      ruleFiles: ['/nonexistent/buildscope-rules-[.yml'],
      pickPort: async () => {
        picks += 1;
        return freePort();
      },
    });
    await expect(start).rejects.toThrow(/exited before it was ready/);
    expect(picks).toBe(1);
    expect(trackedChildren()).toHaveLength(0);
  });
});
