#!/usr/bin/env node
// `npm run stack [-- flags]`: the exporter in demo mode, a real Prometheus loading the buildscope
// alerting and recording rules, and Alertmanager when installed, all on loopback, so the demo
// farm's trouble shows up as alerts. Ctrl-C stops everything and removes the temp dir.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/**
 * An alert's labels worth printing: not its name or severity, nor the scrape target's `job` and
 * `instance` (the same for every alert of this stack) unless the alert has no `source` (the
 * exporter-absent alert names its target by them).
 */
function alertLabels(labels) {
  const hidden = ['alertname', 'severity', ...('source' in labels ? ['instance', 'job'] : [])];
  return Object.entries(labels)
    .filter(([k]) => !hidden.includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN_JS = join(ROOT, 'exporter/dist/main.js');
const PROM_CONFIG = join(ROOT, 'provisioning/prometheus/prometheus.yml');
const AM_CONFIG = join(ROOT, 'provisioning/alertmanager/alertmanager.yml');
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

const HELP = `usage: npm run stack [-- flags]

Starts on loopback, until Ctrl-C:
  - the buildscope exporter in demo mode (a simulated source of every kind),
  - Prometheus with provisioning/prometheus/prometheus.yml: scraping the exporter, loading the
    rules in provisioning/prometheus/rules/ and sending alerts to Alertmanager,
  - Alertmanager with provisioning/alertmanager/alertmanager.yml, when installed
    (Debian package prometheus-alertmanager).
Prints the URLs, then each alert as it turns pending, fires or resolves, and each notification
Alertmanager sends (its example receivers' webhooks are pointed at a printer in this script).

flags:
  --exporter-port=N      exporter port (default 10870)
  --prometheus-port=N    Prometheus port (default 9090)
  --alertmanager-port=N  Alertmanager port (default 9093)
      A default port that is taken (e.g. by the Debian packages' system services) is replaced by a
      free one, and the output says so; a port given explicitly must be free. 0 = any free port.
  --shipped-timing       use the rule files and the 15 s scrape interval exactly as shipped; by
                         default the stack scrapes and evaluates every 5 s and cuts every
                         \`for:\` to at most 15 s, so the demo farm's short trouble (a 30 s Koji
                         database outage, an APB server away for a minute) fires instead of
                         staying pending (expressions, thresholds and labels stay as shipped);
                         Alertmanager then notifies 5 s after an alert fires instead of 30 s
  --no-alertmanager      do not start Alertmanager even when it is installed
  --no-build             do not rebuild the exporter when its sources are newer than exporter/dist
  --quiet                print the URLs only, not the alerts and notifications as they come
  --help                 this text

Needs prometheus (apt-get install prometheus); Alertmanager is optional
(apt-get install prometheus-alertmanager). Everything runs in a temp dir (configs, TSDB, logs)
that is removed on exit.
`;

function fail(message) {
  process.stderr.write(`stack: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { ports: {}, alertmanager: true, build: true, quiet: false, demoTiming: true };
  const portFlags = { '--exporter-port': 'exporter', '--prometheus-port': 'prometheus', '--alertmanager-port': 'alertmanager' };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(HELP);
      process.exit(0);
    } else if (arg === '--no-alertmanager') opts.alertmanager = false;
    else if (arg === '--no-build') opts.build = false;
    else if (arg === '--quiet') opts.quiet = true;
    else if (arg === '--shipped-timing') opts.demoTiming = false;
    else {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(0, eq) : arg;
      const which = portFlags[name];
      if (!which) fail(`unknown flag ${arg} (see --help)`);
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      const port = Number(value);
      if (value === undefined || value === '' || !Number.isInteger(port) || port < 0 || port > 65535) fail(`${name} needs a port number 0..65535, got ${value ?? 'nothing'}`);
      opts.ports[which] = port;
    }
  }
  return opts;
}

/** The first of `names` found on PATH. */
function which(...names) {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (!dir) continue;
      const path = join(dir, name);
      try {
        if (statSync(path).isFile()) return path;
      } catch {
        // Not in this directory.
      }
    }
  }
  return undefined;
}

/** Whether 127.0.0.1:port can be bound right now. */
function portFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The port to use for one component: the one given (0 = any free one; a taken one is an error), or
 * the default when free, else a free one (said on stdout). Check-then-use: the component binds it a
 * moment later; if something takes it in between, that component exits and the stack says why.
 */
async function choosePort(label, given, fallback, hint) {
  if (given !== undefined) {
    if (given === 0) return freePort();
    if (!(await portFree(given))) fail(`127.0.0.1:${given} for ${label} is taken; choose another port or 0 for any free one`);
    return given;
  }
  if (await portFree(fallback)) return fallback;
  const port = await freePort();
  process.stdout.write(`note: 127.0.0.1:${fallback} is taken${hint ? ` (${hint})` : ''}; ${label} uses 127.0.0.1:${port}\n`);
  return port;
}

/** Newest modification time under dir (files only), skipping node_modules. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function buildIfNeeded(build) {
  const built = existsSync(MAIN_JS) ? statSync(MAIN_JS).mtimeMs : 0;
  const stale = built === 0 || newestMtime(join(ROOT, 'exporter/src')) > built;
  if (!stale) return;
  if (!build) {
    if (built === 0) fail('exporter/dist/main.js is missing: run `npm run build` (or drop --no-build)');
    process.stdout.write('note: exporter/dist is older than exporter/src (--no-build: not rebuilt)\n');
    return;
  }
  process.stdout.write('building the exporter (npm run build --workspace exporter)…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = spawnSync(npm, ['run', '-s', 'build', '--workspace', 'exporter'], { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0) fail('the exporter build failed');
  // tsc leaves an unchanged output file's time alone; touch nothing, only check it is there.
  if (!existsSync(MAIN_JS)) fail('the build did not produce exporter/dist/main.js');
}

/** Demo timing: scrape and evaluate every DEMO_INTERVAL, no `for:` longer than DEMO_MAX_FOR. */
const DEMO_INTERVAL = '5s';
const DEMO_MAX_FOR_SECONDS = 15;

/** Seconds in a Prometheus duration such as `90s`, `5m`, `1h30m`. */
function durationSeconds(text) {
  const units = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  let rest = String(text);
  for (const m of rest.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) {
    total += Number(m[1]) * units[m[2]];
    rest = rest.replace(m[0], '');
  }
  if (rest !== '') throw new Error(`not a Prometheus duration: ${text}`);
  return total;
}

/**
 * Copies of the provisioned rule files in `into`, each group evaluated every DEMO_INTERVAL and each
 * `for:` cut to at most DEMO_MAX_FOR_SECONDS: the demo farm's trouble is short (a 30 s Koji database
 * outage, an APB server away for a minute or two), the shipped `for:` durations are meant for real
 * farms and would keep every alert pending. Expressions, thresholds and labels stay as shipped.
 */
function demoRuleFiles(into) {
  const rulesDir = join(ROOT, 'provisioning/prometheus/rules');
  mkdirSync(into, { recursive: true });
  for (const name of readdirSync(rulesDir).filter((n) => n.endsWith('.yml'))) {
    const doc = parse(readFileSync(join(rulesDir, name), 'utf8')) ?? {};
    for (const group of doc.groups ?? []) {
      group.interval = DEMO_INTERVAL;
      for (const rule of group.rules ?? []) {
        if (rule.for !== undefined && durationSeconds(rule.for) > DEMO_MAX_FOR_SECONDS) rule.for = `${DEMO_MAX_FOR_SECONDS}s`;
      }
    }
    writeFileSync(join(into, name), stringify(doc, { lineWidth: 0 }));
  }
}

/** provisioning/prometheus/prometheus.yml with this stack's addresses and rule files. */
function prometheusConfig(exporterAddr, alertmanagerAddr, demoTiming) {
  const config = parse(readFileSync(PROM_CONFIG, 'utf8'));
  if (demoTiming) {
    config.global = { ...config.global, scrape_interval: DEMO_INTERVAL, evaluation_interval: DEMO_INTERVAL };
    for (const job of config.scrape_configs ?? []) {
      job.scrape_interval = DEMO_INTERVAL;
      job.scrape_timeout = DEMO_INTERVAL;
    }
    demoRuleFiles(join(dir, 'rules'));
    config.rule_files = [join(dir, 'rules/*.yml')];
  } else {
    config.global = { ...config.global, evaluation_interval: '15s' };
    config.rule_files = (config.rule_files ?? []).map((f) => (f.startsWith('/') ? f : join(ROOT, 'provisioning/prometheus', f)));
  }
  for (const job of config.scrape_configs ?? []) {
    if (job.job_name === 'buildscope') job.static_configs = [{ targets: [exporterAddr] }];
  }
  if (alertmanagerAddr) config.alerting = { alertmanagers: [{ static_configs: [{ targets: [alertmanagerAddr] }] }] };
  else delete config.alerting;
  return stringify(config);
}

/**
 * provisioning/alertmanager/alertmanager.yml with every webhook pointed at this script's receiver
 * (`<receiverUrl>/<receiver name>`), so the stack shows what Alertmanager sends to whom.
 */
function alertmanagerConfig(receiverUrl, demoTiming) {
  const config = parse(readFileSync(AM_CONFIG, 'utf8'));
  // Demo timing: notify 5 s after an alert fires, not 30 s (the Koji outage is over by then).
  if (demoTiming && config.route) Object.assign(config.route, { group_wait: '5s', group_interval: '1m' });
  for (const receiver of config.receivers ?? []) {
    for (const hook of receiver.webhook_configs ?? []) hook.url = `${receiverUrl}/${encodeURIComponent(receiver.name)}`;
  }
  return stringify(config);
}

/** Loopback webhook receiver printing each Alertmanager notification; resolves to its base URL. */
function startReceiver() {
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.end();
      if (opts.quiet || stopping) return;
      try {
        const msg = JSON.parse(body);
        const time = new Date().toISOString().slice(11, 19);
        const alerts = (msg.alerts ?? []).map((a) => {
          const labels = alertLabels(a.labels ?? {});
          return `${a.labels?.alertname}{${labels}}${a.status === msg.status ? '' : ` (${a.status})`}`;
        });
        process.stdout.write(`${time} notified ${decodeURIComponent((req.url ?? '/').slice(1))}: ${msg.status} ${alerts.join('; ')}\n`);
      } catch {
        // Not an Alertmanager notification: ignore.
      }
    });
  });
  server.unref();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

const opts = parseArgs(process.argv.slice(2));
const prometheusBin = which('prometheus');
if (!prometheusBin) fail('prometheus is not installed: install it with `apt-get install prometheus` (Debian/Ubuntu; any Prometheus 2.x on PATH will do)');
const alertmanagerBin = opts.alertmanager ? which('prometheus-alertmanager', 'alertmanager') : undefined;
if (opts.alertmanager && opts.ports.alertmanager !== undefined && !alertmanagerBin) fail('--alertmanager-port given but Alertmanager is not installed (apt-get install prometheus-alertmanager)');
buildIfNeeded(opts.build);

const exporterPort = await choosePort('the exporter', opts.ports.exporter, 10870);
const prometheusPort = await choosePort('Prometheus', opts.ports.prometheus, 9090, 'a system Prometheus, e.g. from the Debian package?');
const alertmanagerPort = alertmanagerBin ? await choosePort('Alertmanager', opts.ports.alertmanager, 9093, 'a system Alertmanager, e.g. from the Debian package?') : undefined;

const dir = mkdtempSync(join(tmpdir(), 'buildscope-stack-'));
/** @type {{ name: string, child: import('node:child_process').ChildProcess, log: string, exited: Promise<void> }[]} */
const children = [];
let stopping = false;

function tail(path, lines = 30) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function alive(child) {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Start a child in its own process group (a terminal's Ctrl-C reaches this script only, which then
 * stops the children in order), its output to a log file in the temp dir.
 */
function start(name, command, args, onOutput) {
  const log = join(dir, `${name}.log`);
  const out = createWriteStream(log);
  const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.on('data', (d) => {
    out.write(d);
    onOutput?.(d.toString());
  });
  child.stderr.on('data', (d) => out.write(d));
  const exited = new Promise((resolve) => {
    child.once('close', () => out.end(resolve));
    child.once('error', (err) => {
      out.end(`\nstack: cannot start ${command}: ${err.message}\n`);
    });
  });
  const entry = { name, child, log, exited };
  children.push(entry);
  child.once('exit', (code, signal) => {
    if (stopping) return;
    void exited.then(() => {
      process.stderr.write(`\nstack: ${name} exited (${signal ?? `code ${code}`}); stopping the rest. Last lines of its log (${log}):\n${tail(log)}\n`);
      return shutdown(1);
    });
  });
  child.once('error', () => {
    if (stopping) return;
    process.stderr.write(`\nstack: cannot start ${name} (${command}); stopping the rest.\n`);
    void shutdown(1);
  });
  return entry;
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  // Reverse order: Prometheus stops scraping before the exporter goes.
  for (const { child, exited } of [...children].reverse()) {
    if (alive(child) && child.pid !== undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => alive(child) && child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  process.stdout.write(`stack: stopped${code === 0 ? '' : ' after a failure'}; removed ${dir}\n`);
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void shutdown(0));
// Last resort when this script dies of an error: no child outlives it.
process.on('exit', () => {
  for (const { child } of children) if (alive(child)) child.kill('SIGKILL');
  if (!stopping) rmSync(dir, { recursive: true, force: true });
});

async function waitFor(what, check, timeoutMs = READY_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (stopping) return new Promise(() => {});
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) {
      process.stderr.write(`stack: timed out after ${timeoutMs / 1000} s waiting for ${what}\n`);
      for (const { name, log } of children) process.stderr.write(`--- ${name} (${log}):\n${tail(log, 15)}\n`);
      await shutdown(1);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function ok(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

// The exporter, in demo mode.
let exporterOut = '';
start('exporter', process.execPath, [MAIN_JS, '--demo', `--web.listen-address=127.0.0.1:${exporterPort}`], (text) => {
  if (exporterOut.length < 100_000) exporterOut += text;
});
const exporterUrl = await waitFor('the exporter to listen', () => /listening on (http:\/\/[\d.:]+)/.exec(exporterOut)?.[1]);
const exporterAddr = new URL(exporterUrl).host;

// Alertmanager (optional), then Prometheus pointing at both.
let alertmanagerUrl;
let receiverUrl;
if (alertmanagerBin) {
  alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;
  receiverUrl = await startReceiver();
  const amConfig = join(dir, 'alertmanager.yml');
  writeFileSync(amConfig, alertmanagerConfig(receiverUrl, opts.demoTiming));
  start('alertmanager', alertmanagerBin, [
    `--config.file=${amConfig}`,
    `--storage.path=${join(dir, 'alertmanager')}`,
    `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
}
const promConfig = join(dir, 'prometheus.yml');
writeFileSync(promConfig, prometheusConfig(exporterAddr, alertmanagerUrl ? `127.0.0.1:${alertmanagerPort}` : undefined, opts.demoTiming));
const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
start('prometheus', prometheusBin, [
  `--config.file=${promConfig}`,
  `--storage.tsdb.path=${join(dir, 'prometheus')}`,
  `--web.listen-address=127.0.0.1:${prometheusPort}`,
  '--log.level=warn',
]);

await waitFor(`Prometheus on ${prometheusUrl}`, () => ok(`${prometheusUrl}/-/ready`));
if (alertmanagerUrl) await waitFor(`Alertmanager on ${alertmanagerUrl}`, () => ok(`${alertmanagerUrl}/-/ready`));
const groups = await waitFor('Prometheus to load the rule groups', async () => {
  const res = await fetch(`${prometheusUrl}/api/v1/rules`, { signal: AbortSignal.timeout(2000) });
  const body = await res.json();
  const n = body?.data?.groups?.length ?? 0;
  return n > 0 ? n : undefined;
});

process.stdout.write(
  [
    '',
    'buildscope stack (demo farm) on loopback:',
    `  exporter      ${exporterUrl}/metrics`,
    `  api           ${exporterUrl}/api/v1/sources`,
    `  prometheus    ${prometheusUrl}/alerts`,
    `  targets       ${prometheusUrl}/targets`,
    alertmanagerUrl ? `  alertmanager  ${alertmanagerUrl}/#/alerts` : '  alertmanager  not started (apt-get install prometheus-alertmanager to add it)',
    ...(receiverUrl ? [`  notifications ${receiverUrl} (the example receivers pager, team and team-low; printed below)`] : []),
    `  temp dir      ${dir}`,
    `  logs          ${children.map((c) => `${c.name}.log`).join(', ')} in the temp dir`,
    `  processes     ${children.map((c) => `${c.name} ${c.child.pid}`).join(', ')}`,
    '',
    `Prometheus loaded ${groups} rule groups from provisioning/prometheus/rules/${
      opts.demoTiming
        ? `, with demo timing: every rule group evaluated every ${DEMO_INTERVAL}, no \`for:\` longer than ${DEMO_MAX_FOR_SECONDS}s\n(--shipped-timing: as shipped). The demo farm's first alerts fire within a few minutes.`
        : ` as shipped: groups evaluated every minute, \`for:\` of\n2 minutes to an hour, so the demo farm's short trouble mostly stays pending.`
    }`,
    'Ctrl-C stops everything.',
    'stack ready',
    '',
  ].join('\n'),
);

// Each alert as its state changes.
if (!opts.quiet) {
  let known = new Map();
  const describe = (a) => {
    const labels = alertLabels(a.labels);
    return `${a.labels.alertname}{${labels}}${a.labels.severity ? ` [${a.labels.severity}]` : ''}`;
  };
  const poll = async () => {
    if (stopping) return;
    try {
      const res = await fetch(`${prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(5000) });
      const body = await res.json();
      const now = new Map();
      for (const a of body?.data?.alerts ?? []) now.set(describe(a), a.state);
      const time = new Date().toISOString().slice(11, 19);
      for (const [key, state] of now) if (known.get(key) !== state) process.stdout.write(`${time} ${state.padEnd(8)} ${key}\n`);
      for (const key of known.keys()) if (!now.has(key)) process.stdout.write(`${time} ${'resolved'.padEnd(8)} ${key}\n`);
      known = now;
    } catch {
      // Prometheus is busy or stopping; the next poll tries again.
    }
  };
  setInterval(() => void poll(), 5000).unref();
}
