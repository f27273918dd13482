/** Wall-clock times without a zone, read in a named (IANA) time zone, without a date library. */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetAt(utcMs: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return asUtc - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}

/**
 * The instant (epoch ms) at which the zone's clocks showed a wall time, given as the epoch ms
 * that wall time would have in UTC. Two rounds settle offsets that change around the time (DST).
 */
export function zonedToUtc(wallAsUtcMs: number, zone: string): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return wallAsUtcMs;
  const first = wallAsUtcMs - offsetAt(wallAsUtcMs, zone);
  return wallAsUtcMs - offsetAt(first, zone);
}

/**
 * An instant as the zone's wall clock showed it, `YYYY-MM-DDTHH:MM:SS` without a zone: how girar
 * writes `build_time` and `fetched` (`%FT%T`, server-local) and taskoteka serves `created`.
 */
export function utcToZonedText(utcMs: number, zone: string): string {
  const wall = zone === 'UTC' || zone === 'Etc/UTC' ? utcMs : utcMs + offsetAt(utcMs, zone);
  return new Date(Math.floor(wall / 1000) * 1000).toISOString().slice(0, 19);
}
