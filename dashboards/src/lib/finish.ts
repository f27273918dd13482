/**
 * Last touches on a built dashboard before it is written: panel ids in layout order (Grafana
 * needs them unique; the SDK leaves them unset) and no functions or undefined left in the JSON.
 */
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';

export function finishDashboard(built: Dashboard): Dashboard {
  const dashboard = JSON.parse(JSON.stringify(built)) as Dashboard;
  let id = 1;
  const number = (panels: (Panel | RowPanel)[] | undefined): void => {
    for (const panel of panels ?? []) {
      panel.id = id++;
      if (panel.type === 'row') number((panel as RowPanel).panels);
    }
  };
  number(dashboard.panels);
  return dashboard;
}
