/**
 * Mounting several applications under path prefixes. A request for `/api/users` with `/api`
 * mounted goes to that app with SCRIPT_NAME extended by `/api` and PATH_INFO `/users`
 * (docs/tsgi.md §2); the longest matching prefix wins, at a segment boundary. Requests
 * matching no prefix go to the wrapped app.
 */
import type { TsgiApplication, TsgiMiddleware } from '@carafe/gateway';

export type Mounts = Record<string, TsgiApplication>;

function checkPrefix(prefix: string): string {
  if (!prefix.startsWith('/') || prefix.endsWith('/') || prefix.includes('//')) {
    throw new TypeError(`dispatcher: mount prefix ${JSON.stringify(prefix)} must start with "/" and not end with "/"`);
  }
  return prefix;
}

/**
 * `dispatcher({ '/api': api, '/admin': admin })(site)` serves `site` for every other path.
 * The lifespan hooks of all mounted apps and of the wrapped one run in mount order
 * (startup) and in reverse (shutdown).
 */
export function dispatcher(mounts: Mounts): TsgiMiddleware {
  const table = Object.entries(mounts)
    .map(([prefix, app]) => [checkPrefix(prefix), app] as const)
    .sort((a, b) => b[0].length - a[0].length);
  return (fallback: TsgiApplication): TsgiApplication => {
    const dispatch: TsgiApplication = (environ) => {
      const path = environ.PATH_INFO;
      for (const [prefix, app] of table) {
        if (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47)) {
          environ.SCRIPT_NAME += prefix;
          environ.PATH_INFO = path.slice(prefix.length);
          return app(environ);
        }
      }
      return fallback(environ);
    };
    const apps = [...Object.values(mounts), fallback].filter((app) => app.lifespan);
    if (apps.length) {
      dispatch.lifespan = {
        async startup() {
          for (const app of apps) await app.lifespan?.startup?.();
        },
        async shutdown() {
          for (const app of [...apps].reverse()) await app.lifespan?.shutdown?.();
        },
      };
    }
    return dispatch;
  };
}
