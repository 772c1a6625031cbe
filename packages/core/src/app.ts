import type { Server } from 'node:http';
import type { Environ, Lifespan, TsgiApplication, TsgiResult } from '@carafe/gateway';
import { compileRoutes, compose, type CompiledRoutes } from './compile.js';
import { ALLOWED_METHODS_KEY, documentMiddleware } from './middleware.js';
import { resolveConfig, type CarafeConfig, type ConfigOptions } from './config.js';
import { Dispatcher, appCallable } from './dispatch.js';
import { buildOpenApi, type OpenApiOptions } from './openapi.js';
import type { Request, RequestApp, RequestContext } from './request.js';
import { Scaffold, type RegisterOptions, type Registrable, type RouteDefinition } from './scaffold.js';
import {
  createValidatorFactory,
  type CompiledRouteSchema,
  type SchemaCompiler,
  type SharedSchema,
  type ValidatorFactoryOptions,
} from './schema.js';
import { TestClient, inProcess, toRequest, type RequestInput, type TestClientOptions, type TestRequestInit } from './testing.js';
import type { Format, KeywordDefinition } from 'ajv/dist/2020.js';
import { SignedCookieSessionInterface, type SessionInterface } from './session-interface.js';
import type { UrlForOptions, UrlTarget } from './url.js';
import type { RouteName, UrlForArgs } from './types.js';
import { consoleLogger, requestBindings, serverTelemetry, type Logger } from './observe.js';

export type { CarafeConfig, SessionConfig } from './config.js';

/** Options of `new Carafe()`: any part of the config, plus the parts of the framework to swap. */
export type CarafeOptions = ConfigOptions & {
  /** Loads and saves `req.session`; default: {@link SignedCookieSessionInterface} (Flask's signed cookie). */
  sessions?: SessionInterface;
  /** Compiles route schemas into validators and serializers; default: {@link createValidatorFactory}`()`. */
  schemaCompiler?: SchemaCompiler;
  /** The default compiler's ajv: `{ ajv: { options: { allErrors: false } , plugins: [ajvErrors] } }` (not with `schemaCompiler`). */
  ajv?: { options?: NonNullable<ValidatorFactoryOptions['ajv']>; plugins?: ValidatorFactoryOptions['plugins'] };
  /**
   * The app's logger (`app.log`; `req.log` is its child per request): a pino logger, or anything
   * with pino's methods. Default: the logger of the server the app runs under (`carafe serve`
   * gives one), else JSON lines on the console.
   */
  logger?: Logger;
  /**
   * Report the matched route (`environ['carafe.route']`) and unhandled exceptions to the
   * server's telemetry, and trace the hooks when a span is active. Default: on exactly when
   * `carafe serve` runs with tracing or metrics.
   */
  telemetry?: boolean;
};

/** A row of `app.routeTable()`. */
export interface RouteTableRow {
  name: string;
  path: string;
  /** Declared methods; `["*"]` for a route answering every method. */
  methods: string[];
}

/** Everything built from the registrations, rebuilt only when they change. */
interface Built extends CompiledRoutes {
  dispatcher: Dispatcher;
  /** The app's own middleware (`app.use`) around the dispatcher; absent without any. */
  entry?: TsgiApplication;
}

export interface Carafe extends TsgiApplication {
  (environ: Environ): TsgiResult;
}

/**
 * A Carafe application. The instance is itself a TSGI application — call it as `app(environ)`,
 * which returns the `{ status, headers, body }` response (synchronously for a plain route), or
 * hand it to any TSGI server — with `app.lifespan` running the `onStartup`/`onShutdown` hooks.
 *
 * ```ts
 * const app = new Carafe();
 * app.get('/users/:id', (req) => ({ id: req.params.id }));
 * ```
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface of the same name declares the call signature the constructor's returned function has.
export class Carafe extends Scaffold implements RequestApp {
  /** Settings; see {@link CarafeConfig}. */
  readonly config: CarafeConfig;
  /** Where sessions are loaded from and saved to (Flask's `session_interface`). */
  readonly sessions: SessionInterface;
  /** Compiles the route schemas of this app (and of the blueprints it serves). */
  readonly schemaCompiler: SchemaCompiler;
  /** The TSGI lifespan: runs the startup hooks in order and the shutdown hooks in reverse order. */
  readonly lifespan!: Required<Lifespan>;
  readonly startupHooks: Array<() => unknown> = [];
  readonly shutdownHooks: Array<() => unknown> = [];
  private built: Built | undefined;
  /** The logger given to the constructor; see {@link log}. */
  private readonly ownLogger: Logger | undefined;
  private readonly telemetryOption: boolean | undefined;
  private fallbackLogger: Logger | undefined;
  /** Per route definition, so a rebuild or a blueprint served twice never compiles a schema again. */
  private readonly compiledSchemas = new WeakMap<RouteDefinition, CompiledRouteSchema>();

  constructor(options: CarafeOptions = {}) {
    super();
    const { sessions, schemaCompiler, ajv, logger, telemetry, ...config } = options;
    this.ownLogger = logger;
    this.telemetryOption = telemetry;
    if (schemaCompiler && ajv) throw new TypeError('new Carafe(): give either `schemaCompiler` or `ajv` options, not both');
    this.config = resolveConfig(config);
    this.sessions = sessions ?? new SignedCookieSessionInterface();
    this.schemaCompiler = schemaCompiler ?? createValidatorFactory({ ajv: ajv?.options, plugins: ajv?.plugins });
    this.built = undefined;
    // The instance must be callable, so the object handed out is a function carrying this class's
    // prototype and fields.
    // A subclass that overrides handle() keeps it; otherwise the callable enters the dispatcher directly (dispatch.ts).
    const app = (
      new.target.prototype.handle === Carafe.prototype.handle ? appCallable() : (environ: Environ) => app.handle(environ)
    ) as Carafe;
    Object.setPrototypeOf(app, new.target.prototype);
    Object.assign(app, this);
    (app as { lifespan: Required<Lifespan> }).lifespan = {
      startup: async () => {
        const built = app.build();
        await built.entry?.lifespan?.startup?.();
        for (const hook of app.startupHooks) await hook();
      },
      shutdown: async () => {
        for (const hook of [...app.shutdownHooks].reverse()) await hook();
        await app.built?.entry?.lifespan?.shutdown?.();
      },
    };
    // biome-ignore lint/correctness/noConstructorReturn: a Carafe app is itself the TSGI callable (see above).
    return app;
  }

  /**
   * The application logger (Flask's `app.logger`): the one given as `new Carafe({ logger })`, else
   * the server's (`carafe serve` gives a pino logger), else JSON lines on the console. Inside a
   * request use `req.log`, which adds the request id and trace ids to every record.
   */
  get log(): Logger {
    return this.configuredLogger() ?? (this.fallbackLogger ??= consoleLogger());
  }

  /** The app's or its server's logger; `undefined` when there is neither. */
  private configuredLogger(): Logger | undefined {
    return this.ownLogger ?? serverTelemetry()?.logger;
  }

  /** A logger for one request: {@link log}'s child bound to the request's id and trace ids. */
  requestLogger(environ: Environ): Logger {
    return this.log.child(requestBindings(environ));
  }

  protected override changed(): void {
    this.built = undefined;
  }

  /** The app's own routes get their schema compiled as they are registered, so a bad schema throws there. */
  protected override checkRoute(route: RouteDefinition): void {
    this.compiledSchema(route);
  }

  /**
   * Registers a blueprint (see {@link Scaffold.register}), and compiles the schemas of the routes
   * it already holds now rather than when the app is first built: workerd allows the code that ajv
   * and the response serializers generate only while the module loads, not during a request. A
   * schema that does not compile yet (it uses a shared schema, format or keyword added to the app
   * later) is compiled, and its error reported, when the app is built, as before.
   */
  override register(blueprint: Registrable, options?: RegisterOptions): this {
    super.register(blueprint, options);
    for (const route of routesBelow(blueprint)) {
      try {
        this.compiledSchema(route);
      } catch {
        // Compiled again, and reported, when the app is built.
      }
    }
    return this;
  }

  /** The TSGI entry point (what calling the app does). */
  handle(environ: Environ): TsgiResult {
    const built = this.built ?? this.build();
    return built.entry === undefined ? built.dispatcher.dispatch(environ) : built.entry(environ);
  }

  /**
   * The methods `path` (a `PATH_INFO`) answers, as an `Allow` header lists them, or `undefined`
   * when no route matches it. Middleware wrapped around the app (a CORS preflight) asks this.
   */
  allowedMethods(path: string): string[] | undefined {
    return (this.built ?? this.build()).dispatcher.allowedMethods(path);
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
   * string), under `config.applicationRoot`; `options` add a query, an anchor, pick a method, or
   * make the URL external on `config.serverName` (see {@link UrlForOptions}). Inside a request
   * prefer `req.urlFor`, which honours the request's `SCRIPT_NAME`, blueprint and host.
   */
  urlFor<const N extends RouteName>(name: N, ...[params, options]: UrlForArgs<N, UrlForOptions>): string {
    const config = this.config;
    return this.buildUrl(name, params as Record<string, unknown> | undefined, options, {
      scriptName: config.applicationRoot,
      req: undefined,
      origin: (scheme) => {
        if (config.serverName === undefined) throw new Error('urlFor: an external URL outside a request needs config.serverName');
        return `${scheme ?? config.preferredUrlScheme}://${config.serverName}`;
      },
    });
  }

  /** Every route with its full name, path and methods (for `carafe routes`). */
  routeTable(): RouteTableRow[] {
    return (this.built ?? this.build()).routes.map((r) => ({
      name: r.name,
      path: r.path,
      methods: r.def.methods ? [...r.def.methods] : ['*'],
    }));
  }

  /** Schemas added with {@link addSchema}, in order (OpenAPI `components.schemas`). */
  readonly sharedSchemas: SharedSchema[] = [];

  /**
   * Adds a schema that route schemas reference by its `$id` (`{ $ref: 'User#' }` or `'User'`), and
   * that OpenAPI documents under `components.schemas`. Add it before the routes that use it.
   */
  addSchema(schema: SharedSchema): this {
    if (!this.schemaCompiler.addSchema) throw new TypeError('addSchema: this app’s schemaCompiler does not take shared schemas');
    this.schemaCompiler.addSchema(schema);
    this.sharedSchemas.push(schema);
    return this;
  }

  /** Adds a string format for route schemas (`app.addFormat('objectid', /^[0-9a-f]{24}$/)`); before the routes that use it. */
  addFormat(name: string, format: Format): this {
    if (!this.schemaCompiler.addFormat) throw new TypeError('addFormat: this app’s schemaCompiler does not take formats');
    this.schemaCompiler.addFormat(name, format);
    return this;
  }

  /** Adds an ajv keyword for route schemas; before the routes that use it. */
  addKeyword(definition: KeywordDefinition): this {
    if (!this.schemaCompiler.addKeyword) throw new TypeError('addKeyword: this app’s schemaCompiler does not take keywords');
    this.schemaCompiler.addKeyword(definition);
    return this;
  }

  /**
   * Calls the app in process, without a socket (like Hono's `app.request`): `input` is a path, URL or
   * web `Request`; the answer is a web `Response`. See {@link testClient} to keep cookies.
   */
  request(input: RequestInput, init?: TestRequestInit, options?: TestClientOptions): Promise<globalThis.Response> {
    return inProcess(this, options)(toRequest(input, init, options?.baseUrl));
  }

  /** A Flask-style test client: in-process requests that keep the cookies the app sets. */
  testClient(options?: TestClientOptions): TestClient {
    return new TestClient(this, options);
  }

  /** An OpenAPI 3.1 document describing every route and its schemas (shared schemas under `components`). */
  openapi(
    info: { title: string; version: string; description?: string },
    options: Omit<OpenApiOptions, 'schemas'> = {},
  ): Record<string, unknown> {
    let securitySchemes: Record<string, Record<string, unknown>> | undefined;
    const routes = (this.built ?? this.build()).routes.map((r) => {
      const schema = r.def.schema ?? {};
      const tags = r.def.tags ?? schema.tags ?? (r.blueprint ? [r.blueprint] : undefined);
      const summary = r.def.summary ?? schema.summary;
      // What the app's, the blueprints' and the route's own middleware say about the operation.
      const docs = documentMiddleware([...this.middleware, ...r.chain.slice(1).flatMap((s) => s.middleware), ...(r.def.middleware ?? [])]);
      if (docs.securitySchemes) securitySchemes = { ...securitySchemes, ...docs.securitySchemes };
      return {
        methods: r.def.methods ?? ['*'],
        path: r.path,
        name: r.name,
        schema: { ...schema, ...(tags && { tags }), ...(summary !== undefined && { summary }) },
        ...(docs.security && { security: docs.security }),
        ...(docs.responses && { responses: docs.responses }),
        ...(r.def.produces && { produces: r.def.produces }),
      };
    });
    return buildOpenApi(routes, info, { ...options, schemas: this.sharedSchemas, ...(securitySchemes && { securitySchemes }) });
  }

  /**
   * Starts a single-process development server on the gateway's node:http binding. Node-only (Bun
   * and Deno too): the binding is loaded when this is called, so the app itself runs anywhere.
   */
  async run(options: { port?: number; host?: string } = {}): Promise<Server> {
    const { run } = await import('#carafe-node/run');
    return run(this, options.port ?? 5000, options.host ?? '127.0.0.1');
  }

  private buildUrl(
    name: string,
    params: Record<string, unknown> | undefined,
    options: UrlForOptions | undefined,
    target: UrlTarget<Request<any, any, any>>,
  ): string {
    const urls = (this.built ?? this.build()).urls;
    const blueprint = target.req?.route?.blueprint;
    const full = name.startsWith('.') ? (blueprint ? `${blueprint}${name}` : name.slice(1)) : name;
    return urls.build(full, params, options, target);
  }

  private compiledSchema(route: RouteDefinition): CompiledRouteSchema | undefined {
    if (!route.schema) return undefined;
    let compiled = this.compiledSchemas.get(route);
    if (compiled === undefined) {
      compiled = this.schemaCompiler(route.schema);
      this.compiledSchemas.set(route, compiled);
    }
    return compiled;
  }

  /** Compiles the registrations into a router, URL builder and hook chains, and a dispatcher over them. */
  private build(): Built {
    // Route middleware wraps a dispatch that finds the route again and goes on with it (dispatch.ts).
    const routeApp = (environ: Environ) => dispatcher.dispatch(environ);
    const routes = compileRoutes(this, (route) => this.compiledSchema(route), routeApp);
    const ctx: RequestContext = {
      app: this,
      openSession: (req) => this.sessions.open(req),
      urlFor: (name, params, options, req) =>
        this.buildUrl(name, params, options, {
          scriptName: req.scriptName,
          req,
          origin: (scheme) => `${scheme ?? req.scheme}://${req.host}`,
        }),
    };
    const telemetry = serverTelemetry();
    const dispatcher = new Dispatcher(routes, {
      ctx,
      debug: () => this.config.debug,
      saveSession: (req, response) => this.sessions.save(req, response),
      observe: this.telemetryOption ?? (telemetry?.tracing === true || telemetry?.metrics === true),
      traceHooks: this.telemetryOption ?? telemetry?.tracing === true,
      logger: () => this.configuredLogger(),
    });
    let entry: TsgiApplication | undefined;
    if (this.middleware.length > 0) {
      const composed = compose(this.middleware, (environ) => dispatcher.dispatch(environ));
      const resolver = dispatcher.allowedMethods;
      entry = (environ) => {
        environ[ALLOWED_METHODS_KEY] = resolver;
        return composed(environ);
      };
      if (composed.lifespan) entry.lifespan = composed.lifespan;
    }
    this.built = { ...routes, dispatcher, ...(entry && { entry }) };
    return this.built;
  }
}

/** The routes of a scaffold and of every blueprint registered below it. */
function* routesBelow(scaffold: Scaffold): Generator<RouteDefinition> {
  yield* scaffold.routes;
  for (const registration of scaffold.registrations) yield* routesBelow(registration.scaffold);
}
