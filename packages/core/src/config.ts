/**
 * Application settings (Flask's `app.config`): plain data, read when used, so changes apply to
 * later requests. Kept apart from app.ts so that the request and the session interface can read
 * the settings without depending on the application class.
 */

/** Settings of the signed-cookie session (the default {@link SessionInterface}'s cookie). */
export interface SessionConfig {
  /** Cookie name; default `session`. */
  cookieName: string;
  path: string;
  domain?: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'Strict' | 'Lax' | 'None';
  partitioned?: boolean;
  /** Lifetime in seconds; without it the cookie lasts for the browser session. */
  maxAge?: number;
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
  /** The `SCRIPT_NAME` `app.urlFor` builds under outside a request (Flask's `APPLICATION_ROOT`). */
  applicationRoot: string;
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
    ...options,
    form: { ...options.form },
    session: { cookieName: 'session', path: '/', secure: false, httpOnly: true, sameSite: 'Lax', ...options.session },
  };
}
