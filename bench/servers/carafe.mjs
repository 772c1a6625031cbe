// Carafe in one process: the app behind the gateway's node:http binding, no server layer.
import { createServer, startup } from '@carafe/gateway';
import { listenAddress } from '../routes.mjs';
import { app } from './carafe-app.mjs';

await startup(app);
const { port, host } = listenAddress();
createServer(app).listen(port, host, () => console.log('ready'));
