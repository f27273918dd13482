/**
 * Poll a condition until it holds, for tests and start-up checks that must not use fixed sleeps.
 * Resolves with the first truthy value the condition returns; rejects with a message naming
 * what was awaited when the deadline passes.
 */
export interface WaitUntilOptions {
  /** Milliseconds between checks (default 5). */
  intervalMs?: number;
  /** Said in the timeout error, e.g. `"3 events on the stream"`. */
  what?: string;
}

export async function waitUntil<T>(condition: () => T | Promise<T>, timeoutMs = 5000, options: WaitUntilOptions = {}): Promise<NonNullable<T>> {
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new TypeError(`waitUntil: timeoutMs must be a non-negative number, got ${String(timeoutMs)}`);
  const interval = options.intervalMs ?? 5;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = options.what ?? 'condition';
      const cause = lastError instanceof Error ? `; last check threw: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise<void>((resolve) => setTimeout(resolve, interval));
  }
}
