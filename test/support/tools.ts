/**
 * System tools some tests need (prometheus, promtool). Locally a missing tool skips those tests
 * with a loud warning; in CI (CI=true) it fails them instead, so CI never passes by skipping.
 */
import { execFileSync } from 'node:child_process';

export function findTool(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The tool's path, or undefined (after a loud warning) when it is missing outside CI. Throws in CI. */
export function requireTool(name: string, debianPackage: string): string | undefined {
  const path = findTool(name);
  if (path) return path;
  const message = `${name} is not installed: install the Debian package "${debianPackage}" (apt-get install -y ${debianPackage})`;
  if (process.env.CI) throw new Error(`${message}. CI must not skip these tests.`);
  console.warn(`\n*** SKIPPING tests that need ${name}: ${message} ***\n`);
  return undefined;
}
