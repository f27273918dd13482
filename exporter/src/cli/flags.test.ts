import { describe, expect, it } from 'vitest';
import { parseFlags, USAGE, UsageError } from './flags.js';

describe('--demo.speed', () => {
  it('is 1 (absent) by default and takes a number with --demo', () => {
    expect(parseFlags(['--demo']).demoSpeed).toBeUndefined();
    expect(parseFlags(['--demo', '--demo.speed=100']).demoSpeed).toBe(100);
    expect(parseFlags(['--demo', '--demo.speed', '2.5']).demoSpeed).toBe(2.5);
    expect(parseFlags(['--demo', '--demo.speed=0.1']).demoSpeed).toBe(0.1);
    expect(parseFlags(['--demo', '--demo.speed=1000']).demoSpeed).toBe(1000);
    expect(USAGE).toContain('--demo.speed=N');
  });

  it('refuses values that are not a number from 0.1 to 1000, naming the flag and the value', () => {
    for (const bad of ['0', '-5', 'fast', '1e3', '1001', '0.05', '', 'NaN', 'Infinity', '100x']) {
      expect(() => parseFlags(['--demo', `--demo.speed=${bad}`]), bad).toThrow(UsageError);
      expect(() => parseFlags(['--demo', `--demo.speed=${bad}`]), bad).toThrow(`--demo.speed must be a number from 0.1 to 1000 (times real time, e.g. 100), got "${bad}"`);
    }
  });

  it('needs --demo', () => {
    expect(() => parseFlags(['--demo.speed=100'])).toThrow('--demo.speed needs --demo');
    expect(() => parseFlags(['--config.file=x.yaml', '--demo.speed=100'])).toThrow('--demo.speed needs --demo');
  });
});

describe('--journal.path and --reset-journal', () => {
  it('take a file and a switch', () => {
    expect(parseFlags(['--config.file=x.yaml', '--journal.path=/var/lib/b/j.db', '--reset-journal'])).toMatchObject({ journalPath: '/var/lib/b/j.db', resetJournal: true });
    expect(parseFlags(['--config.file=x.yaml']).resetJournal).toBe(false);
  });

  it('refuse an empty path, and --reset-journal with --config.check', () => {
    expect(() => parseFlags(['--config.file=x.yaml', '--journal.path='])).toThrow('--journal.path needs a file name');
    expect(() => parseFlags(['--config.file=x.yaml', '--config.check', '--reset-journal'])).toThrow('--reset-journal and --config.check are exclusive');
  });
});
