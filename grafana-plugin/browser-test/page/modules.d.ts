/** The plugin's source (src/module.ts), aliased by webpack.config.cjs when built with `--env source`. */
declare module 'buildscope-plugin-source' {
  export const plugin: unknown;
}
