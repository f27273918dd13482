/**
 * Strings decoded from an XML-RPC answer must not keep the answer alive: the store holds task
 * fields for hours, and a hub's listing is hundreds of KB. Measured in a child process with
 * --expose-gc on the built module (exporter/dist, as `npm test` builds it first): 50 answers of
 * ~700 KB, two short strings kept from each.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const script = `
import { decodeMethodResponse, encodeMethodResponse } from ${JSON.stringify(new URL('../../../dist/sources/koji/xmlrpc.js', import.meta.url).href)};
const rows = Array.from({ length: 2000 }, (_, i) => ({ name: 'pkg-' + i + '-' + 'x'.repeat(200), id: i }));
const keep = [];
globalThis.gc();
const before = process.memoryUsage().heapUsed;
for (let round = 0; round < 50; round++) {
  const xml = encodeMethodResponse(rows.map((r) => ({ ...r, name: r.name + round })));
  const res = decodeMethodResponse(xml);
  if (res.kind !== 'result') throw new Error('not a result');
  keep.push(res.value[5].name, res.value[7].name);
}
globalThis.gc();
process.stdout.write(JSON.stringify({ kept: keep.length, bytes: process.memoryUsage().heapUsed - before, xmlChars: encodeMethodResponse(rows).length }));
`;

describe('koji XML-RPC decoding', () => {
  it('keeps no answer alive through the strings taken from it', { timeout: 60_000 }, () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const r = JSON.parse(out) as { kept: number; bytes: number; xmlChars: number };
    expect(r.kept).toBe(100);
    expect(r.xmlChars).toBeGreaterThan(500_000);
    // Pinned answers would be 50 x ~700 KB = ~35 MB; 100 short strings are a few KB.
    expect(r.bytes).toBeLessThan(8 * 2 ** 20);
  });
});
