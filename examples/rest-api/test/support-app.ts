import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { shutdown, startup, toNodeListener } from '@carafe/gateway';
import { MongoClient } from 'mongodb';
import { createApp } from '../src/app.js';
import type { DatabaseOptions } from '../src/db.js';
import { mongodbUri, uniqueDbName } from './support.js';

/** The example app on its own fresh database, started (lifespan) and listening on a loopback port. */
export interface RunningApp {
  server: Server;
  url: string;
  dbName: string;
  /** A driver handle on the same database, for checking what was stored. */
  client: MongoClient;
  close(): Promise<void>;
}

export async function startTestApp(label: string, options: Omit<DatabaseOptions, 'dbName'> = {}): Promise<RunningApp> {
  const dbName = uniqueDbName(label);
  const app = createApp({ uri: mongodbUri(), ...options, dbName });
  await startup(app);
  const server = createServer(toNodeListener(app, { errors: { write: () => {} } }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = await MongoClient.connect(mongodbUri());
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    dbName,
    client,
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await shutdown(app);
      await client
        .db(dbName)
        .dropDatabase()
        .catch(() => {});
      await client.close();
    },
  };
}
