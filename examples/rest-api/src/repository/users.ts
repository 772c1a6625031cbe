import type { Filter, WithId } from 'mongodb';
import { ObjectId } from 'mongodb';
import { LIVE_USER, readOptions, type Collections, type UserDocument } from './collections.js';
import { EmailTakenError, isDuplicateKey } from './errors.js';
import { parseId } from './ids.js';
import { readPage, type Page, type PageRequest } from './pagination.js';

/** A user as the API shows it. */
export interface User {
  id: string;
  name: string;
  email: string;
  createdAt: string;
}

export interface NewUser {
  name: string;
  email: string;
}

export type UserChanges = Partial<NewUser>;

const emailKey = (email: string): string => email.toLowerCase();

function toUser(doc: WithId<UserDocument>): User {
  return { id: doc._id.toHexString(), name: doc.name, email: doc.email, createdAt: doc.createdAt.toISOString() };
}

/** Inserts a user; throws `EmailTakenError` when the email is taken (in any letter case). */
export async function createUser({ users }: Collections, input: NewUser): Promise<User> {
  const doc: UserDocument = {
    _id: new ObjectId(),
    name: input.name,
    email: input.email,
    emailKey: emailKey(input.email),
    createdAt: new Date(),
  };
  try {
    await users.insertOne(doc);
  } catch (error) {
    if (isDuplicateKey(error)) throw new EmailTakenError(input.email);
    throw error;
  }
  return toUser(doc);
}

export async function findUser(c: Collections, id: string): Promise<User | null> {
  const _id = parseId(id);
  const doc = _id && (await c.users.findOne({ _id, ...LIVE_USER }, readOptions(c)));
  return doc ? toUser(doc) : null;
}

export interface UserQuery extends PageRequest {
  /** Only the user with this email (compared like uniqueness: case-insensitively). */
  email?: string | undefined;
}

export function listUsers(c: Collections, { email, ...page }: UserQuery): Promise<Page<User>> {
  const filter: Filter<UserDocument> = email === undefined ? { ...LIVE_USER } : { ...LIVE_USER, emailKey: emailKey(email) };
  return readPage(c.users, filter, page, toUser, readOptions(c));
}

/** Applies the given changes; `null` when there is no such user; `EmailTakenError` on a taken email. */
export async function updateUser(c: Collections, id: string, changes: UserChanges): Promise<User | null> {
  const _id = parseId(id);
  if (!_id) return null;
  const set: Partial<UserDocument> = {};
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.email !== undefined) {
    set.email = changes.email;
    set.emailKey = emailKey(changes.email);
  }
  try {
    // An empty `$set` is an error in MongoDB; no change is just a read.
    const doc =
      Object.keys(set).length === 0
        ? await c.users.findOne({ _id, ...LIVE_USER }, readOptions(c))
        : await c.users.findOneAndUpdate({ _id, ...LIVE_USER }, { $set: set }, { returnDocument: 'after', ...readOptions(c) });
    return doc ? toUser(doc) : null;
  } catch (error) {
    if (isDuplicateKey(error) && changes.email !== undefined) throw new EmailTakenError(changes.email);
    throw error;
  }
}

/**
 * Deletes a user and their todos; `false` when there was no such user.
 *
 * In three steps, each a single-document or single-statement write (FerretDB 1.24 has no
 * multi-document transactions):
 *   1. the tombstone (`deletingAt`): from here on the user is gone for the API, and `createTodo`
 *      refuses — or takes back — any todo for them;
 *   2. the cascade: every todo of the user;
 *   3. the user document itself.
 * A delete interrupted after step 1 (a crash, a lost connection) leaves a tombstoned user that
 * nobody can see: asking again finishes it (204, not 404), and so does `finishInterruptedDeletes`
 * when a worker starts.
 */
export async function deleteUser(c: Collections, id: string): Promise<boolean> {
  const _id = parseId(id);
  if (!_id) return false;
  const { matchedCount } = await c.users.updateOne({ _id, ...LIVE_USER }, { $set: { deletingAt: new Date() } });
  // Not live: no such user at all (404), or a deletion that began before and may not have finished.
  if (matchedCount === 0 && !(await c.users.findOne({ _id }, { projection: { _id: 1 }, ...readOptions(c) }))) return false;
  await cascade(c, _id);
  return true;
}

async function cascade({ users, todos }: Collections, _id: ObjectId): Promise<void> {
  await todos.deleteMany({ userId: _id });
  await users.deleteOne({ _id });
}

/**
 * Finishes deletions that began more than `olderThanMs` ago and never completed (their request
 * died between the tombstone and the end of the cascade). Idempotent; every worker runs it at
 * start-up. Returns how many it finished.
 */
export async function finishInterruptedDeletes(c: Collections, olderThanMs = 60_000): Promise<number> {
  const stale = await c.users
    .find({ deletingAt: { $lte: new Date(Date.now() - olderThanMs) } }, { projection: { _id: 1 }, ...readOptions(c) })
    .limit(1000)
    .toArray();
  for (const { _id } of stale) await cascade(c, _id);
  return stale.length;
}
