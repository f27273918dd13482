/** Test doubles and checks shared by the editors' tests. */
import { setTemplateSrv, type TemplateSrv } from '@grafana/runtime';
import { vi } from 'vitest';
import { within, screen, waitFor } from '@testing-library/react';
import type { UserEvent } from '@testing-library/user-event';
import type { DataSource } from '../../datasource.js';
import type { FilterField } from '../../types.js';
export { assertValidQuery } from './validQuery.js';

export const FIELD_VALUES: Record<FilterField, string[]> = {
  source: ['alt', 'apb', 'fedora'],
  kind: ['apb', 'girar', 'koji'],
  state: ['AWAITING', 'BUILDING', 'DONE', 'EPERM'],
  phase: ['failed', 'queued', 'running', 'success'],
  repo: ['p10', 'p11', 'sisyphus'],
  owner: ['grenka', 'ldv'],
  arch: ['aarch64', 'x86_64'],
};

/** A datasource whose only used method, getFieldValues, answers from FIELD_VALUES. */
export function fakeDatasource(values: Partial<Record<FilterField, string[]>> = FIELD_VALUES) {
  const getFieldValues = vi.fn(async (field: FilterField, _source?: string) => values[field] ?? []);
  return { datasource: { getFieldValues } as unknown as DataSource, getFieldValues };
}

/** A TemplateSrv that lists these dashboard variables. */
export function installTemplateVariables(names: string[]): void {
  setTemplateSrv({
    getVariables: () => names.map((name) => ({ name, type: 'custom' })),
    replace: (s?: string) => s ?? '',
    containsTemplate: () => false,
    updateTimeRange: () => {},
  } as unknown as TemplateSrv);
}

/** The last value passed to a mocked callback. */
export function lastCall<T>(fn: { mock: { calls: unknown[][] } }): T {
  const call = fn.mock.calls.at(-1);
  if (!call) throw new Error('never called');
  return call[0] as T;
}

/**
 * Pick `option` in the react-select labelled `label`: focus its input, type the text, and click
 * the matching menu entry.
 */
export async function chooseOption(user: UserEvent, label: string, option: string): Promise<void> {
  const input = screen.getByLabelText(label);
  await user.click(input);
  await user.type(input, option);
  const menu = await screen.findByLabelText('Select options menu');
  const entry = await waitFor(() => within(menu).getByText(option, { exact: true }));
  await user.click(entry);
}

/** The labels of the options the select labelled `label` offers (the menu is opened and closed). */
export async function optionsOf(user: UserEvent, label: string): Promise<string[]> {
  const input = screen.getByLabelText(label);
  await user.click(input);
  const menu = await screen.findByLabelText('Select options menu');
  const texts = within(menu)
    .getAllByRole('option')
    .map((o) => o.querySelector('span')?.textContent ?? o.textContent ?? '');
  await user.keyboard('{Escape}');
  return texts;
}
