/**
 * The datasource settings: the exporter's base URL (jsonData.url; Grafana's data proxy routes in
 * plugin.json forward /api/ and /-/ to it) and an optional bearer token (secureJsonData.token,
 * which the proxy adds to every request and never sends back to the browser).
 */
import type { ChangeEvent } from 'react';
import { InlineField, Input, SecretInput, Stack, Text } from '@grafana/ui';
import type { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import type { BuildscopeOptions, BuildscopeSecureOptions } from '../types.js';

export type Props = DataSourcePluginOptionsEditorProps<BuildscopeOptions, BuildscopeSecureOptions>;

const LABEL_WIDTH = 20;

/** Paths that belong to the exporter's API rather than its base URL. */
const API_PATH = /(?:^|\/)(?:api(?:\/.*)?|metrics|openapi\.json|-(?:\/.*)?|compat(?:\/.*)?)$/;

/**
 * Why `text` is not a usable exporter base URL, or undefined when it is: http(s), a host, an
 * optional port and path prefix (an exporter behind a reverse proxy), nothing after that.
 */
export function validateExporterUrl(text: string): string | undefined {
  const value = text.trim();
  if (value === '') return 'Required: the exporter’s base URL, e.g. http://exporter:10870';
  if (!/^https?:\/\//i.test(value)) return 'Must start with http:// or https://';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Not a valid URL';
  }
  if (!url.hostname) return 'Missing the host name';
  if (url.username || url.password) return 'No credentials in the URL: put a bearer token in the Token field';
  if (url.search || url.hash || /[?#]/.test(value)) return 'No query string or fragment: the base URL only';
  if (value.endsWith('/')) return 'Remove the trailing slash';
  if (API_PATH.test(url.pathname.replace(/^\//, ''))) return `The base URL only, without "${url.pathname}": the plugin adds /api/v1/... itself`;
  return undefined;
}

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const url = options.jsonData.url ?? '';
  const error = validateExporterUrl(url);
  const tokenConfigured = Boolean(options.secureJsonFields?.token);

  const onUrlChange = (e: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, jsonData: { ...options.jsonData, url: e.currentTarget.value.trim() } });
  };
  const onTokenChange = (e: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, secureJsonData: { ...options.secureJsonData, token: e.currentTarget.value } });
  };
  const onTokenReset = () => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...options.secureJsonFields, token: false },
      secureJsonData: { ...options.secureJsonData, token: '' },
    });
  };

  return (
    <Stack direction="column" gap={1}>
      <Text element="p" color="secondary">
        Point Grafana at a buildscope exporter. Requests go through Grafana’s data proxy, so the exporter only has to be reachable from the Grafana server, not from browsers.
      </Text>
      <InlineField
        label="Exporter URL"
        labelWidth={LABEL_WIDTH}
        tooltip="The exporter's base URL as the Grafana server reaches it, e.g. http://exporter:10870 (no /api/v1, no trailing slash)."
        htmlFor="buildscope-config-url"
        invalid={error !== undefined}
        error={error}
        required
      >
        <Input id="buildscope-config-url" width={50} value={url} placeholder="http://exporter:10870" onChange={onUrlChange} />
      </InlineField>
      <InlineField
        label="Token"
        labelWidth={LABEL_WIDTH}
        tooltip="Bearer token for the exporter's /api/ (its auth config); leave empty when the exporter needs none. Stored encrypted; never sent back to the browser."
        htmlFor="buildscope-config-token"
      >
        <SecretInput
          id="buildscope-config-token"
          width={50}
          isConfigured={tokenConfigured}
          value={options.secureJsonData?.token ?? ''}
          placeholder="optional bearer token"
          onChange={onTokenChange}
          onReset={onTokenReset}
        />
      </InlineField>
    </Stack>
  );
}
