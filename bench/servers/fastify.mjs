// Fastify 5 in its documented fastest setup: response schemas, so replies are serialized
// by fast-json-stringify; logging off (the default); the built-in JSON body parser.
import Fastify from 'fastify';
import { HELLO, SCHEMAS, listenAddress, restResponse, restRoutes, routeCountFromEnv, userResponse } from '../routes.mjs';

const app = Fastify({ logger: false });

app.get('/hello', async (request, reply) => {
  reply.type('text/plain; charset=utf-8');
  return HELLO;
});
app.get('/users/:id', { schema: { response: { 200: SCHEMAS.user } } }, async (request) => userResponse(request.params.id));
app.post('/echo', { schema: { response: { 200: SCHEMAS.echo } } }, async (request) => request.body);
const restOptions = { schema: { response: { 200: SCHEMAS.rest } } };
const restHandler = async (request) => restResponse(request.params);
for (const { method, path } of restRoutes(routeCountFromEnv())) {
  app.route({ method, url: path, ...restOptions, handler: restHandler });
}

const { port, host } = listenAddress();
await app.listen({ port, host });
console.log('ready');
