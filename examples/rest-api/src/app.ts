import { Carafe, ServiceUnavailable, problem, type Request } from '@carafe/core';
import {
  MongoNetworkError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { Database, type DatabaseOptions } from './db.js';
import { applyEdge, edgeSettings, type EdgeSettings } from './edge.js';
import { DatabaseUnavailableError } from './unavailable.js';

import { todosBlueprint } from './todos.js';
import { usersBlueprint } from './users.js';

export const API_INFO = {
  title: 'Carafe REST API example',
  version: '0.1.0',
  description: 'Users and their todos on MongoDB. Every error is an RFC 9457 problem document.',
} as const;

/** What a 503 tells clients to wait before trying again (seconds). */
const RETRY_AFTER_SECONDS = '5';

/**
 * Builds the application. The MongoDB client is opened in the lifespan start-up and closed at
 * shutdown — once per worker process, since the server runs the lifespan in each worker.
 */
export function createApp(options: DatabaseOptions & { edge?: EdgeSettings } = {}): Carafe {
  const { edge = edgeSettings(), ...dbOptions } = options;
  const db = new Database(dbOptions);
  const app = new Carafe();

  app.onStartup(() => db.start());
  app.onShutdown(() => db.stop());

  // CORS, security headers, rate limit, /docs; JWT on the write routes when configured (src/edge.ts).
  const writeAuth = applyEdge(app, edge);
  app.register(usersBlueprint(db, writeAuth));
  app.register(todosBlueprint(db, writeAuth));

  // MongoDB frozen, dead or unreachable: a 503 the client may retry, never a 500 or a hang.
  // Every route's database work runs in `db.run`, which turns every shape of that failure (see
  // src/unavailable.ts) into DatabaseUnavailableError within the request budget. The driver's
  // network error classes are handled too, as a safety net for code that reaches the driver
  // another way. Any other error is still a bug: a logged 500.
  const unavailable = (_error: unknown, req: Request<any, any, any>) =>
    problem(
      new ServiceUnavailable('The database is not reachable; try again shortly.', { headers: { 'retry-after': RETRY_AFTER_SECONDS } }),
      req,
    );
  for (const type of [
    DatabaseUnavailableError,
    MongoNetworkError,
    MongoServerSelectionError,
    MongoOperationTimeoutError,
    MongoTopologyClosedError,
    MongoServerClosedError,
  ]) {
    app.errorHandler(type, unavailable);
  }

  // Liveness: the process answers. Never tied to MongoDB, so an outage does not restart pods.
  app.get('/healthz', { name: 'healthz', summary: 'Liveness probe' }, () => ({ status: 'ok' }));

  // Readiness: send traffic here only while MongoDB answers a ping.
  app.get('/readyz', { name: 'readyz', summary: 'Readiness probe: 200 while MongoDB answers' }, async (req) => {
    if (await db.ping()) return { status: 'ready' };
    return problem(new ServiceUnavailable('MongoDB does not answer a ping.', { headers: { 'retry-after': RETRY_AFTER_SECONDS } }), req);
  });

  // The document is built from the routes' schemas on first use, then served as is.
  let document: object | undefined;
  app.get('/openapi.json', { name: 'openapi', summary: 'This API as an OpenAPI 3.1 document' }, () => {
    document ??= app.openapi(API_INFO);
    return document;
  });

  return app;
}

/** The application `carafe serve examples/rest-api/dist/app.js` serves (MONGODB_URI, MONGODB_DB, and src/edge.ts's variables). */
export const app = createApp();
