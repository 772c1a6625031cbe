/**
 * Application settings (Flask's `app.config`): plain data, read when used, so changes apply to
 * later requests. Kept apart from app.ts so that the request and the session interface can read
 * the settings without depending on the application class.
 */

/** Settings of the signed-cookie session (the default {@link SessionInterface}'s cookie). */
export interface SessionConfig {
  /** Cookie name; default `session`. */
  cookieName: string;
  /** `Path`; default: the application root (`applicationRoot`, else the request's `SCRIPT_NAME`, else `/`), like Flask. */
  path?: string;
  domain?: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'Strict' | 'Lax' | 'None';
  partitioned?: boolean;
  /**
   * A fixed lifetime in seconds for every session cookie, permanent or not, and the age past which a
   * signed cookie is refused. Leave it unset for Flask's behaviour: a permanent session lasts
   * `permanentSessionLifetime`, any other one until the browser closes.
   */
  maxAge?: number;
  /** Re-sends the cookie of a permanent session on every request that reads it, so it keeps living (Flask's `SESSION_REFRESH_EACH_REQUEST`); default `true`. */
  refreshEachRequest: boolean;
}

/** Application settings (Flask's `app.config`); read when used, so changes apply to later requests. */
export interface CarafeConfig {
  /** Sends error details (stack traces) in 500 responses. Never enable in production. */
  debug: boolean;
  /** Signs the session cookie: one key, or `[current, ...previous]` to rotate keys. */
  secretKey: string | readonly string[] | undefined;
  /** Largest accepted request body in bytes (413 beyond); default 1 MiB. */
  maxContentLength: number;
  /** Limits of `req.form()` besides `maxContentLength`; files over `maxFileMemoryBytes` (default 1 MiB) go to temp files. */
  form: { maxFileBytes?: number; maxFiles?: number; maxFields?: number; maxFileMemoryBytes?: number };
  session: SessionConfig;
  /** The `SCRIPT_NAME` `app.urlFor` builds under outside a request (Flask's `APPLICATION_ROOT`); also the session cookie's default path. */
  applicationRoot: string;
  /**
   * Lifetime in seconds of a permanent session (`session.permanent = true`), and the age past which any
   * signed session cookie is refused (Flask's `PERMANENT_SESSION_LIFETIME`); default 31 days.
   */
  permanentSessionLifetime: number;
  /**
   * The host names the app answers for (Werkzeug's `TRUSTED_HOSTS`): a request whose `Host` is not one
   * of them is a `400`. `.example.com` allows `example.com` and every subdomain. Unset: any host.
   */
  trustedHosts: readonly string[] | undefined;
  /** `host[:port]` of external URLs built outside a request (`app.urlFor(…, { external: true })`; Flask's `SERVER_NAME`). */
  serverName: string | undefined;
  /** Scheme of external URLs built outside a request; default `http` (Flask's `PREFERRED_URL_SCHEME`). */
  preferredUrlScheme: string;
}

/** Any part of the config, as given to `new Carafe()`. */
export type ConfigOptions = Partial<Omit<CarafeConfig, 'session'>> & { session?: Partial<SessionConfig> };

/** The full config: the defaults, overridden by `options`. */
export function resolveConfig(options: ConfigOptions): CarafeConfig {
  return {
    debug: false,
    secretKey: undefined,
    maxContentLength: 1024 * 1024,
    applicationRoot: '',
    permanentSessionLifetime: 31 * 24 * 60 * 60,
    trustedHosts: undefined,
    serverName: undefined,
    preferredUrlScheme: 'http',
    ...options,
    form: { ...options.form },
    session: { cookieName: 'session', secure: false, httpOnly: true, sameSite: 'Lax', refreshEachRequest: true, ...options.session },
  };
}
