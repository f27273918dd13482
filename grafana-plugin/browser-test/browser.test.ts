// @vitest-environment node
/**
 * The built plugin in a real browser: Debian's chromium (driven by playwright-core) opens a page
 * that loads grafana-plugin/dist/module.js through an AMD loader, hands it the real @grafana/ui,
 * @grafana/data, @grafana/runtime, React and rxjs, renders its config, query and variable editors
 * in Grafana's theme and runs a live events query against a real exporter in demo mode, reached
 * through the page server's stand-in for Grafana's data proxy (the exporter sends no CORS headers).
 *
 * Without chromium the tests are skipped with a warning locally and fail in CI (CI=true).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startExporter, type ExporterProcess } from '../../test/support/exporter-process.js';
import { requireTool } from '../../test/support/tools.js';
import { startPageServer, type PageServer } from './server.js';

const PLUGIN_DIR = fileURLToPath(new URL('..', import.meta.url));
const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/', import.meta.url));
const SCREENSHOT = `${OUTPUT_DIR}grafana-plugin-browser.png`;
const WEBPACK_CLI = createRequire(import.meta.url).resolve('webpack-cli/bin/cli.js');
/** Live events the list must show (the demo farm makes dozens a second once polling). */
const MIN_EVENTS = 20;

const chromiumPath = requireTool('chromium', 'chromium');

/** The newest modification time of the files under `dir` that go into the bundle (tests left out), ms. */
function newest(dir: string): number {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => !/\.test\.tsx?$|(^|\/)testing\//.test(f));
  return Math.max(0, ...files.map((f) => statSync(`${dir}/${f}`).mtimeMs));
}

function webpack(config: string): void {
  execFileSync(process.execPath, [WEBPACK_CLI, '--config', config], { cwd: PLUGIN_DIR, stdio: 'pipe', timeout: 240_000 });
}

describe.skipIf(!chromiumPath)('the built plugin in chromium, against a live exporter', () => {
  let exporter: ExporterProcess | undefined;
  let server: PageServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];
  const failedResponses: string[] = [];

  beforeAll(async () => {
    const t0 = Date.now();
    const took: string[] = [];
    const step = (what: string) => took.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    // The plugin as `npm run build` leaves it (rebuilt here only when missing or older than src/), and the test page.
    const moduleJs = `${PLUGIN_DIR}dist/module.js`;
    if (!existsSync(moduleJs) || statSync(moduleJs).mtimeMs < newest(`${PLUGIN_DIR}src`)) {
      webpack('webpack.config.cjs');
      step('plugin built');
    }
    webpack('browser-test/webpack.config.cjs');
    step('page built');
    exporter = await startExporter(['--demo', '--log.level=warn'], {}, { listenTimeoutMs: 90_000 });
    const url = exporter.url;
    await waitUntil(async () => (await fetch(`${url}/-/ready`)).ok, 60_000, { what: 'demo exporter readiness', intervalMs: 200 });
    step('exporter ready');
    server = await startPageServer(url);
    browser = await chromium.launch({
      executablePath: chromiumPath!,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(15_000);
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) failedResponses.push(`${r.status()} ${r.url()}`);
    });
    // A request the page itself cancels (an icon fetch of a spinner that unmounted first) is not a failure.
    page.on('requestfailed', (r) => {
      const why = r.failure()?.errorText ?? 'failed';
      if (why !== 'net::ERR_ABORTED') failedResponses.push(`${why} ${r.url()}`);
    });
    await page.goto(server.url);
    await page.waitForSelector('#status[data-state="ready"], #status[data-state="failed"]', { timeout: 30_000 });
    const status = await page.textContent('#status');
    if ((await page.getAttribute('#status', 'data-state')) !== 'ready') throw new Error(`the page could not load the plugin: ${status}`);
    step('page loaded');
    console.log(`browser test set-up: ${took.join(', ')}`);
  }, 420_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await exporter?.stop();
  });

  it('loads dist/module.js through the AMD loader', async () => {
    expect(await page.textContent('#status')).toBe('plugin loaded from dist/module.js');
  });

  it('config editor: the URL and token fields with their labels; an invalid URL shows why', async () => {
    const config = page.getByRole('region', { name: 'Config editor' });
    const url = config.getByLabel('Exporter URL');
    await url.waitFor({ state: 'visible' });
    expect(await config.getByLabel('Token').isVisible()).toBe(true);
    await url.fill('http://exporter:10870/api/v1');
    await config.getByText('The base URL only, without "/api/v1"', { exact: false }).waitFor({ state: 'visible' });
    await url.fill('http://exporter:10870');
    await config.getByLabel('Token').fill('s3cret');
    expect(JSON.parse((await config.getByTestId('config-json').textContent())!)).toEqual({ jsonData: { url: 'http://exporter:10870' }, secureJsonData: { token: 's3cret' } });
    expect(await config.getByText(/without|Must start|Required/).count()).toBe(0);
  });

  it('query editor: the fields with their labels, the exporter’s values and $variables in the selects, type switching', async () => {
    const editor = page.getByRole('region', { name: 'Query editor' });
    for (const label of ['Source', 'Kind', 'State', 'Phase', 'Repo', 'Owner', 'Arch', 'Search', 'Sort', 'Limit', 'Use time range']) {
      await editor.getByLabel(label, { exact: true }).first().waitFor({ state: 'attached' });
      expect(await editor.getByText(label, { exact: true }).first().isVisible(), label).toBe(true);
    }
    for (const type of ['Tasks', 'Task detail', 'Summary', 'Workers', 'Jobs', 'Events']) {
      expect(await editor.getByText(type, { exact: true }).isVisible(), type).toBe(true);
    }
    // The Source select offers the dashboard variable and the demo farm's sources, read through the proxy.
    await editor.getByLabel('Source', { exact: true }).focus();
    await page.keyboard.press('ArrowDown');
    const options = page.getByLabel('Select options menu').getByRole('option');
    await waitUntil(async () => (await options.count()) > 2, 15_000, { what: 'source options from the exporter' });
    const offered = await options.allTextContents();
    expect(offered[0]).toMatch(/^\$source/);
    expect(offered.some((o) => o.startsWith('demo-girar'))).toBe(true);
    await options.filter({ hasText: /^demo-girar$/ }).click();
    await page.keyboard.press('Escape');
    const query = async () => JSON.parse((await editor.getByTestId('query-json').textContent())!) as Record<string, unknown>;
    expect(await query()).toMatchObject({ refId: 'A', queryType: 'tasks', source: ['demo-girar'] });
    await editor.getByRole('radio', { name: 'Events' }).click();
    await editor.getByLabel('Event types').waitFor({ state: 'attached' });
    expect(await query()).toEqual({ refId: 'A', version: 1, queryType: 'events', source: ['demo-girar'] });
    expect(Number(await editor.getByTestId('query-runs').textContent())).toBe(2);
  });

  it('variable editor: previews the values of the chosen field from the exporter', async () => {
    const editor = page.getByRole('region', { name: 'Variable editor' });
    await editor.getByText(/^Preview: .*demo-girar/).waitFor({ state: 'visible', timeout: 15_000 });
    expect(JSON.parse((await editor.getByTestId('variable-json').textContent())!)).toMatchObject({ field: 'source' });
  });

  it(`streams live events: at least ${MIN_EVENTS} rows arrive in the list`, async () => {
    const live = page.getByRole('region', { name: 'Live events' });
    const count = async () => Number(await live.getByTestId('event-count').textContent());
    await waitUntil(async () => (await count()) >= MIN_EVENTS, 60_000, { what: `${MIN_EVENTS} live events`, intervalMs: 250 });
    const rows = await live.getByTestId('events').getByRole('listitem').allTextContents();
    expect(rows.length).toBeGreaterThanOrEqual(MIN_EVENTS);
    for (const row of rows) expect(row).toMatch(/^(task|worker|job)_(new|updated|removed) \S+\/\S+/);
    expect(await live.getByTestId('stream-error').count()).toBe(0);
    expect(server!.proxied).toContain('/api/v1/events');
  });

  it('no console errors, no failed requests; screenshot', async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(failedResponses).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
