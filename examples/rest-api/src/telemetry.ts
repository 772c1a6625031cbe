/**
 * The example's OpenTelemetry instrumentations. `carafe serve` loads this module (the
 * `telemetry` setting of deploy/carafe.config.js, or `--telemetry dist/telemetry.js`) in each
 * worker, before the app, only when tracing is on — so with tracing off nothing here is even
 * imported. The MongoDB driver's commands then appear as CLIENT spans, children of the request's
 * server span. Query values are not recorded (`enhancedDatabaseReporting` is off): statements
 * show their shape with `?` for each value.
 */
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';

export default {
  instrumentations: [new MongoDBInstrumentation()],
};
