/**
 * Type-level helpers: route params typed from the path string, values typed from `as const` JSON
 * Schemas and Standard Schema validators, handler return types checked against response schemas,
 * and the route-name registry of `urlFor`. Nothing here exists at run time.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { JsonResponse, Response } from './response.js';

type IdentChar =
  | 'a'
  | 'b'
  | 'c'
  | 'd'
  | 'e'
  | 'f'
  | 'g'
  | 'h'
  | 'i'
  | 'j'
  | 'k'
  | 'l'
  | 'm'
  | 'n'
  | 'o'
  | 'p'
  | 'q'
  | 'r'
  | 's'
  | 't'
  | 'u'
  | 'v'
  | 'w'
  | 'x'
  | 'y'
  | 'z'
  | 'A'
  | 'B'
  | 'C'
  | 'D'
  | 'E'
  | 'F'
  | 'G'
  | 'H'
  | 'I'
  | 'J'
  | 'K'
  | 'L'
  | 'M'
  | 'N'
  | 'O'
  | 'P'
  | 'Q'
  | 'R'
  | 'S'
  | 'T'
  | 'U'
  | 'V'
  | 'W'
  | 'X'
  | 'Y'
  | 'Z'
  | '0'
  | '1'
  | '2'
  | '3'
  | '4'
  | '5'
  | '6'
  | '7'
  | '8'
  | '9'
  | '_'
  | '$';

/** The leading identifier of `S` (`"id/rest"` → `"id"`). */
type Ident<S extends string, Acc extends string = ''> = S extends `${infer C}${infer Rest}`
  ? C extends IdentChar
    ? Ident<Rest, `${Acc}${C}`>
    : Acc
  : Acc;

/** `{ name: kind }` for every `:param` and `*wildcard` in a brace-free path piece (scanned char by char). */
type PieceParams<S extends string, Acc = {}> = S extends `${infer C}${infer Rest}`
  ? C extends ':'
    ? PieceParams<Rest, Acc & { [K in Ident<Rest>]: string }>
    : C extends '*'
      ? PieceParams<Rest, Acc & { [K in Ident<Rest>]: string[] }>
      : C extends '\\'
        ? Rest extends `${string}${infer After}`
          ? PieceParams<After, Acc>
          : Acc
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

/** `'in'`: what may be given to a schema (a response a handler returns); `'out'`: what a validated value is. */
type Mode = 'in' | 'out';

type Primitive<T, S, M extends Mode> = T extends 'string'
  ? M extends 'in'
    ? S extends { format: 'date-time' }
      ? string | Date
      : string
    : string
  : T extends 'integer' | 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : unknown;

type ObjectOf<S, M extends Mode> = S extends { properties: infer P }
  ? Simplify<
      { [K in keyof P as K extends RequiredKeys<S> ? K : never]: FromSchema<P[K], M> } & {
        [K in keyof P as K extends RequiredKeys<S> ? never : K]?: FromSchema<P[K], M>;
      }
    >
  : Record<string, unknown>;

type RequiredKeys<S> = S extends { required: readonly (infer R)[] } ? R : never;

/**
 * Shared schemas by `$id`, for typing `$ref`s (`app.addSchema` registers them at run time). Add
 * yours by declaration merging, with the schema written `as const`:
 *
 * ```ts
 * declare module '@carafe/core' {
 *   interface CarafeSchemas { User: typeof User }
 * }
 * ```
 * Then `{ $ref: 'User#' }` (or `'User'`, `'#/components/schemas/User'`) is typed as `FromSchema<typeof User>`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface CarafeSchemas {}

/** The `$id` a `$ref` names: `User#`, `User`, `#/components/schemas/User`. */
type RefId<R extends string> = R extends `#/components/schemas/${infer Id}` ? Id : R extends `${infer Id}#` ? Id : R;

type RefOf<R extends string, M extends Mode> = RefId<R> extends keyof CarafeSchemas ? FromSchema<CarafeSchemas[RefId<R>], M> : unknown;

type UnionOf<L, M extends Mode> = L extends readonly [infer H, ...infer T] ? FromSchema<H, M> | UnionOf<T, M> : never;
type IntersectionOf<L, M extends Mode> = L extends readonly [infer H, ...infer T] ? FromSchema<H, M> & IntersectionOf<T, M> : unknown;

/**
 * The TypeScript type a JSON Schema describes, for schemas written `as const` (or inline in a
 * route): objects with `properties`/`required` (only declared properties are typed), arrays with
 * `items`, `enum`, `const`, primitive and nullable types, `anyOf`/`oneOf` (a union), `allOf` (an
 * intersection), and `$ref`s to the shared schemas of {@link CarafeSchemas}. Anything else becomes
 * `unknown`. `M = 'in'` also accepts a `Date` for a `date-time` string (its JSON form fits).
 */
export type FromSchema<S, M extends Mode = 'out'> = S extends { $ref: infer R extends string }
  ? RefOf<R, M>
  : S extends { const: infer C }
    ? C
    : S extends { enum: readonly (infer E)[] }
      ? E
      : S extends { anyOf: infer L extends readonly unknown[] }
        ? UnionOf<L, M>
        : S extends { oneOf: infer L extends readonly unknown[] }
          ? UnionOf<L, M>
          : S extends { allOf: infer L extends readonly unknown[] }
            ? IntersectionOf<L, M>
            : S extends { type: readonly (infer T)[] }
              ? FromSchema<Omit<S, 'type'> & { type: T }, M>
              : S extends { type: 'object' }
                ? ObjectOf<S, M>
                : S extends { type: 'array'; items: infer I }
                  ? FromSchema<I, M>[]
                  : S extends { type: 'array' }
                    ? unknown[]
                    : S extends { type: infer T }
                      ? Primitive<T, S, M>
                      : unknown;

/** The type of one schema part: a Standard Schema's output (or input, for `'in'`), else {@link FromSchema}. */
export type Infer<P, M extends Mode = 'out'> = P extends StandardSchemaV1
  ? M extends 'in'
    ? StandardSchemaV1.InferInput<P>
    : StandardSchemaV1.InferOutput<P>
  : FromSchema<P, M>;

/** Picks the declared schema part, or the fallback when it is absent. */
export type SchemaPart<S, K extends string, Fallback> = S extends { [P in K]: infer X } ? Infer<X> : Fallback;

// ---- responses ----

type Digit = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
type ToNumber<T> = T extends `${infer N extends number}` ? N : never;
/** Every status code 100–599, as number literals. */
export type StatusCode = ToNumber<`${1 | 2 | 3 | 4 | 5}${Digit}${Digit}`>;
type StatusesOfKey<K> = K extends number
  ? K
  : K extends `${infer N extends number}`
    ? N
    : K extends `${infer C extends 1 | 2 | 3 | 4 | 5}XX`
      ? ToNumber<`${C}${Digit}${Digit}`>
      : never;

/** The statuses a `response` object covers with an exact key or a class (`2XX`); `default` covers the rest. */
type Explicit<R> = StatusesOfKey<Exclude<keyof R, 'default'>>;

/** The response schema that applies to `N` (exact, class, default), as OpenAPI and the dispatcher pick it. */
type SchemaFor<R, N extends number> = N extends keyof R
  ? R[N]
  : `${N}` extends `${infer C extends 1 | 2 | 3 | 4 | 5}${Digit}${Digit}`
    ? `${C}XX` extends keyof R
      ? R[`${C}XX`]
      : R extends { default: infer D }
        ? D
        : never
    : never;

/** A `json()` answer whose value fits the schema its status picks, for each status the schemas cover. */
type JsonReplies<R> = {
  [N in R extends { default: unknown } ? StatusCode : Explicit<R>]: JsonResponse<Infer<SchemaFor<R, N>, 'in'>, N>;
}[R extends { default: unknown } ? StatusCode : Explicit<R>];

/** Any `Response` but an unchecked `json()` one (text, html, redirect, file, stream, `new Response`). */
type OtherResponse = Response & { readonly '~json'?: never };

/** What a plain value (sent with status 200) must be: the 200 schema's type, or anything when no schema covers 200. */
type PlainReply<R> = [SchemaFor<R, 200>] extends [never]
  ? string | number | boolean | Uint8Array | (object & { readonly '~json'?: never })
  : Infer<SchemaFor<R, 200>, 'in'>;

/**
 * What a handler of a route with response schemas `R` may return: a plain value that fits the 200
 * schema, `json(value, { status })` with a value that fits that status's schema (statuses no
 * schema covers: any value), a response of another kind, or nothing (204).
 */
export type Reply<R> =
  | PlainReply<R>
  | JsonReplies<R>
  | JsonResponse<unknown, Exclude<StatusCode, R extends { default: unknown } ? StatusCode : Explicit<R>>>
  | OtherResponse
  | null
  | undefined
  | void;

/** A handler's return type for schema `S`: {@link Reply} (or a promise of it) when `S` declares responses, else anything. */
export type HandlerResult<S> = S extends { response: infer R } ? Reply<R> | Promise<Reply<R>> : unknown;

// ---- params schemas against the path ----

/** The property names a params schema declares. */
type ParamsKeys<P> = P extends StandardSchemaV1
  ? keyof StandardSchemaV1.InferOutput<P>
  : P extends { properties: infer Props }
    ? keyof Props
    : never;

/**
 * `{}` when every param of the schema is a param of `Path`, else a type that makes the schema's
 * extra property an error naming it (`'"idd" is not a parameter of the path'`).
 */
export type CheckParams<Path extends string, S> = string extends Path
  ? unknown
  : S extends { params: infer P }
    ? [Exclude<ParamsKeys<P>, keyof ParamsOf<Path>>] extends [never]
      ? unknown
      : P extends StandardSchemaV1
        ? { schema: { params: `${Exclude<ParamsKeys<P>, keyof ParamsOf<Path>> & string} is not a parameter of ${Path}` } }
        : {
            schema: {
              params: {
                properties: { [K in Exclude<ParamsKeys<P>, keyof ParamsOf<Path>> & string]: `"${K}" is not a parameter of ${Path}` };
              };
            };
          }
    : unknown;

/** The path of a route under a prefix, for typing its params (`/orgs/:org` + `/repos/:repo`). */
export type JoinPath<Prefix extends string, Path extends string> = string extends Prefix ? Path : `${Prefix}${Path}`;

// ---- route names for urlFor ----

/**
 * The route names `urlFor` accepts, with their params. Empty by default (any name is accepted);
 * declare your routes by declaration merging and misspelt names and missing params fail `tsc`:
 *
 * ```ts
 * declare module '@carafe/core' {
 *   interface CarafeRoutes {
 *     'users.detail': { id: string };   // or ParamsOf<'/api/users/:id'>
 *     health: {};
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface CarafeRoutes {}

/** A route name `urlFor` accepts: any string until {@link CarafeRoutes} is filled, then its names (and `.relative` ones). */
export type RouteName = [keyof CarafeRoutes] extends [never] ? string : (keyof CarafeRoutes & string) | `.${string}`;

/** The params `urlFor(name, params)` takes: those declared in {@link CarafeRoutes} (extra ones go to the query string). */
export type RouteParams<N extends string> = N extends keyof CarafeRoutes
  ? CarafeRoutes[N] & Record<string, unknown>
  : Record<string, unknown>;

/** The arguments of `urlFor` after the name: `[params?, options?]`, params required when the route declares required ones. */
export type UrlForArgs<N extends string, Options> =
  {} extends RouteParams<N> ? [params?: RouteParams<N>, options?: Options] : [params: RouteParams<N>, options?: Options];
