/**
 * Parse Prometheus text exposition into families with their samples, and rebuild the same series
 * in a bare prom-client registry with constant values (the /metrics baseline).
 */
import client from 'prom-client';

function unescapeLabel(v) {
  return v.replace(/\\(["\\n])/g, (_, c) => (c === 'n' ? '\n' : c));
}

/** Samples of one line: name, labels, value. */
function parseSample(line) {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
  if (!m) throw new Error(`not an exposition sample: ${line.slice(0, 120)}`);
  const labels = {};
  if (m[2]) {
    for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = unescapeLabel(l[2]);
  }
  return { name: m[1], labels, value: Number(m[3]) };
}

/** Families by name: { type, help, samples }. */
export function parseExposition(text) {
  const families = new Map();
  let current;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      let fam = families.get(meta[2]);
      if (!fam) families.set(meta[2], (fam = { name: meta[2], type: 'untyped', help: '', samples: [] }));
      if (meta[1] === 'HELP') fam.help = meta[3];
      else fam.type = meta[3];
      current = fam;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (!current) throw new Error('a sample before any # TYPE line');
    current.samples.push(parseSample(line));
  }
  return families;
}

export function seriesCount(text) {
  let n = 0;
  for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) n += 1;
  return n;
}

/** A registry holding the same series as `text`, every value a constant. */
export function baselineRegistry(text) {
  const registry = new client.Registry();
  for (const fam of parseExposition(text).values()) {
    const help = fam.help || fam.name;
    if (fam.type === 'histogram') {
      const buckets = [...new Set(fam.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.le !== '+Inf').map((s) => Number(s.labels.le)))].sort((a, b) => a - b);
      const counts = fam.samples.filter((s) => s.name === `${fam.name}_count`);
      const labelNames = [...new Set(counts.flatMap((s) => Object.keys(s.labels)))];
      const h = new client.Histogram({ name: fam.name, help, buckets, labelNames, registers: [registry] });
      for (const s of counts) h.observe(s.labels, 1);
      continue;
    }
    if (fam.type === 'summary') continue; // none in the exporter's output
    const labelNames = [...new Set(fam.samples.flatMap((s) => Object.keys(s.labels)))];
    if (fam.type === 'counter') {
      const c = new client.Counter({ name: fam.name, help, labelNames, registers: [registry] });
      for (const s of fam.samples) c.inc(s.labels, 1);
    } else {
      const g = new client.Gauge({ name: fam.name, help, labelNames, registers: [registry] });
      for (const s of fam.samples) g.set(s.labels, 1);
    }
  }
  return registry;
}
