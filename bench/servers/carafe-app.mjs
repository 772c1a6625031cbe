// The Carafe app of the benchmark, served two ways: in-process through the gateway's
// node:http binding (carafe.mjs) and by `carafe serve --workers 1` (see bench/lineup.mjs).
import { Carafe } from '@carafe/core';
import { HELLO, restResponse, restRoutes, routeCountFromEnv, userResponse } from '../routes.mjs';

export const app = new Carafe();

app.get('/hello', () => HELLO);
app.get('/users/:id', (req) => userResponse(req.params.id));
app.post('/echo', (req) => req.json());

const restHandler = (req) => restResponse(req.params);
for (const [index, { method, path }] of restRoutes(routeCountFromEnv()).entries()) {
  // One handler, many routes: each gets its own name, as Flask endpoints must.
  app.addRoute({ method, path, name: `rest${index}`, handler: restHandler });
}
