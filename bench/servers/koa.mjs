// Koa 3 with @koa/router. The body is read by a few lines of stream code instead of a
// body-parser package (none is a dependency here); that is no slower than koa-bodyparser.
import Koa from 'koa';
import Router from '@koa/router';
import { HELLO, listenAddress, restResponse, restRoutes, routeCountFromEnv, userResponse } from '../routes.mjs';

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const app = new Koa();
const router = new Router();

router.get('/hello', (ctx) => {
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = HELLO;
});
router.get('/users/:id', (ctx) => {
  ctx.body = userResponse(ctx.params.id);
});
router.post('/echo', async (ctx) => {
  let body;
  try {
    body = await readJson(ctx.req);
  } catch {
    ctx.throw(400);
  }
  ctx.body = body;
});
const restHandler = (ctx) => {
  ctx.body = restResponse(ctx.params);
};
for (const { method, path } of restRoutes(routeCountFromEnv())) {
  router[method.toLowerCase()](path, restHandler);
}

app.use(router.routes());
app.use(router.allowedMethods());

const { port, host } = listenAddress();
app.listen(port, host, () => console.log('ready'));
