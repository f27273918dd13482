import { describe, expect, it } from 'vitest';
import { LabelGuard } from './label-guard.js';
import { girarTask, scrape, series, setup } from './test-helpers.js';

describe('LabelGuard', () => {
  it('admits the first values per source and label, folds later ones and unfit ones into other', () => {
    const guard = new LabelGuard(2);
    expect(['A', 'B', 'C', 'A'].map((v) => guard.label('alt', 'state', v))).toEqual(['A', 'B', 'other', 'A']);
    expect(guard.label('alt', 'repo', 'C')).toBe('C');
    expect(guard.label('other-source', 'state', 'C')).toBe('C');
    expect(guard.label('x', 'state', 'bad\nvalue')).toBe('other');
    expect(guard.label('x', 'state', 'y'.repeat(81))).toBe('other');
  });
});

describe('bounded labels from a hostile upstream', () => {
  it('keeps buildfarm_tasks at a bounded number of series, and the counts add up', async () => {
    const s = setup();
    const tasks = Array.from({ length: 1000 }, (_, i) => girarTask(i + 1, `STATE_${i}`, { repo: `repo-${i}` }));
    s.snapshot(0, tasks);
    const samples = series(await scrape(s.metrics), 'buildfarm_tasks');
    expect(Object.keys(samples).length).toBeLessThanOrEqual(101 * 2);
    expect(Object.values(samples).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(Object.keys(samples).some((k) => k.includes('state=other'))).toBe(true);
  });
});
