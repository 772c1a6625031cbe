import type { Filter, WithId } from 'mongodb';
import { ObjectId } from 'mongodb';
import type { Collections, UserDocument } from './collections.js';
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

export async function findUser({ users }: Collections, id: string): Promise<User | null> {
  const _id = parseId(id);
  const doc = _id && (await users.findOne({ _id }));
  return doc ? toUser(doc) : null;
}

export interface UserQuery extends PageRequest {
  /** Only the user with this email (compared like uniqueness: case-insensitively). */
  email?: string | undefined;
}

export function listUsers({ users }: Collections, { email, ...page }: UserQuery): Promise<Page<User>> {
  const filter: Filter<UserDocument> = email === undefined ? {} : { emailKey: emailKey(email) };
  return readPage(users, filter, page, toUser);
}

/** Applies the given changes; `null` when there is no such user; `EmailTakenError` on a taken email. */
export async function updateUser({ users }: Collections, id: string, changes: UserChanges): Promise<User | null> {
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
        ? await users.findOne({ _id })
        : await users.findOneAndUpdate({ _id }, { $set: set }, { returnDocument: 'after' });
    return doc ? toUser(doc) : null;
  } catch (error) {
    if (isDuplicateKey(error) && changes.email !== undefined) throw new EmailTakenError(changes.email);
    throw error;
  }
}

/** Deletes a user and their todos; `false` when there was no such user. */
export async function deleteUser({ users, todos }: Collections, id: string): Promise<boolean> {
  const _id = parseId(id);
  if (!_id) return false;
  const { deletedCount } = await users.deleteOne({ _id });
  if (deletedCount === 0) return false;
  await todos.deleteMany({ userId: _id });
  return true;
}
