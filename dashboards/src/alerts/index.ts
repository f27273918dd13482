/**
 * The alert and recording rules, rendered to the files Prometheus and Grafana load.
 * Returns repo-relative path -> file content.
 */
export function renderAlertFiles(): Map<string, string> {
  return new Map();
}
