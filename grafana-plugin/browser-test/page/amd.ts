/**
 * A tiny AMD loader, enough for a Grafana plugin's module.js: webpack's `library.type: 'amd'`
 * output is one anonymous `define([deps], factory)`. The page registers the modules Grafana
 * provides to plugins (the plugin's externals) by name; `loadAmd` runs a script and hands its
 * factory those modules. Like Grafana's SystemJS, it refuses a dependency it does not provide.
 */
type Factory = (...deps: unknown[]) => unknown;
interface Pending {
  deps: string[];
  factory: Factory | object;
}

const registry = new Map<string, unknown>();
let pending: Pending[] = [];

/** Make `value` what `define` hands a module that depends on `name`. */
export function provide(name: string, value: unknown): void {
  registry.set(name, value);
}

function define(...args: unknown[]): void {
  if (typeof args[0] === 'string') args.shift(); // a named define: the name is the script's anyway
  const deps = Array.isArray(args[0]) ? (args.shift() as string[]) : ['require', 'exports', 'module'];
  pending.push({ deps, factory: args[0] as Factory | object });
}
define.amd = {};

/** Install the global `define` (once, before loading AMD scripts). */
export function installDefine(): void {
  (globalThis as unknown as { define: typeof define }).define = define;
}

/** Load an AMD script and resolve to what its factory returned (its exports). */
export function loadAmd(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = url;
    script.onerror = () => reject(new Error(`could not load ${url}`));
    script.onload = () => {
      const defined = pending;
      pending = [];
      const module = defined.at(-1);
      if (!module) return reject(new Error(`${url} did not call define(): not an AMD module`));
      const special = new Set(['require', 'exports', 'module']);
      const missing = module.deps.filter((d) => !special.has(d) && !registry.has(d));
      if (missing.length) return reject(new Error(`${url} needs modules the page does not provide: ${missing.join(', ')}`));
      const exports: Record<string, unknown> = {};
      const mod = { exports };
      const requireFn = (name: string) => registry.get(name);
      const args = module.deps.map((d) => (d === 'require' ? requireFn : d === 'exports' ? exports : d === 'module' ? mod : registry.get(d)));
      try {
        const result = typeof module.factory === 'function' ? (module.factory as Factory)(...args) : module.factory;
        resolve(result ?? mod.exports);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
    document.head.append(script);
  });
}
