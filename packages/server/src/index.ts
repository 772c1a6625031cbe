/**
 * @carafe/server: the pre-fork server for TSGI applications (run it with `carafe serve`),
 * the TSGI middleware a deployment needs, each usable on its own, and the project generator.
 */
export { proxyFix, trustTest, type ProxyFixOptions, type ProxyFixOriginal } from './middleware/proxy-fix.js';
export { requestId, type RequestIdOptions } from './middleware/request-id.js';
export { dispatcher, type Mounts } from './middleware/dispatcher.js';
export { staticFiles, CONTENT_TYPES, type StaticOptions } from './middleware/static.js';
export { compression, negotiateEncoding, isCompressible, type CompressionOptions, type Encoding } from './middleware/compression.js';
export { bodyLimit } from './limits.js';
export {
  workerSharedStore,
  CounterTable,
  type WorkerSharedStore,
  type WorkerSharedStoreOptions,
  type SharedHit,
} from './shared-counters.js';
export {
  defineConfig,
  type ServerConfig,
  type Hooks,
  type ArbiterInfo,
  type WorkerInfo,
  type WorkerExitInfo,
  type RequestRecord,
} from './config.js';
export { SETTINGS, type Settings, type SettingSpec, type LogLevel } from './settings.js';
export { compileAccessLogFormat, ACCESS_LOG_FORMATS } from './logging.js';
export { ExitCode } from './exit-codes.js';
// The project generator (`carafe new`), for create-carafe and other tools.
export {
  newProject,
  runNew,
  NewProjectError,
  type NewProjectRequest,
  type NewProject,
  type CarafeSource,
} from './new-project/index.js';
