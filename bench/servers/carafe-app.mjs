// The Carafe app of the benchmark, served two ways: in-process through the gateway's
// node:http binding (carafe.mjs) and by `carafe serve --workers 1` (see bench/lineup.mjs).
import { Carafe } from '@carafe/core';
import { HELLO, SCHEMAS, restResponse, restRoutes, routeCountFromEnv, userResponse } from '../routes.mjs';

export const app = new Carafe();

// The same response schemas as Fastify's: JSON is written by serializers compiled from them.
app.get('/hello', () => HELLO);
app.get('/users/:id', { schema: { response: { 200: SCHEMAS.user } } }, (req) => userResponse(req.params.id));
app.post('/echo', { schema: { response: { 200: SCHEMAS.echo } } }, (req) => req.json());

const restSchema = { response: { 200: SCHEMAS.rest } };
const restHandler = (req) => restResponse(req.params);
for (const [index, { method, path }] of restRoutes(routeCountFromEnv()).entries()) {
  // One handler, many routes: each gets its own name, as Flask endpoints must.
  app.addRoute({ method, path, name: `rest${index}`, schema: restSchema, handler: restHandler });
}
