#!/usr/bin/env node
// Koji poll cost as the number of held tasks grows: `npm run build && node test/bench/koji-poll.mjs [runs]`.
// 1. The task book's per-poll work (subtask lists, audit pick, method split, per-host counts,
//    retention, snapshot list) at 1,000 and 20,000 held tasks.
// 2. A whole quiet poll (two multiCalls over loopback XML-RPC, decode, checks, snapshot) against a
//    fake hub holding 500 and 5,000 unfinished tasks, nothing changing between polls.
// Medians; the smaller size is the baseline of the ratio.
import { createServer } from 'node:http';
import { pino } from 'pino';
import { KojiAdapter } from '../../exporter/dist/sources/koji/adapter.js';
import { parseKojiConfig } from '../../exporter/dist/sources/koji/config.js';
import { TaskBook } from '../../exporter/dist/sources/koji/task-book.js';
import { decodeMethodCall, encodeMethodResponse, isStruct, multiCallValue } from '../../exporter/dist/sources/koji/xmlrpc.js';
import { UpstreamHttp } from '../../exporter/dist/sources/http.js';
import { systemClock } from '../../exporter/dist/util/clock.js';

const RUNS = Number(process.argv[2] ?? 15);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const NOW_S = Date.now() / 1000;
const METHODS = ['build', 'buildArch', 'buildSRPMFromSCM', 'tagBuild', 'newRepo', 'createrepo'];

function row(id, parent) {
  return {
    id, state: 1, method: METHODS[id % METHODS.length], arch: id % 3 === 0 ? 'noarch' : 'x86_64', owner: 1 + (id % 7), owner_name: `user${id % 7}`,
    channel_id: 1, host_id: 1 + (id % 40), parent, label: null, waiting: null, awaited: null, priority: 20, weight: 1.5,
    create_ts: NOW_S - 3600 + id / 100, start_ts: NOW_S - 1800 + id / 100, completion_ts: null,
  };
}
/** Build tasks with 5 children each. */
const rows = (n) => Array.from({ length: n }, (_, i) => row(i + 1, i % 6 === 0 ? null : i - (i % 6) + 1));

function bookCycle(n) {
  const book = new TaskBook();
  const ctx = { source: 'bench', web: 'https://koji.example/koji', now: Date.now(), channelName: () => 'default', hostName: (id) => `b${id}` };
  let t = performance.now();
  for (const r of rows(n)) book.putTask(r, ctx);
  book.settle();
  const load = performance.now() - t;
  const cycles = [];
  for (let i = 0; i < RUNS; i += 1) {
    t = performance.now();
    book.settle();
    book.stalest(100, new Set());
    book.activeByStateAndMethod();
    book.openByHost();
    book.retain(Date.now() - 6 * 3_600_000, 1_000_000, Date.now());
    book.all();
    cycles.push(performance.now() - t);
  }
  return { load, cycle: median(cycles) };
}

async function quietPoll(n) {
  const tasks = rows(n);
  const hosts = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, user_id: 100 + i, name: `b${i + 1}`, arches: 'x86_64 i686', capacity: 8, task_load: 2, ready: true, enabled: true, update_ts: NOW_S, description: null, comment: null }));
  const answer = (m, p) => {
    const count = p.some((x) => isStruct(x) && (x.countOnly === true || (isStruct(x.queryOpts) && x.queryOpts.countOnly === true)));
    if (m === 'getLastEvent') return [{ id: 1000, ts: NOW_S }];
    if (m === 'listHosts') return [hosts];
    if (m === 'listChannels') return [[{ id: 1, name: 'default', enabled: true, description: null, comment: null }]];
    if (m === 'listTasks') {
      if (count) return [isStruct(p[0]) && Array.isArray(p[0].state) && p[0].state[0] === 1 ? n : 0];
      return [isStruct(p[0]) && Array.isArray(p[0].state) && p[0].state.length === 3 ? tasks : []];
    }
    if (m === 'getTaskInfo') return [p[0].map((id) => { const r = { ...tasks[id - 1] }; delete r.owner_name; return r; })];
    if (m === 'listBuilds') return [count ? 0 : []];
    if (m === 'repo.queryQueue') return [0];
    if (m === 'getKojiVersion') return ['1.35.3'];
    return { faultCode: 1000, faultString: `Invalid method: ${m}` };
  };
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const call = decodeMethodCall(body);
    const out = call.params[0].map((c) => { const a = answer(c.methodName, c.params); return Array.isArray(a) ? { ok: true, value: a[0] } : { ok: false, fault: { code: a.faultCode, message: a.faultString } }; });
    const xml = encodeMethodResponse(multiCallValue(out));
    res.writeHead(200, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) }).end(xml);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/kojihub`;
  const adapter = new KojiAdapter(parseKojiConfig({ url, page_size: 5000 }), { name: 'bench', log: pino({ level: 'silent' }), clock: systemClock, http: new UpstreamHttp(), pollTimeoutSeconds: 60 });
  await adapter.poll(AbortSignal.timeout(60_000)); // the baseline poll reads all of them
  const times = [];
  for (let i = 0; i < RUNS; i += 1) {
    const t = performance.now();
    const snap = await adapter.poll(AbortSignal.timeout(60_000));
    times.push(performance.now() - t);
    if (snap.tasks.length !== n) throw new Error(`held ${snap.tasks.length}, expected ${n}`);
  }
  server.close();
  return median(times);
}

const b1 = bookCycle(1000);
const b2 = bookCycle(20_000);
console.log(`task book, per-poll work: 1,000 held ${b1.cycle.toFixed(2)} ms, 20,000 held ${b2.cycle.toFixed(2)} ms (x${(b2.cycle / b1.cycle).toFixed(1)} for x20 tasks); loading 20,000 rows ${b2.load.toFixed(0)} ms`);
const p1 = await quietPoll(500);
const p2 = await quietPoll(5000);
console.log(`quiet poll over loopback XML-RPC: 500 unfinished ${p1.toFixed(1)} ms, 5,000 unfinished ${p2.toFixed(1)} ms (x${(p2 / p1).toFixed(1)} for x10 tasks; the audit re-reads 100 per poll)`);
