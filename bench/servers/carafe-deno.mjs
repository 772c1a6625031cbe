// Carafe on Deno: the bench's Carafe app through the gateway's fetch binding, served by
// Deno.serve — the README's "Runs on" entry file for Deno (see bench/lineup.mjs).
import { toFetchHandler } from '@carafe/gateway/fetch';
import { listenAddress } from '../routes.mjs';
import { app } from './carafe-app.mjs';

const handler = toFetchHandler(app);
await handler.startup();
const { port, host } = listenAddress({ PORT: Deno.env.get('PORT'), HOST: Deno.env.get('HOST') });
const server = Deno.serve({ hostname: host, port, onListen: () => console.log('ready') }, handler);
Deno.addSignalListener('SIGTERM', async () => {
  await server.shutdown();
  await handler.shutdown();
  Deno.exit(0);
});
