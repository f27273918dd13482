/**
 * Child processes the test support starts (the exporter, Prometheus), so none outlives its test
 * worker. Each spawned child is tracked here until its owner stops it; if the worker goes away
 * first (a test that never reaches its `stop()`, an uncaught error, Ctrl-C, vitest ending the
 * worker with SIGTERM), the worker's `exit` / SIGINT / SIGTERM / SIGHUP handler kills what is
 * left and runs its synchronous clean-up (temp dirs).
 *
 * Nothing can run when the worker itself is SIGKILLed; the test files' own afterAll/finally stops
 * are the first line, this is the safety net.
 *
 * Imports node built-ins only: children.test.ts loads it in a bare node subprocess.
 */
import type { ChildProcess } from 'node:child_process';

interface Tracked {
  child: ChildProcess;
  /** Synchronous (it may run inside an `exit` handler), e.g. rmSync of a temp dir. */
  cleanup?: () => void;
}

const tracked = new Set<Tracked>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Track a just-spawned child until the returned `release` is called (by its owner's stop, once the
 * child has exited and its clean-up is done).
 */
export function trackChild(child: ChildProcess, cleanup?: () => void): () => void {
  install();
  const entry: Tracked = cleanup ? { child, cleanup } : { child };
  tracked.add(entry);
  return () => void tracked.delete(entry);
}

/** Children tracked and not yet released (running or not). */
export function trackedChildren(): ChildProcess[] {
  return [...tracked].map((t) => t.child);
}

/**
 * Kill every tracked child still running and run every clean-up, synchronously (signals are sent,
 * not awaited). What the worker's exit and signal handlers do.
 */
export function killTrackedChildren(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const entry of [...tracked]) {
    tracked.delete(entry);
    try {
      if (alive(entry.child)) entry.child.kill(signal);
    } catch {
      // Already gone.
    }
    try {
      entry.cleanup?.();
    } catch {
      // Best effort: the worker is going away.
    }
  }
}

/**
 * Stop every tracked child gracefully (SIGTERM, SIGKILL after `graceMs`), await its exit and run
 * its clean-up: for an afterAll that must leave nothing behind, whatever the tests did.
 */
export async function stopTrackedChildren(graceMs = 5000): Promise<void> {
  await Promise.all(
    [...tracked].map(async (entry) => {
      const { child } = entry;
      if (alive(child)) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      tracked.delete(entry);
      entry.cleanup?.();
    }),
  );
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', () => killTrackedChildren('SIGKILL'));
  for (const signal of SIGNALS) {
    process.once(signal, () => {
      killTrackedChildren('SIGKILL');
      // A listener replaces the signal's default action (ending the process). With ours gone
      // (`once`) and no other listener, raise the signal again so the worker still ends as asked.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}
