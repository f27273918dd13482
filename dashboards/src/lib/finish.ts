/**
 * Last touches on a built dashboard before it is written: expanded rows in Grafana's saved form,
 * panel ids in layout order (Grafana needs them unique; the SDK leaves them unset) and no
 * functions or undefined left in the JSON.
 */
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';

/**
 * Grafana keeps the panels of an expanded row after the row in the top-level list (only a
 * collapsed row holds its panels); the SDK's RowBuilder nests them either way, and Grafana does
 * not show panels nested in an expanded row.
 */
function unnestExpandedRows(panels: (Panel | RowPanel)[]): (Panel | RowPanel)[] {
  const out: (Panel | RowPanel)[] = [];
  for (const panel of panels) {
    if (panel.type === 'row' && !(panel as RowPanel).collapsed) {
      const inner = (panel as RowPanel).panels ?? [];
      out.push({ ...panel, panels: [] } as RowPanel, ...inner);
    } else out.push(panel);
  }
  return out;
}

export function finishDashboard(built: Dashboard): Dashboard {
  const dashboard = JSON.parse(JSON.stringify(built)) as Dashboard;
  if (dashboard.panels) dashboard.panels = unnestExpandedRows(dashboard.panels);
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
