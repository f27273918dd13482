import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRIC_DEFINITIONS } from './definitions.js';
import { renderMetricsDoc } from './docs.js';

const DOC = fileURLToPath(new URL('../../../docs/metrics.md', import.meta.url));

describe('docs/metrics.md', () => {
  it('is generated from the definitions table and current', () => {
    const want = renderMetricsDoc();
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(DOC, want);
    let have = '';
    try {
      have = readFileSync(DOC, 'utf8');
    } catch {
      // compared below, with the fix in the message
    }
    expect(have === want, 'docs/metrics.md is stale: run `npm run docs:metrics` (or UPDATE_GOLDEN=1 npx vitest run exporter/src/metrics/docs.test.ts) and commit it').toBe(true);
  });

  it('documents every declared family', () => {
    const doc = renderMetricsDoc();
    for (const def of METRIC_DEFINITIONS) expect(doc).toContain(`## ${def.name}\n`);
  });
});
