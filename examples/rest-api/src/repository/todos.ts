import type { Filter, WithId } from 'mongodb';
import { ObjectId } from 'mongodb';
import type { Collections, TodoDocument } from './collections.js';
import { parseId } from './ids.js';
import { readPage, type Page, type PageRequest } from './pagination.js';

/** A todo as the API shows it. */
export interface Todo {
  id: string;
  userId: string;
  title: string;
  done: boolean;
  createdAt: string;
}

export interface NewTodo {
  title: string;
  done?: boolean | undefined;
}

export type TodoChanges = Partial<{ title: string; done: boolean }>;

function toTodo(doc: WithId<TodoDocument>): Todo {
  return {
    id: doc._id.toHexString(),
    userId: doc.userId.toHexString(),
    title: doc.title,
    done: doc.done,
    createdAt: doc.createdAt.toISOString(),
  };
}

/** Adds a todo to a user's list; `null` when there is no such user. */
export async function createTodo({ users, todos }: Collections, userId: string, input: NewTodo): Promise<Todo | null> {
  const owner = parseId(userId);
  if (!owner || !(await users.findOne({ _id: owner }, { projection: { _id: 1 } }))) return null;
  const doc: TodoDocument = {
    _id: new ObjectId(),
    userId: owner,
    title: input.title,
    done: input.done ?? false,
    createdAt: new Date(),
  };
  await todos.insertOne(doc);
  return toTodo(doc);
}

export interface TodoQuery extends PageRequest {
  done?: boolean | undefined;
}

/** One page of a user's todos; `null` when there is no such user. */
export async function listTodos(
  { users, todos }: Collections,
  userId: string,
  { done, ...page }: TodoQuery,
): Promise<Page<Todo> | null> {
  const owner = parseId(userId);
  if (!owner || !(await users.findOne({ _id: owner }, { projection: { _id: 1 } }))) return null;
  const filter: Filter<TodoDocument> = done === undefined ? { userId: owner } : { userId: owner, done };
  return readPage(todos, filter, page, toTodo);
}

export async function findTodo({ todos }: Collections, id: string): Promise<Todo | null> {
  const _id = parseId(id);
  const doc = _id && (await todos.findOne({ _id }));
  return doc ? toTodo(doc) : null;
}

/** Applies the given changes; `null` when there is no such todo. */
export async function updateTodo({ todos }: Collections, id: string, changes: TodoChanges): Promise<Todo | null> {
  const _id = parseId(id);
  if (!_id) return null;
  const set: Partial<TodoDocument> = {};
  if (changes.title !== undefined) set.title = changes.title;
  if (changes.done !== undefined) set.done = changes.done;
  // An empty `$set` is an error in MongoDB; no change is just a read.
  const doc =
    Object.keys(set).length === 0
      ? await todos.findOne({ _id })
      : await todos.findOneAndUpdate({ _id }, { $set: set }, { returnDocument: 'after' });
  return doc ? toTodo(doc) : null;
}

/** `false` when there was no such todo. */
export async function deleteTodo({ todos }: Collections, id: string): Promise<boolean> {
  const _id = parseId(id);
  if (!_id) return false;
  const { deletedCount } = await todos.deleteOne({ _id });
  return deletedCount > 0;
}
