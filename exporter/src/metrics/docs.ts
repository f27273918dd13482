/** Renders `docs/metrics.md` from the definitions table (the CLI and the staleness test share it). */
import { DEFAULT_REFRESH_SECONDS, METRIC_DEFINITIONS, helpText, isSelfMetric, type Freshness, type MetricDefinition } from './definitions.js';

const FRESHNESS: Record<Freshness, string> = {
  poll: 'each poll',
  transition: 'on observed change',
  poll_outcome: 'after each poll',
  scrape: 'each scrape',
};

export function renderMetricsDoc(definitions: readonly MetricDefinition[] = METRIC_DEFINITIONS): string {
  const lines = [
    '# Metrics',
    '',
    '<!-- Generated from exporter/src/metrics/definitions.ts by `npm run docs:metrics`. Do not edit by hand. -->',
    '',
    'Everything the exporter serves on `GET /metrics` (Prometheus text format 0.0.4). Values are computed from the',
    "exporter's in-memory store and the sources' health when Prometheus scrapes; a scrape never calls an upstream,",
    'and a family whose collector fails is left out of that response (counted in',
    '`buildfarm_exporter_collect_errors_total`) instead of failing `/metrics`.',
    '',
    'Rules the table follows (a test checks them):',
    '',
    '- Names start with `buildfarm_`; families of one build-system kind start with `buildfarm_<kind>_`.',
    '- Every family has a `source` label (the configured instance name), except the exporter self-metrics',
    '  `buildfarm_exporter_*`, which describe the exporter process rather than a source.',
    '- Labels are bounded: no task ids, build ids, owners or package names (those are in the JSON API).',
    '  Upstream words that are not from a known small set are exported as `other`; native states, repos,',
    '  arches and upstream versions keep their own value for the first 100 distinct values per source',
    '  and label (and at most 80 printable characters), after which new ones are exported as `other`,',
    '  so a broken upstream cannot create a series per task.',
    '- Current counts are gauges named by noun; counters end in `_total` and only count transitions the',
    '  exporter observed between two polls (a task first seen already finished is not counted).',
    '- Durations are histograms in seconds; points in time are `_timestamp_seconds` gauges (Unix time).',
    '- The number of series does not grow with the number of tasks.',
    '',
    `In HELP texts, N is the poll interval the exporter was started with (default ${DEFAULT_REFRESH_SECONDS} s);`,
    "each source's own interval is `buildfarm_source_poll_interval_seconds`.",
    '',
    '| Metric | Type | Unit | Labels | Updated |',
    '|---|---|---|---|---|',
  ];
  for (const def of definitions) {
    const labels = def.labels.length > 0 ? def.labels.map((l) => `\`${l}\``).join(', ') : '(none)';
    lines.push(`| [\`${def.name}\`](#${def.name}) | ${def.type} | ${def.unit} | ${labels} | ${FRESHNESS[def.updated]} |`);
  }
  lines.push('');
  for (const def of definitions) {
    lines.push(`## ${def.name}`, '', escapeMarkdown(helpText(def, 'N')), '');
    lines.push(`- Type: ${def.type}${def.unit === 'count' ? '' : `, unit: ${def.unit}`}`);
    lines.push(`- Labels: ${def.labels.length > 0 ? def.labels.map((l) => `\`${l}\``).join(', ') : '(none)'}${isSelfMetric(def) ? ' (exporter self-metric: no `source`)' : ''}`);
    if (def.buckets) lines.push(`- Buckets (seconds): ${def.buckets.join(', ')}`);
    lines.push('');
    if (def.note) lines.push(def.note, '');
  }
  lines.push(
    '## Process metrics',
    '',
    "prom-client's default metrics are served on the same registry: `process_*` (CPU seconds, resident memory,",
    'open file descriptors, start time) and `nodejs_*` (event-loop lag, heap, GC, active handles, version info).',
    'They are not declared in the table above and carry no `source` label; see the prom-client documentation.',
    'The gauges `nodejs_active_handles_total`, `nodejs_active_requests_total` and `nodejs_active_resources_total`',
    'are left out (a gauge must not end in `_total`); sum the per-type `nodejs_active_handles` etc. instead.',
    '',
  );
  return lines.join('\n');
}

function escapeMarkdown(text: string): string {
  return text.replace(/([*|<>])/g, '\\$1');
}
