/**
 * What Grafana's index.html sets before any plugin code runs: @grafana/runtime's `config` reads
 * `window.grafanaBootData` when it is first imported (and complains when it is missing), so the
 * page imports this module first.
 */
(window as unknown as { grafanaBootData: unknown }).grafanaBootData = {
  assets: { dark: '', light: '' },
  settings: {
    appSubUrl: '',
    buildInfo: { version: '13.1.1', commit: 'browser-test', env: 'production', edition: 'Open Source' },
    featureToggles: {},
    datasources: {},
  },
  user: { id: 1, login: 'browser-test', orgId: 1, timezone: 'browser', theme: 'dark', language: 'en-US' },
  navTree: [],
};
export {};
