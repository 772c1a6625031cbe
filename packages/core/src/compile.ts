/**
 * Route compilation: flattens an app and the blueprints registered below it into full paths and
 * names, chains each route's hooks and error scopes once, checks that names do not clash, and builds
 * the router and the URL builder — each full path parsed once. Pure: the same registrations give
 * the same result, and nothing here runs per request.
 */
import { parse } from 'path-to-regexp';
import type { Request, MatchedRoute } from './request.js';
import { Router } from './routing.js';
import type { AfterRequestHook, BeforeRequestHook, RouteDefinition, Scaffold, TeardownHook } from './scaffold.js';
import type { CompiledRouteSchema } from './schema.js';
import { UrlBuilder } from './url.js';

/** The hooks and error handlers that apply at one place of the tree, flattened once. */
export interface ScopeTarget {
  /** App hooks first, then each blueprint's from the outermost in. */
  readonly before: readonly BeforeRequestHook[];
  /** Innermost blueprint first, each scope's hooks in reverse registration order. */
  readonly after: readonly AfterRequestHook[];
  readonly teardown: readonly TeardownHook[];
  /** Where error handlers are looked up: innermost blueprint first, the app last. */
  readonly errorScopes: readonly Scaffold[];
}

/** A route ready to dispatch. */
export interface Target extends ScopeTarget {
  readonly handler: (req: Request<any, any, any>) => unknown;
  readonly info: MatchedRoute | undefined;
  readonly compiled: CompiledRouteSchema | undefined;
  /** No hooks and nothing of the request to validate: eligible for the synchronous fast path. */
  readonly plain: boolean;
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
  readonly urls: UrlBuilder;
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
export function compileRoutes(app: Scaffold, compileSchema: CompileSchema): CompiledRoutes {
  const routes = [...flatten(app, '', [], [app])];
  const router = new Router<Target>();
  const urls = new UrlBuilder();
  const names = new Map<string, FlatRoute>();
  for (const route of routes) {
    const parsed = parse(route.path);
    const previous = names.get(route.name);
    if (previous && previous.def.handler !== route.def.handler && previous.path !== route.path) {
      throw new Error(`Route name ${JSON.stringify(route.name)} is used by ${previous.path} and ${route.path}; give one a { name }`);
    }
    // One name may cover several paths (a handler registered twice); urlFor picks among them.
    if (!previous || previous.path !== route.path) urls.add(route.name, route.path, parsed);
    names.set(route.name, previous ?? route);
    const scope = scopeOf(route.chain);
    const compiled = compileSchema(route.def);
    const hookless = scope.before.length === 0 && scope.after.length === 0 && scope.teardown.length === 0;
    router.add(route.path, route.def.methods, {
      ...scope,
      handler: route.def.handler,
      info: { name: route.name, path: route.path, blueprint: route.blueprint },
      compiled,
      plain: hookless && !compiled?.validates,
    }, parsed);
  }
  return { router, urls, routes, appScope: scopeOf([app]) };
}

/** Joins a URL prefix and a rule the way Flask does: `/users` + `/` → `/users/`, `/users` + `` → `/users`; a rule starting with an optional group attaches directly (`/users` + `{/:id}`). */
export function joinPath(prefix: string, rule: string): string {
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
    const below = registration.scaffold;
    yield* flatten(below, joinPath(prefix, registration.urlPrefix), [...names, registration.name], [...chain, below]);
  }
}

/** The hooks and error scopes of a chain of scaffolds (outermost first). */
function scopeOf(chain: readonly Scaffold[]): ScopeTarget {
  const inward = [...chain].reverse();
  return {
    before: chain.flatMap((s) => s.beforeHooks),
    after: inward.flatMap((s) => [...s.afterHooks].reverse()),
    teardown: inward.flatMap((s) => [...s.teardownHooks].reverse()),
    errorScopes: inward,
  };
}
