/**
 * The soak harness (scripts/soak.mjs): its event-id checker on hand-made frames, and its smoke
 * mode end to end: 60 s of mixed load on the real exporter with the demo farm at 100x, asserting
 * what the full soak asserts (no error responses, no lost events, RSS flat after warm-up).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFiltered, parseSoakArgs, rssVerdict, SseClient, type SseClientSummary } from '../scripts/soak.mjs';
import { trackChild } from './support/children.js';

const SOAK = fileURLToPath(new URL('../scripts/soak.mjs', import.meta.url));

const ev = (seq: number, source = 'demo-girar') => ({ id: String(seq), event: 'task_updated', data: [JSON.stringify({ seq, source, type: 'task_updated' })] });

describe('soak harness: the event-id checker', () => {
  it('counts a gap, a duplicate and a payload whose seq is not its id; a reset skips on purpose', () => {
    const c = new SseClient('t', 'http://127.0.0.1:1', 'steady');
    for (const seq of [10, 11, 12]) c.dispatch(ev(seq));
    expect(c.summary()).toMatchObject({ events: 3, gaps: 0, missing_events: 0, duplicates: 0 });
    c.dispatch(ev(15)); // 13 and 14 lost
    c.dispatch(ev(15)); // again
    c.dispatch({ id: '16', event: 'task_updated', data: ['{"seq": 99}'] });
    expect(c.summary()).toMatchObject({ gaps: 1, missing_events: 2, duplicates: 1, seq_mismatches: 1 });
    c.dispatch({ id: '40', event: 'reset', data: ['{"oldest_seq": 30, "last_seq": 40, "reason": "gone"}'] });
    c.dispatch(ev(41));
    expect(c.summary()).toMatchObject({ gaps: 1, missing_events: 2, resets: 1, skipped_by_reset: 24, last_id: 41 });
    expect(c.dispatch({ id: undefined, event: 'reconnect', data: ['{"reason": "slow consumer"}'] })).toBe('reason');
    c.dispatch({ id: undefined, event: 'heartbeat', data: ['1795550000'] });
    expect(c.summary()).toMatchObject({ events: 7, reconnect_reasons: { 'slow consumer': 1 } });
  });

  it('checks a filtered client against the reference stream', () => {
    const ref = new SseClient('ref', 'http://127.0.0.1:1', 'steady', { reference: true });
    const koji = new SseClient('koji', 'http://127.0.0.1:1', 'steady', { query: '?source=demo-koji' });
    for (let seq = 1; seq <= 10; seq++) ref.dispatch(ev(seq, seq % 3 === 0 ? 'demo-koji' : 'demo-apb'));
    koji.dispatch(ev(3, 'demo-koji'));
    koji.dispatch(ev(9, 'demo-koji')); // 6 never arrived
    expect(checkFiltered(koji, ref, 'demo-koji')).toEqual({ checked: 3, missing: 1, examples: [6] });
  });

  it('judges RSS on the medians of the second and last thirds', () => {
    const series = (values: number[]) => values.map((rss_kib, i) => ({ t: i, rss_kib }));
    expect(rssVerdict(series([50, 90, 100, 101, 99, 100, 104, 103, 105]), 10)).toMatchObject({ ok: true, growth_percent: 4 });
    expect(rssVerdict(series([50, 90, 100, 101, 99, 100, 120, 125, 130]), 10)).toMatchObject({ ok: false, growth_percent: 25 });
    expect(rssVerdict(series([100, 100]), 10)).toMatchObject({ ok: false });
  });

  it('refuses bad flags with a clear message', () => {
    expect(parseSoakArgs(['--smoke'])).toMatchObject({ smoke: true, durationS: 60, speed: 100, rssGrowthPercent: 25 });
    expect(parseSoakArgs(['--duration=10m'])).toMatchObject({ smoke: false, durationS: 600, rssGrowthPercent: 10 });
    expect(() => parseSoakArgs(['--duration=soon'])).toThrow('--duration must be a number of seconds or one like 90s, 10m, 1h; got "soon"');
    expect(() => parseSoakArgs(['--speed=0'])).toThrow('--speed must be a positive number up to 1000, got "0"');
    expect(() => parseSoakArgs(['--rss-growth=-3'])).toThrow('--rss-growth must be a positive number');
  });
});

interface SoakSummary {
  ok: boolean;
  settings: { duration_s: number; smoke: boolean; speed: number };
  load_seconds: number;
  checks: { name: string; ok: boolean; detail: string }[];
  requests: { total: number; per_second: number; error_responses: number };
  routes: Record<string, { requests: number; ok: number; gone: number; errors: number; p50_ms: number; p99_ms: number }>;
  events: { per_second: number; filtered_check: { checked: number; missing: number }; resets_for_ids_ahead: number; clients: SseClientSummary[] };
  memory: { samples: number; rss: { ok: boolean; growth_percent: number; allowed_percent: number } };
  exporter_logs: { byLevel: Record<string, number> };
}

describe('soak harness: smoke mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'buildscope-soak-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs 60 s of mixed load on the demo farm at 100x: no error responses, no lost events, RSS flat', { timeout: 180_000 }, async () => {
    const json = join(dir, 'summary.json');
    const child = spawn(process.execPath, [SOAK, '--smoke', `--json=${json}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const release = trackChild(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c))).finally(release);
    const table = out.split('\n\n{')[0] ?? out;
    expect(code, `soak exited ${code}\n${table}\n${err.slice(-3000)}`).toBe(0);

    const s = JSON.parse(readFileSync(json, 'utf8')) as SoakSummary;
    expect(s.settings).toMatchObject({ smoke: true, duration_s: 60, speed: 100 });
    expect(s.load_seconds).toBeGreaterThanOrEqual(60);
    expect(s.load_seconds).toBeLessThan(90);
    for (const c of s.checks) expect(c.ok, `${c.name}: ${c.detail}`).toBe(true);
    expect(s.ok).toBe(true);

    // Zero error responses, on every route of the mix, each of which was exercised.
    expect(s.requests.error_responses).toBe(0);
    expect(s.requests.per_second).toBeGreaterThan(15);
    const routes = ['tasks', 'tasks (filters)', 'tasks (search)', 'task detail', 'sources', 'summary', 'workers', 'jobs', 'values', 'bad request (deliberate)', 'unknown task (deliberate)', '/metrics'];
    expect(Object.keys(s.routes).sort()).toEqual([...routes].sort());
    for (const name of routes) {
      const r = s.routes[name]!;
      expect(r.requests, name).toBeGreaterThan(0);
      expect(r.errors, name).toBe(0);
      expect(r.p50_ms, name).toBeGreaterThan(0);
      expect(r.p99_ms, name).toBeGreaterThanOrEqual(r.p50_ms);
    }

    // No lost events: every unfiltered client's ids are consecutive across its reconnects.
    expect(s.events.per_second).toBeGreaterThan(10);
    for (const c of s.events.clients) {
      expect(c, c.name).toMatchObject({ missing_events: 0, duplicates: 0, seq_mismatches: 0, error_responses: 0 });
      expect(c.events, c.name).toBeGreaterThan(0);
    }
    const byName = new Map(s.events.clients.map((c) => [c.name, c]));
    // The away client left and came back with Last-Event-ID (a replay, not a reset) at least twice.
    expect(byName.get('away-1')!.connects).toBeGreaterThanOrEqual(3);
    expect(byName.get('away-1')!.resets).toBe(0);
    expect(s.events.resets_for_ids_ahead).toBeGreaterThan(0);
    expect(s.events.filtered_check.checked).toBeGreaterThan(0);
    expect(s.events.filtered_check.missing).toBe(0);

    // RSS flat after warm-up, sampled every 2 s (25 % in smoke mode: 60 s end inside the warm-up).
    expect(s.memory.samples).toBeGreaterThanOrEqual(25);
    expect(s.memory.rss.ok).toBe(true);
    expect(s.memory.rss.growth_percent).toBeLessThanOrEqual(s.memory.rss.allowed_percent);
    expect(s.exporter_logs.byLevel.error ?? 0).toBe(0);
  });
});
