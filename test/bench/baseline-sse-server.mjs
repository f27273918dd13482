// The baseline of test/bench/sse-fanout.mjs: a bare node:http SSE server, in its own process
// (forked with an IPC channel), that fans each change the parent sends out to every subscriber as
// one frame in the exporter's format (`id: <seq>`, `event: task_updated`, `data: <ChangeEvent
// JSON>` of the same shape): one JSON.stringify per event and one write per client, nothing else
// (no store, no queues, no backpressure handling). Not meant to be run by hand.
//
// Parent -> child: {type:'publish', changes:[{id, source, state, owner, repo}, ...]}, {type:'close'}.
// Child -> parent: {type:'listening', url} once it listens on 127.0.0.1.
import { createServer } from 'node:http';

const HEADERS = { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no', Connection: 'keep-alive' };
const clients = new Set();
let seq = 0;
let fullWrites = 0;

const server = createServer((req, res) => {
  if (req.method !== 'GET' || !req.url.startsWith('/api/v1/events')) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'only GET /api/v1/events is served here' }));
    return;
  }
  res.writeHead(200, HEADERS);
  res.write('retry: 3000\n: connected\n\n');
  clients.add(res);
  res.on('close', () => clients.delete(res));
});

function publish(change) {
  seq += 1;
  const event = {
    seq,
    at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    type: 'task_updated',
    source: change.source,
    kind: 'girar',
    id: change.id,
    state: change.state,
    phase: 'done',
    prev_state: change.state,
    prev_phase: 'done',
    owner: change.owner,
    repo: change.repo,
  };
  const frame = `id: ${seq}\nevent: task_updated\ndata: ${JSON.stringify(event)}\n\n`;
  for (const res of clients) if (!res.write(frame)) fullWrites += 1;
}

// The parent is gone (finished or failed): never linger with open sockets.
process.on('disconnect', () => process.exit(0));

process.on('message', (msg) => {
  if (msg.type === 'publish') for (const c of msg.changes) publish(c);
  else if (msg.type === 'stats') process.send({ type: 'stats', seq, clients: clients.size, full_writes: fullWrites });
  else if (msg.type === 'close') {
    for (const res of clients) res.destroy();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.send({ type: 'listening', url: `http://127.0.0.1:${port}` });
});
