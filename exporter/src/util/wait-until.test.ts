import { describe, expect, it } from 'vitest';
import { waitUntil } from './wait-until.js';

describe('waitUntil', () => {
  it('resolves with the first truthy value', async () => {
    let n = 0;
    const value = await waitUntil(() => (++n >= 3 ? `done after ${n}` : undefined), 1000, { intervalMs: 1 });
    expect(value).toBe('done after 3');
  });

  it('accepts async conditions and retries after a throw', async () => {
    let n = 0;
    const value = await waitUntil(async () => {
      n += 1;
      if (n < 2) throw new Error('not yet');
      return n;
    }, 1000, { intervalMs: 1 });
    expect(value).toBe(2);
  });

  it('rejects naming what it waited for', async () => {
    await expect(waitUntil(() => false, 20, { what: 'the moon', intervalMs: 1 })).rejects.toThrow(/timed out after 20 ms waiting for the moon/);
  });

  it('reports the last error when the condition kept throwing', async () => {
    await expect(
      waitUntil(() => {
        throw new Error('boom');
      }, 10, { intervalMs: 1 }),
    ).rejects.toThrow(/last check threw: boom/);
  });
});
