/**
 * The API's JSON Schemas, written `as const` so handlers get typed, validated values.
 * Bodies allow no other fields (`additionalProperties: false`) and only plain strings and
 * booleans, so a body like `{"email": {"$gt": ""}}` is a 400 long before any query is built.
 */

const id = { type: 'string', description: 'An ObjectId as 24 hex digits.', examples: ['665f1c2ab4d1e2f3a4b5c6d7'] } as const;
const createdAt = { type: 'string', format: 'date-time' } as const;
const name = { type: 'string', minLength: 1, maxLength: 100 } as const;
const email = { type: 'string', format: 'email', maxLength: 254 } as const;
const title = { type: 'string', minLength: 1, maxLength: 200 } as const;

export const idParams = {
  type: 'object',
  properties: { id },
  required: ['id'],
} as const;

const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  after: { type: 'string', pattern: '^[0-9a-fA-F]{24}$', description: 'The `next` cursor of the previous page.' },
} as const;

// Unknown query parameters are refused too: a typo like `?limt=5` (or `?email[$gt]=`) is a 400, not ignored.
export const userListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...pageQuery, email: { ...email, description: 'Only the user with this email (case-insensitive).' } },
} as const;

export const todoListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...pageQuery, done: { type: 'boolean' } },
} as const;

export const newUser = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'email'],
  properties: { name, email },
} as const;

export const userChanges = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { name, email },
} as const;

export const newTodo = {
  type: 'object',
  additionalProperties: false,
  required: ['title'],
  properties: { title, done: { type: 'boolean', default: false } },
} as const;

export const todoChanges = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { title, done: { type: 'boolean' } },
} as const;

export const user = {
  type: 'object',
  required: ['id', 'name', 'email', 'createdAt'],
  properties: { id, name, email, createdAt },
} as const;

export const todo = {
  type: 'object',
  required: ['id', 'userId', 'title', 'done', 'createdAt'],
  properties: { id, userId: id, title, done: { type: 'boolean' }, createdAt },
} as const;

/** A page of `items`; `next` is the cursor for the following page, `null` on the last one. */
export const pageOf = <const T extends object>(item: T) =>
  ({
    type: 'object',
    required: ['items', 'next'],
    properties: { items: { type: 'array', items: item }, next: { type: ['string', 'null'] } },
  }) as const;
