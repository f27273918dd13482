/** Prints docs/metrics.md to stdout: `npm run docs:metrics` (after a build). */
import { renderMetricsDoc } from './docs.js';

process.stdout.write(renderMetricsDoc());
