/**
 * Running an application's lifespan hooks (docs/tsgi.md §4).
 *
 * Hooks run once per process however many servers share the application: `startup`
 * runs when the first user starts, `shutdown` when the last one stops.
 */
import type { TsgiApplication } from './types.js';

const users = new WeakMap<TsgiApplication, number>();

/** Runs `app.lifespan.startup` (once per process; a no-op if the app has none). */
export async function startup(app: TsgiApplication): Promise<void> {
  const count = users.get(app) ?? 0;
  users.set(app, count + 1);
  if (count > 0) return;
  try {
    await app.lifespan?.startup?.();
  } catch (error) {
    users.delete(app);
    throw error;
  }
}

/** Runs `app.lifespan.shutdown` once the last user of the app stops (a no-op if the app has none). */
export async function shutdown(app: TsgiApplication): Promise<void> {
  const count = users.get(app) ?? 0;
  if (count > 1) {
    users.set(app, count - 1);
    return;
  }
  users.delete(app);
  await app.lifespan?.shutdown?.();
}
