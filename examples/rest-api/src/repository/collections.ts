import type { Collection, Db, ObjectId } from 'mongodb';

/** A user as stored. `emailKey` is the lower-cased email: the unique index on it makes emails
 *  unique regardless of case without needing collation support from the server. */
export interface UserDocument {
  _id: ObjectId;
  name: string;
  email: string;
  emailKey: string;
  createdAt: Date;
  /**
   * The tombstone: set when the user's deletion begins, before their todos are removed. A user
   * with a tombstone no longer exists for the API (reads answer 404, no todo can be added), and
   * the document itself goes once the todos are gone. See `deleteUser` and `createTodo`.
   */
  deletingAt?: Date;
}

/** A todo as stored; `userId` is the owner's `_id`. */
export interface TodoDocument {
  _id: ObjectId;
  userId: ObjectId;
  title: string;
  done: boolean;
  createdAt: Date;
}

export interface Collections {
  users: Collection<UserDocument>;
  todos: Collection<TodoDocument>;
  /**
   * A server-side limit (`maxTimeMS`) for each read, so the server stops working on a query whose
   * client has given up (the request's own budget, see `src/db.ts`). Unset: no limit.
   */
  maxTimeMS?: number | undefined;
}

export function collections(db: Db, options: { maxTimeMS?: number | undefined } = {}): Collections {
  return {
    users: db.collection<UserDocument>('users'),
    todos: db.collection<TodoDocument>('todos'),
    maxTimeMS: options.maxTimeMS,
  };
}

/** Options for a read: the server-side time limit when one is set. */
export function readOptions({ maxTimeMS }: Collections): { maxTimeMS?: number } {
  return maxTimeMS ? { maxTimeMS } : {};
}

/** The filter that leaves out users whose deletion has begun (see `UserDocument.deletingAt`). */
export const LIVE_USER = { deletingAt: { $exists: false } } as const;

/**
 * Creates the indexes the API relies on; idempotent, so every worker may run it at start-up.
 * Unique `emailKey` is what makes concurrent sign-ups with one email yield exactly one user.
 */
export async function ensureIndexes({ users, todos }: Collections): Promise<void> {
  await users.createIndex({ emailKey: 1 }, { unique: true, name: 'users_email_unique' });
  await todos.createIndex({ userId: 1, _id: 1 }, { name: 'todos_by_user' });
}
