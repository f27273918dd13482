/**
 * End to end: the shipped rule files on a real Prometheus scraping the real exporter's demo farm.
 * Every rule group loads and every rule evaluates without error, repeatedly; every Grafana-managed
 * rule's query (the PromQL Grafana sends to the provisioned Prometheus) parses and runs.
 *
 * The rule file is loaded as shipped except for the groups' evaluation interval (1m in the file),
 * set to 1s here so a couple of evaluations fit in a few seconds.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startExporter, type ExporterProcess } from '../support/exporter-process.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { fastRuleCopies } from '../support/prometheus-rules.js';
import { teardownE2e } from '../support/teardown.js';
import { requireTool } from '../support/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GRAFANA_RULES = join(ROOT, 'provisioning/grafana/alerting/buildscope-alert-rules.yaml');
const PROMETHEUS_UID = 'buildscope-prometheus';

const prometheusBin = requireTool('prometheus', 'prometheus');

interface RuleStatus {
  name: string;
  type: 'alerting' | 'recording';
  health: string;
  lastError?: string;
  lastEvaluation: string;
}
interface GroupStatus {
  name: string;
  file: string;
  rules: RuleStatus[];
  lastEvaluation: string;
}

interface GrafanaFile {
  groups: { name: string; rules: { title: string; data: { refId: string; datasourceUid: string; model: { expr?: string } }[] }[] }[];
}

describe.skipIf(!prometheusBin)('alert and recording rules on a real Prometheus and the demo exporter', () => {
  let exporter: ExporterProcess | undefined;
  let prom: PrometheusServer | undefined;
  let dir: string | undefined;
  let shippedGroups: string[] = [];

  const groups = async (): Promise<GroupStatus[]> => {
    if (!prom) throw new Error('Prometheus not started');
    const res = await fetch(`${prom.url}/api/v1/rules`);
    const body = (await res.json()) as { status: string; data?: { groups: GroupStatus[] } };
    if (body.status !== 'success' || !body.data) throw new Error(`/api/v1/rules: ${res.status}`);
    return body.data.groups;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildscope-alerts-e2e-'));
    const rules = await fastRuleCopies(dir);
    shippedGroups = rules.groups;

    exporter = await startExporter(['--demo']);
    const url = exporter.url;
    prom = await startPrometheus(prometheusBin ?? 'prometheus', { targets: [new URL(url).host], scrapeInterval: '1s', ruleFiles: rules.files });
    // The demo polls every source every 5 s; wait until each has answered once so the queries have data.
    await waitUntil(async () => (await fetch(`${url}/-/ready`)).ok, 30_000, { what: 'the demo exporter to be ready' });
  }, 60_000);

  afterAll(async () => {
    await teardownE2e({ prom, exporter });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads every rule group and evaluates every rule without error, twice', async () => {
    const evaluatedOk = async (): Promise<GroupStatus[] | undefined> => {
      const gs = await groups();
      const ok = gs.length === shippedGroups.length && gs.every((g) => g.rules.length > 0 && g.rules.every((r) => r.health === 'ok' && !r.lastError));
      return ok ? gs : undefined;
    };
    const first = await waitUntil(evaluatedOk, 20_000, { what: 'every rule to be evaluated with health ok' });
    expect(first.map((g) => g.name).sort()).toEqual([...shippedGroups].sort());
    const firstEval = new Map(first.map((g) => [g.name, g.lastEvaluation]));
    // Evaluated again since, still healthy: the rules keep working once the recorded series exist.
    const second = await waitUntil(
      async () => {
        const gs = await evaluatedOk();
        return gs?.every((g) => g.lastEvaluation !== firstEval.get(g.name)) ? gs : undefined;
      },
      20_000,
      { what: 'a second healthy evaluation of every group' },
    );
    const problems = second.flatMap((g) => g.rules.filter((r) => r.health !== 'ok').map((r) => `${g.name}/${r.name}: ${r.health} ${r.lastError ?? ''}`));
    expect(problems).toEqual([]);
  });

  it('the recording rules produce series from the demo farm', async () => {
    if (!prom) throw new Error('Prometheus not started');
    // The demo has APB servers (disk, load, cores) and queued tasks, so these record at once.
    for (const series of ['source_kind_worker:buildfarm_worker_disk_used:ratio', 'source_kind_worker:buildfarm_worker_load1_per_core:ratio', 'source_kind_repo:buildfarm_tasks_queued:sum']) {
      await waitUntil(async () => ((await prom?.query(series)) ?? []).length > 0, 20_000, { what: `${series} to have samples` });
    }
  });

  it("every Grafana rule's query runs on Prometheus", async () => {
    if (!prom) throw new Error('Prometheus not started');
    const file = parse(await readFile(GRAFANA_RULES, 'utf8')) as GrafanaFile;
    const queries = file.groups.flatMap((g) => g.rules.flatMap((r) => r.data.filter((q) => q.datasourceUid === PROMETHEUS_UID).map((q) => ({ title: r.title, expr: q.model.expr }))));
    expect(queries.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const q of queries) {
      if (!q.expr) {
        failures.push(`${q.title}: no expr`);
        continue;
      }
      try {
        await prom.query(q.expr);
      } catch (err) {
        failures.push(`${q.title}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
