import type { DocumentedMiddleware } from '@carafe/middleware';
import { Blueprint, Conflict, json, NotFound, problem } from '@carafe/core';
import type { Database } from './db.js';

import { createUser, deleteUser, EmailTakenError, findUser, listUsers, parseId, updateUser } from './repository/index.js';
import { idParams, newUser, pageOf, user, userChanges, userListQuery } from './schemas.js';

const notFound = (id: string) => new NotFound(`There is no user ${id}.`);

/** `/api/users`: create, list, read, change and delete users. */
export function usersBlueprint(db: Database, writeAuth: readonly DocumentedMiddleware[] = []): Blueprint {
  const users = new Blueprint('users', { urlPrefix: '/api/users' });

  // The unique index on the lower-cased email decided it: someone has this address already.
  users.errorHandler(EmailTakenError, (error: EmailTakenError, req) =>
    problem(new Conflict(`A user with the email ${error.email} already exists.`), req),
  );

  users.post(
    '',
    {
      middleware: writeAuth,
      name: 'create',
      summary: 'Create a user',
      schema: { body: newUser, response: { 201: user } },
    },
    async (req) => {
      const created = await db.run((c) => createUser(c, { name: req.body.name, email: req.body.email }));
      return json(created, { status: 201, headers: { location: req.urlFor('users.detail', { id: created.id }) } });
    },
  );

  users.get(
    '',
    {
      name: 'list',
      summary: 'List users in id order, a page at a time',
      schema: { query: userListQuery, response: { 200: pageOf(user) } },
    },
    async (req) => {
      const { limit = 20, after, email } = req.query;
      return db.run((c) => listUsers(c, { limit, after: after ? (parseId(after) ?? undefined) : undefined, email }));
    },
  );

  users.get('/:id', { name: 'detail', summary: 'Read a user', schema: { params: idParams, response: { 200: user } } }, async (req) => {
    const found = await db.run((c) => findUser(c, req.params.id));
    if (!found) throw notFound(req.params.id);
    return found;
  });

  users.patch(
    '/:id',
    {
      middleware: writeAuth,
      name: 'update',
      summary: 'Change a user’s name or email',
      schema: { params: idParams, body: userChanges, response: { 200: user } },
    },
    async (req) => {
      const changes = { name: req.body.name, email: req.body.email };
      const updated = await db.run((c) => updateUser(c, req.params.id, changes));
      if (!updated) throw notFound(req.params.id);
      return updated;
    },
  );

  users.delete(
    '/:id',
    {
      middleware: writeAuth,
      name: 'delete',
      summary: 'Delete a user and their todos',
      schema: { params: idParams, response: { 204: {} } },
    },
    async (req) => {
      if (!(await db.run((c) => deleteUser(c, req.params.id)))) throw notFound(req.params.id);
      return null;
    },
  );

  return users;
}
