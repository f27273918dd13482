#!/usr/bin/env node
/** CLI entry: parse flags, load (or check) the config, build the exporter, listen, close on signals. */
import { pino, destination, type Logger } from 'pino';
import { buildExporter, type Exporter } from './app.js';
import { ALL_INTERFACES } from './cli/listen-address.js';
import { catchShutdownSignals } from './cli/signals.js';
import { parseFlags, parseListenAddress, USAGE, UsageError, type Flags } from './cli/flags.js';
import { ConfigError, demoConfig, loadConfigFile } from './config/load.js';
import { DEFAULT_WEB_SETTINGS, type AppConfig } from './config/schema.js';
import { authSetupProblems, WebRuntime } from './web/runtime.js';
import { WebConfigError } from './web/web-config.js';
import { startDemoFarm, type DemoFarm } from './demo.js';
import { JournalError } from './store/sqlite-journal.js';
import { kindSchemas } from './sources/registry.js';
import { systemClock } from './util/clock.js';
import { VERSION } from './version.js';

async function main(argv: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`buildscope-exporter ${VERSION}\n`);
    return 0;
  }
  if (!flags.configFile && !flags.demo) {
    process.stderr.write(`no --config.file given: pass --config.file=FILE for real use, or --demo for the demo farm (npm start does that)\n\n${USAGE}`);
    return 2;
  }

  const overrides = {
    ...(flags.listenAddress ? { listenAddress: flags.listenAddress } : {}),
    ...(flags.logLevel ? { logLevel: flags.logLevel } : {}),
    ...(flags.journalPath !== undefined ? { journalPath: flags.journalPath } : {}),
  };
  let config: AppConfig | undefined;
  if (flags.configFile) {
    try {
      config = await loadConfigFile(flags.configFile, kindSchemas, overrides);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
  }
  let web: WebRuntime | undefined;
  try {
    web = flags.webConfigFile !== undefined ? new WebRuntime(flags.webConfigFile) : undefined;
  } catch (err) {
    if (!(err instanceof WebConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  const authProblems = authSetupProblems(config?.web ?? DEFAULT_WEB_SETTINGS, web?.current);
  if (authProblems.length > 0) {
    process.stderr.write(`${authProblems.join('\n')}\n`);
    return 1;
  }
  if (config && flags.configFile) {
    if (flags.configCheck) {
      process.stdout.write(`${flags.configFile}: OK (${config.sources.length} source${config.sources.length === 1 ? '' : 's'}: ${config.sources.map((s) => `${s.name} (${s.kind})`).join(', ')})\n`);
      return 0;
    }
  }

  const signals = catchShutdownSignals();
  const log: Logger = pino({ level: flags.logLevel ?? config?.logLevel ?? 'info', base: { service: 'buildscope-exporter' } }, destination(2));
  signals.useLogger(log);
  let demo: DemoFarm | undefined;
  if (!config) {
    demo = await startDemoFarm(log, systemClock, { speed: flags.demoSpeed ?? 1 });
    config = demoConfig(demo.sources, { ...overrides, listenAddress: flags.listenAddress ?? '127.0.0.1:10870' });
  }

  let exporter: Exporter;
  try {
    exporter = await buildExporter(config, { log, resetJournal: flags.resetJournal, ...(web ? { web } : {}), ...(demo && demo.speed !== 1 ? { upstreamClock: demo.clock } : {}) });
  } catch (err) {
    await demo?.close();
    if (!(err instanceof JournalError)) throw err;
    log.error({ file: err.file, problem: err.problem }, err.message);
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  const { host, port } = parseListenAddress(config.listenAddress);
  let address: string;
  try {
    address = await listen(exporter.app, host, port);
  } catch (err) {
    log.error({ err }, `cannot listen on ${config.listenAddress}: ${(err as Error).message}; choose another with --web.listen-address`);
    await exporter.close();
    await demo?.close();
    return 1;
  }
  exporter.start();
  log.info({ address, sources: config.sources.map((s) => s.name), demo: config.demo, ...(demo ? { demoSpeed: demo.speed } : {}), version: VERSION }, 'buildscope exporter listening');
  const shown = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  process.stdout.write(
    [
      `buildscope exporter ${VERSION} listening on ${address}${config.demo ? ` (demo farm${demo && demo.speed !== 1 ? `, ${demo.speed}x speed` : ''})` : ''}`,
      `  metrics:  ${shown}/metrics`,
      `  tasks:    ${shown}/api/v1/tasks`,
      `  events:   ${shown}/api/v1/events`,
      `  sources:  ${shown}/api/v1/sources`,
      ...(demo ? demo.simulators.map((s) => `  simulator (${s.name}): ${s.url}`) : []),
      '',
    ].join('\n'),
  );

  await signals.requested;
  const forced = setTimeout(() => {
    log.error('shutdown took longer than 10s; exiting');
    process.exit(1);
  }, 10_000);
  forced.unref();
  await exporter.close();
  await demo?.close();
  log.flush();
  return 0;
}

/** Listen; `::` (all interfaces, dual stack) falls back to 0.0.0.0 on hosts without IPv6. */
async function listen(app: Exporter['app'], host: string, port: number): Promise<string> {
  try {
    return await app.listen({ host, port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (host !== ALL_INTERFACES || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw err;
    return app.listen({ host: '0.0.0.0', port });
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`buildscope exporter failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
