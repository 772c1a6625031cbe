// Hono 4 on @hono/node-server, with Hono's default router (SmartRouter: RegExpRouter first).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { HELLO, listenAddress, restResponse, restRoutes, routeCountFromEnv, userResponse } from '../routes.mjs';

const app = new Hono();

app.get('/hello', (c) => c.text(HELLO));
app.get('/users/:id', (c) => c.json(userResponse(c.req.param('id'))));
app.post('/echo', async (c) => c.json(await c.req.json()));
const restHandler = (c) => c.json(restResponse(c.req.param()));
for (const { method, path } of restRoutes(routeCountFromEnv())) {
  app.on(method, path, restHandler);
}

const { port, host } = listenAddress();
serve({ fetch: app.fetch, port, hostname: host }, () => console.log('ready'));
