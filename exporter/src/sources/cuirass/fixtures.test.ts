/** The cuirass mapping on the manual's and the source's payload shapes (fixtures/README.md says where each comes from). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildTask, evaluationTask } from './normalize.js';
import { checkBuild, checkEvaluation, checkSpecification } from './upstream.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as unknown;

describe('cuirass fixtures', () => {
  it("maps the manual's finished build, every field", () => {
    const b = fixture('build-finished.json');
    if (!checkBuild.Check(b)) throw new Error('build-finished.json does not pass the schema');
    expect(buildTask('ci', 'https://ci.guix.gnu.org', b)).toEqual({
      source: 'ci',
      kind: 'cuirass',
      id: '2',
      state: 'succeeded',
      phase: 'success',
      repo: 'guix',
      message: 'acpica-20150410',
      archs: ['x86_64-linux'],
      subtasks: [{ id: '1', type: 'job', package: 'acpica-20150410-job', archs: [{ arch: 'x86_64-linux', status: 'succeeded', phase: 'success' }] }],
      url: 'https://ci.guix.gnu.org/build/2/details',
      native: b,
      started: '2017-07-29T16:58:13Z',
      finished: '2017-07-29T16:58:13Z',
      stateSince: '2017-07-29T16:58:13Z',
      attrs: { job: 'acpica-20150410-job', evaluation: 1, weather: 'new-success', priority: 0 },
    });
  });

  it('maps a scheduled build: its timestamp is its creation, no start', () => {
    const b = fixture('build-queued.json');
    if (!checkBuild.Check(b)) throw new Error('build-queued.json does not pass the schema');
    const t = buildTask('ci', 'https://ci', b);
    expect(t).toMatchObject({ id: '3', state: 'scheduled', phase: 'queued', created: '2017-07-29T16:58:13Z', stateSince: '2017-07-29T16:58:13Z', attrs: { weather: 'unknown', priority: 9 } });
    expect(t.started).toBeUndefined();
  });

  it("maps the manual's evaluation: from its timestamp to its evaltime", () => {
    const e = fixture('evaluation-manual.json');
    if (!checkEvaluation.Check(e)) throw new Error('evaluation-manual.json does not pass the schema');
    expect(evaluationTask('ci', 'https://ci', e)).toMatchObject({ id: 'eval-1', state: 'evaluated', phase: 'success', repo: 'guix-master', created: '2021-03-09T11:23:31Z', finished: '2021-03-09T11:34:15Z' });
  });

  it('accepts the specifications list', () => {
    const specs = fixture('specifications.json') as unknown[];
    expect(specs.length).toBeGreaterThan(0);
    for (const s of specs) expect(checkSpecification.Check(s)).toBe(true);
  });
});
