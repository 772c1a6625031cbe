#!/usr/bin/env node
// Route lookup alone: Carafe's router beside find-my-way (Fastify's router), on the same
// REST route tables of 10, 100 and 1000 routes, looking up the last dynamic route with
// its parameters. Run by bench/run.mjs; alone: `node bench/router.bench.mjs [--quick] [--json]`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import FindMyWay from 'find-my-way';
import { ROOT_DIR } from './lineup.mjs';
import { lastDynamicPath, restRoutes } from './routes.mjs';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' } } });

/** Lookups per timed sample: one lookup takes tens of nanoseconds, far below timer resolution. */
const BATCH = 1000;
const SIZES = [10, 100, 1000];
// Both routers store the same kind of value: a handler function.
const handler = () => undefined;

// The core package exports the app, not the router; its router module is imported from
// the build directly (bench is a dev tool; the module path is not public API).
const ROUTING = join(ROOT_DIR, 'packages', 'core', 'dist', 'routing.js');

async function carafeRouterFactory() {
  const { Router } = await import(ROUTING);
  if (typeof Router !== 'function') throw new Error('packages/core/dist/routing.js exports no Router');
  return (routes) => {
    const router = new Router();
    for (const { method, path } of routes) router.add(path, [method], handler);
    return (path) => {
      const found = router.match('GET', path);
      if (found.kind !== 'found') throw new Error(`Carafe's router did not find ${path}: ${found.kind}`);
      return found.params;
    };
  };
}

function findMyWayRouter(routes) {
  const router = FindMyWay();
  for (const { method, path } of routes) router.on(method, path, handler);
  return (path) => {
    const found = router.find('GET', path);
    if (!found) throw new Error(`find-my-way did not find ${path}`);
    return found.params;
  };
}

let sink = 0;
function batch(lookup, path) {
  return () => {
    for (let i = 0; i < BATCH; i++) sink += lookup(path).itemId.length;
  };
}

function packageVersion(name) {
  return JSON.parse(readFileSync(join(ROOT_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
}

async function main() {
  const carafe = await carafeRouterFactory();
  const results = [];
  for (const size of SIZES) {
    const routes = restRoutes(size);
    const path = lastDynamicPath(size);
    const lookups = { carafe: carafe(routes), 'find-my-way': findMyWayRouter(routes) };
    for (const [name, lookup] of Object.entries(lookups)) {
      const params = lookup(path);
      if (params.id !== '42' || params.itemId !== '7') throw new Error(`${name} extracted wrong params: ${JSON.stringify(params)}`);
    }
    const bench = new Bench({ time: values.quick ? 300 : 2000, warmupTime: values.quick ? 100 : 500 });
    for (const [name, lookup] of Object.entries(lookups)) bench.add(name, batch(lookup, path));
    await bench.run();
    const ns = {};
    for (const task of bench.tasks) {
      if (!task.result?.latency) throw new Error(`${task.name} at ${size} routes failed: ${task.result?.error ?? task.result?.state}`);
      ns[task.name] = (task.result.latency.mean * 1e6) / BATCH;
    }
    results.push({
      routes: size,
      path,
      carafe_ns: round(ns.carafe),
      findmyway_ns: round(ns['find-my-way']),
      ratio: Math.round((ns.carafe / ns['find-my-way']) * 1000) / 1000,
    });
  }
  return {
    method:
      `tinybench ${packageVersion('tinybench')}, ${values.quick ? '0.3' : '2'} s per task, ` +
      `batches of ${BATCH} lookups of \`GET\` + the last dynamic path (parameters extracted), ` +
      "Carafe's Router from packages/core against find-my-way with Fastify's default options.",
    versions: { 'find-my-way': packageVersion('find-my-way'), tinybench: packageVersion('tinybench') },
    results,
    sink: sink > 0,
  };
}

function round(value) {
  return Math.round(value * 10) / 10;
}

main().then(
  (report) => {
    if (values.json) {
      console.log(JSON.stringify(report));
      return;
    }
    console.log(report.method);
    console.table(report.results);
  },
  (error) => {
    console.error(error.message);
    process.exit(1);
  },
);
