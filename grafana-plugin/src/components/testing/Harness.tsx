/** Renders an editor as Grafana does: a controlled `query` that follows the editor's onChange. */
import { useState, type ComponentType } from 'react';
import { render } from '@testing-library/react';
import { vi } from 'vitest';

interface EditorProps<Q> {
  query: Q;
  onChange: (q: Q) => void;
  onRunQuery: () => void;
}

export function renderControlled<Q, P extends EditorProps<Q>>(Editor: ComponentType<P>, initial: Q, rest: Omit<P, keyof EditorProps<Q>>) {
  const onChange = vi.fn<(q: Q) => void>();
  const onRunQuery = vi.fn<() => void>();
  function Harness() {
    const [query, setQuery] = useState(initial);
    const props = {
      ...rest,
      query,
      onRunQuery,
      onChange: (q: Q) => {
        onChange(q);
        setQuery(q);
      },
    } as unknown as P;
    return <Editor {...props} />;
  }
  const result = render(<Harness />);
  return { ...result, onChange, onRunQuery };
}
