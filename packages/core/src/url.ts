/**
 * Builds URLs from route names (Flask's `url_for`, Werkzeug's `MapAdapter.build`), each pattern
 * compiled once. Among the routes of one name, Werkzeug's choice: those with more params first,
 * then registration order; the first that accepts the method and can be built from the values wins.
 */
import { compile, parse, type Token, type TokenData } from 'path-to-regexp';
import { encodePath, quoteFragment } from './uri.js';

/**
 * How `urlFor` builds, beside the route params (Flask's `_external`, `_scheme`, `_anchor` and
 * `_method`, which Flask mixes into the values and Carafe keeps apart, so that none can end up in
 * the query string by mistake).
 */
export interface UrlForOptions {
  /** Query string values, added after the params the path does not use; arrays repeat the key. */
  query?: Record<string, unknown>;
  /** The fragment, without `#`; quoted as needed (`'x y'` → `#x%20y`). */
  anchor?: string;
  /**
   * An absolute URL, `scheme://host/…`: on the request's host inside a request; outside one, on
   * `config.serverName` (which must then be set). Default `false`, or `true` when `scheme` is given.
   */
  external?: boolean;
  /** The scheme of an external URL (implies `external`); default: the request's, else `config.preferredUrlScheme`. */
  scheme?: string;
  /** Build from a route that answers this method (for a name registered on several paths). */
  method?: string;
}

const OPTION_KEYS = new Set(['query', 'anchor', 'external', 'scheme', 'method']);
/** Flask's spellings, which would otherwise go silently into the query string. */
const FLASK_KEYS: Record<string, string> = { _external: 'external', _scheme: 'scheme', _anchor: 'anchor', _method: 'method' };

/** Fills in default params before a URL is built (Flask's `url_defaults`); `req` is absent outside a request. */
export type UrlDefaultsHook<R> = (name: string, params: Record<string, unknown>, req: R | undefined) => void;

/** What a route adds to the builder besides its pattern. */
export interface UrlRuleOptions<R> {
  /** Methods the route answers; `null` for every method. */
  methods: readonly string[] | null;
  /** Whether path values fit the route's param types; a route they do not fit is skipped. */
  fits?: (params: Record<string, string | string[]>) => boolean;
  /** The URL defaults hooks that apply to the route's name, in the order they run. */
  defaults?: readonly UrlDefaultsHook<R>[];
}

/** Where a URL is built: under which script name, for which request, on which origin. */
export interface UrlTarget<R> {
  readonly scriptName: string;
  readonly req: R | undefined;
  /** `scheme://host` for an external URL; throws when none can be known. */
  origin(scheme: string | undefined): string;
}

interface Rule<R> {
  readonly pattern: string;
  readonly toPath: (params: Record<string, string | string[]>) => string;
  readonly keys: Set<string>;
  readonly required: string[];
  readonly wildcards: Set<string>;
  methods: readonly string[] | null;
  readonly fits: ((params: Record<string, string | string[]>) => boolean) | undefined;
  readonly defaults: readonly UrlDefaultsHook<R>[];
}

function collectKeys(
  tokens: readonly Token[],
  optional: boolean,
  into: { keys: Set<string>; required: string[]; wildcards: Set<string> },
): void {
  for (const token of tokens) {
    if (token.type === 'group') collectKeys(token.tokens, true, into);
    else if (token.type === 'param' || token.type === 'wildcard') {
      into.keys.add(token.name);
      if (token.type === 'wildcard') into.wildcards.add(token.name);
      if (!optional) into.required.push(token.name);
    }
  }
}

function appendQuery(search: URLSearchParams, key: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) for (const v of value) appendQuery(search, key, v);
  else search.append(key, String(value));
}

/** Whether a route answering `methods` serves `method` (HEAD with GET; OPTIONS is answered everywhere). */
function answers(methods: readonly string[] | null, method: string): boolean {
  return methods === null || method === 'OPTIONS' || methods.includes(method) || (method === 'HEAD' && methods.includes('GET'));
}

function given(params: Record<string, unknown>, key: string): boolean {
  return params[key] !== undefined && params[key] !== null;
}

/** Builds at the root, outside any request, with no origin for external URLs. */
const AT_ROOT: UrlTarget<never> = {
  scriptName: '',
  req: undefined,
  origin: () => {
    throw new Error('urlFor: no host is known for an external URL here');
  },
};

export class UrlBuilder<R = unknown> {
  readonly #byName = new Map<string, Rule<R>[]>();

  /** Adds a route's pattern under its name; `parsed` is the pattern's `parse()` result when the caller has it already. */
  add(name: string, pattern: string, parsed: TokenData = parse(pattern), options: UrlRuleOptions<R> = { methods: null }): void {
    const rules = this.#byName.get(name);
    // The same path under the same name again (`route('/x').get(h).post(h)`): one rule, more methods.
    const same = rules?.find((rule) => rule.pattern === pattern);
    if (same) {
      same.methods = same.methods === null || options.methods === null ? null : [...new Set([...same.methods, ...options.methods])];
      return;
    }
    const shape = { keys: new Set<string>(), required: [] as string[], wildcards: new Set<string>() };
    collectKeys(parsed.tokens, false, shape);
    const rule: Rule<R> = {
      ...shape,
      pattern,
      toPath: compile(parsed) as Rule<R>['toPath'],
      methods: options.methods,
      fits: options.fits,
      defaults: options.defaults ?? [],
    };
    if (!rules) {
      this.#byName.set(name, [rule]);
      return;
    }
    // Werkzeug's build order: more params first, ties in registration order.
    const at = rules.findIndex((other) => other.keys.size < rule.keys.size);
    rules.splice(at === -1 ? rules.length : at, 0, rule);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * The URL of route `name`: its path under `target.scriptName`, params the path does not use in the
   * query string (like Flask), made external or given an anchor as `options` ask. The route's URL
   * defaults hooks fill in params first.
   */
  build(name: string, params: Record<string, unknown> = {}, options: UrlForOptions = {}, target: UrlTarget<R> = AT_ROOT): string {
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) {
        throw new TypeError(`urlFor: unknown option ${JSON.stringify(key)}; query values go in { query: { … } }`);
      }
    }
    const rules = this.#byName.get(name);
    if (!rules) throw new Error(`urlFor: no route named ${JSON.stringify(name)}`);
    const values = { ...params };
    for (const hook of rules[0]!.defaults) hook(name, values, target.req);
    for (const key of Object.keys(values)) {
      if (key in FLASK_KEYS && !rules.some((rule) => rule.keys.has(key))) {
        throw new TypeError(`urlFor: ${key} is Flask's spelling; pass { ${FLASK_KEYS[key]}: … } as urlFor's third argument`);
      }
    }
    const { query = {}, anchor, scheme, method } = options;
    const external = options.external ?? scheme !== undefined;
    if (scheme !== undefined && !external) throw new TypeError('urlFor: a scheme needs an external URL; drop { external: false }');
    const built = this.#path(name, rules, values, method?.toUpperCase());
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) if (!built.rule.keys.has(key)) appendQuery(search, key, value);
    for (const [key, value] of Object.entries(query)) appendQuery(search, key, value);
    const qs = search.toString();
    const origin = external ? target.origin(scheme) : '';
    return `${origin}${encodePath(target.scriptName)}${built.path}${qs ? `?${qs}` : ''}${anchor !== undefined ? `#${quoteFragment(anchor)}` : ''}`;
  }

  /** The first rule that serves `method` (without one: GET first, then any) and builds from `values`. */
  #path(
    name: string,
    rules: readonly Rule<R>[],
    values: Record<string, unknown>,
    method: string | undefined,
  ): { rule: Rule<R>; path: string } {
    const passes = method === undefined ? ['GET', undefined] : [method];
    for (const pass of passes) {
      for (const rule of rules) {
        if (pass !== undefined && !answers(rule.methods, pass)) continue;
        const path = this.#tryBuild(rule, values);
        if (path !== undefined) return { rule, path };
      }
    }
    const candidates = method === undefined ? rules : rules.filter((rule) => answers(rule.methods, method));
    if (candidates.length === 0) throw new Error(`urlFor(${JSON.stringify(name)}): no route answers ${method}`);
    const missing = candidates[0]!.required.filter((key) => !given(values, key));
    if (missing.length > 0) throw new Error(`urlFor(${JSON.stringify(name)}): missing params ${missing.join(', ')}`);
    throw new Error(`urlFor(${JSON.stringify(name)}): the params do not fit the route's params schema`);
  }

  /** The path of `rule` for `values`, or `undefined` when a required value is missing or does not fit. */
  #tryBuild(rule: Rule<R>, values: Record<string, unknown>): string | undefined {
    if (!rule.required.every((key) => given(values, key))) return undefined;
    const pathParams: Record<string, string | string[]> = {};
    for (const key of rule.keys) {
      if (!given(values, key)) continue;
      const value = values[key];
      pathParams[key] = rule.wildcards.has(key)
        ? Array.isArray(value)
          ? value.map(String)
          : String(value).split('/').filter(Boolean)
        : String(value);
    }
    if (rule.fits && !rule.fits(pathParams)) return undefined;
    try {
      return rule.toPath(pathParams);
    } catch {
      return undefined; // e.g. an empty wildcard: this rule cannot express the values
    }
  }
}
