import type { Server } from 'node:http';
import { serve, type Environ, type Lifespan, type ResponseBody, type StartResponse, type TsgiApplication } from '@carafe/gateway';
import { Dispatcher, type Target } from './dispatch.js';
import { buildOpenApi } from './openapi.js';
import type { Request } from './request.js';
import type { Response } from './response.js';
import { Router } from './routing.js';
import { Scaffold, type RouteDefinition } from './scaffold.js';
import { Session, SessionSigner } from './session.js';
import { UrlBuilder } from './url.js';

/** Settings of the signed-cookie session. */
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
  /** Limits of `req.form()` besides `maxContentLength`. */
  form: { maxFileBytes?: number; maxFiles?: number; maxFields?: number };
  session: SessionConfig;
  /** The `SCRIPT_NAME` `app.urlFor` builds under outside a request (Flask's `APPLICATION_ROOT`). */
  applicationRoot: string;
}

/** Options of `new Carafe()`: any part of the config. */
export type CarafeOptions = Partial<Omit<CarafeConfig, 'session'>> & { session?: Partial<SessionConfig> };

/** A row of `app.routeTable()`. */
export interface RouteTableRow {
  name: string;
  path: string;
  /** Declared methods; `["*"]` for a route answering every method. */
  methods: string[];
}

interface FlatRoute {
  def: RouteDefinition;
  path: string;
  name: string;
  blueprint: string | undefined;
  /** The app, then each enclosing blueprint from the outermost in. */
  chain: Scaffold[];
}

/** Joins a URL prefix and a rule the way Flask does: `/users` + `/` → `/users/`, `/users` + `` → `/users`; a rule starting with an optional group attaches directly (`/users` + `{/:id}`). */
function joinPath(prefix: string, rule: string): string {
  if (!prefix) return rule;
  if (!rule) return prefix;
  const base = prefix.replace(/\/+$/, '');
  return rule.startsWith('{') ? `${base}${rule}` : `${base}/${rule.replace(/^\/+/, '')}`;
}

function* flatten(scaffold: Scaffold, prefix: string, names: string[], chain: Scaffold[]): Generator<FlatRoute> {
  for (const def of scaffold.routes) {
    yield {
      def,
      path: joinPath(prefix, def.path) || '/',
      name: [...names, def.name].join('.'),
      blueprint: names.length > 0 ? names.join('.') : undefined,
      chain,
    };
  }
  for (const registration of scaffold.registrations) {
    const blueprint = registration.blueprint;
    yield* flatten(blueprint, joinPath(prefix, registration.urlPrefix ?? blueprint.urlPrefix ?? ''),
      [...names, registration.name], [...chain, blueprint]);
  }
}

const reversedHooks = <T>(chain: Scaffold[], pick: (s: Scaffold) => T[]): T[] =>
  [...chain].reverse().flatMap((s) => [...pick(s)].reverse());

/** Everything built from the registrations, rebuilt only when they change. */
interface Built {
  dispatcher: Dispatcher;
  urls: UrlBuilder;
  routes: FlatRoute[];
}

export interface Carafe extends TsgiApplication {
  (environ: Environ, startResponse: StartResponse): ResponseBody | Promise<ResponseBody>;
}

/**
 * A Carafe application. The instance is itself a TSGI application — call it as
 * `app(environ, startResponse)` or hand it to any TSGI server — with `app.lifespan` running the
 * `onStartup`/`onShutdown` hooks.
 *
 * ```ts
 * const app = new Carafe();
 * app.get('/users/:id', (req) => ({ id: req.params.id }));
 * ```
 */
export class Carafe extends Scaffold {
  /** Settings; see {@link CarafeConfig}. */
  readonly config: CarafeConfig;
  /** The TSGI lifespan: runs the startup hooks in order and the shutdown hooks in reverse order. */
  readonly lifespan!: Required<Lifespan>;
  readonly startupHooks: Array<() => unknown> = [];
  readonly shutdownHooks: Array<() => unknown> = [];
  private built: Built | undefined;
  private signer: { keys: string; signer: SessionSigner } | undefined;

  constructor(options: CarafeOptions = {}) {
    super();
    this.config = {
      debug: false,
      secretKey: undefined,
      maxContentLength: 1024 * 1024,
      applicationRoot: '',
      ...options,
      form: { ...options.form },
      session: { cookieName: 'session', path: '/', secure: false, httpOnly: true, sameSite: 'Lax', ...options.session },
    };
    this.built = undefined;
    this.signer = undefined;
    // The instance must be callable, so the object handed out is a function carrying this class's
    // prototype and fields.
    const app = ((environ: Environ, startResponse: StartResponse) => app.handle(environ, startResponse)) as Carafe;
    Object.setPrototypeOf(app, new.target.prototype);
    Object.assign(app, this);
    (app as { lifespan: Required<Lifespan> }).lifespan = {
      startup: async () => {
        app.build();
        for (const hook of app.startupHooks) await hook();
      },
      shutdown: async () => {
        for (const hook of [...app.shutdownHooks].reverse()) await hook();
      },
    };
    return app;
  }

  protected override changed(): void {
    this.built = undefined;
  }

  /** The TSGI entry point (what calling the app does). */
  handle(environ: Environ, startResponse: StartResponse): ResponseBody | Promise<ResponseBody> {
    return (this.built ?? this.build()).dispatcher.dispatch(environ, startResponse);
  }

  /** Runs once per worker process before it serves requests (TSGI lifespan startup). */
  onStartup(hook: () => unknown): this {
    this.startupHooks.push(hook);
    return this;
  }

  /** Runs once per worker process after its last request (TSGI lifespan shutdown). */
  onShutdown(hook: () => unknown): this {
    this.shutdownHooks.push(hook);
    return this;
  }

  /**
   * The path of the route named `name` with `params` filled in (unused params go to the query
   * string), under `config.applicationRoot`. Inside a request prefer `req.urlFor`, which honours
   * the request's `SCRIPT_NAME`.
   */
  urlFor(name: string, params?: Record<string, unknown>, query?: Record<string, unknown>): string {
    return this.buildUrl(name, params, query, this.config.applicationRoot, undefined);
  }

  /** Every route with its full name, path and methods (for `carafe routes`). */
  routeTable(): RouteTableRow[] {
    return (this.built ?? this.build()).routes.map((r) => ({
      name: r.name,
      path: r.path,
      methods: r.def.methods ? [...r.def.methods] : ['*'],
    }));
  }

  /** An OpenAPI 3.1 document describing every route and its schemas. */
  openapi(info: { title: string; version: string; description?: string }): Record<string, unknown> {
    const routes = (this.built ?? this.build()).routes.map((r) => {
      const schema = r.def.schema ?? {};
      const tags = r.def.tags ?? schema.tags ?? (r.blueprint ? [r.blueprint] : undefined);
      const summary = r.def.summary ?? schema.summary;
      return {
        methods: r.def.methods ?? ['*'],
        path: r.path,
        name: r.name,
        schema: { ...schema, ...(tags && { tags }), ...(summary !== undefined && { summary }) },
      };
    });
    return buildOpenApi(routes, info);
  }

  /** Starts a single-process development server on the gateway's node binding. */
  async run(options: { port?: number; host?: string } = {}): Promise<Server> {
    const port = options.port ?? 5000;
    const host = options.host ?? '127.0.0.1';
    const server = await serve(this, { port, host });
    const address = server.address();
    const shown = typeof address === 'object' && address ? address.port : port;
    process.stderr.write(`[carafe] Running on http://${host}:${shown} (development server)\n`);
    return server;
  }

  private buildUrl(name: string, params: Record<string, unknown> | undefined, query: Record<string, unknown> | undefined,
    scriptName: string, blueprint: string | undefined): string {
    const urls = (this.built ?? this.build()).urls;
    const full = name.startsWith('.') ? (blueprint ? `${blueprint}${name}` : name.slice(1)) : name;
    return urls.build(full, params, query, scriptName);
  }

  /** Compiles the registrations into a router, URL builder and hook chains. */
  private build(): Built {
    const routes = [...flatten(this, '', [], [this])];
    const router = new Router<Target>();
    const urls = new UrlBuilder();
    const names = new Map<string, FlatRoute>();
    for (const route of routes) {
      const previous = names.get(route.name);
      if (previous && previous.def.handler !== route.def.handler && previous.path !== route.path) {
        throw new Error(`Route name ${JSON.stringify(route.name)} is used by ${previous.path} and ${route.path}; give one a { name }`);
      }
      if (!previous || previous.path !== route.path) urls.add(route.name, route.path);
      names.set(route.name, previous ?? route);
      const { chain, def } = route;
      const before = chain.flatMap((s) => s.beforeHooks);
      const after = reversedHooks(chain, (s) => s.afterHooks);
      const teardown = reversedHooks(chain, (s) => s.teardownHooks);
      router.add(route.path, def.methods, {
        handler: def.handler,
        info: { name: route.name, path: route.path, blueprint: route.blueprint },
        before, after, teardown,
        errorScopes: [...chain].reverse(),
        compiled: def.compiled,
        plain: before.length === 0 && after.length === 0 && teardown.length === 0 && !def.compiled?.validates,
      });
    }
    const appTarget = {
      before: [...this.beforeHooks],
      after: reversedHooks([this], (s) => s.afterHooks),
      teardown: reversedHooks([this], (s) => s.teardownHooks),
      errorScopes: [this],
    };
    const app = this;
    const dispatcher = new Dispatcher(router, appTarget, {
      ctx: {
        app,
        get maxContentLength() { return app.config.maxContentLength; },
        get formLimits() { return app.config.form; },
        openSession: (req) => app.openSession(req),
        urlFor: (name, params, query, scriptName, blueprint) => app.buildUrl(name, params, query, scriptName, blueprint),
      },
      debug: () => app.config.debug,
      saveSession: (req, response) => app.saveSession(req, response),
    });
    this.built = { dispatcher, urls, routes };
    return this.built;
  }

  private sessionSigner(): SessionSigner {
    const key = this.config.secretKey;
    const keys = typeof key === 'string' ? [key] : [...(key ?? [])];
    if (keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '')) {
      throw new Error('The session is unavailable because config.secretKey is not set');
    }
    const id = JSON.stringify(keys);
    if (this.signer?.keys !== id) this.signer = { keys: id, signer: new SessionSigner(keys) };
    return this.signer.signer;
  }

  private openSession(req: Request<any, any, any>): Session {
    const signer = this.sessionSigner();
    const { cookieName, maxAge } = this.config.session;
    const cookie = req.cookies[cookieName];
    const data = cookie === undefined ? undefined : signer.unsign(cookie, maxAge ? { maxAgeSeconds: maxAge } : {});
    const valid = typeof data === 'object' && data !== null && !Array.isArray(data);
    return new Session(valid ? (data as Record<string, unknown>) : undefined);
  }

  private saveSession(req: Request<any, any, any>, response: Response): void {
    if (!req.sessionOpened) return;
    const vary = response.headers.get('vary');
    if (!vary) response.headers.set('vary', 'Cookie');
    else if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(vary)) response.headers.set('vary', `${vary}, Cookie`);
    const session = req.session;
    if (!session.modified) return;
    const { cookieName, maxAge, path, domain, secure, httpOnly, sameSite, partitioned } = this.config.session;
    const attributes = { path, domain, secure, httpOnly, sameSite, partitioned };
    const data = session.toJSON() as Record<string, unknown>;
    if (Object.keys(data).length === 0) {
      if (req.cookies[cookieName] !== undefined) response.clearCookie(cookieName, attributes);
      return;
    }
    response.setCookie(cookieName, this.sessionSigner().sign(data), { ...attributes, maxAge });
  }
}
