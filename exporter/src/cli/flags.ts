/** Command-line flags, named after the Prometheus exporter conventions. */
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type AppConfig } from '../config/schema.js';
import { parseListenAddress, UsageError } from './listen-address.js';

export { parseListenAddress, UsageError } from './listen-address.js';

export interface Flags {
  configFile?: string;
  configCheck: boolean;
  webConfigFile?: string;
  listenAddress?: string;
  logLevel?: AppConfig['logLevel'];
  demo: boolean;
  journalPath?: string;
  resetJournal: boolean;
  /** `--demo.speed`: how much faster than real time the demo farm runs. */
  demoSpeed?: number;
  help: boolean;
  version: boolean;
}


export const USAGE = `usage: buildscope-exporter [flags]

  --config.file=FILE          YAML config file (see docs/configuration.md)
  --config.check              validate --config.file, print every problem, and exit (0 = valid)
  --web.listen-address=ADDR   host:port to listen on (default :10870; 127.0.0.1:10870 in demo mode)
  --web.config.file=FILE      exporter-toolkit web config: TLS, basic auth users (see docs/security.md)
  --log.level=LEVEL           debug | info | warn | error (default info)
  --demo                      run the demo farm: simulators on loopback, no config file needed
  --journal.path=FILE         the SQLite journal (default data/buildscope.db, or journal.path in the
                              config file; the demo keeps no journal unless this is given)
  --reset-journal             move the existing journal aside (renamed, not deleted) and start afresh
  --demo.speed=N              run the demo farm N times faster than real time (0.1 to 1000, default 1)
  --version                   print the version and exit
  --help                      this text
`;

export function parseFlags(argv: string[]): Flags {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'config.file': { type: 'string' },
        'config.check': { type: 'boolean', default: false },
        'web.listen-address': { type: 'string' },
        'web.config.file': { type: 'string' },
        'log.level': { type: 'string' },
        demo: { type: 'boolean', default: false },
        'journal.path': { type: 'string' },
        'reset-journal': { type: 'boolean', default: false },
        'demo.speed': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const level = v['log.level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log.level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
  const listen = v['web.listen-address'];
  if (listen !== undefined) parseListenAddress(listen);
  if (v['config.check'] && !v['config.file']) throw new UsageError('--config.check needs --config.file=FILE');
  if (v['journal.path'] === '') throw new UsageError('--journal.path needs a file name');
  if (v['reset-journal'] && v['config.check']) throw new UsageError('--reset-journal and --config.check are exclusive: a check changes nothing');
  if (v.demo && v['config.file']) throw new UsageError('--demo and --config.file are exclusive: the demo farm needs no config file');
  const demoSpeed = v['demo.speed'] === undefined ? undefined : parseDemoSpeed(v['demo.speed']);
  if (demoSpeed !== undefined && !v.demo) throw new UsageError('--demo.speed needs --demo: it sets the pace of the demo farm');
  return {
    ...(v['config.file'] !== undefined ? { configFile: v['config.file'] } : {}),
    configCheck: v['config.check'] ?? false,
    ...(v['web.config.file'] !== undefined ? { webConfigFile: v['web.config.file'] } : {}),
    ...(listen !== undefined ? { listenAddress: listen } : {}),
    ...(level !== undefined ? { logLevel: level as AppConfig['logLevel'] } : {}),
    demo: v.demo ?? false,
    ...(v['journal.path'] !== undefined ? { journalPath: v['journal.path'] } : {}),
    resetJournal: v['reset-journal'] ?? false,
    ...(demoSpeed !== undefined ? { demoSpeed } : {}),
    help: v.help ?? false,
    version: v.version ?? false,
  };
}

/** `--demo.speed` bounds: slower than 0.1x shows nothing; beyond 1000x the simulators' step timers sit at their 10 ms floor and the farm cannot keep up. */
const DEMO_SPEED_MIN = 0.1;
const DEMO_SPEED_MAX = 1000;

function parseDemoSpeed(text: string): number {
  const speed = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(speed >= DEMO_SPEED_MIN && speed <= DEMO_SPEED_MAX)) {
    throw new UsageError(`--demo.speed must be a number from ${DEMO_SPEED_MIN} to ${DEMO_SPEED_MAX} (times real time, e.g. 100), got "${text}"`);
  }
  return speed;
}
