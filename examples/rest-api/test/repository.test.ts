import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collections,
  createTodo,
  createUser,
  deleteTodo,
  deleteUser,
  EmailTakenError,
  ensureIndexes,
  findTodo,
  findUser,
  listTodos,
  listUsers,
  parseId,
  updateTodo,
  updateUser,
  type Collections,
} from '../src/repository/index.js';
import { openTestDb } from './support.js';

let handle: { client: MongoClient; db: Db; drop(): Promise<void> };
let c: Collections;

beforeAll(async () => {
  handle = await openTestDb('repository');
  c = collections(handle.db);
  await ensureIndexes(c);
  await ensureIndexes(c); // idempotent: every worker runs it at start-up
});
afterAll(async () => {
  await handle?.drop();
});

describe('parseId', () => {
  it('accepts exactly 24 hex digits', () => {
    expect(parseId('65a1f0c2e4b0a1b2c3d4e5f6')?.toHexString()).toBe('65a1f0c2e4b0a1b2c3d4e5f6');
    expect(parseId('65A1F0C2E4B0A1B2C3D4E5F6')?.toHexString()).toBe('65a1f0c2e4b0a1b2c3d4e5f6');
    for (const bad of ['', 'abc', '123456789012', '65a1f0c2e4b0a1b2c3d4e5fz', '65a1f0c2e4b0a1b2c3d4e5f6a']) {
      expect(parseId(bad)).toBeNull();
    }
  });
});

describe('users', () => {
  it('creates, finds, updates and deletes a user', async () => {
    const user = await createUser(c, { name: 'Ada', email: 'ada@example.com' });
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      name: 'Ada',
      email: 'ada@example.com',
      createdAt: expect.any(String),
    });
    expect(new Date(user.createdAt).toISOString()).toBe(user.createdAt);
    expect(await findUser(c, user.id)).toEqual(user);

    const renamed = await updateUser(c, user.id, { name: 'Ada L.' });
    expect(renamed).toEqual({ ...user, name: 'Ada L.' });
    expect(await updateUser(c, user.id, {})).toEqual(renamed);

    expect(await deleteUser(c, user.id)).toBe(true);
    expect(await findUser(c, user.id)).toBeNull();
    expect(await deleteUser(c, user.id)).toBe(false);
  });

  it('treats unknown and malformed ids as absent', async () => {
    for (const id of ['000000000000000000000000', 'not-an-id', '{"$gt":""}']) {
      expect(await findUser(c, id)).toBeNull();
      expect(await updateUser(c, id, { name: 'x' })).toBeNull();
      expect(await deleteUser(c, id)).toBe(false);
    }
  });

  it('keeps emails unique regardless of letter case, on create and on update', async () => {
    await createUser(c, { name: 'Grace', email: 'grace@example.com' });
    await expect(createUser(c, { name: 'Other', email: 'GRACE@Example.COM' })).rejects.toBeInstanceOf(EmailTakenError);
    const other = await createUser(c, { name: 'Other', email: 'other@example.com' });
    await expect(updateUser(c, other.id, { email: 'Grace@example.com' })).rejects.toBeInstanceOf(EmailTakenError);
    // Changing one's own email's case is not a conflict.
    expect((await updateUser(c, other.id, { email: 'Other@Example.com' }))?.email).toBe('Other@Example.com');
    expect(await handle.db.collection('users').countDocuments({ emailKey: 'grace@example.com' })).toBe(1);
  });

  it('lets exactly one of many concurrent sign-ups with one email through', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => createUser(c, { name: `Racer ${i}`, email: i % 2 ? 'race@example.com' : 'RACE@example.com' })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(EmailTakenError);
    expect(await handle.db.collection('users').countDocuments({ emailKey: 'race@example.com' })).toBe(1);
  });

  it('pages through users in id order and filters by email', async () => {
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await createUser(c, { name: `Page ${i}`, email: `page${i}@paging.test` }));
    const all = [];
    let after: string | null | undefined;
    let pages = 0;
    do {
      const page = await listUsers(c, { limit: 3, after: after ? (parseId(after) ?? undefined) : undefined });
      all.push(...page.items);
      after = page.next;
      pages++;
    } while (after && pages < 100);
    const ids = all.map((u) => u.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(created.map((u) => u.id)));
    expect(new Set(ids).size).toBe(await handle.db.collection('users').countDocuments());

    const exact = await listUsers(c, { limit: 20, email: 'PAGE3@paging.test' });
    expect(exact).toEqual({ items: [created[3]], next: null });
  });

  it('gives next = null exactly on the last page', async () => {
    const total = await handle.db.collection('users').countDocuments();
    const full = await listUsers(c, { limit: total });
    expect(full.items).toHaveLength(total);
    expect(full.next).toBeNull();
    const short = await listUsers(c, { limit: total - 1 });
    expect(short.next).toBe(short.items[total - 2]?.id);
  });
});

describe('todos', () => {
  it("manages a user's todos and deletes them with the user", async () => {
    const owner = await createUser(c, { name: 'Linus', email: 'linus@example.com' });
    const first = await createTodo(c, owner.id, { title: 'write tests' });
    expect(first).toMatchObject({ userId: owner.id, title: 'write tests', done: false });
    const second = await createTodo(c, owner.id, { title: 'ship', done: true });
    expect(second?.done).toBe(true);
    expect(await createTodo(c, '000000000000000000000000', { title: 'orphan' })).toBeNull();

    expect((await listTodos(c, owner.id, { limit: 10 }))?.items.map((t) => t.title)).toEqual(['write tests', 'ship']);
    expect((await listTodos(c, owner.id, { limit: 10, done: true }))?.items.map((t) => t.title)).toEqual(['ship']);
    expect((await listTodos(c, owner.id, { limit: 1 }))?.next).toBe(first?.id);
    expect(await listTodos(c, 'nope', { limit: 10 })).toBeNull();

    const updated = await updateTodo(c, first!.id, { done: true, title: 'write more tests' });
    expect(updated).toEqual({ ...first, done: true, title: 'write more tests' });
    expect(await findTodo(c, first!.id)).toEqual(updated);
    expect(await updateTodo(c, 'bad', { done: true })).toBeNull();

    expect(await deleteTodo(c, first!.id)).toBe(true);
    expect(await deleteTodo(c, first!.id)).toBe(false);

    expect(await deleteUser(c, owner.id)).toBe(true);
    expect(await handle.db.collection('todos').countDocuments({ userId: parseId(owner.id) })).toBe(0);
  });
});
