// Express 5: route-level express.json() for the body; `x-powered-by` and ETag generation
// switched off (both documented settings), so it sends the same headers as its peers.
import express from 'express';
import { HELLO, listenAddress, restResponse, restRoutes, routeCountFromEnv, userResponse } from '../routes.mjs';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);

app.get('/hello', (req, res) => {
  res.type('text/plain').send(HELLO);
});
app.get('/users/:id', (req, res) => {
  res.json(userResponse(req.params.id));
});
app.post('/echo', express.json(), (req, res) => {
  res.json(req.body);
});
const restHandler = (req, res) => {
  res.json(restResponse(req.params));
};
for (const { method, path } of restRoutes(routeCountFromEnv())) {
  app[method.toLowerCase()](path, restHandler);
}

const { port, host } = listenAddress();
app.listen(port, host, () => console.log('ready'));
