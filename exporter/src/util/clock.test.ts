import { describe, expect, it } from 'vitest';
import { demoIntervalSeconds } from '../demo.js';
import { demoStepMs, MIN_DEMO_STEP_MS } from '../sources/source.js';
import { ManualClock, ScaledClock } from './clock.js';

describe('ScaledClock', () => {
  it('starts where its base is and runs factor times as fast', () => {
    const base = new ManualClock(1_000_000);
    const fast = new ScaledClock(base, 100);
    expect(fast.now()).toBe(1_000_000);
    base.advance(1000);
    expect(fast.now()).toBe(1_000_000 + 100_000);
    base.advance(36_000); // 37 s of wall time: an hour and a bit of farm time
    expect(fast.now() - 1_000_000).toBe(3_700_000);
  });

  it('keeps whole milliseconds and never goes backwards for a fractional factor', () => {
    const base = new ManualClock(0);
    const clock = new ScaledClock(base, 2.5);
    let last = clock.now();
    for (let i = 0; i < 100; i++) {
      base.advance(1);
      const t = clock.now();
      expect(Number.isInteger(t)).toBe(true);
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    }
    expect(last).toBe(250);
  });

  it('can run slower than its base and take an explicit origin', () => {
    const base = new ManualClock(10_000);
    const slow = new ScaledClock(base, 0.5, 8_000);
    expect(slow.now()).toBe(9_000);
    base.advance(2_000);
    expect(slow.now()).toBe(10_000);
  });

  it('refuses a factor that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new ScaledClock(new ManualClock(), bad)).toThrow(/positive number/);
    }
  });
});

describe('demo pace', () => {
  it('divides simulator step timers by the speed, down to a floor', () => {
    expect(demoStepMs({ speed: 1 }, 1500)).toBe(1500);
    expect(demoStepMs({ speed: 100 }, 1500)).toBe(15);
    expect(demoStepMs({ speed: 0.5 }, 1000)).toBe(2000);
    expect(demoStepMs({ speed: 1000 }, 1500)).toBe(MIN_DEMO_STEP_MS);
  });

  it('polls the demo sources every 5 s at real time and at most once a second when accelerated', () => {
    expect(demoIntervalSeconds(1)).toBe(5);
    expect(demoIntervalSeconds(2)).toBe(2.5);
    expect(demoIntervalSeconds(100)).toBe(1);
    expect(demoIntervalSeconds(0.5)).toBe(10);
  });
});
