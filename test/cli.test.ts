/** The exporter's command line, run as a user runs it: node exporter/dist/main.js. */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../exporter/src/util/wait-until.js';
import { stopTrackedChildren, trackChild } from './support/children.js';
import { MAIN_JS, startExporter } from './support/exporter-process.js';

/** Run the CLI to completion; killed after 20 s so a run that does not exit never outlives the test. */
const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN_JS, ...args], { env: { ...process.env, ...env }, timeout: 20_000, killSignal: 'SIGKILL' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};
const testdata = fileURLToPath(new URL('../exporter/src/config/testdata/', import.meta.url));

describe('buildscope-exporter CLI', () => {
  // Every test stops its exporters in a `finally`; this catches any a failure left running.
  afterAll(() => stopTrackedChildren());

  it('--config.check prints OK for a valid file and exits 0 without starting', async () => {
    const r = await run([`--config.file=${testdata}good-full.yaml`, '--config.check'], { BUILDSCOPE_TEST_TOKEN: 'x' });
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toBe(`${testdata}good-full.yaml: OK (1 source: alt (girar))\n`);
  });

  it('--config.check prints every problem with its path and exits 1', async () => {
    const r = await run([`--config.file=${testdata}bad-many-problems.yaml`, '--config.check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        `${testdata}bad-many-problems.yaml: 4 problems:`,
        '  /log/level: expected one of debug, info, warn, error, got "loud"',
        '  /sources/0/interval: expected a duration such as 30s, 5m or 1h30m, got "soon"',
        '  /sources/0/url: missing required key "url"',
        '  /sources/1/kind: unknown kind "buildbot"; known kinds: girar, apb, karajo, cuirass, koji',
        '',
      ].join('\n'),
    );
  });

  it('refuses to start without a config or --demo, and on unknown or malformed flags (exit 2)', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no --config.file given: pass --config.file=FILE for real use, or --demo');
    const unknown = await run(['--web.listen-adress=:1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--web.listen-adress'");
    const badAddr = await run(['--demo', '--web.listen-address=localhost']);
    expect(badAddr.code).toBe(2);
    expect(badAddr.stderr).toContain('--web.listen-address must be host:port, :port or [ipv6]:port, got "localhost"');
    const badLevel = await run(['--demo', '--log.level=loud']);
    expect(badLevel.stderr).toContain('--log.level must be one of debug, info, warn, error, got "loud"');
    const both = await run(['--demo', `--config.file=${testdata}good-full.yaml`]);
    expect(both.stderr).toContain('--demo and --config.file are exclusive');
  });

  it('prints its version and usage', async () => {
    expect((await run(['--version'])).stdout).toMatch(/^buildscope-exporter \d+\.\d+\.\d+\n$/);
    expect((await run(['--help'])).stdout).toContain('--web.listen-address=ADDR');
  });

  // The demo farm writes its girar tree (100 tasks, ~15,000 files) before it listens: under a second
  // on an idle disk, tens of seconds on a busy one, so this test allows for the slow case.
  it('runs the demo farm, prints where it listens, serves live data and exits 0 on SIGTERM', { timeout: 90_000 }, async () => {
    let treeDir: string | undefined;
    const exporter = await startExporter(['--demo', '--log.level=warn'], {}, { listenTimeoutMs: 60_000 });
    try {
      expect(exporter.stdout()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(demo farm\)/);
      expect(exporter.stdout()).toMatch(/simulator \(demo-girar\): http:\/\/127\.0\.0\.1:\d+/);
      expect(exporter.stdout()).toMatch(/simulator \(demo-apb\): http:\/\/127\.0\.0\.1:\d+/);
      const tree = /simulator \(demo-girar-fs\): file:\/\/(\S+)/.exec(exporter.stdout())?.[1];
      expect(tree && existsSync(tree)).toBe(true);
      treeDir = tree;
      // Each demo source reports on its own first poll: wait for the girar simulator's.
      const tasks = await waitUntil(
        async () => ((await (await fetch(`${exporter.url}/api/v1/tasks?source=demo-girar&state=ALL&limit=1`)).json()) as { total: number }).total,
        15_000,
        { intervalMs: 100, what: 'the demo girar source to report tasks' },
      );
      expect(tasks).toBeGreaterThan(10);
      await waitUntil(async () => /^buildfarm_source_up\{source="demo-girar",kind="girar"\} 1$/m.test(await (await fetch(`${exporter.url}/metrics`)).text()), 15_000, {
        intervalMs: 100,
        what: 'the demo girar source to be up',
      });
      await waitUntil(async () => /^buildfarm_source_up\{source="demo-girar-fs",kind="girar"\} 1$/m.test(await (await fetch(`${exporter.url}/metrics`)).text()), 15_000, {
        intervalMs: 100,
        what: 'the demo tree source to be up',
      });
      // The APB farm: its build servers as workers, up.
      await waitUntil(async () => /^buildfarm_worker_up\{source="demo-apb",kind="apb",worker="ppc64le-1"\} 1$/m.test(await (await fetch(`${exporter.url}/metrics`)).text()), 15_000, {
        intervalMs: 100,
        what: 'the demo APB servers to be up',
      });
    } finally {
      expect(await exporter.stop()).toBe(0);
    }
    // The generated tree lives in a temporary directory that shutdown removes.
    expect(treeDir && existsSync(treeDir)).toBe(false);
  });

  // A supervisor may signal while the exporter is still starting (or the instant it prints where it
  // listens; Ctrl-C reaches the process group twice). The handlers must already be in place: with
  // the default action the process dies at once and leaves the demo's temporary tree behind. The
  // tree appearing in the child's own TMPDIR shows the start-up is under way.
  it('shuts down cleanly on SIGTERM (twice) received during start-up, removing the demo tree', { timeout: 120_000 }, async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'buildscope-cli-tmp-'));
    try {
      const child = spawn(process.execPath, [MAIN_JS, '--demo', '--web.listen-address=127.0.0.1:0', '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
      const release = trackChild(child);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))).finally(release);
      await waitUntil(async () => (await readdir(tmp)).some((e) => e.startsWith('buildscope-demo-tasks-')), 60_000, { intervalMs: 5, what: 'the demo tree to be created' });
      child.kill('SIGTERM');
      child.kill('SIGTERM');
      const result = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit within 60 s:\n${out}`)), 60_000))]);
      expect(result, out).toEqual({ code: 0, signal: null });
      expect(await readdir(tmp), 'the demo tree is removed').toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('refuses a corrupt journal (exit 1, the file named and left alone); --reset-journal moves it aside and starts', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'buildscope-cli-journal-'));
    try {
      const config = join(dir, 'buildscope.yaml');
      await writeFile(config, 'sources:\n  - name: alt\n    kind: girar\n    url: http://127.0.0.1:9/\n    stream: false\n');
      const journal = join(dir, 'state', 'journal.db');
      await mkdir(join(dir, 'state'));
      await writeFile(journal, 'not a database\n'.repeat(300));
      const refused = await run([`--config.file=${config}`, `--journal.path=${journal}`, '--web.listen-address=127.0.0.1:0']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`journal ${journal}: it is not a readable SQLite database`);
      expect(refused.stderr).toContain('--reset-journal');
      expect(await readFile(journal, 'utf8')).toBe('not a database\n'.repeat(300));

      const exporter = await startExporter([`--config.file=${config}`, `--journal.path=${journal}`, '--reset-journal']);
      try {
        expect(exporter.stderr()).toMatch(/the previous journal was moved to .*journal\.db\.moved-/);
        // A second exporter on the same journal is refused while the first holds it.
        const second = await run([`--config.file=${config}`, `--journal.path=${journal}`, '--web.listen-address=127.0.0.1:0']);
        expect(second.code).toBe(1);
        expect(second.stderr).toContain('another process holds it');
      } finally {
        expect(await exporter.stop()).toBe(0);
      }
      const moved = (await readdir(join(dir, 'state'))).filter((f) => f.startsWith('journal.db.moved-') && !f.endsWith('-wal') && !f.endsWith('-shm'));
      expect(moved).toHaveLength(1);
      expect(await readFile(join(dir, 'state', moved[0] as string), 'utf8')).toBe('not a database\n'.repeat(300));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    // A config whose upstream refuses connections: no demo farm to build, so the test measures the
    // CLI, not how fast a temp directory fills (the demo writes a 100-task girar tree).
    const dir = await mkdtemp(join(tmpdir(), 'buildscope-cli-'));
    const config = join(dir, 'buildscope.yaml');
    await writeFile(config, 'sources:\n  - name: alt\n    kind: girar\n    url: http://127.0.0.1:9/\n    stream: false\n');
    const first = await startExporter([`--config.file=${config}`, '--log.level=warn']);
    try {
      const port = new URL(first.url).port;
      const r = await run([`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
    } finally {
      await first.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
