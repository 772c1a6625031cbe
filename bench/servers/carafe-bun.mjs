// Carafe on Bun: the bench's Carafe app through the gateway's fetch binding, served by
// Bun.serve — the README's "Runs on" entry file for Bun (see bench/lineup.mjs).
import { toFetchHandler } from '@carafe/gateway/fetch';
import { listenAddress } from '../routes.mjs';
import { app } from './carafe-app.mjs';

const handler = toFetchHandler(app);
await handler.startup();
const { port, host } = listenAddress();
const server = Bun.serve({ hostname: host, port, fetch: handler });
process.on('SIGTERM', async () => {
  await server.stop();
  await handler.shutdown();
  process.exit(0);
});
console.log('ready');
