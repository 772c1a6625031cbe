import { parse, pathToRegexp, type Token } from 'path-to-regexp';

/**
 * The router: static paths in a Map, dynamic ones in a tree keyed by their leading static
 * segments, so a lookup touches only the patterns that share the request's prefix.
 * Every pattern is compiled once, when the router is built.
 */

/** Methods listed first, in this order, in `Allow` headers. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export type RouteParams = Record<string, string | string[]>;

/** The outcome of a lookup. */
export type Match<T> =
  | { kind: 'found'; target: T; params: RouteParams }
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

class DynamicEntry<T> extends Entry<T> {
  readonly regexp: RegExp;
  readonly keys: Array<{ name: string; wildcard: boolean }>;
  constructor(readonly pattern: string) {
    super();
    const { regexp, keys } = pathToRegexp(pattern, { sensitive: true, trailing: false });
    this.regexp = regexp;
    this.keys = keys.map((key) => ({ name: key.name, wildcard: key.type === 'wildcard' }));
  }

  params(m: RegExpExecArray): RouteParams {
    const params: RouteParams = {};
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      const value = m[i + 1];
      if (value === undefined) continue;
      const key = keys[i]!;
      params[key.name] = key.wildcard ? value.split('/') : value;
    }
    return params;
  }
}

class Node<T> {
  readonly children = new Map<string, Node<T>>();
  readonly entries: DynamicEntry<T>[] = [];
  constructor(readonly parent: Node<T> | undefined) {}
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
function staticPath(tokens: Token[]): string | undefined {
  let path = '';
  for (const token of tokens) {
    if (token.type !== 'text') return undefined;
    path += token.value;
  }
  return path;
}

/** The complete static segments a dynamic pattern starts with (`/api/users/:id` → `["api", "users"]`). */
function leadingSegments(pattern: string): string[] {
  const special = pattern.search(/[:*{}\\]/);
  const prefix = pattern.slice(0, special === -1 ? pattern.length : special);
  const segments = prefix.slice(0, prefix.lastIndexOf('/')).split('/');
  return segments.filter((s, i) => i > 0 || s !== '');
}

export class Router<T> {
  readonly #static = new Map<string, Entry<T>>();
  readonly #dynamic = new Map<string, DynamicEntry<T>>();
  readonly #root = new Node<T>(undefined);
  /** Whether some pattern ends with `/` (only then is a slash redirect possible). */
  #slashPatterns = false;

  /** Registers `target` for `methods` (`null` for every method) on a path-to-regexp pattern. */
  add(pattern: string, methods: readonly string[] | null, target: T): void {
    if (!/^[/{]/.test(pattern)) throw new TypeError(`Route path must start with "/" or "{": ${JSON.stringify(pattern)}`);
    if (pattern.length > 1 && pattern.endsWith('/')) this.#slashPatterns = true;
    const literal = staticPath(parse(pattern).tokens);
    if (literal !== undefined) {
      let entry = this.#static.get(literal);
      if (!entry) this.#static.set(literal, (entry = new Entry<T>()));
      entry.add(methods, target, pattern);
      return;
    }
    let entry = this.#dynamic.get(pattern);
    if (!entry) {
      entry = new DynamicEntry<T>(pattern);
      this.#dynamic.set(pattern, entry);
      let node = this.#root;
      for (const segment of leadingSegments(pattern)) {
        let child = node.children.get(segment);
        if (!child) node.children.set(segment, (child = new Node<T>(node)));
        node = child;
      }
      node.entries.push(entry);
    }
    entry.add(methods, target, pattern);
  }

  /**
   * Finds the route for a request. Static paths win over patterns; among patterns the one with the
   * longest static prefix wins, then registration order.
   */
  match(method: string, path: string): Match<T> {
    let allowed: Set<string> | undefined;
    const entry = this.#static.get(path);
    if (entry !== undefined) {
      const target = entry.pick(method);
      if (target !== undefined) return { kind: 'found', target, params: {} };
      allowed = new Set(entry.allow);
    }
    for (let node: Node<T> | undefined = this.#deepestNode(path); node !== undefined; node = node.parent) {
      for (const dynamic of node.entries) {
        const m = dynamic.regexp.exec(path);
        if (m === null) continue;
        const target = dynamic.pick(method);
        if (target !== undefined) return { kind: 'found', target, params: dynamic.params(m) };
        allowed ??= new Set();
        for (const a of dynamic.allow) allowed.add(a);
      }
    }
    if (allowed !== undefined) {
      const allow = sortMethods(allowed);
      return method === 'OPTIONS' ? { kind: 'options', allow } : { kind: 'method-not-allowed', allow };
    }
    if (this.#slashPatterns && !path.endsWith('/') && this.#matchesAny(`${path}/`)) {
      return { kind: 'redirect', path: `${path}/` };
    }
    return NOT_FOUND;
  }

  /** The deepest tree node reached by following the path's leading static segments. */
  #deepestNode(path: string): Node<T> {
    let node = this.#root;
    let start = 1;
    while (node.children.size > 0) {
      const end = path.indexOf('/', start);
      if (end === -1) break;
      const child = node.children.get(path.slice(start, end));
      if (child === undefined) break;
      node = child;
      start = end + 1;
    }
    return node;
  }

  #matchesAny(path: string): boolean {
    if (this.#static.has(path)) return true;
    for (let node: Node<T> | undefined = this.#deepestNode(path); node !== undefined; node = node.parent) {
      for (const entry of node.entries) if (entry.regexp.test(path)) return true;
    }
    return false;
  }
}
