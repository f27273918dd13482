/**
 * Builds the plugin into dist/ the way @grafana/create-plugin does: dist/module.js is an AMD module
 * whose dependencies Grafana provides at run time (React, react-dom, rxjs, @grafana/*), next to
 * plugin.json (with %VERSION% and %TODAY% filled in), img/, README.md and CHANGELOG.md.
 *
 *   npm run build --workspace grafana-plugin        (production)
 *   npx webpack --config webpack.config.cjs --mode development
 */
const path = require('node:path');
const CopyWebpackPlugin = require('copy-webpack-plugin');
const { EsbuildPlugin } = require('esbuild-loader');
const pkg = require('./package.json');
const pluginJson = require('./src/plugin.json');

const SRC = path.resolve(__dirname, 'src');
const DIST = path.resolve(__dirname, 'dist');

/** Provided by Grafana (its shared modules); everything else is bundled. */
const externals = [
  'react',
  'react-dom',
  'rxjs',
  'rxjs/operators',
  /^@grafana\/.+/,
  '@emotion/css',
  '@emotion/react',
  'lodash',
  'moment',
];

/** YYYY-MM-DD of the build (UTC), or of SOURCE_DATE_EPOCH for a reproducible build. */
function today() {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const date = Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : new Date();
  return date.toISOString().slice(0, 10);
}

function fillPluginJson(content) {
  return content.toString().replace(/%VERSION%/g, pkg.version).replace(/%TODAY%/g, today());
}

module.exports = (env = {}, argv = {}) => {
  const production = (argv.mode ?? 'production') === 'production';
  return {
    mode: production ? 'production' : 'development',
    context: __dirname,
    entry: { module: './src/module.ts' },
    devtool: 'source-map',
    target: 'web',
    output: {
      path: DIST,
      filename: '[name].js',
      library: { type: 'amd' },
      publicPath: `public/plugins/${pluginJson.id}/`,
      uniqueName: pluginJson.id,
      clean: true,
    },
    externals,
    resolve: {
      extensions: ['.ts', '.tsx', '.js', '.jsx', '.json'],
      // Sources import './x.js' (NodeNext style) for files that are x.ts / x.tsx.
      extensionAlias: { '.js': ['.ts', '.tsx', '.js'] },
      // See src/jsx-runtime.ts: works with the React 18 and 19 that Grafana 11 to 13 run.
      alias: { 'react/jsx-runtime$': path.join(SRC, 'jsx-runtime.ts') },
    },
    module: {
      rules: [
        {
          test: /\.[cm]?[jt]sx?$/,
          include: SRC,
          loader: 'esbuild-loader',
          options: { target: 'es2020', jsx: 'automatic', tsconfig: path.join(__dirname, 'tsconfig.json') },
        },
      ],
    },
    optimization: {
      minimize: production,
      minimizer: [new EsbuildPlugin({ target: 'es2020', legalComments: 'none' })],
    },
    performance: { hints: false },
    plugins: [
      new CopyWebpackPlugin({
        patterns: [
          { from: 'src/plugin.json', to: 'plugin.json', transform: fillPluginJson },
          { from: 'src/img', to: 'img' },
          { from: 'README.md', to: 'README.md' },
          { from: 'CHANGELOG.md', to: 'CHANGELOG.md' },
        ],
      }),
    ],
  };
};
