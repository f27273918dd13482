/** Injectable time source, so simulators, schedules and tests are deterministic. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(private t: number = Date.parse('2026-03-16T12:00:00Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

/**
 * A clock that runs `factor` times as fast as `base` from `origin` (default: the base's now at
 * construction, where both read the same): the accelerated demo farm's simulators run on it.
 * Whole milliseconds, never going backwards while the base does not.
 */
export class ScaledClock implements Clock {
  readonly origin: number;
  constructor(
    private readonly base: Clock,
    readonly factor: number,
    origin?: number,
  ) {
    if (!Number.isFinite(factor) || factor <= 0) throw new RangeError(`clock speed factor must be a positive number, got ${factor}`);
    this.origin = origin ?? base.now();
  }
  now(): number {
    return this.origin + Math.floor((this.base.now() - this.origin) * this.factor);
  }
}

export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
