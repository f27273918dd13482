/**
 * `npm run stack` (scripts/stack.mjs): the exporter in demo mode, Prometheus with the buildscope
 * rules and (when installed) Alertmanager come up on loopback and are wired together; Ctrl-C
 * (SIGINT) stops every child and removes the temp dir; a child that dies takes the stack down
 * with a non-zero exit; bad flags and a missing Prometheus fail clearly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { waitUntil } from '../exporter/src/util/wait-until.js';
import { trackChild } from './support/children.js';
import { findTool, requireTool } from './support/tools.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const STACK = join(ROOT, 'scripts/stack.mjs');

interface Stack {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Stack[] = [];

function runStack(args: string[], env: NodeJS.ProcessEnv = process.env): Stack {
  const child = spawn(process.execPath, [STACK, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const release = trackChild(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      release();
      resolve({ code, signal });
    });
  });
  const stack = { child, output: () => out, exited };
  running.push(stack);
  return stack;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What the stack printed once ready: URLs, temp dir, child pids. */
function parseReady(out: string) {
  const url = (label: string) => new RegExp(`^\\s+${label}\\s+(http://[\\d.:]+)`, 'm').exec(out)?.[1];
  const dir = /^\s+temp dir\s+(\S+)/m.exec(out)?.[1];
  const pids = new Map([...(/^\s+processes\s+(.+)$/m.exec(out)?.[1] ?? '').matchAll(/(\w+) (\d+)/g)].map((m) => [m[1] as string, Number(m[2])]));
  return { exporter: url('exporter'), prometheus: url('prometheus'), alertmanager: url('alertmanager'), dir, pids };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

type RulesResponse = { data: { groups: { name: string; file: string; interval: number; rules: { name: string; type: string; duration?: number }[] }[] } };

/** Names of the rule groups in provisioning/prometheus/rules/*.yml, sorted. */
function ruleGroupNames(): string[] {
  const dir = join(ROOT, 'provisioning/prometheus/rules');
  const names: string[] = [];
  for (const f of readdirSync(dir).filter((name) => name.endsWith('.yml'))) {
    const doc = parse(readFileSync(join(dir, f), 'utf8')) as { groups?: { name: string }[] } | null;
    names.push(...(doc?.groups ?? []).map((g) => g.name));
  }
  return names.sort();
}

afterEach(async () => {
  // A failed test leaves its stack running: stop it the way a user does, then hard.
  for (const s of running.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGINT');
      const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
      await s.exited;
      clearTimeout(timer);
    }
  }
});

const prometheus = requireTool('prometheus', 'prometheus');
// Optional for the stack; CI installs it (.ci/run), so there a missing one fails instead of going untested.
const alertmanager = findTool('alertmanager') ?? requireTool('prometheus-alertmanager', 'prometheus-alertmanager');

describe.skipIf(!prometheus)('npm run stack', () => {
  it('brings up the exporter, Prometheus with the rules and Alertmanager, wired together; SIGINT stops all and cleans up', { timeout: 60_000 }, async () => {
    const args = ['--no-build', '--quiet', '--exporter-port=0', '--prometheus-port=0'];
    if (alertmanager) args.push('--alertmanager-port=0');
    else console.warn('Alertmanager is not installed (apt-get install prometheus-alertmanager): the stack runs without it');
    const stack = runStack(args);
    await waitUntil(() => stack.output().includes('stack ready') || stack.child.exitCode !== null, 30_000, { intervalMs: 50, what: 'the stack to say it is ready' });
    expect(stack.child.exitCode, stack.output()).toBeNull();
    const ready = parseReady(stack.output());
    expect(ready.exporter, stack.output()).toBeDefined();
    expect(ready.prometheus).toBeDefined();
    expect(ready.dir && existsSync(ready.dir)).toBe(true);
    expect([...ready.pids.keys()].sort()).toEqual(alertmanager ? ['alertmanager', 'exporter', 'prometheus'] : ['exporter', 'prometheus']);

    // Prometheus scrapes the exporter (scrape interval 15 s: the first scrape lands within one).
    type Targets = { data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] } };
    const exporterHost = new URL(ready.exporter ?? '').host;
    await waitUntil(
      async () => {
        const t = await getJson<Targets>(`${ready.prometheus}/api/v1/targets`);
        return t.data.activeTargets.some((x) => x.labels.job === 'buildscope' && x.labels.instance === exporterHost && x.health === 'up');
      },
      30_000,
      { intervalMs: 250, what: 'Prometheus to report the exporter target up' },
    );
    // Every rule group of the provisioned rule files is loaded, with demo timing (the default):
    // copies in the temp dir, evaluated every 5 s, no `for:` over 15 s.
    const rules = await getJson<RulesResponse>(`${ready.prometheus}/api/v1/rules`);
    expect(rules.data.groups.map((g) => g.name).sort()).toEqual(ruleGroupNames());
    for (const g of rules.data.groups) {
      expect(g.file.startsWith(`${ready.dir}/rules/`), g.file).toBe(true);
      expect(g.interval).toBe(5);
      for (const r of g.rules) if (r.type === 'alerting') expect(r.duration ?? 0, r.name).toBeLessThanOrEqual(15);
    }
    // The exporter serves metrics in demo mode.
    expect(await (await fetch(`${ready.exporter}/metrics`)).text()).toContain('buildfarm_source_up');

    if (alertmanager) {
      expect(ready.alertmanager).toBeDefined();
      expect((await fetch(`${ready.alertmanager}/-/ready`)).ok).toBe(true);
      // Prometheus sends to it.
      const ams = await getJson<{ data: { activeAlertmanagers: { url: string }[] } }>(`${ready.prometheus}/api/v1/alertmanagers`);
      expect(ams.data.activeAlertmanagers.map((a) => new URL(a.url).host)).toEqual([new URL(ready.alertmanager ?? '').host]);
    }

    stack.child.kill('SIGINT');
    const { code } = await stack.exited;
    expect(code, stack.output()).toBe(0);
    for (const [name, pid] of ready.pids) expect(alive(pid), `${name} (pid ${pid}) still running`).toBe(false);
    expect(existsSync(ready.dir ?? '')).toBe(false);
    expect(stack.output()).toContain(`removed ${ready.dir}`);
  });

  it('with --shipped-timing loads the rule files as shipped; stops the rest and exits non-zero with the log tail when a child dies', { timeout: 60_000 }, async () => {
    const stack = runStack(['--no-build', '--quiet', '--shipped-timing', '--no-alertmanager', '--exporter-port=0', '--prometheus-port=0']);
    await waitUntil(() => stack.output().includes('stack ready') || stack.child.exitCode !== null, 30_000, { intervalMs: 50, what: 'the stack to say it is ready' });
    const ready = parseReady(stack.output());
    const rules = await getJson<RulesResponse>(`${ready.prometheus}/api/v1/rules`);
    expect(rules.data.groups.map((g) => g.name).sort()).toEqual(ruleGroupNames());
    for (const g of rules.data.groups) expect(g.file.startsWith(join(ROOT, 'provisioning/prometheus/rules/')), g.file).toBe(true);
    const exporterPid = ready.pids.get('exporter');
    const prometheusPid = ready.pids.get('prometheus');
    expect(exporterPid && prometheusPid, stack.output()).toBeTruthy();
    process.kill(exporterPid ?? 0, 'SIGKILL');
    const { code } = await stack.exited;
    expect(code).toBe(1);
    expect(stack.output()).toMatch(/exporter exited \(SIGKILL\); stopping the rest/);
    expect(stack.output()).toContain('buildscope exporter'); // the log tail
    expect(alive(prometheusPid ?? 0)).toBe(false);
    expect(existsSync(ready.dir ?? '')).toBe(false);
  });

  it('refuses a port given explicitly that is taken, before starting anything', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const stack = runStack(['--no-build', `--prometheus-port=${port}`, '--exporter-port=0', '--no-alertmanager']);
      const { code } = await stack.exited;
      expect(code).toBe(2);
      expect(stack.output()).toContain(`127.0.0.1:${port} for Prometheus is taken`);
      expect(stack.output()).not.toContain('stack ready');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('npm run stack without its tools or with bad flags', () => {
  it('says how to install Prometheus when it is missing', async () => {
    const stack = runStack(['--no-build'], { ...process.env, PATH: '/nonexistent' });
    const { code } = await stack.exited;
    expect(code).toBe(2);
    expect(stack.output()).toContain('apt-get install prometheus');
  });

  it('rejects an unknown flag and a bad port; --help documents the flags', async () => {
    const bad = runStack(['--frobnicate']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.output()).toContain('unknown flag --frobnicate');
    const port = runStack(['--prometheus-port=99999']);
    expect((await port.exited).code).toBe(2);
    expect(port.output()).toContain('--prometheus-port needs a port number');
    const help = runStack(['--help']);
    expect((await help.exited).code).toBe(0);
    for (const flag of ['--exporter-port', '--prometheus-port', '--alertmanager-port', '--no-alertmanager', '--no-build', '--quiet']) expect(help.output()).toContain(flag);
  });
});
