/**
 * What the test page shows: the plugin's config, query and variable editors as Grafana mounts
 * them (controlled props), and a live events query's rows as they stream in.
 */
import { useEffect, useState, type ComponentType, type ReactNode } from 'react';
import { from, isObservable } from 'rxjs';
import { dateTime, type DataFrame, type DataQueryRequest, type DataQueryResponse, type DataSourceApi, type DataSourceSettings } from '@grafana/data';
import { Stack, Text } from '@grafana/ui';

// The plugin is loaded at run time: its types are Grafana's generic ones.
type AnyQuery = { refId: string; [key: string]: unknown };
export interface PluginUnderTest {
  DataSourceClass: new (settings: unknown) => DataSourceApi<AnyQuery>;
  components: {
    QueryEditor?: ComponentType<any>;
    ConfigEditor?: ComponentType<any>;
  };
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title} style={{ padding: 16, borderBottom: '1px solid #444' }}>
      <Text element="h2">{title}</Text>
      <div style={{ marginTop: 8 }}>{children}</div>
    </section>
  );
}

function ConfigHarness({ Editor, initial }: { Editor: ComponentType<any>; initial: DataSourceSettings }) {
  const [options, setOptions] = useState(initial);
  return (
    <>
      <Editor options={options} onOptionsChange={setOptions} />
      <pre data-testid="config-json">{JSON.stringify({ jsonData: options.jsonData, secureJsonData: options.secureJsonData ?? {} })}</pre>
    </>
  );
}

function QueryHarness({ Editor, datasource }: { Editor: ComponentType<any>; datasource: DataSourceApi<AnyQuery> }) {
  const [query, setQuery] = useState<AnyQuery>({ refId: 'A' });
  const [runs, setRuns] = useState(0);
  return (
    <>
      <Editor datasource={datasource} query={query} onChange={setQuery} onRunQuery={() => setRuns((n) => n + 1)} />
      <pre data-testid="query-json">{JSON.stringify(query)}</pre>
      <Text>
        onRunQuery calls: <output data-testid="query-runs">{runs}</output>
      </Text>
    </>
  );
}

function VariableHarness({ Editor, datasource }: { Editor: ComponentType<any>; datasource: DataSourceApi<AnyQuery> }) {
  const [query, setQuery] = useState<unknown>('');
  return (
    <>
      <Editor datasource={datasource} query={query} onChange={setQuery} onRunQuery={() => {}} />
      <pre data-testid="variable-json">{JSON.stringify(query)}</pre>
    </>
  );
}

/** One frame row as text: the event's type, source/id and state where the frame has them. */
function rowsOf(frame: DataFrame, max: number): string[] {
  const byName = new Map(frame.fields.map((f) => [f.name.toLowerCase(), f]));
  const pick = (...names: string[]) => names.map((n) => byName.get(n)).find(Boolean);
  const type = pick('type', 'event');
  const source = pick('source');
  const id = pick('id', 'task');
  const state = pick('state');
  const rows: string[] = [];
  for (let i = frame.length - 1; i >= 0 && rows.length < max; i--) {
    const parts = [type?.values[i], `${source?.values[i] ?? ''}/${id?.values[i] ?? ''}`, state?.values[i]].filter((p) => p !== undefined && p !== null && p !== '');
    rows.push(parts.map(String).join(' '));
  }
  return rows;
}

const SHOWN = 50;

function LiveEvents({ datasource }: { datasource: DataSourceApi<AnyQuery> }) {
  const [rows, setRows] = useState<string[]>([]);
  const [total, setTotal] = useState(0);
  const [responses, setResponses] = useState(0);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    const now = Date.now();
    const request = {
      requestId: 'browser-test-events',
      interval: '1s',
      intervalMs: 1000,
      range: { from: dateTime(now - 3600_000), to: dateTime(now), raw: { from: 'now-1h', to: 'now' } },
      scopedVars: {},
      targets: [{ refId: 'A', queryType: 'events' }],
      timezone: 'browser',
      app: 'dashboard',
      startTime: now,
    } as unknown as DataQueryRequest<AnyQuery>;
    const result = datasource.query(request);
    const stream = isObservable(result) ? result : from(result as Promise<DataQueryResponse>);
    const sub = stream.subscribe({
      next: (response: DataQueryResponse) => {
        setResponses((n) => n + 1);
        const problem = response.errors?.[0]?.message ?? response.error?.message;
        if (problem) setError(problem);
        const frame = response.data[0] as DataFrame | undefined;
        if (frame) {
          setTotal(frame.length);
          setRows(rowsOf(frame, SHOWN));
        }
      },
      error: (e: unknown) => setError(e instanceof Error ? e.message : JSON.stringify(e)),
    });
    return () => sub.unsubscribe();
  }, [datasource]);
  return (
    <Stack direction="column" gap={1}>
      <Text>
        Rows in the frame: <output data-testid="event-count">{total}</output> (responses: <output data-testid="event-responses">{responses}</output>)
      </Text>
      {error !== undefined && (
        <div role="alert" data-testid="stream-error">
          {error}
        </div>
      )}
      <ol data-testid="events" style={{ fontFamily: 'monospace', margin: 0, paddingLeft: 48 }}>
        {rows.map((r, i) => (
          <li key={`${total}-${i}`}>{r}</li>
        ))}
      </ol>
    </Stack>
  );
}

export function App({ plugin, datasource, settings }: { plugin: PluginUnderTest; datasource: DataSourceApi<AnyQuery>; settings: DataSourceSettings }) {
  const { QueryEditor, ConfigEditor } = plugin.components;
  const VariableEditor = (datasource.variables as { editor?: ComponentType<any> } | undefined)?.editor;
  return (
    <div style={{ maxWidth: 1400 }}>
      <Section title="Config editor">{ConfigEditor ? <ConfigHarness Editor={ConfigEditor} initial={settings} /> : 'no ConfigEditor'}</Section>
      <Section title="Query editor">{QueryEditor ? <QueryHarness Editor={QueryEditor} datasource={datasource} /> : 'no QueryEditor'}</Section>
      <Section title="Variable editor">{VariableEditor ? <VariableHarness Editor={VariableEditor} datasource={datasource} /> : 'no variable editor'}</Section>
      <Section title="Live events">
        <LiveEvents datasource={datasource} />
      </Section>
    </div>
  );
}
