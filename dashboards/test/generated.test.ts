/**
 * The committed dashboards and rule files are exactly what dashboards/src generates: CI fails
 * when someone edits the JSON/YAML by hand or changes the code without `npm run dashboards`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_DIR, renderOutputs } from '../src/outputs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const outputs = renderOutputs();

describe('generated files are committed as generated', () => {
  it.each([...outputs.keys()])('%s', (path) => {
    let committed: string;
    try {
      committed = readFileSync(`${ROOT}${path}`, 'utf8');
    } catch {
      throw new Error(`${path} is missing: run \`npm run dashboards\` and commit it`);
    }
    expect(committed, `${path} differs from what dashboards/src generates: run \`npm run dashboards\``).toBe(outputs.get(path));
  });

  it('dashboards/generated holds no file the code does not generate', () => {
    const stale = readdirSync(`${ROOT}${DASHBOARD_DIR}`)
      .filter((name) => !name.startsWith('.'))
      .map((name) => `${DASHBOARD_DIR}/${name}`)
      .filter((path) => !outputs.has(path));
    expect(stale).toEqual([]);
  });
});
