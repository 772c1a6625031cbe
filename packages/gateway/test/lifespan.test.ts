import type { AddressInfo } from 'node:net';
import { keepLifespan, mapResponse, serve, shutdown, startup, validator, withHeader, type TsgiApplication } from '@carafe/gateway';
import { describe, expect, it } from 'vitest';

function appWithLifespan(events: string[]): TsgiApplication {
  const app: TsgiApplication = () => ({ status: 200, headers: [['Content-Type', 'text/plain']], body: [events.join(',')] });
  app.lifespan = {
    startup: async () => void events.push('startup'),
    shutdown: async () => void events.push('shutdown'),
  };
  return app;
}

describe('lifespan', () => {
  it('startup and shutdown run the hooks', async () => {
    const events: string[] = [];
    const app = appWithLifespan(events);
    await startup(app);
    await shutdown(app);
    expect(events).toEqual(['startup', 'shutdown']);
  });

  it('are no-ops for an app without hooks', async () => {
    const app: TsgiApplication = () => ({ status: 204, headers: [], body: [] });
    await expect(startup(app)).resolves.toBeUndefined();
    await expect(shutdown(app)).resolves.toBeUndefined();
  });

  it('run once per process even when two servers share the app', async () => {
    const events: string[] = [];
    const app = appWithLifespan(events);
    await startup(app);
    await startup(app);
    await shutdown(app);
    expect(events).toEqual(['startup']);
    await shutdown(app);
    expect(events).toEqual(['startup', 'shutdown']);
  });

  it('serve() starts the app before listening and closing the server shuts it down', async () => {
    const events: string[] = [];
    const app = validator(appWithLifespan(events));
    const server = await serve(app, { port: 0, host: '127.0.0.1' });
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(await response.text()).toBe('startup');
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    expect(events).toEqual(['startup', 'shutdown']);
  });

  it('serve() rejects and does not start the app when startup fails', async () => {
    let called = false;
    const app: TsgiApplication = () => {
      called = true;
      return { status: 204, headers: [], body: [] };
    };
    app.lifespan = {
      startup: () => {
        throw new Error('no database');
      },
    };
    await expect(serve(app, { port: 0 })).rejects.toThrow('no database');
    expect(called).toBe(false);
    // The failed startup is not counted: a later attempt runs the hook again.
    await expect(startup(app)).rejects.toThrow('no database');
  });

  it('serve() shuts the app down again when it cannot listen', async () => {
    const events: string[] = [];
    const first = await serve(appWithLifespan([]), { port: 0, host: '127.0.0.1' });
    const { port } = first.address() as AddressInfo;
    try {
      await expect(serve(appWithLifespan(events), { port, host: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
      expect(events).toEqual(['startup', 'shutdown']);
    } finally {
      await new Promise<void>((resolve) => first.close(() => resolve()));
    }
  });

  it('keeps running the hooks once when the app is wrapped in middleware that keeps its lifespan', async () => {
    const events: string[] = [];
    const inner = appWithLifespan(events);
    const outer = keepLifespan((environ) => mapResponse(inner(environ), (res) => withHeader(res, 'X-Outer', '1')), inner);
    const app = validator(outer);
    await startup(app);
    await shutdown(app);
    expect(events).toEqual(['startup', 'shutdown']);
  });
});
