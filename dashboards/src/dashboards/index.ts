/**
 * Every dashboard buildscope ships, in the order the links menu lists them. Each entry becomes
 * dashboards/generated/<uid>.json (`npm run dashboards`).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';

export interface DashboardEntry {
  /** File name under dashboards/generated/, without `.json` (the dashboard uid). */
  uid: string;
  build(): Dashboard;
}

export const DASHBOARDS: DashboardEntry[] = [];
