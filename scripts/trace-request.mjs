#!/usr/bin/env node
/**
 * Which of our functions and files one `GET /users/42` crosses, measured exactly with the
 * V8 debugger (not sampled): from the `'request'` listener of the http.Server to the response
 * handed to Node and the body's completion, for the bench's Carafe app
 * (bench/servers/carafe-app.mjs) served two ways:
 *
 * - in-process: bench/servers/carafe.mjs (the gateway's `createServer(app)`), and
 * - under `carafe serve --workers 1`: the real arbiter and worker (packages/server/dist/cli.js).
 *
 * How: the server process is started with this file as an `--import` preload. In the process
 * that serves requests (the worker under `carafe serve`) it starts a worker thread that attaches
 * to the main thread with `inspector.Session#connectToMainThread()`, enables the debugger with
 * node internals and node_modules blackboxed, and — after warm-up requests — sets
 * `Debugger.setBreakpointOnFunctionCall` on the server's `'request'` listener. From that pause
 * on it answers every pause with `Debugger.stepInto`, recording the paused call stack, until
 * the client has the whole response and no pause came for a while. Blackboxing makes V8 step
 * through node internals without stopping, so every stop is in our code (packages/<name>/dist)
 * or the app's (bench/). Precise coverage with call counts over the same window is taken as an
 * independent check that stepping saw every one of our functions that ran.
 *
 * Usage:
 *   node scripts/trace-request.mjs                      # this tree, Markdown on stdout
 *   node scripts/trace-request.mjs --root DIR           # another checkout (built)
 *   node scripts/trace-request.mjs --before DIR --out bench/results/request-path.md
 *                                                       # before (DIR) / after (this tree)
 *   --tree LABEL=DIR adds another checkout (between before and after); --json FILE writes the
 *   analysed traces too. Each checkout must be built (`npx tsc -b`); after is always this one.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { SourceMap } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const SELF = fileURLToPath(import.meta.url);
const ROLE = process.env.CARAFE_TRACE_ROLE;
/** How long no pause may come, after the client got the response, before the trace ends. */
const QUIET_MS = 400;
const WARMUP_REQUESTS = 300;
const PATH = '/users/42';

// ---------------------------------------------------------------------------------------------
// In the server process.

/** The preload: start the tracer in the process that serves requests, and wait until it is attached. */
async function preload() {
  const target = process.env.CARAFE_TRACE_TARGET;
  // Under `carafe serve` the arbiter loads this preload too, but only its worker serves requests.
  if (target === 'worker' && process.env.CARAFE__WORKER === undefined) return;
  const worker = new Worker(SELF, {
    workerData: { role: 'tracer', control: Number(process.env.CARAFE_TRACE_CONTROL) },
    execArgv: [],
  });
  const [message] = await once(worker, 'message');
  if (message !== 'ready') throw new Error(`tracer failed to start: ${message}`);
  worker.unref();
}

/** The tracer thread: a debugger client of the main thread, driven over a TCP line protocol. */
async function runTracer({ control }) {
  // The control connection first: it also keeps this thread alive while it waits for the main thread.
  const socket = net.connect(control, '127.0.0.1');
  await once(socket, 'connect');
  const inspector = await import('node:inspector');
  const session = new inspector.Session();
  session.connectToMainThread();
  const post = (method, params) =>
    new Promise((ok, fail) => session.post(method, params, (error, result) => (error ? fail(error) : ok(result))));

  const scripts = new Map(); // scriptId -> url
  session.on('Debugger.scriptParsed', ({ params }) => scripts.set(params.scriptId, params.url));

  let tracing = false;
  let breakpointId;
  let events = [];
  let lastPause = 0;
  let lastRoot;
  session.on('Debugger.paused', ({ params }) => {
    lastPause = Date.now();
    if (!tracing) {
      session.post('Debugger.resume');
      return;
    }
    const frames = params.callFrames.map((f) => ({
      fn: f.functionName,
      url: f.url || scripts.get(f.location.scriptId) || '',
      line: f.location.lineNumber,
      col: f.location.columnNumber,
      fline: f.functionLocation?.lineNumber,
      fcol: f.functionLocation?.columnNumber,
    }));
    const bottom = frames[frames.length - 1];
    // A task: one outermost function, run for one async parent (a tick of processTicksAndRejections
    // runs many callbacks, each with its own parent).
    const parent = params.asyncStackTrace;
    const first = parent?.callFrames[0];
    const rootKey = `${bottom.url}|${bottom.fline}:${bottom.fcol}|${parent?.description}|${first ? `${first.url}:${first.lineNumber}:${first.columnNumber}` : ''}`;
    const event = { reason: params.reason, frames };
    // At the start of each task (a new outermost frame), where it was scheduled from: the async
    // stack, which says whether the task belongs to the request or is unrelated (a heartbeat timer).
    if (rootKey !== lastRoot) {
      event.async = [];
      for (let trace = params.asyncStackTrace; trace && event.async.length < 200; trace = trace.parent) {
        for (const f of trace.callFrames)
          event.async.push({ fn: f.functionName, url: f.url, line: f.lineNumber, col: f.columnNumber, description: trace.description });
      }
    }
    lastRoot = rootKey;
    events.push(event);
    session.post('Debugger.stepInto');
  });

  await post('Debugger.enable');
  await post('Debugger.setBlackboxPatterns', { patterns: ['^node:', '/node_modules/'] });
  await post('Profiler.enable');
  await post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });

  const reply = (message) => socket.write(`${JSON.stringify(message)}\n`);
  // One message at a time: 'finish' must not overtake 'arm'.
  let queue = Promise.resolve();
  onLines(socket, (message) => {
    queue = queue.then(() => handle(message)).catch((error) => reply({ t: 'error', message: String(error?.stack ?? error) }));
  });

  async function handle(message) {
    if (message.t === 'arm') {
      await post('Profiler.takePreciseCoverage'); // resets the counts: the window starts here
      // The one http.Server of this process, and its 'request' listener (the binding's, or
      // whatever the server layer put in front of it).
      const { result, exceptionDetails } = await post('Runtime.evaluate', {
        expression: `(() => {
          const { Server } = process.getBuiltinModule('node:http');
          const servers = process._getActiveHandles().filter((h) => h instanceof Server);
          if (servers.length !== 1) throw new Error('expected one http.Server, found ' + servers.length);
          const listeners = servers[0].listeners('request');
          if (listeners.length !== 1) throw new Error('expected one request listener, found ' + listeners.length);
          return listeners[0];
        })()`,
        objectGroup: 'trace',
      });
      if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
      ({ breakpointId } = await post('Debugger.setBreakpointOnFunctionCall', { objectId: result.objectId }));
      // Async stacks link each later task to what scheduled it (Node reports its own async
      // resources — timers, nextTick, … — to the inspector as async tasks once this is on).
      await post('Debugger.setAsyncCallStackDepth', { maxDepth: 32 });
      events = [];
      lastRoot = undefined;
      tracing = true;
      reply({ t: 'armed' });
    } else if (message.t === 'finish') {
      // The client has the response; wait until the server side stops pausing too.
      while (Date.now() - lastPause < QUIET_MS) await new Promise((ok) => setTimeout(ok, 50));
      tracing = false;
      await post('Debugger.removeBreakpoint', { breakpointId });
      await post('Debugger.setAsyncCallStackDepth', { maxDepth: 0 });
      const { result } = await post('Profiler.takePreciseCoverage');
      const coverage = result
        .filter((script) => /\/packages\/[^/]+\/dist\/|\/bench\//.test(script.url))
        .map((script) => ({
          url: script.url,
          functions: script.functions
            .filter((f) => f.ranges[0].count > 0)
            .map((f) => ({ name: f.functionName, start: f.ranges[0].startOffset, end: f.ranges[0].endOffset, count: f.ranges[0].count })),
        }))
        .filter((script) => script.functions.length > 0);
      reply({ t: 'trace', pid: process.pid, events, coverage });
    }
  }

  parentPort.postMessage('ready');
}

// ---------------------------------------------------------------------------------------------
// The driver.

function parseArgs(argv) {
  const options = { root: resolve(dirname(SELF), '..'), before: undefined, trees: [], out: undefined, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--root') options.root = resolve(value());
    else if (arg === '--before') options.before = resolve(value());
    else if (arg === '--tree') {
      const [label, dir] = value().split('=');
      if (!dir) throw new Error('--tree wants LABEL=DIR');
      options.trees.push({ label, root: resolve(dir) });
    } else if (arg === '--out') options.out = resolve(value());
    else if (arg === '--json') options.json = resolve(value());
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  await loadParser();
  const trees = [];
  if (options.before) trees.push({ label: 'before', root: options.before, commit: gitHead(options.before) });
  for (const tree of options.trees) trees.push({ ...tree, commit: gitHead(tree.root) });
  trees.push({ label: options.before || options.trees.length ? 'after' : 'this tree', root: options.root, commit: gitHead(options.root) });

  for (const tree of trees) {
    tree.results = {};
    for (const mode of ['in-process', 'carafe serve']) {
      process.stderr.write(`tracing ${tree.label} (${tree.root}), ${mode}...\n`);
      const raw = await traceOnce(tree.root, mode);
      tree.results[mode] = analyse(tree.root, raw);
    }
  }
  const markdown = report(trees);
  if (options.out) {
    writeFileSync(options.out, markdown);
    process.stderr.write(`wrote ${relative(process.cwd(), options.out)}\n`);
  } else process.stdout.write(markdown);
  if (options.json) writeFileSync(options.json, JSON.stringify(trees, null, 1));
  process.stdout.write(`\n${summary(trees)}\n`);
}

const subjects = new Map();

/** The checkout's commit, and whether its packages have uncommitted changes (read-only git calls). */
function gitHead(root) {
  const git = (...args) => execFileSync('git', ['--no-optional-locks', '-C', root, ...args], { encoding: 'utf8' }).trim();
  try {
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'packages') !== '';
    subjects.set(root, git('log', '-1', '--format=%s'));
    return dirty ? `${commit} + uncommitted changes in packages/` : commit;
  } catch {
    return 'unknown';
  }
}

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

function request(agent, port) {
  return new Promise((ok, fail) => {
    const req = http.get({ host: '127.0.0.1', port, path: PATH, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', fail);
    });
    req.on('error', fail);
  });
}

/** Starts the server with the tracer preloaded, warms it up, traces one request, stops it. */
async function traceOnce(root, mode) {
  const control = net.createServer();
  control.listen(0, '127.0.0.1');
  await once(control, 'listening');
  const port = await freePort();
  const args =
    mode === 'in-process'
      ? [join(root, 'bench', 'servers', 'carafe.mjs')]
      : [
          join(root, 'packages', 'server', 'dist', 'cli.js'),
          'serve',
          join(root, 'bench', 'servers', 'carafe-app.mjs'),
          '--workers',
          '1',
          '--bind',
          `127.0.0.1:${port}`,
        ];
  const child = spawn(process.execPath, ['--import', pathToFileURL(SELF).href, ...args], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      CARAFE_TRACE_ROLE: 'preload',
      CARAFE_TRACE_TARGET: mode === 'in-process' ? 'main' : 'worker',
      CARAFE_TRACE_CONTROL: String(control.address().port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = once(child, 'exit');
  const fail = (why) => new Error(`${why}\n--- server output ---\n${output}`);

  try {
    const [socket] = await Promise.race([
      once(control, 'connection'),
      exited.then(() => Promise.reject(fail('server exited'))),
      delay(20000).then(() => Promise.reject(fail('tracer did not connect'))),
    ]);
    const lines = lineReader(socket);
    const send = (message) => socket.write(`${JSON.stringify(message)}\n`);
    const expect = async (type) => {
      const message = await lines.next();
      if (message.t === 'error') throw fail(`tracer: ${message.message}`);
      if (message.t !== type) throw fail(`expected ${type}, got ${JSON.stringify(message).slice(0, 200)}`);
      return message;
    };

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const deadline = Date.now() + 20000;
    for (;;) {
      try {
        await request(agent, port);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw fail(`server not reachable: ${error.message}`);
        await delay(100);
      }
    }
    for (let i = 0; i < WARMUP_REQUESTS; i++) await request(agent, port);

    send({ t: 'arm' });
    await expect('armed');
    const response = await request(agent, port);
    send({ t: 'finish' });
    const trace = await expect('trace');
    agent.destroy();
    if (response.status !== 200) throw fail(`traced request got ${response.status}: ${response.body}`);
    return { mode, response, ...trace };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    control.close();
  }
}

/** Calls `onMessage` with each newline-delimited JSON message arriving on `socket`. */
function onLines(socket, onMessage) {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (data) => {
    buffered += data;
    for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      onMessage(JSON.parse(line));
    }
  });
}

function lineReader(socket) {
  const queue = [];
  const waiting = [];
  onLines(socket, (message) => {
    if (waiting.length) waiting.shift()(message);
    else queue.push(message);
  });
  return { next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((ok) => waiting.push(ok))) };
}

const delay = (ms) => new Promise((ok) => setTimeout(ok, ms));

// ---------------------------------------------------------------------------------------------
// Analysis.

/** Per script file: its text, functions (for names) and source map (for src lines). */
const fileInfo = new Map();
let parseAst;
async function loadParser() {
  // TypeScript 7 has no JS parser API; rolldown (vite's bundler) ships oxc's ESTree parser.
  ({ parseAst } = await import('rolldown/parseAst'));
}

function infoFor(url) {
  let info = fileInfo.get(url);
  if (info) return info;
  const path = fileURLToPath(url);
  const text = readFileSync(path, 'utf8');
  let map;
  try {
    map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
  } catch {}
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  info = { path, text, map, lineStarts, functions: collectFunctions(parseAst(text, { sourceType: 'module' }), lineStarts) };
  fileInfo.set(url, info);
  return info;
}

/**
 * Every function of a file (ESTree, UTF-16 offsets) with a readable name: `Class.method`,
 * `new Class`, `name`, or `(arrow in Class.method)`. A method's range starts at its key, where
 * V8 puts the function's location.
 */
function collectFunctions(ast, lineStarts) {
  const result = [];
  const keyName = (key, computed) =>
    computed ? `[…]` : key.type === 'Identifier' ? key.name : key.type === 'PrivateIdentifier' ? `#${key.name}` : String(key.value);
  const lineOf = (offset) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const visit = (node, parent, enclosing, className) => {
    if (!node || typeof node.type !== 'string') return;
    let next = enclosing;
    let nextClass = className;
    if (node.type === 'ClassDeclaration' || node.type === 'ClassExpression') {
      nextClass = node.id?.name ?? (parent?.type === 'VariableDeclarator' ? parent.id.name : '(class)');
      // The class itself stands for its implicit constructor and its field initializers
      // (V8's <instance_members_initializer>); with an explicit constructor, for that one.
      const ctor = node.body.body.find((m) => m.type === 'MethodDefinition' && m.kind === 'constructor');
      result.push({
        name: `new ${nextClass}`,
        start: node.start,
        end: node.end,
        line: lineOf(node.start),
        isClass: true,
        ctorStart: ctor?.start,
      });
    }
    if (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression') {
      let name;
      let start = node.start;
      if (parent?.type === 'MethodDefinition') {
        start = parent.start;
        const key = keyName(parent.key, parent.computed);
        name =
          parent.kind === 'constructor'
            ? `new ${className}`
            : `${parent.kind === 'get' ? 'get ' : parent.kind === 'set' ? 'set ' : ''}${className}.${key}`;
      } else if (parent?.type === 'Property' && (parent.method || parent.kind !== 'init')) {
        start = parent.start;
        name = `${parent.kind === 'get' ? 'get ' : parent.kind === 'set' ? 'set ' : ''}${keyName(parent.key, parent.computed)}`;
      } else if (node.id) name = node.id.name;
      else if (parent?.type === 'VariableDeclarator' && parent.id.type === 'Identifier') name = parent.id.name;
      else if (parent?.type === 'Property') name = keyName(parent.key, parent.computed);
      else if (parent?.type === 'PropertyDefinition') name = `${className}.${keyName(parent.key, parent.computed)}`;
      else if (parent?.type === 'AssignmentExpression' && parent.left.type === 'MemberExpression' && !parent.left.computed) {
        name = `${parent.left.object.type === 'ThisExpression' ? 'this' : (parent.left.object.name ?? '…')}.${parent.left.property.name}`;
      } else if (parent?.type === 'AssignmentExpression' && parent.left.type === 'Identifier') name = parent.left.name;
      else if (parent?.type === 'CallExpression' && parent.callee !== node && !enclosing) {
        const callee = parent.callee;
        const calleeName =
          callee.type === 'Identifier'
            ? callee.name
            : callee.type === 'MemberExpression' && !callee.computed
              ? `${callee.object.type === 'ThisExpression' ? 'this' : (callee.object.name ?? '…')}.${callee.property.name}`
              : '…';
        name = `(${node.type === 'ArrowFunctionExpression' ? 'arrow' : 'function'} passed to ${calleeName})`;
      }
      name ??= `(${node.type === 'ArrowFunctionExpression' ? 'arrow' : 'function'}${enclosing ? ` in ${enclosing.name}` : ''})`;
      const entry = { name, start, end: node.end, line: lineOf(start) };
      result.push(entry);
      next = entry;
    }
    for (const key of Object.keys(node)) {
      if (key === 'start' || key === 'end') continue;
      const value = node[key];
      if (Array.isArray(value)) for (const child of value) visit(child, node, next, nextClass);
      else if (value && typeof value === 'object') visit(value, node, next, nextClass);
    }
  };
  visit(ast, undefined, undefined, undefined);
  return result;
}

function offsetOf(info, line, col) {
  return info.lineStarts[line] + col;
}

/** The innermost function of the file containing `offset`. */
function functionAt(info, offset) {
  let best;
  for (const f of info.functions) {
    if (f.start <= offset && offset < f.end && (!best || f.end - f.start < best.end - best.start)) best = f;
  }
  return best;
}

function classify(root, url) {
  if (!url.startsWith('file:')) return 'other';
  const path = fileURLToPath(url);
  const rel = relative(root, path);
  if (/^packages\/[^/]+\/dist\//.test(rel)) return 'ours';
  if (/^bench\//.test(rel)) return 'app';
  return 'other';
}

/** `packages/gateway/dist/binding.js` -> `gateway/src/binding.ts` (the dist .js files mirror src/*.ts). */
function displayFile(root, url) {
  const rel = relative(root, fileURLToPath(url));
  const m = /^packages\/([^/]+)\/dist\/(.*)\.js$/.exec(rel);
  return m ? `${m[1]}/src/${m[2]}.ts` : rel;
}

function srcLine(info, line, col) {
  const entry = info.map?.findEntry(line, col);
  return entry && entry.originalLine !== undefined ? entry.originalLine + 1 : undefined;
}

/** The function of `info` at `offset`, a class standing for its constructor. */
function resolveFunction(info, offset) {
  const fn = functionAt(info, offset);
  if (fn?.isClass && fn.ctorStart !== undefined) return info.functions.find((f) => f.start === fn.ctorStart && !f.isClass) ?? fn;
  return fn;
}

function packageOf(url) {
  const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return m ? m[1] : undefined;
}

const INITIALIZERS = new Set(['<instance_members_initializer>', '<static_initializer>']);

function analyse(root, raw) {
  // 1. Every pause, reduced to the function it is in, and split into tasks (the listener's call,
  //    then callbacks from the event loop or microtasks).
  const stops = [];
  const nodeInternalPauses = { count: 0 };
  const otherStops = new Set();
  let task = 0;
  const taskInfo = [];
  for (const event of raw.events) {
    const top = event.frames[0];
    if (event.async !== undefined) {
      task++;
      const bottom = event.frames[event.frames.length - 1];
      taskInfo[task] = { root: `${bottom.fn || '(anonymous)'} (${bottom.url.replace(/^node:/, '')})`, async: event.async };
    }
    const kind = top.url === '' ? 'generated' : classify(root, top.url);
    if (kind === 'other') {
      if (top.url.startsWith('node:')) nodeInternalPauses.count++;
      else otherStops.add(`${top.fn || '(anonymous)'} ${top.url}`);
      continue;
    }
    const initializer = INITIALIZERS.has(top.fn);
    // An initializer runs as part of its constructor: same function, same stack depth.
    const depth = event.frames.length - (initializer ? 1 : 0);
    if (kind === 'generated') {
      const caller = event.frames.find((f) => f.url !== '');
      const by = caller
        ? (packageOf(caller.url) ?? (classify(root, caller.url) !== 'other' ? displayFile(root, caller.url) : caller.url))
        : '?';
      stops.push({
        task,
        depth,
        kind,
        key: `generated:${top.fn}:${top.fline}:${top.fcol}:${by}`,
        name: top.fn || '(anonymous)',
        file: `(generated code, called from ${by})`,
        srcLine: undefined,
      });
      continue;
    }
    const info = infoFor(top.url);
    const fn = resolveFunction(info, offsetOf(info, top.fline, top.fcol));
    const start = fn?.isClass || !fn ? offsetOf(info, top.fline, top.fcol) : fn.start;
    stops.push({
      task,
      depth,
      kind,
      url: top.url,
      file: displayFile(root, top.url),
      key: `${top.url}#${fn ? fn.start : start}`,
      name: fn?.name ?? (top.fn || '(anonymous)'),
      srcLine: fn ? srcLineAt(info, fn.start) : undefined,
    });
  }

  // 2. Which tasks belong to the request: the first, and every task scheduled from a function
  //    the request ran (its async stack goes through one); not, say, a heartbeat timer.
  const requestKeys = new Set();
  const included = new Set();
  const excludedTasks = [];
  for (let t = 1; t <= task; t++) {
    const own = stops.filter((stop) => stop.task === t);
    const scheduledByRequest = (taskInfo[t].async ?? []).some((frame) => {
      if (!frame.url || classify(root, frame.url) === 'other') return false;
      const info = infoFor(frame.url);
      const fn = resolveFunction(info, offsetOf(info, frame.line, frame.col));
      return fn && requestKeys.has(`${frame.url}#${fn.start}`);
    });
    if (t === 1 || scheduledByRequest) {
      included.add(t);
      for (const stop of own) requestKeys.add(stop.key);
    } else if (own.length) {
      const from = (taskInfo[t].async ?? []).find((frame) => frame.url && classify(root, frame.url) !== 'other');
      excludedTasks.push(
        `${taskInfo[t].root}: ${[...new Set(own.map((stop) => `${stop.name} (${stop.file})`))].join(', ')}` +
          (from
            ? `; scheduled from ${displayFile(root, from.url)}:${from.line + 1}, not by the request`
            : '; not scheduled by the request'),
      );
    }
  }
  const requestStops = stops.filter((stop) => included.has(stop.task));

  // 3. Consecutive stops in one function activation are one visit.
  const merge = (list) => {
    const visits = [];
    for (const stop of list) {
      const last = visits[visits.length - 1];
      if (last && last.key === stop.key && last.depth === stop.depth && last.task === stop.task) {
        last.steps++;
        continue;
      }
      const how = !last
        ? 'start'
        : last.task !== stop.task
          ? 'task'
          : stop.depth > last.depth
            ? 'call'
            : stop.depth < last.depth
              ? 'return'
              : 'next';
      visits.push({ ...stop, how, steps: 1 });
    }
    return visits;
  };
  const shown = merge(requestStops); // with generated code
  const visits = merge(requestStops.filter((stop) => stop.kind !== 'generated')); // what is counted

  // 4. Counts.
  const functions = new Map();
  for (const v of visits) if (!functions.has(v.key)) functions.set(v.key, v);
  const files = [];
  for (const v of visits) if (!files.includes(v.file)) files.push(v.file);
  let crossings = 0;
  let callCrossings = 0;
  for (let i = 1; i < visits.length; i++) {
    if (visits[i].file !== visits[i - 1].file) {
      crossings++;
      if (visits[i].how === 'call') callCrossings++;
    }
  }
  const ours = [...functions.values()].filter((v) => v.kind === 'ours');
  const generated = [...new Set(shown.filter((v) => v.kind === 'generated').map((v) => `${v.name} ${v.file}`))];

  // 5. Cross-check with precise coverage: functions of ours or the app's that ran in the window
  //    but were never stopped in.
  const steppedKeys = new Set(stops.map((stop) => stop.key));
  const unseen = [];
  let coveredCount = 0;
  for (const script of raw.coverage) {
    if (classify(root, script.url) === 'other') continue;
    const info = infoFor(script.url);
    for (const f of script.functions) {
      if (f.start === 0) continue; // the module's top level
      coveredCount++;
      const fn = resolveFunction(info, f.start);
      const key = `${script.url}#${fn ? fn.start : f.start}`;
      if (!steppedKeys.has(key)) unseen.push(`${fn?.name ?? f.name} (${displayFile(root, script.url)}) ×${f.count}`);
    }
  }

  return {
    mode: raw.mode,
    pid: raw.pid,
    response: { status: raw.response.status, body: raw.response.body },
    pauses: raw.events.length,
    nodeInternalPauses: nodeInternalPauses.count,
    otherStops: [...otherStops],
    excludedTasks,
    shown,
    visits,
    functionList: [...functions.values()].map((v) => `${v.name} (${v.file})`),
    functions: functions.size,
    ourFunctions: ours.length,
    appFunctions: functions.size - ours.length,
    generated,
    files,
    ourFiles: files.filter((f) => !f.startsWith('bench/')),
    crossings,
    callCrossings,
    tasks: [...included].filter((t) => requestStops.some((stop) => stop.task === t)).map((t) => taskInfo[t].root),
    coverage: { functions: coveredCount, unseen },
  };
}

function srcLineAt(info, offset) {
  let lo = 0;
  let hi = info.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (info.lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return srcLine(info, lo, offset - info.lineStarts[lo]) ?? lo + 1;
}

// ---------------------------------------------------------------------------------------------
// Report.

function countsRow(label, r) {
  return `| ${label} | **${r.functions}** (${r.ourFunctions} ours + ${r.appFunctions} app) | **${r.files.length}** (${r.ourFiles.length} ours + ${r.files.length - r.ourFiles.length} app) | **${r.crossings}** | ${r.callCrossings} | ${r.visits.length} |`;
}

/** The file sequence: one entry per run of consecutive visits in the same file. */
function fileRuns(r) {
  const runs = [];
  for (const v of r.visits) if (runs[runs.length - 1] !== v.file) runs.push(v.file);
  return runs;
}

function orderedList(r) {
  const out = [];
  out.push('| # | how | function | file:line (src) |');
  out.push('|---|---|---|---|');
  const depth0 = Math.min(...r.shown.map((v) => v.depth));
  let n = 0;
  let last;
  for (const v of r.shown) {
    const indent = '· '.repeat(Math.max(0, Math.min(16, v.depth - depth0)));
    let number;
    if (v.kind === 'generated') number = '–';
    else {
      const same = last && last.key === v.key && last.depth === v.depth && last.task === v.task;
      number = same ? '' : String(++n);
      last = v;
    }
    const where = v.kind === 'generated' ? `${v.file}, not counted` : `${v.file}:${v.srcLine ?? '?'}`;
    out.push(`| ${number} | ${v.how} | ${indent}\`${v.name}\` | ${where} |`);
  }
  return out;
}

function report(trees) {
  const out = [];
  const before = trees.find((tree) => tree.label === 'before');
  out.push('# The request path of one `GET /users/42`');
  out.push('');
  out.push(
    `Generated by \`node scripts/trace-request.mjs ${process.argv.slice(2).join(' ')}\` on Node ${process.version}${before ? ` (before = a \`git worktree\` of ${before.commit}, built with \`npm ci && npx tsc -b\`)` : ''}.`,
  );
  out.push('');
  for (const tree of trees)
    out.push(
      `- ${tree.label}: ${tree.root === resolve(dirname(SELF), '..') ? 'this checkout' : tree.root} at ${tree.commit} (“${subjects.get(tree.root) ?? '?'}”)`,
    );
  out.push('');
  out.push('**What**: every function of ours (`packages/*/dist`, shown as the `src/*.ts` file it is built from) and of the app');
  out.push("(`bench/`: the route handler and `userResponse`) that one `GET /users/42` runs in, from the http.Server's `'request'`");
  out.push("listener to the response handed to Node and the body's completion. The app is bench/servers/carafe-app.mjs (`/users/:id`");
  out.push("with a `response[200]` schema), served *in-process* by bench/servers/carafe.mjs (the gateway's `createServer(app)`)");
  out.push('and by the real *`carafe serve --workers 1`* (arbiter and worker, default settings: proxy fix on, limit checks on).');
  out.push('');
  out.push('**How** (exact, not sampled): the serving process (under `carafe serve`, the worker) is started with the script as an');
  out.push('`--import` preload, which attaches a debugger to the main thread from a worker thread');
  out.push(`(\`inspector.Session#connectToMainThread\`). After ${WARMUP_REQUESTS} warm-up requests on one keep-alive connection it sets`);
  out.push("`Debugger.setBreakpointOnFunctionCall` on the server's `'request'` listener, sends the traced request on the same");
  out.push('connection, and answers every pause with `Debugger.stepInto`, recording the call stack, until the client has the');
  out.push(`response and no pause came for ${QUIET_MS} ms. Pauses in \`node:*\` code are not counted; code without a file (functions made`);
  out.push("with `new Function` — route-tree's params factory, fast-json-stringify's serializer) is listed but not counted. Later tasks");
  out.push('(event-loop callbacks, microtasks) count only if their async stack shows they were scheduled by the request (so the');
  out.push("worker's heartbeat timer does not). A class's field initializers count as its constructor. Precise coverage with call");
  out.push('counts, taken over the same window, checks that stepping missed none of our functions.');
  out.push('');
  out.push('**Counts**: *functions* = distinct functions; *files* = distinct files; *crossings* = consecutive visits (one function');
  out.push('activation, a call or a return into it) in different files; *call crossings* = only calls into another file; *visits* =');
  out.push('length of the ordered list.');
  out.push('');
  out.push('| tree | mode | functions | files | crossings | call crossings | visits |');
  out.push('|---|---|---|---|---|---|---|');
  for (const tree of trees) {
    for (const [mode, r] of Object.entries(tree.results)) out.push(countsRow(`${tree.label} (${tree.commit}) | ${mode}`, r));
  }
  out.push('');
  for (const tree of trees) {
    for (const [mode, r] of Object.entries(tree.results)) {
      out.push(`## ${tree.label} (${tree.commit}), ${mode}`);
      out.push('');
      out.push(
        `Response: ${r.response.status} \`${r.response.body}\`. ${r.functions} functions, ${r.files.length} files, ${r.crossings} crossings.`,
      );
      out.push('');
      out.push(`Files, in order of first visit: ${r.files.map((f) => `\`${f}\``).join(' → ')}`);
      out.push('');
      out.push(
        `File sequence (${fileRuns(r).length} runs): ${fileRuns(r)
          .map((f) => f.replace(/^(gateway|core|server)\/src\//, '$1/').replace(/\.ts$/, ''))
          .join(' → ')}`,
      );
      out.push('');
      out.push(`Functions, in order of first visit: ${r.functionList.map((f) => `\`${f.split(' (')[0]}\``).join(', ')}`);
      out.push('');
      if (r.generated.length) out.push(`Generated code run (not counted): ${r.generated.join('; ')}.`);
      if (r.tasks.length === 1)
        out.push(
          "All of it ran in one call of the listener: the response went out whole (`res.end` with the body) before it returned, and no callback of ours waits for the body's completion.",
        );
      out.push(
        `Tasks counted: ${r.tasks.join('; ')}.${r.excludedTasks.length ? ` Not counted (not scheduled by the request): ${r.excludedTasks.join(' | ')}.` : ''}`,
      );
      out.push(
        r.coverage.unseen.length
          ? `**Coverage saw functions that stepping did not:** ${r.coverage.unseen.join(', ')}`
          : `Coverage check: all ${r.coverage.functions} functions of ours and the app's that ran in the window were stepped into.`,
      );
      if (r.otherStops.length) out.push(`Other pauses (not counted): ${r.otherStops.join('; ')}.`);
      out.push('');
      out.push('<details><summary>Ordered list</summary>');
      out.push('');
      out.push(...orderedList(r));
      out.push('');
      out.push('</details>');
      out.push('');
    }
  }
  return out.join('\n');
}

function summary(trees) {
  const lines = ['Summary (functions / files / crossings, ours + app):'];
  const width = Math.max(...trees.map((tree) => tree.label.length));
  for (const tree of trees) {
    for (const [mode, r] of Object.entries(tree.results)) {
      lines.push(
        `  ${tree.label.padEnd(width)} ${mode.padEnd(12)} ${String(r.functions).padStart(3)} functions (${r.ourFunctions} ours), ${String(r.files.length).padStart(2)} files (${r.ourFiles.length} ours), ${String(r.crossings).padStart(3)} crossings (${r.callCrossings} calls)${r.coverage.unseen.length ? `  UNSEEN by stepping: ${r.coverage.unseen.join(', ')}` : ''}`,
      );
      lines.push(`  ${''.padEnd(width)} files: ${r.files.join(' → ')}`);
    }
  }
  return lines.join('\n');
}

// Last, so that every module-level constant above is initialised.
if (!isMainThread && workerData?.role === 'tracer') await runTracer(workerData);
else if (ROLE === 'preload') await preload();
else if (isMainThread) await main();
