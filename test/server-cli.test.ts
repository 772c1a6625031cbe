/**
 * The `carafe` command line: help, settings precedence, usage errors, exit codes for apps
 * that fail to load or boot, binding errors, fd:// sockets and `carafe routes`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SETTINGS, envName } from '../packages/server/src/settings.js';
import { Carafe, freePort, request, stopAll } from './fixtures/server/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'carafe-cli-'));

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string> = {}): Promise<Carafe> {
  const carafe = new Carafe(args, { env });
  await carafe.waitExit(15_000);
  return carafe;
}

describe('help', () => {
  it('carafe --help lists the commands', async () => {
    const carafe = await run(['--help']);
    expect(carafe.exitCode).toBe(0);
    expect(carafe.stdout).toMatch(/serve MODULE\[:EXPORT\]/);
    expect(carafe.stdout).toMatch(/routes MODULE\[:EXPORT\]/);
    expect(carafe.stdout).toMatch(/new DIR/);
  });

  it('carafe serve --help documents every setting with its flag and environment variable', async () => {
    const carafe = await run(['serve', '--help']);
    expect(carafe.exitCode).toBe(0);
    for (const spec of SETTINGS) {
      expect(carafe.stdout).toContain(`--${spec.flag}`);
      expect(carafe.stdout).toContain(envName(spec.flag));
    }
    expect(carafe.stdout).toMatch(/TTIN/);
    expect(carafe.stdout).toMatch(/4 app load failure/);
  });
});

describe('usage errors exit 2', () => {
  it.each([
    [['serve', 'hello.mjs', '--no-such-flag'], {}, /no-such-flag/],
    [['serve', 'hello.mjs', '--workers', 'many'], {}, /--workers: expected a number/],
    [['serve', 'hello.mjs'], { CARAFE_WORKERS: '0' }, /CARAFE_WORKERS: expected at least 1/],
    [['serve', 'hello.mjs', '--bind', '127.0.0.1:99999'], {}, /bad port/],
    [['serve', 'hello.mjs', '--access-log-format', '%(Z)s'], {}, /unknown variable %\(Z\)s/],
    [['serve', 'hello.mjs', '--forwarded-allow-ips', 'not-an-ip'], {}, /not an IP address/],
    [['serve'], {}, /exactly one MODULE/],
    [['frobnicate'], {}, /unknown command/],
  ] as const)('%j', async (args, env, message) => {
    const carafe = await run([...args], env);
    expect(carafe.exitCode).toBe(2);
    expect(carafe.stderr).toMatch(message);
  });

  it('a config file with an unknown key', async () => {
    const config = join(dir, 'typo.config.mjs');
    writeFileSync(config, 'export default { wokers: 4 };\n');
    const carafe = await run(['serve', 'hello.mjs', '--config', config]);
    expect(carafe.exitCode).toBe(2);
    expect(carafe.stderr).toMatch(/unknown setting "wokers"/);
  });
});

describe('settings precedence', () => {
  it('is flag > environment > config file > default', async () => {
    const dump = join(dir, 'settings.json');
    const port = await freePort();
    const carafe = new Carafe(['serve', 'hello.mjs', '-c', 'settings-dump.config.mjs', '--timeout', '13', '-b', `127.0.0.1:${port}`], {
      env: { DUMP_FILE: dump, CARAFE_TIMEOUT: '12', CARAFE_KEEP_ALIVE: '7' },
    });
    await carafe.ready();
    const settings = JSON.parse(readFileSync(dump, 'utf8'));
    expect(settings).toMatchObject({ timeout: 13, keepAlive: 7, workers: 2, maxRequests: 100, gracefulTimeout: 30 });
    expect(settings.bind).toEqual([`127.0.0.1:${port}`]);
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit()).toBe(0);
  });
});

describe('an app that fails to load exits 4', () => {
  it.each([
    ['missing.mjs', /cannot find module missing\.mjs/],
    ['hello.mjs:nope', /no export named "nope"/],
    ['not-callable.mjs', /not a TSGI application/],
    ['broken-import.mjs', /database URL missing \(fixture\)/],
  ])('%s', async (spec, message) => {
    const port = await freePort();
    const carafe = await run(['serve', spec, '-b', `127.0.0.1:${port}`, '--workers', '2']);
    expect(carafe.exitCode).toBe(4);
    expect(carafe.stderr).toMatch(message);
    // Stopped, not respawning forever: exactly the first workers were booted.
    expect(carafe.stderr.match(/Booting worker/g)?.length ?? 0).toBeLessThanOrEqual(2);
  });

  it('with --preload, before any worker starts', async () => {
    const carafe = await run(['serve', 'broken-import.mjs', '--preload']);
    expect(carafe.exitCode).toBe(4);
    expect(carafe.stderr).toMatch(/database URL missing/);
    expect(carafe.stderr).not.toMatch(/Booting worker/);
  });
});

describe('a worker that cannot boot exits 3', () => {
  it('when the lifespan startup throws', async () => {
    const port = await freePort();
    const carafe = await run(['serve', 'startup-fails.mjs', '-b', `127.0.0.1:${port}`]);
    expect(carafe.exitCode).toBe(3);
    expect(carafe.stderr).toMatch(/cannot reach the database \(fixture\)/);
  });
});

describe('binding', () => {
  it('exits 1 when the address is in use', async () => {
    const busy = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => busy.once('listening', r));
    const { port } = busy.address() as net.AddressInfo;
    const carafe = await run(['serve', 'hello.mjs', '-b', `127.0.0.1:${port}`]);
    expect(carafe.exitCode).toBe(1);
    expect(carafe.stderr).toMatch(/cannot bind http:\/\/127\.0\.0\.1:\d+: EADDRINUSE/);
    expect(carafe.stderr).not.toMatch(/Booting worker/);
    await new Promise((r) => busy.close(r));
  });

  it('serves on an inherited socket with fd://N (systemd socket activation)', async () => {
    const inherited = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => inherited.once('listening', r));
    const { port } = inherited.address() as net.AddressInfo;
    const fd = (inherited as unknown as { _handle: { fd: number } })._handle.fd;
    const carafe = new Carafe(['serve', 'hello.mjs', '-b', 'fd://3'], { extraFds: [fd] });
    inherited.close();
    await carafe.ready();
    expect(carafe.stderr).toMatch(/Listening at: fd:\/\/3/);
    const reply = await request(port, '/');
    expect(reply.body).toMatch(/^hello from \d+/);
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit()).toBe(0);
  });
});

describe('carafe routes', () => {
  it("prints a Carafe app's route table", async () => {
    const carafe = await run(['routes', 'routes-app.mjs']);
    expect(carafe.exitCode).toBe(0);
    const lines = carafe.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Methods\s+Path\s+Name$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/))).toEqual([
      ['GET,HEAD', '/', 'index'],
      ['POST', '/users', 'users.create'],
      ['GET,HEAD', '/users/:id', 'users.show'],
    ]);
  });

  it('refuses a plain TSGI app (exit 1) and a missing module (exit 4)', async () => {
    const plain = await run(['routes', 'hello.mjs']);
    expect(plain.exitCode).toBe(1);
    expect(plain.stderr).toMatch(/not a Carafe app/);
    const missing = await run(['routes', 'missing.mjs']);
    expect(missing.exitCode).toBe(4);
  });
});
