import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { girarTask } from '../test-support/tasks.js';
import { systemClock } from '../util/clock.js';
import { waitUntil } from '../util/wait-until.js';
import { PartialPollError, SourceError, UpstreamHttpError } from './errors.js';
import { pollDelayMs, SourceRunner } from './runner.js';
import type { Delta, PollResult, RefreshHint, SourceAdapter, StreamSink } from './source.js';

const log = pino({ level: 'silent' });

/** An adapter whose answers the test scripts, one per poll. */
class ScriptedAdapter implements SourceAdapter {
  answers: (() => Promise<PollResult>)[] = [];
  polls = 0;
  refreshed: string[][] = [];
  streamNotify: ((hint: RefreshHint) => void) | undefined;
  sink: StreamSink | undefined;
  connectOnOpen = true;
  streamEnd: (() => void) | undefined;
  streamConnects = 0;
  endpoints: SourceAdapter['endpoints'];
  async poll(signal: AbortSignal): Promise<PollResult> {
    this.polls += 1;
    const next = this.answers.shift();
    if (!next) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    return next();
  }
  async refresh(hint: RefreshHint): Promise<Delta> {
    this.refreshed.push(hint.taskIds);
    return { type: 'delta', tasks: hint.taskIds.map((id) => girarTask({ id, state: 'BUILDING' })), removedTaskIds: hint.removedTaskIds ?? [] };
  }
  stream(signal: AbortSignal, sink: StreamSink): Promise<void> {
    this.streamConnects += 1;
    this.sink = sink;
    this.streamNotify = (hint) => sink.refresh(hint);
    if (this.connectOnOpen) sink.connected();
    return new Promise((resolve) => {
      this.streamEnd = resolve;
      signal.addEventListener('abort', () => resolve());
    });
  }
}

function runner(adapter: SourceAdapter, store: Store, timeoutSeconds = 5, streamIdleSeconds = 60) {
  const polls: boolean[] = [];
  const r = new SourceRunner({
    name: 'alt',
    kind: 'girar',
    intervalSeconds: 3600,
    timeoutSeconds,
    adapter,
    store,
    log,
    clock: systemClock,
    observer: { pollFinished: (_s, _k, _sec, ok) => polls.push(ok) },
    random: () => 0.5,
    streamIdleSeconds,
  });
  return { r, polls };
}

describe('SourceRunner', () => {
  it('marks the source up after a good poll and keeps the last good state when the upstream fails', async () => {
    const store = new Store();
    const adapter = new ScriptedAdapter();
    adapter.answers.push(async () => ({ type: 'snapshot', tasks: [girarTask({ id: '1', state: 'BUILDING' })], upstream: { version: '1.5.0', cacheAgeSeconds: 3 } }));
    adapter.answers.push(async () => {
      throw new UpstreamHttpError(503, 'http://up/tasks?state=ALL', 30, 'busy');
    });
    const { r, polls } = runner(adapter, store);
    await r.pollOnce();
    expect(r.health).toMatchObject({ up: true, consecutiveFailures: 0, upstream: { version: '1.5.0', cacheAgeSeconds: 3 }, polls: { ok: 1, failed: 0 } });
    await r.pollOnce();
    expect(r.health).toMatchObject({ up: false, consecutiveFailures: 1, lastError: { code: 'http', status: 503 }, polls: { ok: 1, failed: 1 } });
    expect(r.health.lastError?.message).toContain('HTTP 503');
    expect(store.getTask('alt', '1')?.state).toBe('BUILDING');
    expect(polls).toEqual([true, false]);
  });

  it('applies what a partly failed poll learned, then records the failure', async () => {
    const store = new Store();
    const adapter = new ScriptedAdapter();
    const worker = { source: 'alt', kind: 'girar', id: 'w1', name: 'w1', up: false, archs: [] };
    adapter.answers.push(async () => {
      throw new PartialPollError(new SourceError('network', 'no endpoint answered'), { type: 'snapshot', tasks: [girarTask({ id: '7', state: 'DONE' })], workers: [worker] });
    });
    adapter.endpoints = () => [{ name: 'w1', role: 'server', url: 'http://w1:8000', up: false, reachable: false, consecutiveFailures: 1 }];
    const { r, polls } = runner(adapter, store);
    await r.pollOnce();
    expect(r.health).toMatchObject({ up: false, lastError: { code: 'network', message: 'no endpoint answered' }, endpoints: [{ name: 'w1', up: false }] });
    expect(store.listWorkers('alt')).toEqual([worker]);
    expect(store.getTask('alt', '7')?.state).toBe('DONE');
    expect(polls).toEqual([false]);
  });

  it('turns a poll that outlives its deadline into a timeout error', async () => {
    const store = new Store();
    const adapter = new ScriptedAdapter();
    const { r } = runner(adapter, store, 0.05);
    await r.pollOnce();
    expect(r.health).toMatchObject({ up: false, lastError: { code: 'timeout' } });
    expect(r.health.lastError?.message).toMatch(/within 0.05s|did not answer in time|aborted/);
  });

  it('fails a poll at its deadline even when the adapter ignores the abort, and still stops', async () => {
    const store = new Store();
    const deaf: SourceAdapter = { poll: () => new Promise<PollResult>(() => {}) };
    const { r } = runner(deaf, store, 0.05);
    await r.pollOnce();
    expect(r.health).toMatchObject({ up: false, lastError: { code: 'timeout' }, polls: { ok: 0, failed: 1 } });
    r.start();
    const t0 = Date.now();
    await r.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('reports an adapter bug as an internal error without crashing', async () => {
    const store = new Store();
    const adapter = new ScriptedAdapter();
    adapter.answers.push(async () => {
      throw new TypeError('cannot read x of undefined');
    });
    const { r } = runner(adapter, store);
    await r.pollOnce();
    expect(r.health.lastError).toMatchObject({ code: 'internal' });
    expect(r.health.lastError?.message).toContain('cannot read x of undefined');
  });

  it('refreshes the tasks the upstream stream names, and reconnects when the stream ends', async () => {
    const store = new Store();
    const adapter = new ScriptedAdapter();
    adapter.answers.push(async () => ({ type: 'snapshot', tasks: [] }));
    const { r } = runner(adapter, store);
    r.start();
    await waitUntil(() => adapter.streamNotify, 5000, { what: 'stream connect' });
    expect(r.health.streamConnected).toBe(true);
    adapter.streamNotify?.({ taskIds: ['5'] });
    adapter.streamNotify?.({ taskIds: ['6', '5'] });
    await waitUntil(() => store.getTask('alt', '6'), 5000, { what: 'refreshed task' });
    expect(adapter.refreshed.flat().sort()).toEqual(['5', '6']);
    adapter.streamEnd?.();
    await waitUntil(() => adapter.streamConnects === 2, 5000, { what: 'reconnect' });
    await r.stop();
    expect(r.health.streamConnected).toBe(false);
  });

  it('removes the tasks the stream says are gone, and the last word on an id wins', async () => {
    const store = new Store();
    const adapter = new ScriptedAdapter();
    adapter.answers.push(async () => ({ type: 'snapshot', tasks: [girarTask({ id: '1', state: 'DONE' }), girarTask({ id: '2', state: 'DONE' })] }));
    const { r } = runner(adapter, store);
    r.start();
    await waitUntil(() => adapter.sink && store.getTask('alt', '2'), 5000, { what: 'first poll and stream' });
    adapter.sink?.refresh({ taskIds: ['2'] });
    adapter.sink?.refresh({ taskIds: [], removedTaskIds: ['1', '2'] });
    await waitUntil(() => store.taskCount === 0, 5000, { what: 'both removed' });
    await r.stop();
  });

  it('counts the stream as connected only once the upstream accepted it, and reconnects a silent one', async () => {
    const store = new Store();
    const adapter = new ScriptedAdapter();
    adapter.connectOnOpen = false;
    adapter.answers.push(async () => ({ type: 'snapshot', tasks: [] }));
    const { r } = runner(adapter, store, 5, 0.2);
    r.start();
    await waitUntil(() => adapter.sink, 5000, { what: 'stream opened' });
    expect(r.health.streamConnected).toBe(false);
    adapter.sink?.connected();
    expect(r.health.streamConnected).toBe(true);
    // Nothing arrives: the watchdog aborts the stream and the runner reconnects.
    await waitUntil(() => adapter.streamConnects >= 2, 5000, { what: 'reconnect after idle' });
    await r.stop();
  });

  it('stops promptly even with a poll in flight', async () => {
    const store = new Store();
    const adapter = new ScriptedAdapter();
    const { r } = runner(adapter, store);
    r.start();
    await waitUntil(() => adapter.polls === 1);
    const t0 = Date.now();
    await r.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('pollDelayMs', () => {
  const base = { intervalSeconds: 30, failures: 0, retryAfterSeconds: undefined, maxBackoffSeconds: 300, random: () => 0.5 };
  it('is the interval while healthy, with +-10% jitter', () => {
    expect(pollDelayMs(base)).toBe(30_000);
    expect(pollDelayMs({ ...base, random: () => 0 })).toBe(27_000);
    expect(pollDelayMs({ ...base, random: () => 0.999999 })).toBe(33_000);
  });
  it('doubles per consecutive failure up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((failures) => pollDelayMs({ ...base, failures }) / 1000)).toEqual([30, 60, 120, 240, 300, 300]);
  });
  it('never polls sooner than Retry-After, bounded to an hour', () => {
    expect(pollDelayMs({ ...base, failures: 1, retryAfterSeconds: 600 })).toBe(600_000);
    expect(pollDelayMs({ ...base, failures: 1, retryAfterSeconds: 86_400 })).toBe(3_600_000);
  });
  it('jitters a Retry-After wait upwards only: never a moment before the upstream asked', () => {
    expect(pollDelayMs({ ...base, failures: 1, retryAfterSeconds: 600, random: () => 0 })).toBe(600_000);
    expect(pollDelayMs({ ...base, failures: 1, retryAfterSeconds: 600, random: () => 0.999999 })).toBe(660_000);
  });
});

describe('SourceError', () => {
  it('carries a code', () => {
    expect(new SourceError('payload', 'x').code).toBe('payload');
  });
});
