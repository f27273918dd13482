// @vitest-environment jsdom
import './testing/jsdom-shims.js';
import { useState } from 'react';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { DataSourceSettings } from '@grafana/data';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BuildscopeOptions, BuildscopeSecureOptions } from '../types.js';
import { ConfigEditor, validateExporterUrl } from './ConfigEditor.js';

type Settings = DataSourceSettings<BuildscopeOptions, BuildscopeSecureOptions>;

function settings(jsonData: BuildscopeOptions = {}, secureJsonFields: Record<string, boolean> = {}): Settings {
  return {
    id: 1,
    uid: 'bs',
    orgId: 1,
    name: 'buildscope',
    type: 'buildscope-datasource',
    typeName: 'buildscope',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData,
    secureJsonFields,
    readOnly: false,
    withCredentials: false,
  };
}

function setup(initial: Settings) {
  const onOptionsChange = vi.fn<(o: Settings) => void>();
  function Harness() {
    const [options, setOptions] = useState(initial);
    return (
      <ConfigEditor
        options={options}
        onOptionsChange={(o) => {
          onOptionsChange(o);
          setOptions(o);
        }}
      />
    );
  }
  render(<Harness />);
  return { onOptionsChange, user: userEvent.setup(), last: () => onOptionsChange.mock.calls.at(-1)![0] };
}

afterEach(cleanup);

describe('validateExporterUrl', () => {
  it.each([
    ['http://exporter:10870'],
    ['https://buildscope.example.org'],
    ['http://127.0.0.1:10870'],
    ['https://proxy.example.org/buildscope'],
    ['http://[::1]:10870'],
  ])('accepts %s', (url) => expect(validateExporterUrl(url)).toBeUndefined());

  it.each([
    ['', /Required/],
    ['exporter:10870', /http:\/\/ or https:\/\//],
    ['ftp://exporter', /http:\/\/ or https:\/\//],
    ['http://', /Not a valid URL|host/],
    ['http://exporter:10870/', /trailing slash/],
    ['http://exporter:10870/api/v1', /without "\/api\/v1"/],
    ['http://exporter:10870/api/v1/tasks', /without/],
    ['http://exporter:10870/metrics', /without "\/metrics"/],
    ['http://exporter:10870/-/ready', /without/],
    ['http://exporter:10870?x=1', /query string/],
    ['http://exporter:10870#top', /query string or fragment/],
    ['http://user:pw@exporter:10870', /credentials/],
  ])('refuses %j', (url, message) => expect(validateExporterUrl(url)).toMatch(message));
});

describe('ConfigEditor', () => {
  it('shows the URL and token fields with help text', () => {
    setup(settings({ url: 'http://exporter:10870' }));
    expect(screen.getByLabelText(/Exporter URL/)).toHaveProperty('value', 'http://exporter:10870');
    expect(screen.getByLabelText('Token')).toBeTruthy();
    expect(screen.getByText(/Requests go through Grafana’s data proxy/)).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('stores the URL in jsonData and shows why an invalid one is refused', async () => {
    const { user, last } = setup(settings());
    expect(screen.getByText(/Required: the exporter’s base URL/)).toBeTruthy();
    const input = screen.getByLabelText(/Exporter URL/);
    await user.type(input, 'http://exporter:10870/api/v1');
    expect(last().jsonData).toEqual({ url: 'http://exporter:10870/api/v1' });
    expect(screen.getByText(/without "\/api\/v1"/)).toBeTruthy();
    await user.clear(input);
    await user.type(input, 'exporter:1');
    expect(screen.getByText('Must start with http:// or https://')).toBeTruthy();
    await user.clear(input);
    await user.type(input, 'http://exporter:10870');
    expect(last().jsonData.url).toBe('http://exporter:10870');
    expect(screen.queryByText(/Must start|without|Required/)).toBeNull();
  });

  it('keeps a new token in secureJsonData only', async () => {
    const { user, last } = setup(settings({ url: 'http://e:1' }));
    await user.type(screen.getByLabelText('Token'), 's3cret');
    expect(last().secureJsonData).toEqual({ token: 's3cret' });
    expect(last().jsonData).toEqual({ url: 'http://e:1' });
    expect(JSON.stringify(last().jsonData)).not.toContain('s3cret');
  });

  it('a configured token shows as configured, and Reset clears it so a new one can be typed', async () => {
    const { user, last } = setup(settings({ url: 'http://e:1' }, { token: true }));
    const token = screen.getByLabelText('Token');
    expect(token).toHaveProperty('disabled', true);
    expect(token).toHaveProperty('value', 'configured');
    await user.click(screen.getByRole('button', { name: 'Reset' }));
    expect(last().secureJsonFields).toEqual({ token: false });
    expect(last().secureJsonData).toEqual({ token: '' });
    const cleared = screen.getByLabelText('Token');
    expect(cleared).toHaveProperty('disabled', false);
    await user.type(cleared, 'new');
    expect(last().secureJsonData).toEqual({ token: 'new' });
  });
});
