// Carafe on workerd: the bench's Carafe app through the gateway's fetch binding, as the module
// a Worker exports — the README's "Runs on" worker.js. bench/lineup.mjs bundles it with esbuild
// (the README's flags, plus the ROUTES count as a constant: a Worker has no process.env) and
// serves the bundle with a workerd config written beside it.
import { toFetchHandler } from '@carafe/gateway/fetch';
import { app } from './carafe-app.mjs';

export default { fetch: toFetchHandler(app) };
