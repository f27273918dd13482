/**
 * The shipped rule files (provisioning/prometheus/rules/*.yml) as the end-to-end tests load them:
 * unchanged except each group's evaluation interval, 1 s instead of the shipped 1 m, so recorded
 * series and alert states appear within seconds of a short run.
 */
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const RULES_DIR = fileURLToPath(new URL('../../provisioning/prometheus/rules/', import.meta.url));

/** Copy every shipped rule file into `dir` with 1 s group intervals; returns the copies and the group names. */
export async function fastRuleCopies(dir: string): Promise<{ files: string[]; groups: string[] }> {
  const files: string[] = [];
  const groups: string[] = [];
  for (const name of readdirSync(RULES_DIR).filter((n) => n.endsWith('.yml') || n.endsWith('.yaml'))) {
    const shipped = parse(await readFile(join(RULES_DIR, name), 'utf8')) as { groups?: { name: string; interval?: string }[] };
    const fast = { groups: (shipped.groups ?? []).map((g) => ({ ...g, interval: '1s' })) };
    groups.push(...fast.groups.map((g) => g.name));
    const copy = join(dir, name);
    await writeFile(copy, stringify(fast));
    files.push(copy);
  }
  return { files, groups };
}
