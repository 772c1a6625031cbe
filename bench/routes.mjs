// The one source of what every benchmark server serves: the three basic routes, the
// realistic REST route table of the many-routes scenario, and the POST body. Every
// framework registers exactly these, so no server gets an easier table than another.

/** Route shapes of one REST resource, in registration order. Ten per resource. */
const SHAPES = [
  ['GET', ''],
  ['POST', ''],
  ['GET', '/:id'],
  ['PUT', '/:id'],
  ['PATCH', '/:id'],
  ['DELETE', '/:id'],
  ['GET', '/:id/items'],
  ['POST', '/:id/items'],
  ['DELETE', '/:id/items/:itemId'],
  // Last on purpose: the scenario requests the last dynamic route registered.
  ['GET', '/:id/items/:itemId'],
];

const NOUNS = [
  'users',
  'orders',
  'products',
  'invoices',
  'payments',
  'customers',
  'carts',
  'reviews',
  'categories',
  'shipments',
  'coupons',
  'stores',
  'employees',
  'tickets',
  'projects',
  'tasks',
  'comments',
  'files',
  'teams',
  'webhooks',
];

/**
 * Resource names: realistic nouns, versioned so that 100 resources stay distinct
 * (`/api/v1/users` … `/api/v5/webhooks`). Prefixes are shared between resources,
 * as in a real API, so a router cannot win by dispatching on the first character.
 */
function resourceName(index) {
  const noun = NOUNS[index % NOUNS.length];
  const version = Math.floor(index / NOUNS.length) + 1;
  return `/api/v${version}/${noun}`;
}

/**
 * The REST route table with `count` routes (a multiple of 10): `count / 10` resources
 * × {list, create, get, put, patch, delete, list items, create item, delete item, get item}.
 * Paths use the `:name` parameter syntax that every framework here accepts
 * (Flask's converter syntax is derived from it in bench/flask/app.py).
 * @returns {Array<{method: string, path: string}>}
 */
export function restRoutes(count) {
  if (!Number.isInteger(count) || count < SHAPES.length || count % SHAPES.length !== 0) {
    throw new RangeError(`route count must be a positive multiple of ${SHAPES.length}, got ${count}`);
  }
  const routes = [];
  for (let r = 0; r < count / SHAPES.length; r++) {
    const base = resourceName(r);
    for (const [method, suffix] of SHAPES) routes.push({ method, path: base + suffix });
  }
  return routes;
}

/** The concrete URL path the many-routes scenario requests: the last dynamic route, filled in. */
export function lastDynamicPath(count) {
  const routes = restRoutes(count);
  const last = routes[routes.length - 1];
  return last.path.replace(':id', '42').replace(':itemId', '7');
}

/** What every server answers for a REST route: the route's parameters as JSON. */
export function restResponse(params) {
  return { id: params.id, itemId: params.itemId };
}

/** `ROUTES` mode of a server process (10 or 1000 REST routes besides the three basic ones). */
export function routeCountFromEnv(env = process.env) {
  const count = Number(env.ROUTES ?? 10);
  restRoutes(count); // validates
  return count;
}

/** The JSON body of `POST /echo`: a realistic order document of about 1 KB. */
export const ECHO_BODY = Object.freeze({
  id: 'ord_8f14e45fceea167a5a36dedd4bea2543',
  status: 'paid',
  createdAt: '2025-01-15T09:30:00.000Z',
  customer: {
    id: 'cus_42',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    address: { street: '12 Analytical Row', city: 'London', postcode: 'EC1A 1BB', country: 'GB' },
  },
  items: [
    { sku: 'CAR-001', name: 'Glass carafe, 1 l', quantity: 2, unitPrice: 24.5 },
    { sku: 'CAR-014', name: 'Cork stopper', quantity: 2, unitPrice: 3.9 },
    { sku: 'TUM-220', name: 'Tumbler, set of 4', quantity: 1, unitPrice: 18 },
    { sku: 'NAP-003', name: 'Linen napkins, set of 6', quantity: 1, unitPrice: 21.75 },
    { sku: 'TRY-101', name: 'Oak serving tray', quantity: 1, unitPrice: 39 },
  ],
  shipping: { method: 'standard', price: 4.95, trackingNumber: null },
  totals: { subtotal: 135.55, tax: 27.11, total: 167.61, currency: 'EUR' },
  tags: ['gift', 'fragile', 'priority-customer'],
  notes:
    'Please wrap the carafes separately. Leave the parcel with the neighbour at number 14 if nobody answers. Thanks for the quick delivery last time!',
});

/** `ECHO_BODY` serialized, as sent on the wire. */
export const ECHO_JSON = JSON.stringify(ECHO_BODY);

/**
 * The JSON schemas of the responses, for frameworks whose documented fastest setup
 * serializes with a schema (Fastify's fast-json-stringify).
 */
export const SCHEMAS = Object.freeze({
  user: {
    type: 'object',
    properties: { id: { type: 'string' }, name: { type: 'string' } },
    required: ['id', 'name'],
  },
  rest: {
    type: 'object',
    properties: { id: { type: 'string' }, itemId: { type: 'string' } },
  },
  echo: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      status: { type: 'string' },
      createdAt: { type: 'string' },
      customer: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          email: { type: 'string' },
          address: {
            type: 'object',
            properties: {
              street: { type: 'string' },
              city: { type: 'string' },
              postcode: { type: 'string' },
              country: { type: 'string' },
            },
          },
        },
      },
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            sku: { type: 'string' },
            name: { type: 'string' },
            quantity: { type: 'integer' },
            unitPrice: { type: 'number' },
          },
        },
      },
      shipping: {
        type: 'object',
        properties: {
          method: { type: 'string' },
          price: { type: 'number' },
          trackingNumber: { type: ['string', 'null'] },
        },
      },
      totals: {
        type: 'object',
        properties: {
          subtotal: { type: 'number' },
          tax: { type: 'number' },
          total: { type: 'number' },
          currency: { type: 'string' },
        },
      },
      tags: { type: 'array', items: { type: 'string' } },
      notes: { type: 'string' },
    },
  },
});

/** The user document of `GET /users/:id`. */
export function userResponse(id) {
  return { id, name: `User ${id}` };
}

export const HELLO = 'Hello, World!';

/** Port and host a server process listens on. */
export function listenAddress(env = process.env) {
  return { port: Number(env.PORT ?? 3000), host: env.HOST ?? '127.0.0.1' };
}
