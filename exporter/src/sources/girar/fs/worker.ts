/** Entry of a reader worker thread: runs batches of task-directory jobs with blocking I/O, off the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchRunner, type BatchRequest, type ReaderSettings } from './batch.js';

if (!parentPort) throw new Error('worker.ts runs only as a worker thread');
const port = parentPort;
const runner = new BatchRunner(workerData as ReaderSettings);
port.on('message', (msg: { seq: number; req: BatchRequest }) => {
  try {
    // As JSON text, not structured-cloned objects: JSON.parse on the other side builds objects
    // about three times more compact (fast properties, shared shapes), and the tree keeps them.
    port.postMessage({ seq: msg.seq, json: JSON.stringify(runner.run(msg.req)) });
  } catch (err) {
    port.postMessage({ seq: msg.seq, error: err instanceof Error ? err.message : String(err) });
  }
});
