/**
 * Everything generated from this package's TypeScript: the dashboards' JSON, the Prometheus rule
 * files and the Grafana-managed alert rules. `generate.ts` writes these files; the test
 * (dashboards/test/generated.test.ts) and `npm run dashboards -- --check` fail when the committed
 * files differ from what the code generates.
 */
import { renderAlertFiles } from './alerts/index.js';
import { DASHBOARDS } from './dashboards/index.js';
import { finishDashboard } from './lib/finish.js';

/** Directory (repo-relative) holding the generated dashboards; generate --check also flags stale files in it. */
export const DASHBOARD_DIR = 'dashboards/generated';

/** Repo-relative path -> content, in a stable order. */
export function renderOutputs(): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of DASHBOARDS) {
    const dashboard = finishDashboard(entry.build());
    if (dashboard.uid !== entry.uid) throw new Error(`dashboard ${entry.uid}: built with uid ${dashboard.uid ?? '(none)'}`);
    out.set(`${DASHBOARD_DIR}/${entry.uid}.json`, `${JSON.stringify(dashboard, null, 2)}\n`);
  }
  for (const [path, content] of renderAlertFiles()) {
    if (out.has(path)) throw new Error(`${path} generated twice`);
    out.set(path, content);
  }
  return out;
}
