import { parse, type Token, type TokenData } from 'path-to-regexp';
import { RouteTree, type Found, type RouteParams } from './route-tree.js';

/**
 * The router: every pattern goes into a segment tree (see route-tree.ts), compiled once when it
 * is added; a lookup walks the request path's segments, so its cost does not grow with the number
 * of routes. Priority, segment by segment: static text, then a segment with text around params,
 * then a `:param`, then a `*wildcard`; patterns that tie keep their registration order.
 */

export type { RouteParams };

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


/** All routes registered under one path pattern, keyed by method. */
class Entry<T> {
  readonly byMethod = new Map<string, T>();
  any: T | undefined;
  allow: string[] = [];

  /** The target for a method: exact, then GET for HEAD, then a catch-all route. */
  pick(method: string): T | undefined {
    return this.byMethod.get(method) ?? (method === 'HEAD' ? this.byMethod.get('GET') : undefined) ?? this.any;
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

export class Router<T> {
  readonly #tree = new RouteTree<T, Entry<T>>();
  /** Entries by literal path (static patterns) or by pattern (the others). */
  readonly #entries = new Map<string, Entry<T>>();
  /** The entries of literal paths, which win over every pattern: one lookup spares them the walk. */
  readonly #literals = new Map<string, Entry<T>>();
  /** Whether some pattern ends with `/` (only then is a slash redirect possible). */
  #slashPatterns = false;

  /**
   * Registers `target` for `methods` (`null` for every method) on a path-to-regexp pattern;
   * `parsed` is the pattern's `parse()` result when the caller has it already.
   */
  add(pattern: string, methods: readonly string[] | null, target: T, parsed?: TokenData): void {
    if (!/^[/{]/.test(pattern)) throw new TypeError(`Route path must start with "/" or "{": ${JSON.stringify(pattern)}`);
    const { tokens } = parsed ?? parse(pattern);
    const literal = staticPath(tokens);
    const key = literal === undefined ? `pattern:${pattern}` : `path:${literal}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = new Entry<T>();
      this.#tree.add(pattern, tokens, entry);
      this.#entries.set(key, entry);
      if (literal !== undefined) this.#literals.set(literal, entry);
    }
    entry.add(methods, target, pattern);
    if (pattern.length > 1 && pattern.endsWith('/')) this.#slashPatterns = true;
  }

  /** Finds the route for a request; see the module comment for the priority of patterns. */
  match(method: string, path: string): Match<T> {
    const literal = this.#literals.get(path)?.pick(method);
    if (literal !== undefined) return { kind: 'found', target: literal, params: {} };
    const found = this.#tree.find(method, path);
    if (found !== undefined) return found;
    const matching = this.#tree.matching(path);
    if (matching.length > 0) {
      const allow = sortMethods(matching.flatMap((entry) => entry.allow));
      return method === 'OPTIONS' ? { kind: 'options', allow } : { kind: 'method-not-allowed', allow };
    }
    if (this.#slashPatterns && !path.endsWith('/') && this.#tree.matching(`${path}/`).length > 0) {
      return { kind: 'redirect', path: `${path}/` };
    }
    return NOT_FOUND;
  }
}
