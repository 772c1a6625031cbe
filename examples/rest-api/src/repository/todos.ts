import type { Filter, WithId } from 'mongodb';
import { ObjectId } from 'mongodb';
import { LIVE_USER, readOptions, type Collections, type TodoDocument } from './collections.js';
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

/** True when the user exists and their deletion has not begun. */
async function isLiveUser(c: Collections, owner: ObjectId): Promise<boolean> {
  return (await c.users.findOne({ _id: owner, ...LIVE_USER }, { projection: { _id: 1 }, ...readOptions(c) })) !== null;
}

/**
 * Adds a todo to a user's list; `null` when there is no such user (or their deletion has begun).
 *
 * Checking the owner before the insert is not enough: `deleteUser` may tombstone the owner and
 * run its cascade between the check and the insert, and the todo would outlive its owner. So the
 * owner is checked again *after* the insert. If the owner is still live then, its tombstone (if
 * any) comes later, and so does the cascade, which removes this todo. If not, the todo is taken
 * back here. Either way no todo outlives its owner. The same compensation runs when the second
 * check fails: the client gets an error, so the todo must not stay either.
 */
export async function createTodo(c: Collections, userId: string, input: NewTodo): Promise<Todo | null> {
  const owner = parseId(userId);
  if (!owner || !(await isLiveUser(c, owner))) return null;
  const doc: TodoDocument = {
    _id: new ObjectId(),
    userId: owner,
    title: input.title,
    done: input.done ?? false,
    createdAt: new Date(),
  };
  await c.todos.insertOne(doc);
  let live: boolean;
  try {
    live = await isLiveUser(c, owner);
  } catch (error) {
    await c.todos.deleteOne({ _id: doc._id }).catch(() => {});
    throw error;
  }
  if (!live) {
    await c.todos.deleteOne({ _id: doc._id });
    return null;
  }
  return toTodo(doc);
}

export interface TodoQuery extends PageRequest {
  done?: boolean | undefined;
}

/** One page of a user's todos; `null` when there is no such user. */
export async function listTodos(c: Collections, userId: string, { done, ...page }: TodoQuery): Promise<Page<Todo> | null> {
  const owner = parseId(userId);
  if (!owner || !(await isLiveUser(c, owner))) return null;
  const filter: Filter<TodoDocument> = done === undefined ? { userId: owner } : { userId: owner, done };
  return readPage(c.todos, filter, page, toTodo, readOptions(c));
}

export async function findTodo(c: Collections, id: string): Promise<Todo | null> {
  const _id = parseId(id);
  const doc = _id && (await c.todos.findOne({ _id }, readOptions(c)));
  return doc ? toTodo(doc) : null;
}

/** Applies the given changes; `null` when there is no such todo. */
export async function updateTodo(c: Collections, id: string, changes: TodoChanges): Promise<Todo | null> {
  const _id = parseId(id);
  if (!_id) return null;
  const set: Partial<TodoDocument> = {};
  if (changes.title !== undefined) set.title = changes.title;
  if (changes.done !== undefined) set.done = changes.done;
  // An empty `$set` is an error in MongoDB; no change is just a read.
  const doc =
    Object.keys(set).length === 0
      ? await c.todos.findOne({ _id }, readOptions(c))
      : await c.todos.findOneAndUpdate({ _id }, { $set: set }, { returnDocument: 'after', ...readOptions(c) });
  return doc ? toTodo(doc) : null;
}

/** `false` when there was no such todo. */
export async function deleteTodo({ todos }: Collections, id: string): Promise<boolean> {
  const _id = parseId(id);
  if (!_id) return false;
  const { deletedCount } = await todos.deleteOne({ _id });
  return deletedCount > 0;
}
