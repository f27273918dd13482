/**
 * Selects whose options are a field's distinct values (from the exporter) plus template variables.
 * Every change is reported at once: selects are not typed into, so there is no keystroke storm.
 */
import { InlineField, MultiSelect, Select } from '@grafana/ui';
import type { SelectableValue } from '@grafana/data';
import type { FilterField } from '../types.js';
import { useFieldOptions, type FieldValuesSource } from './options.js';

export const LABEL_WIDTH = 14;

const FIELD_LABELS: Record<FilterField, string> = {
  source: 'Source',
  kind: 'Kind',
  state: 'State',
  phase: 'Phase',
  repo: 'Repo',
  owner: 'Owner',
  arch: 'Arch',
};

const FIELD_TOOLTIPS: Record<FilterField, string> = {
  source: 'Configured sources (the exporter config names them). Empty = all.',
  kind: 'Source kinds: girar, apb, karajo, cuirass, koji. Empty = all.',
  state: 'Native states (girar: AWAITING, BUILDING, ...). Empty = the kind’s default states; ALL = every state.',
  phase: 'Normalized phases: queued, running, success, failed, canceled, blocked, unknown.',
  repo: 'Target repositories (girar branches, karajo jobs, ...).',
  owner: 'Task owners.',
  arch: 'Architectures a task builds for.',
};

export function fieldLabel(field: FilterField): string {
  return FIELD_LABELS[field];
}

function inputId(field: string, refId: string): string {
  return `buildscope-${refId}-${field}`;
}

interface MultiProps {
  datasource: FieldValuesSource;
  refId: string;
  field: FilterField;
  value: string[] | undefined;
  onChange: (values: string[]) => void;
  /** Restrict the offered values to one source. */
  source?: string;
  label?: string;
  tooltip?: string;
  width?: number;
}

/** A multi-select of one field's values (and `$variables`; custom values allowed). */
export function FieldMultiSelect({ datasource, refId, field, value, onChange, source, label, tooltip, width = 40 }: MultiProps) {
  const selected = value ?? [];
  const { options, loading, error } = useFieldOptions(datasource, field, selected, field === 'source' ? undefined : source);
  const id = inputId(field, refId);
  return (
    <InlineField label={label ?? fieldLabel(field)} labelWidth={LABEL_WIDTH} tooltip={tooltip ?? FIELD_TOOLTIPS[field]} htmlFor={id} invalid={error !== undefined} error={error}>
      <MultiSelect<string>
        inputId={id}
        width={width}
        options={options}
        value={selected}
        isLoading={loading}
        allowCustomValue
        isClearable
        placeholder="all"
        onChange={(items: Array<SelectableValue<string>>) => onChange(items.map((i) => i.value).filter((v): v is string => typeof v === 'string'))}
      />
    </InlineField>
  );
}

interface SingleProps {
  datasource: FieldValuesSource;
  refId: string;
  field: FilterField;
  value: string | undefined;
  onChange: (value: string) => void;
  label?: string;
  tooltip?: string;
  invalid?: boolean;
  width?: number;
  /** Offer a clear button (an optional field); clearing reports ''. */
  clearable?: boolean;
  placeholder?: string;
}

/** A single-value select of one field's values (and `$variables`; custom values allowed). */
export function FieldSelect({ datasource, refId, field, value, onChange, label, tooltip, invalid, width = 30, clearable, placeholder = 'choose' }: SingleProps) {
  const selected = value ? [value] : [];
  const { options, loading, error } = useFieldOptions(datasource, field, selected);
  const id = inputId(field, refId);
  return (
    <InlineField label={label ?? fieldLabel(field)} labelWidth={LABEL_WIDTH} tooltip={tooltip ?? FIELD_TOOLTIPS[field]} htmlFor={id} invalid={invalid || error !== undefined} error={error}>
      <Select<string>
        inputId={id}
        width={width}
        options={options}
        value={value || null}
        isLoading={loading}
        allowCustomValue
        isClearable={clearable}
        placeholder={placeholder}
        onChange={(item: SelectableValue<string> | null) => onChange(item?.value ?? '')}
      />
    </InlineField>
  );
}

/** A multi-select over a fixed list (event types). */
export function FixedMultiSelect({ refId, name, label, tooltip, choices, value, onChange, width = 40 }: {
  refId: string;
  name: string;
  label: string;
  tooltip: string;
  choices: readonly string[];
  value: string[] | undefined;
  onChange: (values: string[]) => void;
  width?: number;
}) {
  const id = inputId(name, refId);
  return (
    <InlineField label={label} labelWidth={LABEL_WIDTH} tooltip={tooltip} htmlFor={id}>
      <MultiSelect<string>
        inputId={id}
        width={width}
        options={choices.map((c) => ({ label: c, value: c }))}
        value={value ?? []}
        isClearable
        placeholder="all"
        onChange={(items: Array<SelectableValue<string>>) => onChange(items.map((i) => i.value).filter((v): v is string => typeof v === 'string'))}
      />
    </InlineField>
  );
}
