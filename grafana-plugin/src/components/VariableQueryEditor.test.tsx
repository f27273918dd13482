// @vitest-environment jsdom
import './testing/jsdom-shims.js';
import { cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FILTER_FIELDS } from '../types.js';
import { normalizeVariableQuery, VariableQueryEditor, type Props, type VariableEditorQuery } from './VariableQueryEditor.js';
import { chooseOption, fakeDatasource, installTemplateVariables, lastCall, optionsOf } from './testing/fakes.js';
import { renderControlled } from './testing/Harness.js';

function setup(query: unknown) {
  const fake = fakeDatasource();
  const r = renderControlled<VariableEditorQuery, Props>(VariableQueryEditor, query as VariableEditorQuery, { datasource: fake.datasource });
  return { ...r, ...fake, user: userEvent.setup(), last: () => lastCall<VariableEditorQuery>(r.onChange) };
}

beforeEach(() => installTemplateVariables(['src']));
afterEach(cleanup);

describe('normalizeVariableQuery', () => {
  it('turns what Grafana hands a new variable into a complete query', () => {
    expect(normalizeVariableQuery('')).toEqual({ refId: 'BuildscopeVariableQuery', field: 'source' });
    expect(normalizeVariableQuery(undefined)).toEqual({ refId: 'BuildscopeVariableQuery', field: 'source' });
    expect(normalizeVariableQuery({ refId: 'x' })).toEqual({ refId: 'x', field: 'source' });
    expect(normalizeVariableQuery('owner')).toEqual({ refId: 'BuildscopeVariableQuery', field: 'owner' });
    expect(normalizeVariableQuery('repos(alt)')).toEqual({ refId: 'BuildscopeVariableQuery', field: 'repo', source: 'alt' });
    expect(normalizeVariableQuery({ refId: 'x', field: 'nope', source: '' })).toEqual({ refId: 'x', field: 'source' });
    expect(normalizeVariableQuery({ refId: 'x', field: 'repo', source: 'alt' })).toEqual({ refId: 'x', field: 'repo', source: 'alt' });
  });
});

describe('VariableQueryEditor', () => {
  it('a new variable (empty query) gets a complete query at once, and a preview of its values', async () => {
    const { onChange, getFieldValues } = setup('');
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(onChange).toHaveBeenCalledWith({ refId: 'BuildscopeVariableQuery', field: 'source' });
    expect(await screen.findByText('Preview: alt, apb, fedora')).toBeTruthy();
    expect(getFieldValues).toHaveBeenCalledWith('source', undefined);
    // No source restriction for the source field itself.
    expect(screen.queryByLabelText('Source')).toBeNull();
  });

  it('a complete query is not rewritten on mount', () => {
    const { onChange } = setup({ refId: 'V', field: 'state' });
    expect(onChange).not.toHaveBeenCalled();
  });

  it('offers the seven fields; choosing one reports it and previews its values', async () => {
    const { user, last } = setup({ refId: 'V', field: 'source' });
    expect(await optionsOf(user, 'Values of')).toEqual(FILTER_FIELDS.map((f) => f[0]!.toUpperCase() + f.slice(1)));
    await chooseOption(user, 'Values of', 'State');
    expect(last()).toEqual({ refId: 'V', field: 'state' });
    expect(await screen.findByText('Preview: AWAITING, BUILDING, DONE, EPERM')).toBeTruthy();
  });

  it('an optional source (values or $variables) restricts the values, and can be cleared', async () => {
    const { user, last, getFieldValues } = setup({ refId: 'V', field: 'repo' });
    await waitFor(async () => expect(await optionsOf(user, 'Source')).toEqual(['$src', 'alt', 'apb', 'fedora']));
    await chooseOption(user, 'Source', 'alt');
    expect(last()).toEqual({ refId: 'V', field: 'repo', source: 'alt' });
    await waitFor(() => expect(getFieldValues).toHaveBeenCalledWith('repo', 'alt'));
    await chooseOption(user, 'Source', '$src');
    expect(last()).toEqual({ refId: 'V', field: 'repo', source: '$src' });
    await user.click(screen.getByLabelText('Source'));
    await user.keyboard('{Backspace}');
    expect(last()).toEqual({ refId: 'V', field: 'repo' });
  });

  it('says when the values cannot be read', async () => {
    const fake = fakeDatasource();
    fake.getFieldValues.mockRejectedValue(new Error('exporter unreachable'));
    renderControlled<VariableEditorQuery, Props>(VariableQueryEditor, { refId: 'V', field: 'owner' }, { datasource: fake.datasource });
    expect(await screen.findByText('Could not read the values: exporter unreachable')).toBeTruthy();
  });
});
