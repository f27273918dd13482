/** Prometheus-style durations: `90s`, `5m`, `1h30m`, `250ms`. */
const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export const DURATION_PATTERN = '^((\\d+)(ms|s|m|h|d|w))+$';

/** Seconds in a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
  }
  return total;
}

export function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds / 3600}h`;
  if (seconds % 60 === 0 && seconds >= 60) return `${seconds / 60}m`;
  if (Number.isInteger(seconds)) return `${seconds}s`;
  return `${Math.round(seconds * 1000)}ms`;
}
