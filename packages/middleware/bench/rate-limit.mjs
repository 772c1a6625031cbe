// The per-request cost of rateLimit(), measured on the build (run `npx tsc -b` first):
//   node packages/middleware/bench/rate-limit.mjs
// 1. a synchronous TSGI app called directly, alone and behind rateLimit() with the MemoryStore;
// 2. workerSharedStore(): hits from a forked "worker" to this process acting as the arbiter, over
//    the same IPC channel and code carafe serve uses — one at a time (latency) and 64 in flight.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const serverDist = new URL('../../server/dist/', import.meta.url);

if (process.argv[2] === 'worker') {
  const { markWorkerProcess, workerSharedStore } = await import(new URL('shared-counters.js', serverDist).href);
  markWorkerProcess();
  const store = workerSharedStore();
  const time = async (label, n, inFlight) => {
    const start = process.hrtime.bigint();
    for (let done = 0; done < n; done += inFlight) {
      await Promise.all(Array.from({ length: inFlight }, (_, i) => store.hit(`default:10.0.${i % 256}.${done % 256}`, 60_000, 1)));
    }
    const ns = Number(process.hrtime.bigint() - start) / n;
    process.send({ label, ns });
  };
  await time('warm-up', 20_000, 64);
  await time('workerSharedStore, one hit at a time (round trip)', 20_000, 1);
  await time('workerSharedStore, 64 hits in flight (per hit)', 200_000, 64);
  process.send({ done: true });
} else {
  const { rateLimit, MemoryStore } = await import('@carafe/middleware');
  const { SharedCounters } = await import(new URL('shared-counters.js', serverDist).href);
  const app = () => ({ status: 200, headers: [['Content-Type', 'text/plain']], body: ['ok'] });
  const environ = (i) => ({ REQUEST_METHOD: 'GET', PATH_INFO: '/', REMOTE_ADDR: `10.0.${(i >> 8) & 255}.${i & 255}` });
  const measure = (label, fn, n = 2_000_000) => {
    for (let i = 0; i < 200_000; i++) fn(i);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    const ns = Number(process.hrtime.bigint() - start) / n;
    console.log(`${label.padEnd(56)} ${ns.toFixed(0).padStart(6)} ns/request`);
    return ns;
  };
  const base = measure('app alone', (i) => app(environ(i)));
  const limited = rateLimit({ limit: 1_000_000_000, window: 60, store: new MemoryStore() })(app);
  const withLimit = measure('rateLimit() + MemoryStore (65,536 clients)', (i) => limited(environ(i & 65535)));
  console.log(`${'  cost of the rate limit'.padEnd(56)} ${(withLimit - base).toFixed(0).padStart(6)} ns/request`);

  const counters = new SharedCounters();
  const worker = fork(fileURLToPath(import.meta.url), ['worker'], { serialization: 'json' });
  worker.on('message', (message) => {
    if (message.t === 'count') counters.answer(worker, message.hits);
    else if (message.label && message.label !== 'warm-up') {
      console.log(`${message.label.padEnd(56)} ${(message.ns / 1000).toFixed(1).padStart(6)} µs/request`);
    } else if (message.done) worker.kill();
  });
}
