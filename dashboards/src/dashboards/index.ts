/**
 * Every dashboard buildscope ships, in the order the links menu lists them. Each entry becomes
 * dashboards/generated/<uid>.json (`npm run dashboards`).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildApb, UID as APB_UID } from './apb.js';
import { buildExporterHealth, UID as EXPORTER_UID } from './exporter-health.js';
import { buildGirar, UID as GIRAR_UID } from './girar.js';
import { buildOverview, UID as OVERVIEW_UID } from './overview.js';
import { cuirassDashboard } from './cuirass.js';
import { karajoDashboard } from './karajo.js';
import { kojiDashboard } from './koji.js';

export interface DashboardEntry {
  /** File name under dashboards/generated/, without `.json` (the dashboard uid). */
  uid: string;
  build(): Dashboard;
}

export const DASHBOARDS: DashboardEntry[] = [
  { uid: OVERVIEW_UID, build: buildOverview },
  { uid: EXPORTER_UID, build: buildExporterHealth },
  { uid: GIRAR_UID, build: buildGirar },
  { uid: APB_UID, build: buildApb },
  { uid: 'buildscope-karajo', build: karajoDashboard },
  { uid: 'buildscope-cuirass', build: cuirassDashboard },
  { uid: 'buildscope-koji', build: kojiDashboard },
];
