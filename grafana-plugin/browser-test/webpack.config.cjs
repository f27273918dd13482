/**
 * The browser test page (page/main.tsx -> dist/page.js): bundles the real @grafana/ui, @grafana/data,
 * @grafana/runtime, react, react-dom and rxjs, which the page hands to the plugin's AMD module.
 *
 *   npx webpack --config browser-test/webpack.config.cjs                # loads ../dist/module.js
 *   npx webpack --config browser-test/webpack.config.cjs --env source   # bundles ../src/module.ts
 */
const path = require('node:path');
const webpack = require('webpack');

module.exports = (env = {}) => {
  const fromSource = Boolean(env.source);
  return {
    mode: 'development',
    devtool: false,
    target: 'web',
    entry: path.join(__dirname, 'page/main.tsx'),
    output: { path: path.join(__dirname, 'dist'), filename: 'page.js', cssFilename: 'page.css', publicPath: '/page/', clean: true },
    resolve: {
      extensions: ['.ts', '.tsx', '.mjs', '.js', '.cjs', '.json'],
      extensionAlias: { '.js': ['.ts', '.tsx', '.js'] },
      alias: {
        'buildscope-plugin-source': fromSource ? path.join(__dirname, '../src/module.ts') : path.join(__dirname, 'page/no-source.ts'),
      },
    },
    module: {
      rules: [
        { test: /\.[cm]?tsx?$/, exclude: /node_modules/, loader: 'esbuild-loader', options: { target: 'es2022', jsx: 'automatic' } },
        { test: /\.m?js$/, resolve: { fullySpecified: false } },
        { test: /\.css$/, type: 'css' },
      ],
    },
    experiments: { css: true },
    plugins: [new webpack.DefinePlugin({ __PLUGIN_FROM_SOURCE__: JSON.stringify(fromSource) })],
    performance: { hints: false },
    stats: 'errors-warnings',
    cache: {
      type: 'filesystem',
      cacheDirectory: path.join(__dirname, '../node_modules/.cache/browser-test-page'),
      buildDependencies: { config: [__filename] },
      name: fromSource ? 'source' : 'dist',
    },
  };
};
