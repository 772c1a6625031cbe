// Raw node:http — the ceiling. No router: each request is matched by hand against the
// few shapes the scenarios request, which is the least work any server can do.
import http from 'node:http';
import { HELLO, listenAddress, restResponse, routeCountFromEnv, userResponse } from '../routes.mjs';

routeCountFromEnv(); // the route table size changes nothing here, but is validated like everywhere

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res, value) {
  send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value));
}

const server = http.createServer((req, res) => {
  const url = req.url;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (req.method === 'GET') {
    if (path === '/hello') return send(res, 200, 'text/plain; charset=utf-8', HELLO);
    if (path.startsWith('/users/') && path.indexOf('/', 7) === -1) return sendJson(res, userResponse(path.slice(7)));
    // /api/vN/<noun>/:id/items/:itemId
    const segments = path.split('/');
    if (segments.length === 7 && segments[1] === 'api' && segments[5] === 'items') {
      return sendJson(res, restResponse({ id: segments[4], itemId: segments[6] }));
    }
  } else if (req.method === 'POST' && path === '/echo') {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, 'text/plain; charset=utf-8', 'Bad Request');
      }
      sendJson(res, body);
    });
    return;
  }
  send(res, 404, 'text/plain; charset=utf-8', 'Not Found');
});

const { port, host } = listenAddress();
server.listen(port, host, () => console.log('ready'));
