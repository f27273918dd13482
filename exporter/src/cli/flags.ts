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
  return {
    ...(v['config.file'] !== undefined ? { configFile: v['config.file'] } : {}),
    configCheck: v['config.check'] ?? false,
    ...(v['web.config.file'] !== undefined ? { webConfigFile: v['web.config.file'] } : {}),
    ...(listen !== undefined ? { listenAddress: listen } : {}),
    ...(level !== undefined ? { logLevel: level as AppConfig['logLevel'] } : {}),
    demo: v.demo ?? false,
    ...(v['journal.path'] !== undefined ? { journalPath: v['journal.path'] } : {}),
    resetJournal: v['reset-journal'] ?? false,
    help: v.help ?? false,
    version: v.version ?? false,
  };
}
