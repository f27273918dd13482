/**
 * Every dashboard buildscope ships, in the order the links menu lists them. Each entry becomes
 * dashboards/generated/<uid>.json (`npm run dashboards`).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { cuirassDashboard } from './cuirass.js';
import { karajoDashboard } from './karajo.js';
import { kojiDashboard } from './koji.js';

export interface DashboardEntry {
  /** File name under dashboards/generated/, without `.json` (the dashboard uid). */
  uid: string;
  build(): Dashboard;
}

export const DASHBOARDS: DashboardEntry[] = [
  { uid: 'buildscope-karajo', build: karajoDashboard },
  { uid: 'buildscope-cuirass', build: cuirassDashboard },
  { uid: 'buildscope-koji', build: kojiDashboard },
];
