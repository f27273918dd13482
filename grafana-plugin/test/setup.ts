/**
 * Vitest setup for the plugin project (vitest.config.ts): the browser APIs jsdom lacks that
 * @grafana/ui (pulled in by @grafana/runtime) touches at import time, e.g. uPlot's matchMedia.
 * Runs before each test file's imports; does nothing outside jsdom. The shims themselves live
 * with the component tests, which also import them directly so each file runs on its own.
 */
import '../src/components/testing/jsdom-shims.js';

import { configure } from '@testing-library/dom';

// waitFor/findBy* give up after 1 s by default. On a loaded CI machine opening a select and
// filling it from the (fake) datasource has taken longer, so a passing editor test timed out.
// They still return as soon as their condition holds.
configure({ asyncUtilTimeout: 10_000 });
