/** The three time formats found in a girar task directory. */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `LC_TIME=C date -u '+%Y-%b-%d %T'`: events logs and approval stamps, e.g. `2026-Mar-05 12:34:56`. */
export function stampUtc(epochS: number): string {
  const d = new Date(epochS * 1000);
  return `${d.getUTCFullYear()}-${MONTHS[d.getUTCMonth()]}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

export function isTimeZoneName(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * `date -r FILE '+%FT%T'` on the girar server: wall-clock time in the server's zone, no offset
 * (info.json `build_time` and `fetched`).
 */
export function wallClock(epochS: number, zone: string): string {
  if (zone === 'UTC' || zone === 'Etc/UTC') return new Date(epochS * 1000).toISOString().slice(0, 19);
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(epochS * 1000))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return `${p.year}-${pad(p.month ?? 1)}-${pad(p.day ?? 1)}T${pad(p.hour ?? 0)}:${pad(p.minute ?? 0)}:${pad(p.second ?? 0)}`;
}

/** `[HH:MM:SS]` elapsed-time prefix of build log lines. */
export function elapsed(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `[${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}]`;
}
