/**
 * The upstream fault matrix: every kind's real simulator behind a fault-injecting proxy, the real
 * exporter process polling them all every second. Each fault is switched on for every faulted
 * source at once; each must go down (`buildfarm_source_up` 0) with a last error that says what
 * happened, while the control source keeps polling and the exporter keeps serving; after the
 * fault is switched off every source recovers.
 */
import { rename } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import type { Fault } from '../support/fault-proxy.js';
import { residentBytes, sourceUp, startFarm, type Farm, type SourceView } from './farm.js';

const YEARS_200_S = 200 * 365.25 * 86_400;

/** Every number becomes a string, every string a number: the shapes stay, the types do not. */
function wrongTypes(body: Buffer, contentType: string): string {
  const text = body.toString('utf8');
  if (contentType.includes('xml')) {
    return text.replace(/<int>(-?\d+)<\/int>/g, '<string>$1 apples</string>').replace(/<string>[^<]*<\/string>/g, (s) => (s.includes(' apples') ? s : '<int>42</int>'));
  }
  const flip = (v: unknown): unknown => {
    if (typeof v === 'number') return `${v} apples`;
    if (typeof v === 'string') return 42;
    if (typeof v === 'boolean') return 'yes';
    if (Array.isArray(v)) return v.map(flip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, flip(x)]));
    return v;
  };
  return JSON.stringify(flip(JSON.parse(text)));
}

/** Invalid UTF-8 (a lone 0xFF) in place of the first letter of every string value. */
function nonUtf8(body: Buffer): Buffer {
  const out = Buffer.from(body);
  for (let i = 1; i < out.length; i++) {
    // `>` then a letter (an XML value) or `":"` then a letter (a JSON string value).
    const prev = out[i - 1];
    const c = out[i] ?? 0;
    const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (letter && (prev === 0x3e || (prev === 0x22 && out[i - 2] === 0x3a) || (prev === 0x22 && out[i - 2] === 0x20 && out[i - 3] === 0x3a))) out[i] = 0xff;
  }
  return out;
}

/** Every date 200 years in the future: ISO-ish years and epoch seconds / milliseconds. */
function skewed(body: Buffer): string {
  return body
    .toString('utf8')
    .replace(/\b20(\d\d)-(\d\d)-(\d\d)/g, '22$1-$2-$3')
    .replace(/\b(1[6-9]\d{8})(\d{3})?(\.\d+)?\b/g, (_m, s: string, ms: string | undefined, frac: string | undefined) => {
      const shifted = Math.round(Number(s) + YEARS_200_S);
      return `${shifted}${ms ?? ''}${frac ?? ''}`;
    });
}

/** Every date 200 years back: ISO-ish years, and epoch seconds moved to 1976. */
function skewedBack(body: Buffer): string {
  return body
    .toString('utf8')
    .replace(/\b20(\d\d)-(\d\d)-(\d\d)/g, '18$1-$2-$3')
    .replace(/\b(1[6-9]\d{8})(\d{3})?(\.\d+)?\b/g, (_m, s: string, ms: string | undefined, frac: string | undefined) => `${Number(s) - 1_500_000_000}${ms ?? ''}${frac ?? ''}`);
}

interface Case {
  name: string;
  fault: Fault;
  /** What the last error must say, in words. */
  says: RegExp;
  /** Only these kinds (default: every proxied source). */
  kinds?: string[];
}

const CASES: Case[] = [
  { name: 'connection refused', fault: { type: 'refuse' }, says: /ECONNREFUSED|refused|failed.*check the URL/i },
  { name: 'reset mid-body', fault: { type: 'reset' }, says: /connection broke|socket|closed|reset|terminated/i },
  { name: 'slow drip', fault: { type: 'drip', everyMs: 200 }, says: /in time|within|timeout|did not finish/i },
  { name: 'HTTP 503', fault: { type: 'status', status: 503 }, says: /HTTP 503/ },
  { name: 'HTML instead of JSON', fault: { type: 'html' }, says: /HTML|not valid JSON|not.*XML|text\/html/i },
  { name: 'truncated body', fault: { type: 'truncate', fraction: 0.5 }, says: /not valid JSON|truncated|unexpected end|XML|end of|unterminated/i },
  { name: 'wrong types', fault: { type: 'rewrite', rewrite: wrongTypes }, says: /expected|must be|not a|type|invalid/i },
  { name: 'enormous payload', fault: { type: 'huge', bytes: 48 * 1024 * 1024 }, says: /more than \d+ bytes|max_body_bytes/ },
  { name: 'non-UTF-8 bytes', fault: { type: 'rewrite', rewrite: nonUtf8 }, says: /UTF-8/ },
  // Clock skew and ids going back are checked on the normalized tasks; verified end to end on girar
  // (the other kinds: not yet, see docs/reliability.md).
  { name: 'clock skew (200 years ahead)', fault: { type: 'rewrite', rewrite: skewed }, says: /clock looks wrong.*in the future/, kinds: ['girar'] },
  { name: 'clock skew (200 years behind)', fault: { type: 'rewrite', rewrite: skewedBack }, says: /clock looks wrong.*before 2000/, kinds: ['girar'] },
  {
    name: 'ids going backwards (a stale copy served)',
    fault: { type: 'replay' },
    says: /went back in time: its newest task id is now \d+, but it listed \d+ newer tasks/,
    // girar's numeric, growing task ids. Koji's and Cuirass's going back is their event/evaluation id (an ids_reset problem, their hostile-counting tests).
    kinds: ['girar'],
  },
];

let farm: Farm;
const report: string[] = [];
/** buildfarm_source_up of each source when it was first seen down. */
const metricUp = new Map<string, number | undefined>();

beforeAll(async () => {
  farm = await startFarm();
}, 90_000);

afterAll(async () => {
  await farm?.close();
  console.log(`upstream fault matrix, last errors:\n${report.join('\n')}`);
});

async function metrics(): Promise<string> {
  const res = await fetch(`${farm.exporter.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

function byName(view: SourceView[], name: string): SourceView {
  const s = view.find((v) => v.name === name);
  if (!s) throw new Error(`no source ${name}`);
  return s;
}

/** Every faulted source down with an error newer than `since`; the control still polling. */
async function expectAllDown(names: string[], since: number, what: string, match: (s: SourceView) => boolean = () => true, options: { clearEach?: boolean } = { clearEach: true }): Promise<SourceView[]> {
  let last: SourceView[] = [];
  const seen = new Map<string, SourceView>();
  try {
    return await waitUntil(
      async () => {
        const view = await farm.sourcesView();
        last = names.map((n) => byName(view, n));
        const isDown = (s: SourceView) => !s.up && s.last_error !== null && Date.parse(s.last_error.at) >= since && match(s);
        // Each source's fault ends as soon as it is seen: no source backs off for long.
        const fresh = last.filter((s) => isDown(s) && !seen.has(s.name));
        if (fresh.length > 0) {
          // Read /metrics while the fault still holds: the source's up gauge must say 0 now.
          const text = await metrics();
          for (const s of fresh) {
            seen.set(s.name, s);
            metricUp.set(s.name, sourceUp(text, s.name));
          }
          if (sourceUp(text, 'control') !== 1) throw new Error('the control source went down');
        }
        if (options.clearEach) await farm.setFault({ type: 'pass' }, [...seen.keys()]);
        return names.every((n) => seen.has(n)) ? names.map((n) => seen.get(n) as SourceView) : undefined;
      },
      20_000,
      { what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; sources now: ${JSON.stringify(last.map((s) => ({ name: s.name, up: s.up, last_error: s.last_error })))}`);
  }
}

async function expectAllUp(what: string): Promise<void> {
  let last: SourceView[] = [];
  try {
    await waitUntil(
      async () => {
        last = await farm.sourcesView();
        return last.every((s) => s.up);
      },
      60_000,
      { what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; still down: ${JSON.stringify(last.filter((s) => !s.up).map((s) => ({ name: s.name, failures: s.consecutive_failures, last_error: s.last_error })))}`);
  }
}

describe('upstream faults, every kind', () => {
  for (const c of CASES) {
    it(`${c.name}: down with a clear error, the rest keep working, then recovers`, async () => {
      const names = farm.sources.filter((s) => s.proxies.length > 0 && (!c.kinds || c.kinds.includes(s.kind))).map((s) => s.name);
      const since = Date.now();
      const controlBefore = byName(await farm.sourcesView(), 'control').polls.ok;
      await farm.setFault(c.fault, names);
      metricUp.clear();
      try {
        const down = await expectAllDown(names, since, `every faulted source down after ${c.name}`);
        for (const s of down) {
          report.push(`${c.name} | ${s.name} | ${s.last_error?.code} | ${s.last_error?.message}`);
          expect(s.last_error?.message, `${s.name}: ${c.name}`).toMatch(c.says);
          expect(metricUp.get(s.name), `${s.name}: buildfarm_source_up while down`).toBe(0);
        }
        // The control kept polling meanwhile, and the API answers.
        await waitUntil(async () => byName(await farm.sourcesView(), 'control').polls.ok > controlBefore, 10_000, { what: 'the control source polling' });
      } finally {
        await farm.setFault({ type: 'pass' });
        // Every source back before the next case, whatever happened in this one.
        await expectAllUp(`every source recovered after ${c.name}`);
      }
    }, 90_000);
  }

  it('429 with Retry-After: down, and the next request not before the upstream said', async () => {
    const target = farm.sources.find((s) => s.kind === 'cuirass' && s.proxies.length > 0);
    if (!target) throw new Error('no proxied cuirass source');
    const proxy = target.proxies[0];
    if (!proxy) throw new Error('no proxy');
    const since = Date.now();
    await proxy.set({ type: 'retry-after', seconds: 4 });
    try {
      const [s] = await expectAllDown([target.name], since, 'the source down after a 429', (v) => v.last_error?.status === 429, { clearEach: false });
      expect(s?.last_error?.message).toMatch(/HTTP 429/);
      expect(s?.last_error?.status).toBe(429);
      const first429 = proxy.since(since).find((r) => r.fault === 'retry-after');
      if (!first429) throw new Error('no 429 answered');
      // One poll sends its requests together; the next poll's first request must wait 4 s.
      const next = await waitUntil(() => proxy.since(first429.at + 500)[0], 15_000, { what: 'the poll after the 429' });
      expect(next.at - first429.at).toBeGreaterThanOrEqual(4000);
    } finally {
      await proxy.set({ type: 'pass' });
    }
    await expectAllUp('recovery after 429');
  }, 90_000);

  it('girar fs: the tasks directory gone, then back', async () => {
    const since = Date.now();
    const aside = `${farm.girarFsTasksDir}.aside`;
    await rename(farm.girarFsTasksDir, aside);
    try {
      const [s] = await expectAllDown(['demo-girar-fs'], since, 'girar fs down without its tree');
      report.push(`tasks dir gone | demo-girar-fs | ${s?.last_error?.code} | ${s?.last_error?.message}`);
      expect(s?.last_error?.message).toMatch(/tasks_dir|does not exist|no such|ENOENT|cannot read/i);
      expect(s?.last_error?.message).toContain(farm.girarFsTasksDir);
    } finally {
      await rename(aside, farm.girarFsTasksDir);
    }
    await expectAllUp('girar fs recovered');
  }, 90_000);

  it('memory stays bounded across repeated enormous payloads', async () => {
    const names = farm.sources.filter((s) => s.proxies.length > 0).map((s) => s.name);
    const before = residentBytes(await metrics());
    await farm.setFault({ type: 'huge', bytes: 256 * 1024 * 1024 }, names);
    try {
      // Ten rounds of every source reading (and refusing) a 256 MiB body.
      const since = Date.now();
      await waitUntil(
        async () => {
          const view = await farm.sourcesView();
          return names.every((n) => byName(view, n).polls.failed >= 1 && byName(view, n).consecutive_failures >= 3) ? true : undefined;
        },
        40_000,
        { what: 'three failed polls per source' },
      );
      expect(Date.now() - since).toBeGreaterThan(0);
    } finally {
      await farm.setFault({ type: 'pass' });
    }
    const after = residentBytes(await metrics());
    report.push(`memory: RSS ${Math.round(before / 2 ** 20)} MiB before, ${Math.round(after / 2 ** 20)} MiB after 3+ enormous (256 MiB) answers per source`);
    // Bodies are capped at 1 MiB per source: nothing near the 256 MiB offered is ever held.
    expect(after - before).toBeLessThan(128 * 2 ** 20);
    await expectAllUp('recovery after enormous payloads');
  }, 90_000);
});
