/**
 * Turns the record problems a source finds on each poll into SourceProblems: current counts by
 * reason, a total that counts a problem once while it lasts (again only if it goes away and comes
 * back), and a few examples for the API.
 */
import type { SourceProblems } from './health.js';

export interface RecordProblem {
  /** The record, as the API shows it (a build id, a job name). */
  id: string;
  reason: string;
  message: string;
  /** Where it came from when a source reads several places (an APB server, the farm). */
  where?: string;
}

export class ProblemTracker {
  private held = new Set<string>();
  private readonly total = new Map<string, number>();

  constructor(private readonly maxExamples = 10) {}

  /** Take this poll's problems; returns the picture to report. */
  update(problems: Iterable<RecordProblem>): SourceProblems {
    const now = new Set<string>();
    const current = new Map<string, number>();
    const examples: SourceProblems['examples'] = [];
    for (const p of problems) {
      const key = `${p.where ?? ''}\u0000${p.id}\u0000${p.reason}\u0000${p.message}`;
      if (now.has(key)) continue;
      now.add(key);
      current.set(p.reason, (current.get(p.reason) ?? 0) + 1);
      if (!this.held.has(key)) this.total.set(p.reason, (this.total.get(p.reason) ?? 0) + 1);
      if (examples.length < this.maxExamples) examples.push({ id: p.id, reason: p.reason, message: p.where ? `${p.where}: ${p.message}` : p.message });
    }
    this.held = now;
    return { current: Object.fromEntries(current), total: Object.fromEntries(this.total), examples };
  }
}
