/**
 * The failure-ratio panels compute the ratio their descriptions state, and the same one as the
 * alert that points at them (BuildfarmArchFailureRateHigh: girar built vs failed; Cuirass failed
 * and failed-other vs succeeded, dependency failures and canceled builds left out). promtool
 * evaluates each panel query, as Grafana interpolates it, on counters with a known answer, next to
 * the alert's recording rule.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { builtinVariables, interpolate, type VariableValue } from '../../test/support/grafana-vars.js';
import { requireTool } from '../../test/support/tools.js';
import { PROMETHEUS_RULES_PATH } from '../src/alerts/index.js';
import { REC } from '../src/alerts/recording.js';
import { DASHBOARD_DIR, renderOutputs } from '../src/outputs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const outputs = renderOutputs();

interface Panel {
  type: string;
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function panelExpr(file: string, title: string): string {
  const text = outputs.get(`${DASHBOARD_DIR}/${file}`);
  if (text === undefined) throw new Error(`${file} is not generated`);
  const walk = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...walk(p.panels ?? [])]);
  const panel = walk((JSON.parse(text) as { panels: Panel[] }).panels).find((p) => p.title === title);
  const expr = panel?.targets?.[0]?.expr;
  if (expr === undefined) throw new Error(`${file}: no Prometheus panel titled ${JSON.stringify(title)}`);
  const vars = new Map<string, VariableValue>([['source', { values: ['.*'], allValue: '.*' }], ['repo', { values: ['.*'], allValue: '.*' }]]);
  for (const [k, v] of builtinVariables({ rateInterval: '5m', interval: '1m', rangeSeconds: 3600 })) vars.set(k, v);
  return interpolate(expr, vars);
}

/** A counter growing by `perMinute` each minute for 70 minutes. */
function counter(series: string, perMinute: number): { series: string; values: string } {
  return { series, values: `0+${perMinute}x70` };
}

const cuirass = (result: string, perMinute: number) =>
  counter(`buildfarm_cuirass_builds_completed_total{job="buildscope", instance="exporter:9101", source="guix", repo="master", arch="x86_64-linux", result="${result}"}`, perMinute);
const girar = (status: string, perMinute: number) =>
  counter(`buildfarm_girar_arch_results_total{job="buildscope", instance="exporter:9101", source="alt", arch="x86_64", status="${status}"}`, perMinute);

describe('failure-ratio panels', () => {
  const promtool = requireTool('promtool', 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'buildscope-ratios-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!promtool)('compute failed / own outcomes, as the arch failure alert does', () => {
    const testFile = join(dir, 'ratios.test.yml');
    writeFileSync(
      testFile,
      stringify({
        rule_files: [join(ROOT, PROMETHEUS_RULES_PATH)],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            // One build in two of its own failed; the dependency failures, canceled builds and
            // results that are not builds must not dilute that into a lower share.
            input_series: [
              cuirass('succeeded', 2),
              cuirass('failed', 1),
              cuirass('failed-other', 1),
              cuirass('failed-dependency', 6),
              cuirass('canceled', 2),
              girar('built', 2),
              girar('failed', 2),
              girar('cached', 5),
              girar('swept', 1),
              girar('excluded', 3),
            ],
            promql_expr_test: [
              { expr: panelExpr('buildscope-cuirass.json', 'Build failure ratio'), eval_time: '65m', exp_samples: [{ labels: '{}', value: 0.5 }] },
              { expr: panelExpr('buildscope-cuirass.json', 'Failure ratio by system'), eval_time: '65m', exp_samples: [{ labels: '{arch="x86_64-linux"}', value: 0.5 }] },
              { expr: REC.cuirassArchFailedRatio, eval_time: '65m', exp_samples: [{ labels: `${REC.cuirassArchFailedRatio}{source="guix", arch="x86_64-linux"}`, value: 0.5 }] },
              { expr: panelExpr('buildscope-girar.json', 'Failed share per arch'), eval_time: '65m', exp_samples: [{ labels: '{arch="x86_64"}', value: 0.5 }] },
              { expr: REC.girarArchFailedRatio, eval_time: '65m', exp_samples: [{ labels: `${REC.girarArchFailedRatio}{source="alt", arch="x86_64"}`, value: 0.5 }] },
            ],
          },
        ],
      }),
    );
    let out = '';
    try {
      out = execFileSync(promtool ?? 'promtool', ['test', 'rules', testFile], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`promtool test rules failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    expect(out).toMatch(/SUCCESS/);
  });
});
