/**
 * Route compilation: flattens an app and the blueprints registered below it into full paths and
 * names, chains each route's hooks and error scopes once, checks that names do not clash, and builds
 * the router and the URL builder — each full path parsed once. Pure: the same registrations give
 * the same result, and nothing here runs per request.
 */
import type { TsgiApplication, TsgiMiddleware } from '@carafe/gateway';
import { parse } from 'path-to-regexp';
import type { AfterRequestHook, BeforeRequestHook, HandlerScope, HookSet, TeardownHook, UrlValuePreprocessor } from './hooks.js';
import { requireAcceptable } from './negotiate.js';
import type { Request, MatchedRoute } from './request.js';
import { Router, type ParamsCheck } from './routing.js';
import type { RouteDefinition, Scaffold } from './scaffold.js';
import type { CompiledRouteSchema } from './schema.js';
import { serializerFor, type Serialize } from './reply.js';
import { UrlBuilder } from './url.js';

/** The hooks and error handlers that apply at one place of the tree, flattened once. */
export interface ScopeTarget {
  /** App hooks first (its own, then the app-wide ones of its blueprints), then each blueprint's from the outermost in. */
  readonly before: readonly BeforeRequestHook[];
  /** Innermost blueprint first, each scope's hooks in reverse registration order. */
  readonly after: readonly AfterRequestHook[];
  readonly teardown: readonly TeardownHook[];
  /** Where error handlers are looked up: innermost blueprint first, then the app, then the app-wide handlers of blueprints. */
  readonly errorScopes: readonly HandlerScope[];
  /** Run on a matched route's params before the before hooks, in the order of `before`. */
  readonly urlValuePreprocessors: readonly UrlValuePreprocessor[];
}

/** A route ready to dispatch. */
export interface Target extends ScopeTarget {
  readonly handler: (req: Request<any, any, any>) => unknown;
  readonly info: MatchedRoute | undefined;
  readonly compiled: CompiledRouteSchema | undefined;
  /** The serializer of a 200 JSON answer (`serializerFor(compiled, 200)`), looked up once here rather than per request. */
  readonly serialize200: Serialize | undefined;
  /** No hooks and nothing of the request to validate: eligible for the synchronous fast path. */
  readonly plain: boolean;
  /** The route's TSGI middleware (its blueprints', then its own) composed around the route's dispatch; absent without any. */
  readonly wrapped?: TsgiApplication;
}

/** A route with its full path and name, as the app serves it. */
export interface FlatRoute {
  readonly def: RouteDefinition;
  readonly path: string;
  readonly name: string;
  /** The full name of the blueprint the route belongs to, if any. */
  readonly blueprint: string | undefined;
  /** The app, then each enclosing blueprint from the outermost in. */
  readonly chain: readonly Scaffold[];
}

/** Everything built from an app's registrations. */
export interface CompiledRoutes {
  readonly router: Router<Target>;
  readonly urls: UrlBuilder<Request<any, any, any>>;
  /** Every route, in registration order (blueprints after the routes of the scope they are registered in). */
  readonly routes: readonly FlatRoute[];
  /** The app's own hooks and error handlers, for requests no route matched. */
  readonly appScope: ScopeTarget;
}

/** Compiles a route's schema: the app's schema compiler, cached per route definition. */
export type CompileSchema = (route: RouteDefinition) => CompiledRouteSchema | undefined;

/**
 * Compiles the routes of `app` and of every blueprint below it. Throws when two routes with
 * different handlers and paths share a full name.
 */
export function compileRoutes(app: Scaffold, compileSchema: CompileSchema, routeApp?: TsgiApplication): CompiledRoutes {
  const routes = [...flatten(app, '', [], [app])];
  // The app's level: its own hooks, then those its blueprints register app-wide (each blueprint once).
  const appLevel: HookSet[] = [app, ...new Set(appWideHooks(app))];
  const router = new Router<Target>({ check: checkParams });
  const urls = new UrlBuilder<Request<any, any, any>>();
  const names = new Map<string, FlatRoute>();
  for (const route of routes) {
    const parsed = parse(route.path);
    const previous = names.get(route.name);
    if (previous && previous.def.handler !== route.def.handler && previous.path !== route.path) {
      throw new Error(`Route name ${JSON.stringify(route.name)} is used by ${previous.path} and ${route.path}; give one a { name }`);
    }
    names.set(route.name, previous ?? route);
    const levels = [...appLevel, ...route.chain.slice(1)];
    const scope = scopeOf(appLevel, route.chain.slice(1));
    const compiled = compileSchema(route.def);
    const validateParams = compiled?.params;
    // One name may cover several paths (a handler registered twice); urlFor picks among them.
    urls.add(route.name, route.path, parsed, {
      methods: route.def.methods,
      fits: validateParams && ((params) => !hasErrors(validateParams(params))),
      defaults: levels.flatMap((level) => level.urlDefaultsHooks),
    });
    const hookless =
      scope.before.length === 0 && scope.after.length === 0 && scope.teardown.length === 0 && scope.urlValuePreprocessors.length === 0;
    const middleware = routeMiddleware(route);
    router.add(
      route.path,
      route.def.methods,
      {
        ...scope,
        handler: producing(route.def),
        info: { name: route.name, path: route.path, blueprint: route.blueprint },
        compiled,
        serialize200: serializerFor(compiled, 200),
        plain: hookless && !compiled?.validates,
        ...(middleware.length > 0 && routeApp !== undefined && { wrapped: compose(middleware, routeApp) }),
      },
      parsed,
      validateParams !== undefined,
    );
  }
  return { router, urls, routes, appScope: scopeOf(appLevel, []) };
}

/** The TSGI middleware around one route: its blueprints' (outermost first), then its own. */
export function routeMiddleware(route: FlatRoute): TsgiMiddleware[] {
  return [...route.chain.slice(1).flatMap((scaffold) => scaffold.middleware), ...(route.def.middleware ?? [])];
}

/** `middleware` applied around `app`, the first outermost. */
export function compose(middleware: readonly TsgiMiddleware[], app: TsgiApplication): TsgiApplication {
  return middleware.reduceRight((inner, mw) => mw(inner), app);
}

/** The route's handler, behind the `406` check of its `produces` option when it has one. */
function producing(def: RouteDefinition): Target['handler'] {
  const { handler, produces } = def;
  if (produces === undefined) return handler;
  return (req) => {
    requireAcceptable(req.environ, produces);
    return handler(req);
  };
}

/**
 * Joins a URL prefix and a rule the way Flask does: `/users` + `/` → `/users/`, `/users` + `` → `/users`,
 * `/users/` + `about` → `/users/about`, `` + `about` → `/about`; a rule starting with an optional group
 * attaches directly (`/users` + `{/:id}`).
 */
export function joinPath(prefix: string, rule: string): string {
  if (!prefix) return rule && !/^[/{]/.test(rule) ? `/${rule}` : rule;
  if (!rule) return prefix;
  const base = prefix.replace(/\/+$/, '');
  return rule.startsWith('{') ? `${base}${rule}` : `${base}/${rule.replace(/^\/+/, '')}`;
}

/** Whether a validator's result lists errors (an async validator's promise is decided later, by validation). */
function hasErrors(result: unknown): boolean {
  return typeof result === 'object' && result !== null && 'errors' in result;
}

/** The router's params check: a route's params schema decides whether the route takes a match, like a converter. */
const checkParams: ParamsCheck<Target> = (target, params) => {
  const validate = target.compiled?.params;
  if (validate === undefined) return undefined;
  const result: unknown = validate(params);
  if (hasErrors(result)) return { ok: false };
  if (typeof result === 'object' && result !== null && 'value' in result)
    return { ok: true, params: result.value as Record<string, unknown> };
  return undefined;
};

function isEmpty(set: HookSet): boolean {
  return (
    set.beforeHooks.length +
      set.afterHooks.length +
      set.teardownHooks.length +
      set.urlDefaultsHooks.length +
      set.urlValuePreprocessors.length +
      set.statusHandlers.size +
      set.classHandlers.size ===
    0
  );
}

/** The non-empty app-wide hook sets of the blueprints below `scaffold`, in registration order (one registered twice appears twice; the caller keeps one). */
function* appWideHooks(scaffold: Scaffold): Generator<HookSet> {
  for (const registration of scaffold.registrations) {
    const appHooks = (registration.scaffold as { appHooks?: HookSet }).appHooks;
    if (appHooks && !isEmpty(appHooks)) yield appHooks;
    yield* appWideHooks(registration.scaffold);
  }
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
    const below = registration.scaffold;
    yield* flatten(below, joinPath(prefix, registration.urlPrefix), [...names, registration.name], [...chain, below]);
  }
}

/**
 * The hooks and error scopes of a route: the app's level (its own hook set, then the app-wide sets of
 * its blueprints) and the chain of blueprints the route is in (outermost first).
 */
function scopeOf(appLevel: readonly HookSet[], blueprints: readonly HookSet[]): ScopeTarget {
  const chain = [...appLevel, ...blueprints];
  const inward = [...blueprints].reverse();
  return {
    before: chain.flatMap((s) => s.beforeHooks),
    // Reverse registration order, the app's level taken as one list, as Flask keeps it.
    after: [...inward.flatMap((s) => [...s.afterHooks].reverse()), ...appLevel.flatMap((s) => s.afterHooks).reverse()],
    teardown: [...inward.flatMap((s) => [...s.teardownHooks].reverse()), ...appLevel.flatMap((s) => s.teardownHooks).reverse()],
    errorScopes: [...inward, ...appLevel],
    urlValuePreprocessors: chain.flatMap((s) => s.urlValuePreprocessors),
  };
}
