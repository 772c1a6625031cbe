/**
 * Runs the examples of packages/gateway/README.md as written: every ```ts block whose first line
 * is `// <name>.ts` is written under that name into a scratch directory inside the repository (so
 * `@carafe/gateway` resolves), then `server.ts` is imported (serving over real HTTP, on a free
 * port instead of 8000) and `app.test.ts` is imported so its tests register and run here. Also
 * checks that the README's API section names every export of the package.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as gateway from '@carafe/gateway';
import { afterAll, describe, expect, it, vi } from 'vitest';

const servers = vi.hoisted(() => [] as Server[]);

// The README serves on port 8000; here it gets a free port, and runs under the validator.
vi.mock('@carafe/gateway', async (importOriginal) => {
  const original = await importOriginal<typeof import('@carafe/gateway')>();
  return {
    ...original,
    serve: async (app: Parameters<typeof original.serve>[0], options: Parameters<typeof original.serve>[1] = {}) => {
      const server = await original.serve(original.validator(app), { ...options, port: 0 });
      servers.push(server);
      return server;
    },
  };
});

const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const files = new Map<string, string>();
for (const [, source] of readme.matchAll(/```ts\n([\s\S]*?)```/g)) {
  const name = /^\/\/ ([\w.-]+\.ts)\n/.exec(source!)?.[1];
  if (name !== undefined) files.set(name, source!);
}
const expected = ['app.ts', 'middleware.ts', 'server.ts', 'app.test.ts'];
if (expected.some((name) => !files.has(name))) {
  throw new Error(
    `README.md must hold ts blocks starting with ${expected.map((n) => `// ${n}`).join(', ')}; found ${[...files.keys()].join(', ')}`,
  );
}

const dir = fileURLToPath(new URL(`../.readme-example-${process.pid}/`, import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, source] of files) writeFileSync(`${dir}${name}`, source);
const cleanUp = () => rmSync(dir, { recursive: true, force: true });

let served: { server: Server };
// Lines are kept in an array of our own: vitest may clear a spy's recorded calls before each test.
const lines: unknown[][] = [];
const logged = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args));
try {
  served = (await import(/* @vite-ignore */ `${dir}server.ts`)) as { server: Server };
  await import(/* @vite-ignore */ `${dir}app.test.ts`);
} catch (error) {
  cleanUp(); // afterAll does not run when collecting the file fails
  throw error;
}

afterAll(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  logged.mockRestore();
  cleanUp();
});

describe('README server.ts', () => {
  it('ran the startup hook and serves the app with its middleware over HTTP', async () => {
    expect(servers).toEqual([served.server]);
    expect(lines).toContainEqual(['open the database client']);
    const { port } = served.server.address() as AddressInfo;
    const hello = await fetch(`http://127.0.0.1:${port}/there`);
    expect(hello.status).toBe(200);
    expect(hello.headers.get('x-powered-by')).toBe('carafe');
    expect(await hello.text()).toBe('Hello from /there\n');
    const tooBig = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x'.repeat(5000) });
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers.get('content-type')).toBe('application/problem+json');
  });

  it('runs the shutdown hook when the server closes', async () => {
    await new Promise((resolve) => served.server.close(resolve));
    servers.splice(0);
    expect(logged).toHaveBeenCalledWith('close it');
  });
});

describe('README API section', () => {
  const api = readme.slice(readme.indexOf('## API'));
  // The main entry re-exports the node-free entry (fetch.ts) and adds the node-only exports.
  const index = ['../src/index.ts', '../src/fetch.ts']
    .map((file) => readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8'))
    .join('\n');
  const types = readFileSync(fileURLToPath(new URL('../src/types.ts', import.meta.url)), 'utf8');
  const named = [...index.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap(([, list]) =>
    list!
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
  const typeNames = [...types.matchAll(/^export (?:type|interface) (\w+)/gm)].map(([, name]) => name!);

  it.each([...new Set([...Object.keys(gateway), ...named, ...typeNames])].sort())('names `%s`', (name) => {
    expect(api).toMatch(new RegExp('`' + name + '[`(<\\s]'));
  });

  it('found the exports it checks', () => {
    expect(named).toContain('mapResponse');
    expect(named).toContain('FinishedRecord');
    expect(typeNames).toContain('TsgiResponse');
  });
});
