import type { Collection, Db, ObjectId } from 'mongodb';

/** A user as stored. `emailKey` is the lower-cased email: the unique index on it makes emails
 *  unique regardless of case without needing collation support from the server. */
export interface UserDocument {
  _id: ObjectId;
  name: string;
  email: string;
  emailKey: string;
  createdAt: Date;
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
}

export function collections(db: Db): Collections {
  return {
    users: db.collection<UserDocument>('users'),
    todos: db.collection<TodoDocument>('todos'),
  };
}

/**
 * Creates the indexes the API relies on; idempotent, so every worker may run it at start-up.
 * Unique `emailKey` is what makes concurrent sign-ups with one email yield exactly one user.
 */
export async function ensureIndexes({ users, todos }: Collections): Promise<void> {
  await users.createIndex({ emailKey: 1 }, { unique: true, name: 'users_email_unique' });
  await todos.createIndex({ userId: 1, _id: 1 }, { name: 'todos_by_user' });
}
