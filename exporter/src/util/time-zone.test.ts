import { describe, expect, it } from 'vitest';
import { isTimeZone, utcToZonedText, zonedToUtc } from './time-zone.js';

const wall = (iso: string) => Date.parse(`${iso}Z`);
const utc = (ms: number) => new Date(ms).toISOString();

describe('zonedToUtc', () => {
  it('reads wall times in a fixed-offset zone', () => {
    expect(utc(zonedToUtc(wall('2026-03-16T12:22:27'), 'Europe/Moscow'))).toBe('2026-03-16T09:22:27.000Z');
    expect(utc(zonedToUtc(wall('2026-03-16T12:22:27'), 'UTC'))).toBe('2026-03-16T12:22:27.000Z');
  });
  it('follows daylight saving time', () => {
    expect(utc(zonedToUtc(wall('2026-01-15T12:00:00'), 'Europe/Berlin'))).toBe('2026-01-15T11:00:00.000Z');
    expect(utc(zonedToUtc(wall('2026-07-15T12:00:00'), 'Europe/Berlin'))).toBe('2026-07-15T10:00:00.000Z');
  });
  it('tells zone names from nonsense', () => {
    expect(isTimeZone('Europe/Moscow')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});

describe('utcToZonedText', () => {
  it('writes the wall time of the zone without a zone, as girar does', () => {
    expect(utcToZonedText(Date.parse('2026-03-16T09:22:27Z'), 'Europe/Moscow')).toBe('2026-03-16T12:22:27');
    expect(utcToZonedText(Date.parse('2026-03-16T09:22:27.900Z'), 'UTC')).toBe('2026-03-16T09:22:27');
    expect(utcToZonedText(Date.parse('2026-07-15T10:00:00Z'), 'Europe/Berlin')).toBe('2026-07-15T12:00:00');
    expect(utcToZonedText(Date.parse('2026-01-01T02:00:00Z'), 'America/New_York')).toBe('2025-12-31T21:00:00');
  });
  it('round-trips with zonedToUtc', () => {
    for (const zone of ['UTC', 'Europe/Moscow', 'Asia/Kolkata', 'America/Los_Angeles']) {
      const ms = Date.parse('2026-03-16T12:22:27Z');
      expect(zonedToUtc(Date.parse(`${utcToZonedText(ms, zone)}Z`), zone)).toBe(ms);
    }
  });
});
