/**
 * Exporter health: is the exporter doing its job. Per source: how long polls take, how many fail
 * and how, how old the data is, what the upstream answers, which records it had to skip; for the
 * exporter process: series served, tasks held, SSE clients, collector errors, memory and CPU.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { newDashboard, ofSelectedExporters, prom } from '../lib/dashboard.js';
import { fixedColor, rising, row, statPanel, timeseriesPanel } from '../lib/panels.js';

export const UID = 'buildscope-exporter';

const S = 'source=~"$source"';

function pollQuantile(q: number): string {
  return `histogram_quantile(${q}, sum by (source, le) (rate(buildfarm_source_poll_duration_seconds_bucket{${S}}[$__rate_interval])))`;
}

export function buildExporterHealth(): Dashboard {
  const d = newDashboard({
    uid: UID,
    title: 'Exporter health',
    description: 'The buildscope exporter itself: poll duration and errors per source, data age, upstream answers, skipped records, SSE clients, series count, memory and CPU.',
    tags: ['exporter'],
  });

  d.withRow(
    row('Polls', [
      timeseriesPanel({
        title: 'Poll duration p50 / p95',
        description:
          'How long polls of each source take (median and 95th percentile over the rate window). A p95 close to the poll interval means polls overrun: the upstream is slow or the source holds too much; raise the interval or the timeout, or look at the upstream.',
        w: 12,
        h: 8,
        unit: 's',
        targets: [prom(pollQuantile(0.5), '{{source}} p50', 'A'), prom(pollQuantile(0.95), '{{source}} p95', 'B')],
      }),
      timeseriesPanel({
        title: 'Polls by result',
        description: 'Finished polls per minute by source and result (ok, error). Any error series above 0 is red: the upstream failed or answered garbage; the source\'s last error is in /api/v1/sources and the exporter log.',
        w: 12,
        h: 8,
        unit: 'short',
        targets: [prom(`sum by (source, result) (rate(buildfarm_source_polls_total{${S}}[$__rate_interval])) * 60`, '{{source}} {{result}}')],
      })
        .overrideByRegexp('.* error$', fixedColor('red')),
      timeseriesPanel({
        title: 'Last successful poll age',
        description: 'Seconds since each source\'s latest successful poll. It should stay below the poll interval (see the dashed line at 5 min); a rising line means stale data and usually an alert. Check poll errors and upstream codes next to it.',
        w: 8,
        h: 8,
        unit: 's',
        thresholds: rising(300, 900),
        thresholdLines: true,
        targets: [prom(`time() - max by (source) (buildfarm_source_last_success_timestamp_seconds{${S}})`, '{{source}}')],
      }),
      timeseriesPanel({
        title: 'Consecutive failed polls',
        description: 'Polls of each source that failed in a row since its latest success. 1 is a blip; 3 or more (red) is an outage: check the upstream and the network path to it.',
        w: 8,
        h: 8,
        unit: 'short',
        min: 0,
        thresholds: rising(1, 3),
        thresholdLines: true,
        targets: [prom(`max by (source) (buildfarm_source_consecutive_failures{${S}})`, '{{source}}')],
      }),
      timeseriesPanel({
        title: 'Upstream requests by code',
        description: 'HTTP requests the exporter made to upstreams per second, by status code (or error / timeout / canceled). 4xx usually means a wrong URL or token, 5xx and timeouts an upstream in trouble.',
        w: 8,
        h: 8,
        unit: 'reqps',
        stack: true,
        targets: [prom(`sum by (source, code) (rate(buildfarm_upstream_requests_total{${S}}[$__rate_interval]))`, '{{source}} {{code}}')],
      }),
      timeseriesPanel({
        title: 'Skipped records',
        description:
          'Upstream records the source cannot use now, by reason (girar fs: incomplete, mid_write, too_large, ...; APB: bad_value, detail_unavailable). Short spikes are normal while the upstream rewrites files; a lasting count names records to look at on the upstream. Sources that do not check records one by one show 0.',
        w: 12,
        h: 8,
        unit: 'short',
        stack: true,
        targets: [
          prom(`sum by (source, reason) (buildfarm_source_skipped_records{${S}}) or sum by (source) (0 * buildfarm_source_up{${S}})`, '{{source}} {{reason}}'),
        ],
      }),
      timeseriesPanel({
        title: 'Poll interval and duration',
        description: 'Each source\'s configured poll interval next to its mean poll duration. When the duration nears the interval the exporter is always polling: lengthen the interval.',
        w: 12,
        h: 8,
        unit: 's',
        targets: [
          prom(`max by (source) (buildfarm_source_poll_interval_seconds{${S}})`, '{{source}} interval', 'A'),
          prom(
            `sum by (source) (rate(buildfarm_source_poll_duration_seconds_sum{${S}}[$__rate_interval])) / sum by (source) (rate(buildfarm_source_poll_duration_seconds_count{${S}}[$__rate_interval]))`,
            '{{source}} mean poll',
            'B',
          ),
        ],
      }),
    ]),
  );

  d.withRow(
    row('Exporter process', [
      statPanel({
        title: 'SSE clients',
        description: 'Server-Sent Events clients connected to the exporter (Grafana panels with live events, other consumers). Near events.max_connections new clients are refused.',
        w: 6,
        h: 5,
        unit: 'short',
        targets: [prom(ofSelectedExporters('buildfarm_exporter_sse_clients'), '{{instance}}')],
      }),
      statPanel({
        title: 'Series served',
        description: 'Samples in the exporter\'s previous /metrics response. It should stay flat as tasks come and go; steady growth is a label explosion (a new repo, arch or state word per task): find the metric in /metrics.',
        w: 6,
        h: 5,
        unit: 'short',
        targets: [prom(ofSelectedExporters('buildfarm_exporter_scrape_series'), '{{instance}}')],
      }),
      statPanel({
        title: 'Tasks held',
        description: 'Tasks the exporter holds in memory over all its sources. Compare with the memory panel when memory grows.',
        w: 6,
        h: 5,
        unit: 'short',
        targets: [prom(ofSelectedExporters('buildfarm_exporter_store_tasks'), '{{instance}}')],
      }),
      statPanel({
        title: 'Collector errors',
        description: 'Metric families left out of /metrics (or events not counted) because their collector failed, over the time range. Anything above 0 is a bug: report it with the exporter log.',
        w: 6,
        h: 5,
        unit: 'short',
        graph: false,
        background: true,
        thresholds: rising(1, 1),
        targets: [
          prom(
            `sum by (instance) (${ofSelectedExporters('increase(buildfarm_exporter_collect_errors_total[$__range])')}) or max by (instance) (0 * buildfarm_source_up{${S}})`,
            '{{instance}}',
          ),
        ],
      }),
      timeseriesPanel({
        title: 'Memory',
        description: 'Resident memory and V8 heap used by the exporter process. Growth that tracks Tasks held is expected; growth without it is a leak: note the version and restart.',
        w: 8,
        h: 8,
        unit: 'bytes',
        targets: [
          prom(ofSelectedExporters('process_resident_memory_bytes'), '{{instance}} resident', 'A'),
          prom(ofSelectedExporters('nodejs_heap_size_used_bytes'), '{{instance}} heap used', 'B'),
        ],
      }),
      timeseriesPanel({
        title: 'CPU',
        description: 'CPU time the exporter process uses (1 = one core busy). Sustained use near 1 means it cannot keep up (Node runs on one core): lengthen poll intervals or split sources over exporters.',
        w: 8,
        h: 8,
        unit: 'percentunit',
        thresholds: rising(0.7, 0.9),
        thresholdLines: true,
        targets: [prom(ofSelectedExporters('rate(process_cpu_seconds_total[$__rate_interval])'), '{{instance}}')],
      }),
      timeseriesPanel({
        title: 'Event loop lag p99',
        description: 'How late the exporter\'s event loop runs callbacks (99th percentile). Above 0.1 s scrapes and API answers slow down: something blocks the loop (a huge upstream answer, too many SSE clients).',
        w: 8,
        h: 8,
        unit: 's',
        thresholds: rising(0.1, 0.5),
        thresholdLines: true,
        targets: [prom(ofSelectedExporters('nodejs_eventloop_lag_p99_seconds'), '{{instance}}')],
      }),
    ]),
  );
  return d.build();
}
