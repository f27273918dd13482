/** Counters restored from the journal: through the label guard, and only the durable (event-fed) ones. */
import { describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { ExporterMetrics } from './index.js';

function metrics(): ExporterMetrics {
  return new ExporterMetrics({ store: new Store(), health: { health: () => [] }, version: 'test', processMetrics: false });
}

async function lines(m: ExporterMetrics, name: string): Promise<string[]> {
  return (await m.render()).body.split('\n').filter((l) => l.startsWith(`${name}{`));
}

describe('restoring counters', () => {
  it('passes restored label values through the label guard: past the limit they fold into other, and the journal is told', async () => {
    const m = metrics();
    const rows = Array.from({ length: 150 }, (_, i) => ({ family: 'buildfarm_tasks_finished_total', labels: { source: 'alt', kind: 'girar', repo: `r${i}`, phase: 'success' }, value: 2 }));
    expect(m.restoreCounters(rows)).toBe(150);
    const finished = await lines(m, 'buildfarm_tasks_finished_total');
    expect(finished).toHaveLength(101);
    expect(finished).toContain('buildfarm_tasks_finished_total{source="alt",kind="girar",repo="other",phase="success"} 100');
    // What the journal is told to hold instead of the 150 rows it had.
    const all = m.allCounters();
    expect(all).toHaveLength(101);
    expect(all.reduce((sum, c) => sum + c.value, 0)).toBe(300);
    // A later restart restores those 101 rows to the same 101 series: no growth per restart.
    const again = metrics();
    again.restoreCounters(all);
    expect(await lines(again, 'buildfarm_tasks_finished_total')).toEqual(finished);
  });

  it('continues event-fed counters but not the poll and request counters, which restart at 0', async () => {
    const m = metrics();
    m.restoreCounters([
      { family: 'buildfarm_task_transitions_total', labels: { source: 'alt', kind: 'girar', from_state: 'NEW', to_state: 'AWAITING' }, value: 7 },
      { family: 'buildfarm_source_polls_total', labels: { source: 'alt', kind: 'girar', result: 'ok' }, value: 40 },
      { family: 'buildfarm_upstream_requests_total', labels: { source: 'alt', code: '200' }, value: 90 },
    ]);
    expect(await lines(m, 'buildfarm_task_transitions_total')).toEqual(['buildfarm_task_transitions_total{source="alt",kind="girar",from_state="NEW",to_state="AWAITING"} 7']);
    expect(await lines(m, 'buildfarm_source_polls_total')).toEqual([]);
    expect(await lines(m, 'buildfarm_upstream_requests_total')).toEqual([]);
    // Nor do polls ever become dirty for the journal.
    m.pollFinished('alt', 'girar', 0.5, true);
    expect(m.takeDirtyCounters()).toEqual([]);
  });
});
