/**
 * SIGINT/SIGTERM handling for the CLI. The handlers are installed before the exporter starts:
 * a supervisor (or a test) may signal the moment the "listening" line appears, and a signal that
 * arrived before the handlers existed would kill the process with its default action, skipping
 * the shutdown (and leaving the demo farm's temporary /tasks tree behind).
 */
import type { Logger } from 'pino';

export interface ShutdownSignals {
  /** Resolves with the first SIGINT or SIGTERM, whenever it arrived. */
  readonly requested: Promise<NodeJS.Signals>;
  /** Where to log the signals from now on (the logger exists only once the config is loaded). */
  useLogger(log: Logger): void;
}

export function catchShutdownSignals(): ShutdownSignals {
  let log: Logger | undefined;
  let first: NodeJS.Signals | undefined;
  let resolve: (signal: NodeJS.Signals) => void = () => {};
  const requested = new Promise<NodeJS.Signals>((r) => (resolve = r));
  // A terminal's Ctrl-C reaches the whole process group (npm, scripts/start.mjs and us), so the
  // same signal can arrive twice: only the first starts the shutdown.
  const onSignal = (signal: NodeJS.Signals) => {
    if (first) {
      log?.info({ signal }, 'already shutting down');
      return;
    }
    first = signal;
    log?.info({ signal }, 'shutting down');
    resolve(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    requested,
    useLogger(l) {
      log = l;
      if (first) l.info({ signal: first }, 'shutting down (signal received while starting)');
    },
  };
}
