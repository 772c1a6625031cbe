import { parse, pathToRegexp, type Token, type TokenData } from 'path-to-regexp';

/**
 * The router and its segment tree, in one module so that a lookup runs in one file (the router's
 * `match`, the tree's walk and each pattern's method table used to call back and forth).
 *
 * A segment tree of path-to-regexp patterns: one node per path segment, with static children
 * keyed by the segment's text, one `:param` child and the `*wildcard` routes that take the
 * rest of the path. A segment the tree cannot express (`/:name.:ext`, text around a wildcard,
 * a wildcard followed by more path) hangs the pattern's compiled regular expression on the node
 * where it diverges. Optional groups are expanded into their variants when a pattern is added,
 * so a lookup walks segments and never builds anything it does not return.
 */

export type RouteParams = Record<string, string | string[]>;

/**
 * A successful lookup, as the router returns it. `checked` when the target's params check (see
 * {@link ParamsCheck}) accepted the params, which are then the checked (coerced) values.
 */
export type Found<T> = { kind: 'found'; target: T; params: RouteParams; checked?: true };

/** The walk reached a path that only a route with a trailing slash answers for the method (Werkzeug's `SlashRequired`). */
export const SLASH_REQUIRED = { kind: 'slash-required' } as const;

/**
 * Decides whether a target takes a match's params (like a Werkzeug converter): `undefined` when
 * the target does not check its params, `{ ok: true, params }` with the values to use, `{ ok: false }`
 * to try the next candidate.
 */
export type ParamsCheck<T> = (target: T, params: RouteParams) => { ok: true; params: Record<string, unknown> } | { ok: false } | undefined;

/** What the tree stores for a pattern: its target for a method, if any. */
export interface Methods<T> {
  pick(method: string): T | undefined;
  /** Whether the pattern answers `method` at all (automatic OPTIONS included). */
  accepts(method: string): boolean;
  /** Whether some target of the pattern checks its params: such patterns are tried before the others on a tie. */
  readonly typed: boolean;
}

type Flat = Exclude<Token, { type: 'group' }>;

/** A pattern that ends at a node, with the builder naming the values captured on the way there. */
interface End<E> {
  readonly entry: E;
  readonly params: ParamsFactory;
}

/** Builds a match's params from the captured values, in order (a wildcard's is the rest of the path). */
type ParamsFactory = (values: readonly string[]) => RouteParams;

/** A pattern matched from its node on by its own regular expression (over the whole path). */
interface RegexEnd<E> {
  readonly entry: E;
  readonly regexp: RegExp;
  readonly keys: ReadonlyArray<{ name: string; wildcard: boolean }>;
}

class Node<E> {
  /** The static children by text, for building (lookups use the arrays below). */
  statics: Map<string, Node<E>> | undefined;
  /** The static children's texts and nodes, compared in place to spare slicing the request path. */
  staticKeys: string[] = [];
  staticNodes: Node<E>[] = [];
  /** The indexes of the static children to compare: all of them, in registration order… */
  staticOrder: number[] = [];
  /** …or, when there are many, only those in the segment's bucket (see `bucketOf`). */
  buckets: number[][] | undefined;
  param: Node<E> | undefined;
  /** Patterns ending exactly here. */
  ends: End<E>[] = [];
  /** Patterns whose last segment is a wildcard starting here. */
  rests: End<E>[] = [];
  regexps: RegexEnd<E>[] = [];
}

/** The same options the router has always compiled with: case-sensitive, no implicit trailing slash. */
const REGEXP_OPTIONS = { sensitive: true, trailing: false } as const;
const SLASH = 47;

export class RouteTree<T, E extends Methods<T>> {
  readonly #root = new Node<E>();
  /** Values of the params captured on the current walk, by depth (lookups are synchronous). */
  readonly #values: string[] = [];
  /** Checks the params of typed targets; set once a typed pattern is added, so untyped apps never call it. */
  check: ParamsCheck<T> | undefined;
  /** The first candidate whose params check failed during the current lookup: the answer if nothing else matches. */
  #rejected: Found<T> | undefined;

  /**
   * Adds every variant of `pattern` for `entry`. Throws path-to-regexp's errors for an invalid
   * pattern (it is compiled whole once to check it, as path-to-regexp would).
   */
  add(pattern: string, tokens: readonly Token[], entry: E): void {
    pathToRegexp({ tokens, originalPath: pattern }, REGEXP_OPTIONS);
    for (const variant of expand(tokens)) this.#insert(pattern, variant, entry);
  }

  /**
   * The first pattern, by priority, that matches `path` and has a target for `method` (and takes its
   * params, for a typed target); {@link SLASH_REQUIRED} when the walk first reaches a node whose
   * trailing-slash form answers the method and whose own patterns do not. When every matching target
   * refused its params, the first of them, with its unchecked params, so its validation can answer.
   */
  find(method: string, path: string): Found<T> | typeof SLASH_REQUIRED | undefined {
    this.#rejected = undefined;
    const quick = this.#descend(path, method);
    if (quick !== undefined) return quick;
    this.#rejected = undefined;
    const found = this.#walk(this.#root, path, path.charCodeAt(0) === SLASH ? 1 : -1, 0, method, undefined);
    const rejected = this.#rejected;
    this.#rejected = undefined;
    return found ?? rejected;
  }

  /** Moves typed patterns before untyped ones wherever they tie (after a pattern became typed). */
  reorder(): void {
    const visit = (node: Node<E>) => {
      node.ends = byType(node.ends);
      node.rests = byType(node.rests);
      node.regexps = byType(node.regexps);
      for (const child of node.staticNodes) visit(child);
      if (node.param) visit(node.param);
    };
    visit(this.#root);
  }

  /** Every entry whose pattern matches `path`, whatever the method. */
  matching(path: string): E[] {
    const out: E[] = [];
    this.#walk(this.#root, path, path.charCodeAt(0) === SLASH ? 1 : -1, 0, null, out);
    return out;
  }

  #insert(pattern: string, variant: Flat[], entry: E): void {
    const segments = segmentsOf(variant);
    let node = this.#root;
    const names: string[] = [];
    for (let i = 0; segments !== undefined && i < segments.length; i++) {
      const segment = segments[i]!;
      const only = segment[0];
      if (segment.length === 0 || (segment.length === 1 && only!.type === 'text')) {
        const text = only?.type === 'text' ? only.value : '';
        node.statics ??= new Map();
        let child = node.statics.get(text);
        if (child === undefined) {
          node.statics.set(text, (child = new Node<E>()));
          node.staticKeys.push(text);
          node.staticNodes.push(child);
          node.staticOrder.push(node.staticOrder.length);
          if (node.staticKeys.length > MAX_SCANNED) {
            node.buckets = [];
            for (const [index, key] of node.staticKeys.entries()) (node.buckets![bucketOf(key, 0)] ??= []).push(index);
          }
        }
        node = child;
      } else if (segment.length === 1 && only!.type === 'param') {
        node = node.param ??= new Node<E>();
        names.push(only!.name);
      } else if (segment.length === 1 && only!.type === 'wildcard' && i === segments.length - 1) {
        if (!node.rests.some((end) => end.entry === entry))
          node.rests = byType([...node.rests, { entry, params: paramsFactory([...names, only!.name], true) }]);
        return;
      } else {
        break;
      }
      if (i === segments.length - 1) {
        if (!node.ends.some((end) => end.entry === entry))
          node.ends = byType([...node.ends, { entry, params: paramsFactory(names, false) }]);
        return;
      }
    }
    const { regexp, keys } = pathToRegexp({ tokens: variant, originalPath: pattern }, REGEXP_OPTIONS);
    node.regexps = byType([
      ...node.regexps,
      { entry, regexp, keys: keys.map((key) => ({ name: key.name, wildcard: key.type === 'wildcard' })) },
    ]);
  }

  /**
   * The walk's first try, as a loop: down the static child, else the param child, to the node where
   * the path ends. That path is the one the depth-first {@link #walk} tries first, so a hit here is
   * its answer; `undefined` (a miss, or a node with a regular expression to try) leaves the answer
   * to the walk. Most lookups end here, sparing a call frame per segment (~300 instructions on a
   * six-segment route, callgrind).
   */
  #descend(path: string, method: string): Found<T> | undefined {
    if (path.charCodeAt(0) !== SLASH) return undefined;
    const length = path.length;
    let node = this.#root;
    let depth = 0;
    for (let start = 1; start <= length; ) {
      const index = staticChildAt(node, path, start);
      if (index !== -1) {
        start += node.staticKeys[index]!.length + 1;
        node = node.staticNodes[index]!;
        continue;
      }
      const param = node.param;
      if (param === undefined || node.regexps.length > 0) return undefined;
      const stop = segmentEnd(path, start);
      if (stop === start) return undefined;
      this.#values[depth++] = path.slice(start, stop);
      node = param;
      start = stop + 1;
    }
    return this.#ends(node.ends, method, undefined);
  }

  /**
   * Depth-first search from `node`, whose next segment starts at `start` (past the end of `path`
   * once every segment is consumed, -1 for a path not starting with "/"). Static children are tried
   * first, then patterns needing a regular expression, then the param child, then wildcards.
   * With a `method`, returns the first hit that has a target for it; with `null`, collects every
   * matching entry into `out`.
   */
  #walk(
    node: Node<E>,
    path: string,
    start: number,
    depth: number,
    method: string | null,
    out: E[] | undefined,
  ): Found<T> | typeof SLASH_REQUIRED | undefined {
    const length = path.length;
    if (start > length) {
      const found = this.#ends(node.ends, method, out) ?? this.#regexps(node, path, method, out);
      return found !== undefined || method === null ? found : slashRequired(node, method);
    }
    if (start === -1) return this.#regexps(node, path, method, out);
    // `stop` is the segment's end once known.
    let stop = -1;
    const index = staticChildAt(node, path, start);
    if (index !== -1) {
      stop = start + node.staticKeys[index]!.length;
      const found = this.#walk(node.staticNodes[index]!, path, stop + 1, depth, method, out);
      if (found !== undefined) return found;
    }
    if (node.regexps.length > 0) {
      const found = this.#regexps(node, path, method, out);
      if (found !== undefined) return found;
    }
    if (node.param !== undefined) {
      if (stop === -1) stop = segmentEnd(path, start);
      if (stop > start) {
        this.#values[depth] = path.slice(start, stop);
        const found = this.#walk(node.param, path, stop + 1, depth + 1, method, out);
        if (found !== undefined) return found;
      }
    }
    if (start < length && node.rests.length > 0) {
      this.#values[depth] = path.slice(start);
      return this.#ends(node.rests, method, out);
    }
    return undefined;
  }

  /** The first of `ends` with a target for `method` (with `null`, collects them all into `out`). */
  #ends(ends: readonly End<E>[], method: string | null, out: E[] | undefined): Found<T> | undefined {
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i]!;
      if (method === null) {
        out!.push(end.entry);
        continue;
      }
      const target = end.entry.pick(method);
      if (target === undefined) continue;
      if (this.check === undefined) return { kind: 'found', target, params: end.params(this.#values) };
      const found = this.#accept(target, end.params(this.#values));
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** The match of `target` if its params check takes `params`; otherwise remembers it as rejected. */
  #accept(target: T, params: RouteParams): Found<T> | undefined {
    const result = this.check!(target, params);
    if (result === undefined) return { kind: 'found', target, params };
    if (result.ok) return { kind: 'found', target, params: result.params as RouteParams, checked: true };
    this.#rejected ??= { kind: 'found', target, params };
    return undefined;
  }

  #regexps(node: Node<E>, path: string, method: string | null, out: E[] | undefined): Found<T> | undefined {
    if (node.regexps.length === 0) return undefined;
    for (const { entry, regexp, keys } of node.regexps) {
      const m = regexp.exec(path);
      if (m === null) continue;
      if (method === null) {
        out!.push(entry);
        continue;
      }
      const target = entry.pick(method);
      if (target === undefined) continue;
      const params: RouteParams = {};
      for (let i = 0; i < keys.length; i++) {
        const value = m[i + 1];
        if (value === undefined) continue;
        const key = keys[i]!;
        params[key.name] = key.wildcard ? value.split('/') : value;
      }
      if (this.check === undefined) return { kind: 'found', target, params };
      const found = this.#accept(target, params);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

/** Stable: typed entries first, the rest in their order. */
function byType<X extends { entry: { typed: boolean } }>(list: X[]): X[] {
  return [...list.filter((x) => x.entry.typed), ...list.filter((x) => !x.entry.typed)];
}

/**
 * {@link SLASH_REQUIRED} when the path ended at `node`, none of its own patterns answers `method`
 * and the pattern with a trailing slash here does (Werkzeug redirects then, and only then).
 */
function slashRequired<E extends Methods<unknown>>(node: Node<E>, method: string): typeof SLASH_REQUIRED | undefined {
  const slashed = node.statics?.get('');
  if (slashed === undefined || node.ends.some((end) => end.entry.accepts(method))) return undefined;
  return slashed.ends.some((end) => end.entry.accepts(method)) ? SLASH_REQUIRED : undefined;
}

/**
 * A params builder for one route. Generated code builds the object as a literal with fixed keys,
 * several times faster than adding computed keys one by one (the difference is most of a lookup's
 * cost); the names come from the route's pattern, never from a request, and are quoted with
 * JSON.stringify. Where code generation is unavailable, or a name is `__proto__` (which a literal
 * would treat differently from an assignment), the builder assigns them in a loop instead.
 */
function paramsFactory(names: readonly string[], wildcardLast: boolean): ParamsFactory {
  const value = (i: number) => (wildcardLast && i === names.length - 1 ? `v[${i}].split('/')` : `v[${i}]`);
  if (!names.includes('__proto__')) {
    try {
      return new Function('v', `return { ${names.map((name, i) => `${JSON.stringify(name)}: ${value(i)}`).join(', ')} };`) as ParamsFactory;
    } catch {
      // Code generation disabled (--disallow-code-generation-from-strings): build in a loop.
    }
  }
  return (values) => {
    const params: RouteParams = {};
    for (let i = 0; i < names.length; i++) params[names[i]!] = wildcardLast && i === names.length - 1 ? values[i]!.split('/') : values[i]!;
    return params;
  };
}

/**
 * The index of `node`'s static child named by the segment of `path` at `start`, or -1. Compared in
 * place (no slice to hash); with many children, only those in the segment's bucket.
 */
function staticChildAt(node: Node<unknown>, path: string, start: number): number {
  const keys = node.staticKeys;
  const candidates = node.buckets === undefined ? node.staticOrder : node.buckets[bucketOf(path, start)];
  if (candidates === undefined) return -1;
  const length = path.length;
  for (let i = 0; i < candidates.length; i++) {
    const index = candidates[i]!;
    const key = keys[index]!;
    const next = start + key.length;
    if ((next === length || path.charCodeAt(next) === SLASH) && textAt(path, start, key)) return index;
  }
  return -1;
}

/** Past this many static children, only those in the segment's bucket are compared. */
const MAX_SCANNED = 4;
const BUCKETS = 256;

/**
 * The bucket of the segment of `text` starting at `start`, from its first two characters (which
 * set apart most siblings: `users`…`webhooks`, `v1`…`v5`), read without finding the segment's end.
 */
function bucketOf(text: string, start: number): number {
  const first = charInSegment(text, start);
  return first === 0 ? 0 : (first * 31 + charInSegment(text, start + 1)) % BUCKETS;
}

/** The code of the character at `index`, or 0 at the end of the text or at a "/". */
function charInSegment(text: string, index: number): number {
  if (index >= text.length) return 0;
  const code = text.charCodeAt(index);
  return code === SLASH ? 0 : code;
}

/** The end of the segment starting at `start`: the next "/" or the end of the path. */
function segmentEnd(path: string, start: number): number {
  const stop = path.indexOf('/', start);
  return stop === -1 ? path.length : stop;
}

/**
 * Whether `path` has `text` at `start`. Compared from the end: sibling segments more often share
 * a beginning (`v1`, `v2`) than an ending, and a loop is what V8 inlines (`startsWith` it calls).
 */
function textAt(path: string, start: number, text: string): boolean {
  for (let i = text.length - 1; i >= 0; i--) if (path.charCodeAt(start + i) !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Every token sequence an optional group allows, in path-to-regexp's order (with a group before
 * without it), so that the first variant to match is the one path-to-regexp's regexp would pick.
 */
function expand(tokens: readonly Token[]): Flat[][] {
  let variants: Flat[][] = [[]];
  for (const token of tokens) {
    if (token.type === 'group') {
      const inner = expand(token.tokens);
      variants = variants.flatMap((head) => [...inner.map((tail) => [...head, ...tail]), head]);
    } else {
      for (const variant of variants) variant.push(token);
    }
  }
  return variants;
}

/**
 * The tokens of each `/`-separated segment, adjacent texts joined (`/a/:id` → `[[a], [:id]]`);
 * undefined for a variant not starting with "/", which only a regular expression can match.
 */
function segmentsOf(variant: readonly Flat[]): Flat[][] | undefined {
  const first = variant[0];
  if (first?.type !== 'text' || first.value.charCodeAt(0) !== SLASH) return undefined;
  const segments: Flat[][] = [];
  let current: Flat[] = [];
  for (const token of variant) {
    if (token.type !== 'text') {
      current.push(token);
      continue;
    }
    token.value.split('/').forEach((part, i) => {
      if (i > 0) segments.push((current = []));
      const last = current[current.length - 1];
      if (part === '') return;
      if (last?.type === 'text') current[current.length - 1] = { type: 'text', value: last.value + part };
      else current.push({ type: 'text', value: part });
    });
  }
  return segments;
}

// ---------------------------------------------------------------------------------------------
// The router (re-exported by routing.ts).

/**
 * The router: every pattern goes into a segment tree (RouteTree, above), compiled once when it
 * is added; a lookup walks the request path's segments, so its cost does not grow with the number
 * of routes. Priority, segment by segment: static text, then a segment with text around params,
 * then a `:param`, then a `*wildcard`; patterns that tie keep their registration order, except that
 * a typed pattern (one whose target checks its params, like a Werkzeug converter) goes first.
 *
 * What happens when nothing matches follows Werkzeug: a path that only its trailing-slash form
 * answers for the method redirects there; a path with empty segments (`//`) redirects to its
 * merged form when that matches; then 405 if the path exists for other methods, else 404.
 */

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
  /** `byMethod`'s GET target, also kept as a field: most requests are GETs, and the Map lookup costs ~130 instructions (callgrind). */
  #get: T | undefined;
  any: T | undefined;
  allow: string[] = [];

  typed = false;

  /** The target for a method: exact, then GET for HEAD, then a catch-all route. */
  pick(method: string): T | undefined {
    if (method === 'GET' && this.#get !== undefined) return this.#get;
    return this.byMethod.get(method) ?? (method === 'HEAD' ? this.#get : undefined) ?? this.any;
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
        if (method === 'GET') this.#get = target;
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
/** Literal paths shorter than this are also kept by their length (see Router's #byLength). */
const LENGTHS = 256;
/** The most literal paths of one length that are compared one by one rather than looked up in the Map. */
const SCAN_MAX = 4;

/** A literal path and its entry, for {@link Router}'s lookup by length. */
interface Literal<T> {
  readonly path: string;
  readonly entry: Entry<T>;
}

export class Router<T> {
  readonly #tree = new RouteTree<T, Entry<T>>();
  readonly #check: ParamsCheck<T> | undefined;
  /** Entries by literal path (static patterns) or by pattern (the others). */
  readonly #entries = new Map<string, Entry<T>>();
  /** The entries of literal paths, which win over every pattern: one lookup spares them the walk. */
  readonly #literals = new Map<string, Entry<T>>();
  /**
   * The literal paths under LENGTHS, by length. The request's path is a fresh string, so a Map
   * lookup must hash it first: a path of a length no literal has skips the lookup, and one of a
   * length at most SCAN_MAX literals share is compared with them directly (on /hello, ~270
   * instructions a request less than the Map's hash and lookup, callgrind). Longer buckets and
   * longer paths use the Map.
   */
  readonly #byLength: (Literal<T>[] | undefined)[] = new Array(LENGTHS).fill(undefined);
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
      if (literal !== undefined) {
        this.#literals.set(literal, entry);
        if (literal.length < LENGTHS) (this.#byLength[literal.length] ??= []).push({ path: literal, entry });
      }
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
    const literal = this.#literal(path)?.pick(method);
    if (literal !== undefined) return { kind: 'found', target: literal, params: {} };
    const found = this.#search(method, path);
    if (found !== undefined) return found;
    let matching = this.#tree.matching(path);
    // Werkzeug's merge_slashes: `/a//b` is not a route of its own, so send the client to `/a/b`.
    const merged = path.includes('//') ? path.replace(MERGEABLE, '/') : undefined;
    if (merged !== undefined) {
      const again = this.#literal(merged)?.pick(method) !== undefined ? FOUND : this.#search(method, merged);
      if (again !== undefined) return { kind: 'redirect', path: again.kind === 'redirect' ? again.path : merged };
      matching = [...matching, ...this.#tree.matching(merged)];
    }
    if (matching.length > 0) {
      const allow = sortMethods(matching.flatMap((entry) => entry.allow));
      return method === 'OPTIONS' ? { kind: 'options', allow } : { kind: 'method-not-allowed', allow };
    }
    return NOT_FOUND;
  }

  /** The entry of the literal path `path`, if one is registered. */
  #literal(path: string): Entry<T> | undefined {
    if (path.length >= LENGTHS) return this.#literals.get(path);
    const bucket = this.#byLength[path.length];
    if (bucket === undefined) return undefined;
    if (bucket.length > SCAN_MAX) return this.#literals.get(path);
    for (let i = 0; i < bucket.length; i++) if (bucket[i]!.path === path) return bucket[i]!.entry;
    return undefined;
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
