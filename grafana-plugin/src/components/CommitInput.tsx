/**
 * A text input that reports its value on blur or Enter, not on every keystroke: the query runs
 * once per edit, not once per character. `validate` may refuse a value (shown inline, not committed).
 */
import { useEffect, useState, type KeyboardEvent } from 'react';
import { InlineField, Input } from '@grafana/ui';
import { LABEL_WIDTH } from './FieldSelects.js';

interface Props {
  id: string;
  label: string;
  tooltip: string;
  value: string;
  onCommit: (value: string) => void;
  placeholder?: string;
  width?: number;
  /** An error message for a value that must not be committed, or undefined when it is fine. */
  validate?: (value: string) => string | undefined;
  /** Shown as an error even before editing (e.g. a required field left empty). */
  invalid?: boolean;
  type?: 'text' | 'number';
}

export function CommitInput({ id, label, tooltip, value, onCommit, placeholder, width = 40, validate, invalid, type = 'text' }: Props) {
  const [text, setText] = useState(value);
  const [error, setError] = useState<string | undefined>();
  // A new value from outside (query type switch, undo) replaces the text being edited.
  useEffect(() => {
    setText(value);
    setError(undefined);
  }, [value]);
  const commit = () => {
    const problem = validate?.(text);
    setError(problem);
    if (problem === undefined && text !== value) onCommit(text);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') commit();
  };
  return (
    <InlineField label={label} labelWidth={LABEL_WIDTH} tooltip={tooltip} htmlFor={id} invalid={invalid || error !== undefined} error={error}>
      <Input
        id={id}
        type={type}
        width={width}
        value={text}
        placeholder={placeholder}
        onChange={(e) => setText(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={onKeyDown}
      />
    </InlineField>
  );
}
