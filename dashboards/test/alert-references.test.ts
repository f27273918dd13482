/**
 * What an alert tells the operator to look at exists: every dashboard an alert's summary or
 * description names is a generated dashboard, and every panel it names in double quotes is a panel
 * of one. A dashboard named by a label (`the {{ $labels.kind }} dashboard`) is not accepted: the
 * dashboards are not named after the kinds, and not every kind's dashboard has every panel.
 */
import { describe, expect, it } from 'vitest';
import { allAlerts } from '../src/alerts/rules.js';
import { DASHBOARD_DIR, renderOutputs } from '../src/outputs.js';

interface Panel {
  title?: string;
  panels?: Panel[];
}

const dashboards = [...renderOutputs()]
  .filter(([path]) => path.startsWith(`${DASHBOARD_DIR}/`) && path.endsWith('.json'))
  .map(([, text]) => JSON.parse(text) as { title: string; panels: Panel[] });

const walk = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...walk(p.panels ?? [])]);
const panelTitles = new Set(dashboards.flatMap((d) => walk(d.panels).map((p) => p.title ?? '')));

/** How a text may name a dashboard: its title, without a parenthesis, or its first word. */
const dashboardNames = dashboards.flatMap((d) => {
  const plain = d.title.replace(/\s*\(.*\)$/, '');
  return [d.title, plain, plain.split(' ')[0] ?? plain];
});

function texts(): { alert: string; text: string }[] {
  return allAlerts().flatMap((a) => [
    { alert: a.alert, text: a.summary },
    { alert: a.alert, text: a.description },
  ]);
}

describe('alert annotations', () => {
  it('name only dashboards that exist', () => {
    expect(dashboards.length).toBeGreaterThan(0);
    for (const { alert, text } of texts()) {
      for (const m of text.matchAll(/ dashboards?\b/g)) {
        const before = text.slice(0, m.index);
        const named = dashboardNames.some((n) => before.toLowerCase().endsWith(n.toLowerCase()));
        expect(named, `${alert}: "…${before.slice(-40)}${m[0]}" names no generated dashboard (${dashboardNames.join(', ')})`).toBe(true);
      }
    }
  });

  it('quote only panel titles that exist', () => {
    for (const { alert, text } of texts()) {
      for (const m of text.matchAll(/"([^"]+)"/g)) {
        expect(panelTitles.has(m[1] ?? ''), `${alert}: no generated panel is titled "${m[1]}"`).toBe(true);
      }
    }
  });
});
