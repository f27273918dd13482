/**
 * `react/jsx-runtime` for the bundle (webpack aliases it here), built on the host's
 * `React.createElement`. React's own jsx-runtime reads React internals that React 19 renamed, so a
 * bundled React 18 runtime breaks on a Grafana that runs React 19, and Grafana before 12.3 does not
 * share its runtime with plugins. `createElement` is the same in both, so this works on every
 * Grafana the plugin supports (>= 11.0). Tests use React's real runtime.
 */
import { createElement, Fragment, type ElementType, type ReactElement, type ReactNode } from 'react';

type Props = Record<string, unknown> & { children?: unknown };

function element(type: ElementType, props: Props, key: unknown, staticChildren: boolean): ReactElement {
  const { children, ...rest } = props;
  const config: Record<string, unknown> = key === undefined ? rest : { ...rest, key };
  if (children === undefined) return createElement(type, config);
  // jsxs: the children are a static list (no keys needed); jsx: one child, which may be an array.
  if (staticChildren && Array.isArray(children)) return createElement(type, config, ...(children as ReactNode[]));
  return createElement(type, config, children as ReactNode);
}

export function jsx(type: ElementType, props: Props, key?: unknown): ReactElement {
  return element(type, props, key, false);
}

export function jsxs(type: ElementType, props: Props, key?: unknown): ReactElement {
  return element(type, props, key, true);
}

export { Fragment };
