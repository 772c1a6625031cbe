import type { AddressInfo } from 'node:net';
import { serve, shutdown, startup, validator, type TsgiApplication } from '@carafe/gateway';
import { describe, expect, it } from 'vitest';

function appWithLifespan(events: string[]): TsgiApplication {
  const app: TsgiApplication = (_env, start) => {
    start('200 OK', [['Content-Type', 'text/plain']]);
    return [events.join(',')];
  };
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
    const app: TsgiApplication = () => [];
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
    const app: TsgiApplication = () => [];
    app.lifespan = {
      startup: () => {
        throw new Error('no database');
      },
    };
    await expect(serve(app, { port: 0 })).rejects.toThrow('no database');
  });
});
