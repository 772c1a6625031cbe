import type { TsgiMiddleware } from '@carafe/gateway';
import { parse } from 'path-to-regexp';
import {
  addErrorHandler,
  type AfterRequestHook,
  type BeforeRequestHook,
  type ErrorHandler,
  type ErrorKey,
  type HookSet,
  type TeardownHook,
  type UrlDefaults,
  type UrlValuePreprocessor,
} from './hooks.js';
import type { Request } from './request.js';
import type { RouteSchema } from './schema.js';
import type { CheckParams, HandlerResult, JoinPath, ParamsOf, Query, SchemaPart } from './types.js';

/** The parts of a route schema as plain JSON Schema objects (write them `as const` to get typed values). */
export interface SchemaShape {
  params?: object;
  query?: object;
  headers?: object;
  body?: object;
  /** By status (`201`), class (`'2XX'`) or `'default'`. */
  response?: { [status: number]: object } & { [K in '1XX' | '2XX' | '3XX' | '4XX' | '5XX' | 'default']?: object };
}

/** The URL prefix a scaffold's routes are typed under: a blueprint's declared `urlPrefix`, `''` for an app. */
export type PrefixOf<T> = T extends { readonly '~prefix': infer P extends string } ? P : '';

/** The request a handler of `Path` with schema `S` receives. */
export type RequestFor<Path extends string, S = {}> = Request<
  S extends { params: object } ? Omit<ParamsOf<Path>, keyof SchemaPart<S, 'params', {}>> & SchemaPart<S, 'params', {}> : ParamsOf<Path>,
  SchemaPart<S, 'query', Query>,
  SchemaPart<S, 'body', unknown>
>;

/**
 * A route handler: return a value (object/array → JSON, string → text, `null` → 204) or a `Response`.
 * With response schemas, what it returns is type-checked against them ({@link HandlerResult}).
 */
export type Handler<Path extends string = string, S = {}> = (req: RequestFor<Path, S>) => HandlerResult<S>;

export type { AfterRequestHook, BeforeRequestHook, ErrorHandler, TeardownHook, UrlDefaults, UrlValuePreprocessor } from './hooks.js';

/** Per-route options. */
export interface RouteOptions<S extends SchemaShape = SchemaShape> {
  /** The route's name for `urlFor` (prefixed by the blueprint's name); defaults to the handler's name, else the path. */
  name?: string;
  /** JSON Schemas validating (and coercing) params, query, headers and body; `response` documents replies. */
  schema?: S;
  /** OpenAPI summary. */
  summary?: string;
  /** OpenAPI tags. */
  tags?: string[];
  /**
   * TSGI middleware around this route alone (inside those of its blueprints), outermost first:
   * `{ middleware: [jwtAuth(...)] }`. Composed once, when the app builds its routes.
   */
  middleware?: readonly TsgiMiddleware[];
  /**
   * The media types the route answers with, in order of preference (`['application/json', 'text/csv']`).
   * A request whose `Accept` takes none of them gets a `406` before the handler runs; the handler
   * picks one with `req.accepts(...)`. Documented as the route's response content types.
   */
  produces?: readonly string[];
}

/** The explicit registration form (Flask's `add_url_rule`). */
export interface AddRouteOptions<Path extends string, S extends SchemaShape, Full extends string = Path> extends RouteOptions<S> {
  method?: string;
  methods?: readonly string[];
  path: Path;
  handler: Handler<Full, S>;
}

/** A route as declared on an app or blueprint, relative to it. */
export interface RouteDefinition {
  readonly methods: readonly string[] | null;
  readonly path: string;
  readonly name: string;
  readonly handler: (req: Request<any, any, any>) => unknown;
  /** Compiled by the app that serves the route, with its schema compiler. */
  readonly schema: RouteSchema | undefined;
  readonly summary: string | undefined;
  readonly tags: string[] | undefined;
  /** TSGI middleware around this route (the `middleware` route option). */
  readonly middleware?: readonly TsgiMiddleware[];
  /** The media types the route produces (the `produces` route option). */
  readonly produces?: readonly string[];
}

/**
 * What can be registered below an app or blueprint: a scaffold with a name and an optional URL
 * prefix — a `Blueprint`. (Structural, so this module needs nothing of blueprint.ts.)
 */
export type Registrable = Scaffold & { readonly name: string; readonly urlPrefix: string | undefined };

/** A blueprint registration below an app or blueprint. */
export interface Registration {
  readonly scaffold: Scaffold;
  /** The URL prefix of this registration: the one given to `register`, else the blueprint's own. */
  readonly urlPrefix: string;
  /** The name of this registration: the one given to `register`, else the blueprint's own. */
  readonly name: string;
}

/** Options of `register`. */
export interface RegisterOptions {
  /** Overrides the blueprint's own `urlPrefix` for this registration. */
  urlPrefix?: string;
  /** Registers under another name, so one blueprint can be registered several times. */
  name?: string;
}

/** Chained registration of several methods on one path: `app.route('/x').get(h).post(h)`. */
export class RouteChain<Path extends string> {
  /** `path` types the handlers (the owner's prefix joined to it); `relative` is the path registered on the owner. */
  constructor(
    private readonly owner: Scaffold,
    readonly path: Path,
    private readonly relative: string = path,
  ) {}
  get<const S extends SchemaShape = {}>(handler: Handler<Path, S>, options?: RouteOptions<S> & CheckParams<Path, S>): this {
    return this.on(['GET'], handler, options);
  }
  post<const S extends SchemaShape = {}>(handler: Handler<Path, S>, options?: RouteOptions<S> & CheckParams<Path, S>): this {
    return this.on(['POST'], handler, options);
  }
  put<const S extends SchemaShape = {}>(handler: Handler<Path, S>, options?: RouteOptions<S> & CheckParams<Path, S>): this {
    return this.on(['PUT'], handler, options);
  }
  patch<const S extends SchemaShape = {}>(handler: Handler<Path, S>, options?: RouteOptions<S> & CheckParams<Path, S>): this {
    return this.on(['PATCH'], handler, options);
  }
  delete<const S extends SchemaShape = {}>(handler: Handler<Path, S>, options?: RouteOptions<S> & CheckParams<Path, S>): this {
    return this.on(['DELETE'], handler, options);
  }
  options<const S extends SchemaShape = {}>(handler: Handler<Path, S>, options?: RouteOptions<S> & CheckParams<Path, S>): this {
    return this.on(['OPTIONS'], handler, options);
  }
  head<const S extends SchemaShape = {}>(handler: Handler<Path, S>, options?: RouteOptions<S> & CheckParams<Path, S>): this {
    return this.on(['HEAD'], handler, options);
  }
  all<const S extends SchemaShape = {}>(handler: Handler<Path, S>, options?: RouteOptions<S> & CheckParams<Path, S>): this {
    return this.on(null, handler, options);
  }
  private on(methods: string[] | null, handler: (req: any) => unknown, options: RouteOptions = {}): this {
    this.owner.addRoute({ ...options, methods: methods ?? undefined, all: methods === null, path: this.relative, handler } as never);
    return this;
  }
}

/**
 * What apps and blueprints share (Flask's `Scaffold`): route registration, hooks, error handlers
 * and nested blueprints. Changes notify the apps it is registered in so they rebuild their router.
 */
export abstract class Scaffold implements HookSet {
  /** Routes declared here, in registration order. */
  readonly routes: RouteDefinition[] = [];
  readonly beforeHooks: BeforeRequestHook[] = [];
  readonly afterHooks: AfterRequestHook[] = [];
  readonly teardownHooks: TeardownHook[] = [];
  readonly statusHandlers = new Map<number, ErrorHandler>();
  readonly classHandlers = new Map<Function, ErrorHandler>();
  readonly urlDefaultsHooks: UrlDefaults[] = [];
  readonly urlValuePreprocessors: UrlValuePreprocessor[] = [];
  readonly registrations: Registration[] = [];
  /** Apps and blueprints this one is registered in. */
  readonly parents = new Set<Scaffold>();
  /** TSGI middleware added with {@link use}, outermost first. */
  readonly middleware: TsgiMiddleware[] = [];

  /** Called whenever this scaffold or a blueprint below it changes. */
  protected changed(): void {
    for (const parent of this.parents) parent.changed();
  }

  /**
   * Called with each route before it is added; throwing rejects it. An app compiles the route's
   * schema here, so an invalid schema fails at registration (a blueprint's, once it is served).
   */
  protected checkRoute(_route: RouteDefinition): void {}

  /** Whether a route path may be relative (`about`): in a blueprint, where it is joined to the prefix as Flask does. */
  protected get relativePaths(): boolean {
    return false;
  }

  /** Registers a GET route (HEAD is answered automatically). */
  get<Path extends string>(path: Path, handler: Handler<JoinPath<PrefixOf<this>, Path>>): this;
  get<Path extends string, const S extends SchemaShape = {}>(
    path: Path,
    options: RouteOptions<S> & CheckParams<JoinPath<PrefixOf<this>, Path>, S>,
    handler: Handler<JoinPath<PrefixOf<this>, Path>, S>,
  ): this;
  get(...args: unknown[]): this {
    return this.shorthand(['GET'], args);
  }

  /** Registers a POST route. */
  post<Path extends string>(path: Path, handler: Handler<JoinPath<PrefixOf<this>, Path>>): this;
  post<Path extends string, const S extends SchemaShape = {}>(
    path: Path,
    options: RouteOptions<S> & CheckParams<JoinPath<PrefixOf<this>, Path>, S>,
    handler: Handler<JoinPath<PrefixOf<this>, Path>, S>,
  ): this;
  post(...args: unknown[]): this {
    return this.shorthand(['POST'], args);
  }

  /** Registers a PUT route. */
  put<Path extends string>(path: Path, handler: Handler<JoinPath<PrefixOf<this>, Path>>): this;
  put<Path extends string, const S extends SchemaShape = {}>(
    path: Path,
    options: RouteOptions<S> & CheckParams<JoinPath<PrefixOf<this>, Path>, S>,
    handler: Handler<JoinPath<PrefixOf<this>, Path>, S>,
  ): this;
  put(...args: unknown[]): this {
    return this.shorthand(['PUT'], args);
  }

  /** Registers a PATCH route. */
  patch<Path extends string>(path: Path, handler: Handler<JoinPath<PrefixOf<this>, Path>>): this;
  patch<Path extends string, const S extends SchemaShape = {}>(
    path: Path,
    options: RouteOptions<S> & CheckParams<JoinPath<PrefixOf<this>, Path>, S>,
    handler: Handler<JoinPath<PrefixOf<this>, Path>, S>,
  ): this;
  patch(...args: unknown[]): this {
    return this.shorthand(['PATCH'], args);
  }

  /** Registers a DELETE route. */
  delete<Path extends string>(path: Path, handler: Handler<JoinPath<PrefixOf<this>, Path>>): this;
  delete<Path extends string, const S extends SchemaShape = {}>(
    path: Path,
    options: RouteOptions<S> & CheckParams<JoinPath<PrefixOf<this>, Path>, S>,
    handler: Handler<JoinPath<PrefixOf<this>, Path>, S>,
  ): this;
  delete(...args: unknown[]): this {
    return this.shorthand(['DELETE'], args);
  }

  /** Registers an OPTIONS route (otherwise OPTIONS is answered automatically). */
  options<Path extends string>(path: Path, handler: Handler<JoinPath<PrefixOf<this>, Path>>): this;
  options<Path extends string, const S extends SchemaShape = {}>(
    path: Path,
    options: RouteOptions<S> & CheckParams<JoinPath<PrefixOf<this>, Path>, S>,
    handler: Handler<JoinPath<PrefixOf<this>, Path>, S>,
  ): this;
  options(...args: unknown[]): this {
    return this.shorthand(['OPTIONS'], args);
  }

  /** Registers a HEAD route (otherwise HEAD runs the GET handler without sending its body). */
  head<Path extends string>(path: Path, handler: Handler<JoinPath<PrefixOf<this>, Path>>): this;
  head<Path extends string, const S extends SchemaShape = {}>(
    path: Path,
    options: RouteOptions<S> & CheckParams<JoinPath<PrefixOf<this>, Path>, S>,
    handler: Handler<JoinPath<PrefixOf<this>, Path>, S>,
  ): this;
  head(...args: unknown[]): this {
    return this.shorthand(['HEAD'], args);
  }

  /** Registers a route answering every method. */
  all<Path extends string>(path: Path, handler: Handler<JoinPath<PrefixOf<this>, Path>>): this;
  all<Path extends string, const S extends SchemaShape = {}>(
    path: Path,
    options: RouteOptions<S> & CheckParams<JoinPath<PrefixOf<this>, Path>, S>,
    handler: Handler<JoinPath<PrefixOf<this>, Path>, S>,
  ): this;
  all(...args: unknown[]): this {
    return this.shorthand(null, args);
  }

  private shorthand(methods: string[] | null, args: unknown[]): this {
    const [path, second, third] = args as [string, RouteOptions | Handler, Handler | undefined];
    const [options, handler] = typeof second === 'function' ? [{}, second] : [second, third];
    if (typeof handler !== 'function') throw new TypeError(`No handler given for ${path}`);
    return this.addRoute({ ...options, methods: methods ?? undefined, all: methods === null, path, handler } as never);
  }

  /** Starts a chain registering several methods on one path (typed with the blueprint's prefix). */
  route<Path extends string>(path: Path): RouteChain<JoinPath<PrefixOf<this>, Path>> {
    return new RouteChain(this, path as JoinPath<PrefixOf<this>, Path>, path);
  }

  /**
   * Registers a route explicitly (Flask's `add_url_rule`). Invalid paths and schemas throw here.
   * Without `method`/`methods` the route answers GET.
   */
  addRoute<Path extends string, const S extends SchemaShape = {}>(
    options: AddRouteOptions<Path, S, JoinPath<PrefixOf<this>, Path>> & CheckParams<JoinPath<PrefixOf<this>, Path>, S>,
  ): this {
    const { path, handler } = options;
    if (typeof path !== 'string' || (path !== '' && !this.relativePaths && !/^[/{]/.test(path))) {
      throw new TypeError(`Route path must start with "/" or "{": ${JSON.stringify(path)}`);
    }
    if (typeof handler !== 'function') throw new TypeError(`Route ${path} has no handler function`);
    parse(path);
    const all = (options as { all?: boolean }).all === true;
    const methods = all ? null : [...new Set((options.methods ?? [options.method ?? 'GET']).map((m) => m.toUpperCase()))];
    const clash = this.routes.find(
      (r) => r.path === path && (r.methods === null ? methods === null : methods !== null && r.methods.some((m) => methods.includes(m))),
    );
    if (clash) throw new Error(`${methods?.join(', ') ?? 'A catch-all route'} ${JSON.stringify(path)} is already registered here`);
    const schema = options.schema as RouteSchema | undefined;
    if (options.name?.includes('.')) throw new TypeError(`Route name may not contain ".": ${JSON.stringify(options.name)}`);
    const name = options.name ?? (handler.name && handler.name !== 'anonymous' ? handler.name : path || '/');
    const route: RouteDefinition = {
      methods,
      path,
      name,
      handler: handler as RouteDefinition['handler'],
      schema,
      summary: options.summary,
      tags: options.tags,
      ...(options.middleware?.length && { middleware: [...options.middleware] }),
      ...(options.produces?.length && { produces: [...options.produces] }),
    };
    this.checkRoute(route);
    this.routes.push(route);
    this.changed();
    return this;
  }

  /**
   * Adds TSGI middleware (`(app) => app`), outermost first. On an app it wraps the whole
   * application: every request, before routing (so a CORS preflight or a rate limit is answered
   * before a 404 or 405 is decided). On a blueprint it wraps each of the blueprint's routes (and
   * those of blueprints below it), inside the app's. A route takes its own with the `middleware`
   * option. Composed once when the app builds its routes; a route without any costs nothing.
   *
   * @example app.use(securityHeaders(), cors({ origin: ['https://app.example.com'] }))
   */
  use(...middleware: TsgiMiddleware[]): this {
    for (const mw of middleware) if (typeof mw !== 'function') throw new TypeError('use(): a middleware is a function (app) => app');
    this.middleware.push(...middleware);
    this.changed();
    return this;
  }

  /** Adds a hook run before each request (Flask's `before_request`). */
  beforeRequest(hook: BeforeRequestHook): this {
    this.beforeHooks.push(hook);
    this.changed();
    return this;
  }

  /** Adds a hook run after each request, in reverse registration order (Flask's `after_request`). */
  afterRequest(hook: AfterRequestHook): this {
    this.afterHooks.push(hook);
    this.changed();
    return this;
  }

  /** Adds a hook that always runs at the end of a request, even after an error (Flask's `teardown_request`). */
  teardownRequest(hook: TeardownHook): this {
    this.teardownHooks.push(hook);
    this.changed();
    return this;
  }

  /**
   * Handles errors by status code (`404`) or by class (`NotFound`, `TypeError`, a class of yours).
   * The most specific handler wins, as in Flask: for an HTTP error, a handler for its own class, then
   * for its status (the same as one for the status's class: `404` and `NotFound`), then for its base
   * classes — each looked up from the innermost blueprint out to the app, the code before the classes.
   */
  errorHandler<E extends Error>(key: ErrorKey<E>, handler: ErrorHandler<E>): this {
    addErrorHandler(this, key, handler);
    this.changed();
    return this;
  }

  /**
   * Adds a function that fills in params before `urlFor` builds a URL for a route of this app or
   * blueprint (Flask's `url_defaults`); it receives the route name, the params (to change in place)
   * and the request, if any. With {@link urlValuePreprocessor}, it carries a value such as a
   * language code from URL to URL.
   */
  urlDefaults(hook: UrlDefaults): this {
    this.urlDefaultsHooks.push(hook);
    this.changed();
    return this;
  }

  /**
   * Adds a function that runs on the params of a matched route of this app or blueprint before the
   * before-request hooks (Flask's `url_value_preprocessor`): it receives the route name, the params
   * (`req.params`, to change in place) and the request.
   */
  urlValuePreprocessor(hook: UrlValuePreprocessor): this {
    this.urlValuePreprocessors.push(hook);
    this.changed();
    return this;
  }

  /** Registers a blueprint under this app or blueprint. */
  register(blueprint: Registrable, options: RegisterOptions = {}): this {
    const name = options.name ?? blueprint.name;
    if (name.includes('.')) throw new TypeError(`Blueprint name may not contain ".": ${JSON.stringify(name)}`);
    if (this.registrations.some((r) => r.name === name)) {
      throw new Error(`A blueprint named ${JSON.stringify(name)} is already registered here; pass a different { name }`);
    }
    if ((blueprint as Scaffold) === this || blueprint.contains(this)) throw new Error('A blueprint cannot be registered inside itself');
    this.registrations.push({ scaffold: blueprint, urlPrefix: options.urlPrefix ?? blueprint.urlPrefix ?? '', name });
    blueprint.parents.add(this);
    this.changed();
    return this;
  }

  /** Whether `other` is this scaffold or registered somewhere below it. */
  contains(other: Scaffold): boolean {
    return other === this || this.registrations.some((r) => r.scaffold.contains(other));
  }
}
