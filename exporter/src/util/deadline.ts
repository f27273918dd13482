/**
 * An AbortSignal that aborts when the parent does or when `ms` pass. Unlike
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])` its timer is held strongly, so it fires
 * even when nothing else references the timeout signal (which Node may otherwise collect).
 * Call `clear()` when the work is done.
 */
export function deadline(ms: number, parent?: AbortSignal, reason: () => Error = () => new DeadlineError(ms)): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const onParent = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParent, { once: true });
  const timer = setTimeout(() => controller.abort(reason()), ms);
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}

export class DeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`deadline of ${ms / 1000}s passed`);
    this.name = 'DeadlineError';
  }
}

/** The caller stopped optional work on purpose (not an upstream timeout). */
export class Cancelled extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Cancelled';
  }
}
