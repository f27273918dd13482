// Types of what test/soak.test.ts uses from scripts/soak.mjs.
export interface SoakOptions {
  help: boolean;
  smoke: boolean;
  durationS: number;
  speed: number;
  rps: number;
  rssGrowthPercent: number;
  json: string | undefined;
}
export function parseSoakArgs(argv: string[]): SoakOptions;

export interface SseFrame {
  id: string | undefined;
  event: string;
  data: string[];
}
export interface SseClientSummary {
  name: string;
  mode: string;
  connects: number;
  events: number;
  first_id: number | null;
  last_id: number | null;
  gaps: number;
  missing_events: number;
  duplicates: number;
  seq_mismatches: number;
  resets: number;
  skipped_by_reset: number;
  reconnect_reasons: Record<string, number>;
  ended_without_reason: number;
  transport_errors: number;
  error_responses: number;
}
export class SseClient {
  constructor(name: string, base: string, mode: 'steady' | 'slow' | 'away' | 'ahead', opts?: { query?: string; reference?: boolean });
  dispatch(frame: SseFrame): 'reason' | undefined;
  summary(): SseClientSummary;
}
export function checkFiltered(client: SseClient, reference: SseClient, source: string): { checked: number; missing: number; examples: number[] };

export interface RssSample {
  t: number;
  rss_kib: number;
}
export function rssVerdict(
  samples: RssSample[],
  allowedPercent: number,
): { ok: boolean; reason?: string; second_third_median_mib?: number; last_third_median_mib?: number; growth_percent?: number; allowed_percent?: number };
