/**
 * Runs real nginx with the example's deployed site (examples/rest-api/deploy/nginx/carafe.conf)
 * in a private prefix, changing only what a test must: where it listens, the upstream servers, and
 * any other directive the test names. Optionally inside a network namespace (`ip netns exec`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './carafe.js';

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
export const SITE = join(ROOT, 'examples/rest-api/deploy/nginx/carafe.conf');
const DEPLOYED_UPSTREAM = 'server unix:/run/carafe/carafe.sock fail_timeout=0;';
const DEPLOYED_LISTEN = 'listen 80 default_server;';

export interface NginxOptions {
  /** An nginx `listen` address: `127.0.0.1:8080` or `unix:/path/nginx.sock`. */
  listen: string;
  /** The upstream's `server` lines, without the `server` keyword: `unix:/x.sock fail_timeout=0`. */
  upstreams: string[];
  /** Further exact replacements in the site, each of which must match. */
  replace?: Array<[string, string]>;
  /** Run nginx inside this network namespace. */
  netns?: string;
}

export interface RunningNginx {
  prefix: string;
  process: ChildProcess;
  /** One line per request: `msec method uri status upstream=… upstream_status=… time=…`. */
  accessLog(): string;
  errorLog(): string;
  stop(): Promise<void>;
}

function rewrite(site: string, options: NginxOptions): string {
  const replacements: Array<[string, string]> = [
    [DEPLOYED_UPSTREAM, options.upstreams.map((u) => `server ${u};`).join('\n    ')],
    [DEPLOYED_LISTEN, `listen ${options.listen} default_server;`],
    ...(options.replace ?? []),
  ];
  for (const [from, to] of replacements) {
    if (!site.includes(from))
      throw new Error(`deploy/nginx/carafe.conf no longer contains ${JSON.stringify(from)}: update test/setup/nginx.ts`);
    site = site.replace(from, to);
  }
  return site;
}

/** Resolves once nginx accepts connections on its listen address. */
function accepts(listen: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = listen.startsWith('unix:')
      ? connect(listen.slice('unix:'.length))
      : connect(Number(listen.split(':').at(-1)), listen.slice(0, listen.lastIndexOf(':')));
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  if (!NGINX) throw new Error("nginx is not installed: run `bash scripts/provision.sh` (it installs Debian's nginx package)");
  const prefix = mkdtempSync(join(tmpdir(), 'carafe-nginx-'));
  for (const dir of ['logs', 'tmp']) mkdirSync(join(prefix, dir), { recursive: true });
  writeFileSync(join(prefix, 'carafe.conf'), rewrite(readFileSync(SITE, 'utf8'), options));
  const main = join(prefix, 'nginx.conf');
  writeFileSync(
    main,
    `${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  log_format upstreams '$msec $request_method $request_uri $status upstream=$upstream_addr upstream_status=$upstream_status time=$request_time';
  access_log ${prefix}/logs/access.log upstreams;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  include ${join(prefix, 'carafe.conf')};
}
`,
  );
  const args = ['-p', prefix, '-c', main, '-g', 'daemon off;'];
  const child = options.netns
    ? spawn('ip', ['netns', 'exec', options.netns, NGINX, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(NGINX, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const log = (name: string) => () => (existsSync(join(prefix, 'logs', name)) ? readFileSync(join(prefix, 'logs', name), 'utf8') : '');
  const errorLog = log('error.log');
  const accessLog = log('access.log');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(prefix, { recursive: true, force: true });
  };
  for (let i = 0; !(await accepts(options.listen)); i++) {
    if (i > 100 || child.exitCode !== null) {
      const log = errorLog();
      await stop();
      throw new Error(`nginx did not come up on ${options.listen}:\n${output}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { prefix, process: child, accessLog, errorLog, stop };
}
