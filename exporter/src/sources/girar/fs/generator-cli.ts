/**
 * `node exporter/dist/sources/girar/fs/generator-cli.js --out DIR --tasks N [--seed S] [--now ISO] [--force]`
 * writes a generated girar tree and prints a one-line JSON summary.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateTree } from './generator.js';

export const GENERATOR_USAGE = `usage: generator-cli --out DIR --tasks N [--seed S] [--now ISO] [--first-id N] [--time-zone ZONE] [--no-broken] [--force]

  --out DIR          where to write DIR/tasks, DIR/acl and DIR/passwd
  --tasks N          number of well-formed live tasks (archived DONE tasks, ~N/4, and broken entries come on top)
  --seed S           integer seed (default 1)
  --now ISO          the generation time, e.g. 2026-03-20T12:00:00Z (default: the current time)
  --first-id N       lowest task id (default 400000)
  --time-zone ZONE   the girar server's zone for info.json build_time/fetched (default UTC)
  --no-broken        leave out the deliberately broken entries
  --force            write into a non-empty DIR (replaces DIR/tasks, DIR/acl and DIR/passwd)
`;

class UsageError extends Error {}

function integer(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${flag} must be an integer >= ${min}, got "${value}"`);
  }
  return Number(value);
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 usage error). */
export function runCli(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`), err: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): number {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv, strict: true, allowPositionals: false,
        options: {
          out: { type: 'string' }, tasks: { type: 'string' }, seed: { type: 'string' }, now: { type: 'string' },
          'first-id': { type: 'string' }, 'time-zone': { type: 'string' }, 'no-broken': { type: 'boolean', default: false },
          force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
        },
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const v = parsed.values;
    if (v.help) {
      out(GENERATOR_USAGE.trimEnd());
      return 0;
    }
    if (!v.out) throw new UsageError('--out DIR is required');
    const tasks = integer('tasks', v.tasks, 0);
    if (tasks === undefined) throw new UsageError('--tasks N is required');
    const seed = integer('seed', v.seed, -(2 ** 31)) ?? 1;
    const firstId = integer('first-id', v['first-id'], 1);
    let now = Date.now();
    if (v.now !== undefined) {
      now = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(v.now) ? Date.parse(v.now) : Number.NaN;
      if (Number.isNaN(now)) throw new UsageError(`--now must be an ISO time with a zone, e.g. 2026-03-20T12:00:00Z, got "${v.now}"`);
    }
    const dir = resolve(v.out);
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${dir} is not a directory`);
      if (readdirSync(dir).length > 0) {
        if (!v.force) throw new UsageError(`--out ${dir} is not empty (use --force to replace its tasks, acl and passwd)`);
        for (const name of ['tasks', 'acl', 'passwd']) rmSync(`${dir}/${name}`, { recursive: true, force: true });
      }
    }
    const started = performance.now();
    const tree = generateTree({
      root: dir, tasks, seed, now, broken: !v['no-broken'],
      ...(firstId !== undefined ? { firstId } : {}), ...(v['time-zone'] !== undefined ? { timeZone: v['time-zone'] } : {}),
    });
    const count = (key: (t: (typeof tree.tasks)[number]) => string, filter: (t: (typeof tree.tasks)[number]) => boolean): Record<string, number> => {
      const m: Record<string, number> = {};
      for (const t of tree.tasks.filter(filter)) m[key(t)] = (m[key(t)] ?? 0) + 1;
      return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));
    };
    const wellFormed = (t: (typeof tree.tasks)[number]): boolean => !t.archived && !t.category.startsWith('broken:');
    out(JSON.stringify({
      out: dir, live: tree.tasks.filter(wellFormed).length, archived: tree.tasks.filter((t) => t.archived).length,
      broken: tree.broken.length, maxId: tree.maxId, states: count((t) => t.state, wellFormed), repos: count((t) => t.repo, wellFormed),
      owners: new Set(tree.tasks.filter(wellFormed).map((t) => t.owner)).size, ...tree.counts,
      seconds: Math.round(performance.now() - started) / 1000,
    }));
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError) {
      err(`generator-cli: ${e.message}`);
      err('run with --help for usage');
      return 2;
    }
    err(`generator-cli: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = runCli(process.argv.slice(2));
}
