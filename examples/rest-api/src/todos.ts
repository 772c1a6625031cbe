import type { DocumentedMiddleware } from '@carafe/middleware';
import { Blueprint, json, NotFound } from '@carafe/core';
import type { Database } from './db.js';
import { createTodo, deleteTodo, findTodo, listTodos, parseId, updateTodo } from './repository/index.js';
import { idParams, newTodo, pageOf, todo, todoChanges, todoListQuery } from './schemas.js';

const noUser = (id: string) => new NotFound(`There is no user ${id}.`);
const noTodo = (id: string) => new NotFound(`There is no todo ${id}.`);

/** A user's todos under `/api/users/{id}/todos`, and each todo under `/api/todos/{id}`. */
export function todosBlueprint(db: Database, writeAuth: readonly DocumentedMiddleware[] = []): Blueprint {
  const todos = new Blueprint('todos', { urlPrefix: '/api' });

  todos.post(
    '/users/:id/todos',
    {
      middleware: writeAuth,
      name: 'create',
      summary: 'Add a todo to a user’s list',
      schema: { params: idParams, body: newTodo, response: { 201: todo } },
    },
    async (req) => {
      const created = await db.run((c) => createTodo(c, req.params.id, { title: req.body.title, done: req.body.done }));
      if (!created) throw noUser(req.params.id);
      return json(created, { status: 201, headers: { location: req.urlFor('todos.detail', { id: created.id }) } });
    },
  );

  todos.get(
    '/users/:id/todos',
    {
      name: 'list',
      summary: 'List a user’s todos in id order, a page at a time',
      schema: { params: idParams, query: todoListQuery, response: { 200: pageOf(todo) } },
    },
    async (req) => {
      const { limit = 20, after, done } = req.query;
      const page = await db.run((c) =>
        listTodos(c, req.params.id, { limit, after: after ? (parseId(after) ?? undefined) : undefined, done }),
      );
      if (!page) throw noUser(req.params.id);
      return page;
    },
  );

  todos.get(
    '/todos/:id',
    { name: 'detail', summary: 'Read a todo', schema: { params: idParams, response: { 200: todo } } },
    async (req) => {
      const found = await db.run((c) => findTodo(c, req.params.id));
      if (!found) throw noTodo(req.params.id);
      return found;
    },
  );

  todos.patch(
    '/todos/:id',
    {
      middleware: writeAuth,
      name: 'update',
      summary: 'Change a todo’s title or mark it done',
      schema: { params: idParams, body: todoChanges, response: { 200: todo } },
    },
    async (req) => {
      const updated = await db.run((c) => updateTodo(c, req.params.id, { title: req.body.title, done: req.body.done }));
      if (!updated) throw noTodo(req.params.id);
      return updated;
    },
  );

  todos.delete(
    '/todos/:id',
    { middleware: writeAuth, name: 'delete', summary: 'Delete a todo', schema: { params: idParams, response: { 204: {} } } },
    async (req) => {
      if (!(await db.run((c) => deleteTodo(c, req.params.id)))) throw noTodo(req.params.id);
      return null;
    },
  );

  return todos;
}
