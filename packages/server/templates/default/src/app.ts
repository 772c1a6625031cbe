import { Carafe, NotFound, problem } from '@carafe/core';
import { useEdge } from './edge.js';
import { notes } from './notes.js';
import { NoteNotFoundError } from './note.js';
import { repository } from './repository.js';

/**
 * The {{name}} application. `carafe serve dist/app.js` serves it with a pool of workers;
 * the tests call it in-process through `toNodeListener(app)`.
 */
export const app = new Carafe();

// Security headers, CORS, a rate limit and the API reference at /docs (src/edge.ts).
useEdge(app);

app.register(notes, { urlPrefix: '/notes' });

/** Liveness probe for load balancers and orchestrators. */
app.get('/healthz', { name: 'healthz', summary: 'Liveness probe' }, () => ({ status: 'ok' }));

// This API as an OpenAPI 3.1 document, built from the routes and their schemas on first request.
let openapi: object | undefined;
app.get('/openapi.json', { name: 'openapi', summary: 'This API as an OpenAPI 3.1 document' }, () => {
  openapi ??= app.openapi({ title: '{{name}}', version: '0.1.0' });
  return openapi;
});

// Each worker opens the repository before its first request and closes it after its last.
app.onStartup(() => repository.open());
app.onShutdown(() => repository.close());

// The repository knows nothing of HTTP; its errors become RFC 9457 problem documents here.
app.errorHandler(NoteNotFoundError, (error, req) => problem(new NotFound(error.message), req));
