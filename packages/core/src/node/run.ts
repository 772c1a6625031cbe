/**
 * `app.run()`'s development server: the gateway's node:http binding. Node-only (Bun and Deno load
 * it too); the app loads this module only when `run()` is called, through `#carafe-node/run`,
 * which bundlers for fetch runtimes resolve to node-unavailable.ts.
 */
import type { Server } from 'node:http';
import { serve } from '@carafe/gateway/node';
import type { TsgiApplication } from '@carafe/gateway';

/** Serves `app` on `host:port` in this process, and says where. */
export async function run(app: TsgiApplication, port: number, host: string): Promise<Server> {
  const server = await serve(app, { port, host });
  const address = server.address();
  const shown = typeof address === 'object' && address ? address.port : port;
  process.stderr.write(`[carafe] Running on http://${host}:${shown} (development server)\n`);
  return server;
}
