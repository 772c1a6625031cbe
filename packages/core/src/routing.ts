import { parse, type Token, type TokenData } from 'path-to-regexp';
import { RouteTree, type Found, type ParamsCheck, type RouteParams } from './route-tree.js';

/**
 * The router: every pattern goes into a segment tree (see route-tree.ts), compiled once when it
 * is added; a lookup walks the request path's segments, so its cost does not grow with the number
 * of routes. Priority, segment by segment: static text, then a segment with text around params,
 * then a `:param`, then a `*wildcard`; patterns that tie keep their registration order, except that
 * a typed pattern (one whose target checks its params, like a Werkzeug converter) goes first.
 *
 * What happens when nothing matches follows Werkzeug: a path that only its trailing-slash form
 * answers for the method redirects there; a path with empty segments (`//`) redirects to its
 * merged form when that matches; then 405 if the path exists for other methods, else 404.
 */

export type { ParamsCheck, RouteParams };

/** Methods listed first, in this order, in `Allow` headers. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The outcome of a lookup. */
export type Match<T> =
  | Found<T>
  | { kind: 'redirect'; path: string }
  | { kind: 'options'; allow: string[] }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

const NOT_FOUND = { kind: 'not-found' } as const;
/** Stands for a literal match where only the fact of a match counts. */
const FOUND = { kind: 'found' } as const;

/** All routes registered under one path pattern, keyed by method. */
class Entry<T> {
  readonly byMethod = new Map<string, T>();
  any: T | undefined;
  allow: string[] = [];

  typed = false;

  /** The target for a method: exact, then GET for HEAD, then a catch-all route. */
  pick(method: string): T | undefined {
    return this.byMethod.get(method) ?? (method === 'HEAD' ? this.byMethod.get('GET') : undefined) ?? this.any;
  }

  /** Whether the path answers `method`, OPTIONS being answered automatically. */
  accepts(method: string): boolean {
    return method === 'OPTIONS' || this.pick(method) !== undefined;
  }

  add(methods: readonly string[] | null, target: T, pattern: string): void {
    if (methods === null) {
      if (this.any !== undefined) throw new Error(`A catch-all route is already registered for ${pattern}`);
      this.any = target;
    } else {
      for (const method of methods) {
        if (this.byMethod.has(method)) throw new Error(`${method} ${pattern} is already registered`);
        this.byMethod.set(method, target);
      }
    }
    this.allow = sortMethods(this.any !== undefined ? METHOD_ORDER : [...this.byMethod.keys()]);
  }
}

/** Adds HEAD (with GET) and OPTIONS, and orders the methods for an `Allow` header. */
function sortMethods(methods: Iterable<string>): string[] {
  const set = new Set(methods);
  if (set.has('GET')) set.add('HEAD');
  set.add('OPTIONS');
  const known = METHOD_ORDER.filter((m) => set.has(m));
  const others = [...set].filter((m) => !METHOD_ORDER.includes(m)).sort();
  return [...known, ...others];
}

/** The pattern as a literal path if it has no parameters, wildcards or groups. */
function staticPath(tokens: readonly Token[]): string | undefined {
  let path = '';
  for (const token of tokens) {
    if (token.type !== 'text') return undefined;
    path += token.value;
  }
  return path;
}

/** Options of a {@link Router}. */
export interface RouterOptions<T> {
  /** Checks the params of the targets added as `typed`; see {@link ParamsCheck}. */
  check?: ParamsCheck<T>;
}

const MERGEABLE = /\/{2,}/g;

export class Router<T> {
  readonly #tree = new RouteTree<T, Entry<T>>();
  readonly #check: ParamsCheck<T> | undefined;
  /** Entries by literal path (static patterns) or by pattern (the others). */
  readonly #entries = new Map<string, Entry<T>>();
  /** The entries of literal paths, which win over every pattern: one lookup spares them the walk. */
  readonly #literals = new Map<string, Entry<T>>();
  /** Whether some pattern ends with `/` (only then is a slash redirect possible). */
  #slashPatterns = false;

  constructor(options: RouterOptions<T> = {}) {
    this.#check = options.check;
  }

  /**
   * Registers `target` for `methods` (`null` for every method) on a path-to-regexp pattern;
   * `parsed` is the pattern's `parse()` result when the caller has it already. A `typed` target has
   * its params checked by the router's `check` when it matches; one that refuses them lets the
   * lookup go on to the next candidate.
   */
  add(pattern: string, methods: readonly string[] | null, target: T, parsed?: TokenData, typed = false): void {
    if (!/^[/{]/.test(pattern)) throw new TypeError(`Route path must start with "/" or "{": ${JSON.stringify(pattern)}`);
    const { tokens } = parsed ?? parse(pattern);
    const literal = staticPath(tokens);
    const key = literal === undefined ? `pattern:${pattern}` : `path:${literal}`;
    let entry = this.#entries.get(key);
    const retype = typed && entry !== undefined && !entry.typed;
    if (entry === undefined) {
      entry = new Entry<T>();
      entry.typed = typed;
      this.#tree.add(pattern, tokens, entry);
      this.#entries.set(key, entry);
      if (literal !== undefined) this.#literals.set(literal, entry);
    }
    entry.add(methods, target, pattern);
    if (typed) {
      if (this.#check === undefined) throw new Error('A typed route needs a router with a params check');
      this.#tree.check = this.#check;
      entry.typed = true;
      if (retype) this.#tree.reorder();
    }
    if (pattern.length > 1 && pattern.endsWith('/')) this.#slashPatterns = true;
  }

  /** Finds the route for a request; see the module comment for the priority of patterns and the fallbacks. */
  match(method: string, path: string): Match<T> {
    const literal = this.#literals.get(path)?.pick(method);
    if (literal !== undefined) return { kind: 'found', target: literal, params: {} };
    const found = this.#search(method, path);
    if (found !== undefined) return found;
    let matching = this.#tree.matching(path);
    // Werkzeug's merge_slashes: `/a//b` is not a route of its own, so send the client to `/a/b`.
    const merged = path.includes('//') ? path.replace(MERGEABLE, '/') : undefined;
    if (merged !== undefined) {
      const again = this.#literals.get(merged)?.pick(method) !== undefined ? FOUND : this.#search(method, merged);
      if (again !== undefined) return { kind: 'redirect', path: again.kind === 'redirect' ? again.path : merged };
      matching = [...matching, ...this.#tree.matching(merged)];
    }
    if (matching.length > 0) {
      const allow = sortMethods(matching.flatMap((entry) => entry.allow));
      return method === 'OPTIONS' ? { kind: 'options', allow } : { kind: 'method-not-allowed', allow };
    }
    return NOT_FOUND;
  }

  /**
   * The methods `path` answers, as an `Allow` header lists them (HEAD with GET, OPTIONS always), or
   * `undefined` when no route matches it: what a CORS preflight reports before routing decides.
   */
  allowed(path: string): string[] | undefined {
    const matching = this.#tree.matching(path);
    return matching.length > 0 ? sortMethods(matching.flatMap((entry) => entry.allow)) : undefined;
  }

  /** A match in the tree or a slash redirect for `path` itself (its literal entry already tried), or `undefined`. */
  #search(method: string, path: string): Found<T> | { kind: 'redirect'; path: string } | undefined {
    const found = this.#tree.find(method, path);
    if (found === undefined) {
      // Patterns matched by a regular expression are not seen by the walk's slash check.
      if (this.#slashPatterns && !path.endsWith('/')) {
        const slashed = this.#tree.find(method, `${path}/`);
        if (slashed !== undefined && slashed.kind === 'found') return { kind: 'redirect', path: `${path}/` };
      }
      return undefined;
    }
    return found.kind === 'found' ? found : { kind: 'redirect', path: `${path}/` };
  }
}
