import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * The plugin's @grafana/* packages ship ESM that imports CSS, so vitest processes them itself
 * (`server.deps.inline`) instead of handing them to Node; they need a DOM at import time
 * (`window`, `matchMedia`), so plugin tests run in jsdom with the shims of
 * grafana-plugin/test/setup.ts (a file may still choose `// @vitest-environment node`). Node's own
 * fetch stays available in jsdom: the datasource tests talk HTTP to a real exporter.
 */
const plugin = {
  environment: 'jsdom',
  setupFiles: ['grafana-plugin/test/setup.ts'],
  server: { deps: { inline: [/@grafana\//] } },
} satisfies TestProjectInlineConfiguration['test'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'exporter',
          include: ['exporter/src/**/*.test.ts', 'test/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          // Generated dashboards and rules: in sync with their code, valid for Grafana, the plugin and
          // promtool. (Their queries on a real Prometheus: test/e2e/dashboards.test.ts, in `exporter`.)
          name: 'dashboards',
          include: ['dashboards/test/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          ...plugin,
          name: 'grafana-plugin',
          include: ['grafana-plugin/src/**/*.test.{ts,tsx}', 'grafana-plugin/test/*.test.{ts,tsx}', 'grafana-plugin/browser-test/**/*.test.{ts,tsx}'],
        },
      },
      {
        extends: true,
        test: {
          ...plugin,
          // The datasource against one real exporter (demo farm) the global setup starts for the run.
          name: 'grafana-plugin-exporter',
          include: ['grafana-plugin/test/exporter/**/*.test.ts'],
          globalSetup: ['grafana-plugin/test/exporter/global-setup.ts'],
        },
      },
    ],
  },
});
