/**
 * The router (its code lives in route-tree.ts, with the segment tree it walks, so that a lookup
 * stays in one file): every pattern goes into a segment tree (see route-tree.ts), compiled once when it
 * is added; a lookup walks the request path's segments, so its cost does not grow with the number
 * of routes. Priority, segment by segment: static text, then a segment with text around params,
 * then a `:param`, then a `*wildcard`; patterns that tie keep their registration order, except that
 * a typed pattern (one whose target checks its params, like a Werkzeug converter) goes first.
 *
 * What happens when nothing matches follows Werkzeug: a path that only its trailing-slash form
 * answers for the method redirects there; a path with empty segments (`//`) redirects to its
 * merged form when that matches; then 405 if the path exists for other methods, else 404.
 */

export { Router, type Match, type ParamsCheck, type RouteParams, type RouterOptions } from './route-tree.js';
