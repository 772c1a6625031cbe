import {
  addErrorHandler,
  hookSet,
  type AfterRequestHook,
  type BeforeRequestHook,
  type ErrorHandler,
  type ErrorKey,
  type HookSet,
  type TeardownHook,
  type UrlDefaults,
  type UrlValuePreprocessor,
} from './hooks.js';
import { Scaffold } from './scaffold.js';

/** Options of a {@link Blueprint}. */
export interface BlueprintOptions<Prefix extends string = string> {
  /** Prepended to every route path of the blueprint, e.g. `/users`; its params (`/orgs/:org`) are typed in the handlers. */
  urlPrefix?: Prefix;
}

/**
 * A named group of routes, hooks and error handlers, registered on an app or nested in another
 * blueprint, under a URL prefix. Route names get the blueprint's name as prefix: `users.detail`.
 * Registering it more than once (with different `name`s) mounts it at several prefixes.
 *
 * Its own hooks and handlers apply to its routes; the `…App…` methods register ones that apply to
 * the whole application it is served by (Flask's `before_app_request`, `app_errorhandler`, …), once
 * however often the blueprint is registered.
 */
export class Blueprint<const Prefix extends string = string> extends Scaffold {
  readonly name: string;
  readonly urlPrefix: Prefix | undefined;
  /** Type-level only: the declared prefix its routes' params are typed under (a registration may mount it elsewhere). */
  declare readonly '~prefix': Prefix;
  /** The hooks and error handlers this blueprint adds to the whole application. */
  readonly appHooks: HookSet = hookSet();

  constructor(name: string, options: BlueprintOptions<Prefix> = {}) {
    super();
    if (!name || name.includes('.')) throw new TypeError(`Blueprint name must be non-empty and without ".": ${JSON.stringify(name)}`);
    this.name = name;
    this.urlPrefix = options.urlPrefix;
  }

  /** A route path may be relative (`about`): it is joined to the URL prefix, like Flask's. */
  protected override get relativePaths(): boolean {
    return true;
  }

  /** Adds a hook run before every request of the application (Flask's `before_app_request`). */
  beforeAppRequest(hook: BeforeRequestHook): this {
    return this.#app(() => this.appHooks.beforeHooks.push(hook));
  }

  /** Adds a hook run after every request of the application (Flask's `after_app_request`). */
  afterAppRequest(hook: AfterRequestHook): this {
    return this.#app(() => this.appHooks.afterHooks.push(hook));
  }

  /** Adds a hook run at the end of every request of the application (Flask's `teardown_app_request`). */
  teardownAppRequest(hook: TeardownHook): this {
    return this.#app(() => this.appHooks.teardownHooks.push(hook));
  }

  /** Handles an error anywhere in the application, as the app's own `errorHandler` would (Flask's `app_errorhandler`). */
  appErrorHandler<E extends Error>(key: ErrorKey<E>, handler: ErrorHandler<E>): this {
    return this.#app(() => addErrorHandler(this.appHooks, key, handler));
  }

  /** Adds a URL defaults function for every route of the application (Flask's `app_url_defaults`). */
  appUrlDefaults(hook: UrlDefaults): this {
    return this.#app(() => this.appHooks.urlDefaultsHooks.push(hook));
  }

  /** Adds a URL value preprocessor for every route of the application (Flask's `app_url_value_preprocessor`). */
  appUrlValuePreprocessor(hook: UrlValuePreprocessor): this {
    return this.#app(() => this.appHooks.urlValuePreprocessors.push(hook));
  }

  #app(add: () => unknown): this {
    add();
    this.changed();
    return this;
  }
}
