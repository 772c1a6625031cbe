/**
 * Type-level helpers: route params typed from the path string, and values typed from
 * `as const` JSON Schemas. Nothing here exists at run time.
 */

type IdentChar =
  | 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j' | 'k' | 'l' | 'm' | 'n' | 'o' | 'p' | 'q'
  | 'r' | 's' | 't' | 'u' | 'v' | 'w' | 'x' | 'y' | 'z'
  | 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'N' | 'O' | 'P' | 'Q'
  | 'R' | 'S' | 'T' | 'U' | 'V' | 'W' | 'X' | 'Y' | 'Z'
  | '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '_' | '$';

/** The leading identifier of `S` (`"id/rest"` → `"id"`). */
type Ident<S extends string, Acc extends string = ''> = S extends `${infer C}${infer Rest}`
  ? C extends IdentChar ? Ident<Rest, `${Acc}${C}`> : Acc
  : Acc;

/** `{ name: kind }` for every `:param` and `*wildcard` in a brace-free path piece (scanned char by char). */
type PieceParams<S extends string, Acc = {}> = S extends `${infer C}${infer Rest}`
  ? C extends ':' ? PieceParams<Rest, Acc & { [K in Ident<Rest>]: string }>
    : C extends '*' ? PieceParams<Rest, Acc & { [K in Ident<Rest>]: string[] }>
    : C extends '\\' ? (Rest extends `${string}${infer After}` ? PieceParams<After, Acc> : Acc)
    : PieceParams<Rest, Acc>
  : Acc;

/** Params of a path, splitting out `{optional}` groups (one nesting level). */
type PathParams<S extends string> = S extends `${infer Head}{${infer Group}}${infer Tail}`
  ? PieceParams<Head> & Partial<PieceParams<Group>> & PathParams<Tail>
  : PieceParams<S>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The params object of a route, inferred from its path-to-regexp pattern:
 * `ParamsOf<"/users/:id">` is `{ id: string }`; `*rest` gives `string[]`; params inside `{…}` are optional.
 */
export type ParamsOf<Path extends string> = string extends Path
  ? Record<string, string | string[] | undefined>
  : Simplify<PathParams<Path>>;

/** The parsed query string: repeated keys become arrays. */
export type Query = Record<string, string | string[] | undefined>;

type Primitive<T> = T extends 'string' ? string
  : T extends 'integer' | 'number' ? number
  : T extends 'boolean' ? boolean
  : T extends 'null' ? null
  : unknown;

type ObjectOf<S> = S extends { properties: infer P }
  ? Simplify<
      { [K in keyof P as K extends RequiredKeys<S> ? K : never]: FromSchema<P[K]> } &
      { [K in keyof P as K extends RequiredKeys<S> ? never : K]?: FromSchema<P[K]> }
    >
  : Record<string, unknown>;

type RequiredKeys<S> = S extends { required: readonly (infer R)[] } ? R : never;

/**
 * The TypeScript type a JSON Schema describes, for schemas written `as const` (or inline in a
 * route): objects with `properties`/`required` (only declared properties are typed), arrays with
 * `items`, `enum`, `const`, primitive and nullable types. Anything else becomes `unknown`.
 */
export type FromSchema<S> = S extends { const: infer C }
  ? C
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { type: readonly (infer T)[] }
      ? FromSchema<Omit<S, 'type'> & { type: T }>
      : S extends { type: 'object' }
        ? ObjectOf<S>
        : S extends { type: 'array'; items: infer I }
          ? FromSchema<I>[]
          : S extends { type: 'array' }
            ? unknown[]
            : S extends { type: infer T }
              ? Primitive<T>
              : unknown;

/** Picks the declared schema part, or the fallback when it is absent. */
export type SchemaPart<S, K extends string, Fallback> = S extends { [P in K]: infer X } ? FromSchema<X> : Fallback;
