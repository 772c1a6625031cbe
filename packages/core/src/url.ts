import { compile, parse, type Token, type TokenData } from 'path-to-regexp';

/** Builds URLs from route names (Flask's `url_for`), each pattern compiled once. */

interface Builder {
  toPath: (params: Record<string, string | string[]>) => string;
  keys: Set<string>;
  required: string[];
  wildcards: Set<string>;
}

function collectKeys(tokens: readonly Token[], optional: boolean, into: Builder): void {
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

export class UrlBuilder {
  readonly #byName = new Map<string, Builder[]>();

  /** Adds a route's pattern under its name; `parsed` is the pattern's `parse()` result when the caller has it already. */
  add(name: string, pattern: string, parsed: TokenData = parse(pattern)): void {
    const builder: Builder = {
      toPath: compile(parsed) as Builder['toPath'],
      keys: new Set(),
      required: [],
      wildcards: new Set(),
    };
    collectKeys(parsed.tokens, false, builder);
    const list = this.#byName.get(name);
    if (list) list.push(builder);
    else this.#byName.set(name, [builder]);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * The URL path of route `name` under `scriptName`. Params the pattern does not use are added to
   * the query string, like Flask. Among several routes with the same name, the first whose
   * required params are all given is used.
   */
  build(name: string, params: Record<string, unknown> = {}, query: Record<string, unknown> = {},
    scriptName = ''): string {
    const builders = this.#byName.get(name);
    if (!builders) throw new Error(`urlFor: no route named ${JSON.stringify(name)}`);
    const given = (key: string) => params[key] !== undefined && params[key] !== null;
    const builder = builders.find((b) => b.required.every(given));
    if (!builder) {
      const missing = builders[0]!.required.filter((key) => !given(key));
      throw new Error(`urlFor(${JSON.stringify(name)}): missing params ${missing.join(', ')}`);
    }
    const pathParams: Record<string, string | string[]> = {};
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined || value === null) continue;
      if (!builder.keys.has(key)) appendQuery(search, key, value);
      else if (builder.wildcards.has(key)) {
        pathParams[key] = Array.isArray(value) ? value.map(String) : String(value).split('/').filter(Boolean);
      } else pathParams[key] = String(value);
    }
    for (const [key, value] of Object.entries(query)) appendQuery(search, key, value);
    const qs = search.toString();
    return `${scriptName}${builder.toPath(pathParams)}${qs ? `?${qs}` : ''}`;
  }
}
