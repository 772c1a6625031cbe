/**
 * Integrity under concurrency: deleting a user while todos are being created for them must leave
 * no todo without a live owner, whatever the interleaving. Each round races one DELETE against a
 * burst of POSTs for the same user through `carafe serve` (2 worker processes, so requests really
 * run in parallel), then the database itself is checked: no orphan todo, no tombstone left over.
 *
 * The same race is also run once with the old algorithm (check-then-insert against
 * delete-then-cascade, straight on the driver) to show the race is real: its orphans are printed.
 */
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort } from '../../../scripts/ferretdb.mjs';
import { startCarafe, type CarafeProcess } from '../../../test/setup/carafe.js';
import {
  collections,
  createTodo,
  createUser,
  deleteUser,
  ensureIndexes,
  finishInterruptedDeletes,
  findTodo,
  findUser,
  listTodos,
  listUsers,
  updateUser,
} from '../src/repository/index.js';
import { mongodbUri, uniqueDbName } from './support.js';

const ROUNDS = 25;
const CREATES_PER_ROUND = 30;
/** The creates start spread over this many ms; the delete fires in the middle. */
const SPREAD_MS = 40;

const dbName = uniqueDbName('integrity');
let server: CarafeProcess;
let base: string;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  const port = (await freePort()) as number;
  server = await startCarafe({
    args: ['examples/rest-api/dist/app.js', '--workers', '2', '--bind', `127.0.0.1:${port}`],
    env: { MONGODB_URI: mongodbUri(), MONGODB_DB: dbName },
    target: { port },
    readyPath: '/readyz',
  });
  base = `http://127.0.0.1:${port}`;
  client = await MongoClient.connect(mongodbUri());
  db = client.db(dbName);
});

afterAll(async () => {
  await server?.stop();
  await db?.dropDatabase().catch(() => {});
  await client?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Todos whose owner is not a live user (missing, or tombstoned), checked on the database itself. */
async function integrity(on: Db): Promise<{ todos: number; orphans: number; tombstones: number }> {
  const live = new Set(
    (
      await on
        .collection('users')
        .find({ deletingAt: { $exists: false } }, { projection: { _id: 1 } })
        .toArray()
    ).map((u) => String(u._id)),
  );
  const todos = await on
    .collection('todos')
    .find({}, { projection: { userId: 1 } })
    .toArray();
  const orphans = todos.filter((t) => !live.has(String(t.userId))).length;
  const tombstones = await on.collection('users').countDocuments({ deletingAt: { $exists: true } });
  return { todos: todos.length, orphans, tombstones };
}

describe('deleting a user while todos are created for them', () => {
  it(`leaves no orphan todo over ${ROUNDS} rounds of racing deletes and creates`, async () => {
    const statuses = new Map<number, number>();
    let created = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const user = await call('POST', '/api/users', { name: `Racer ${round}`, email: `racer${round}@example.com` });
      expect(user.status).toBe(201);
      const creates = Array.from({ length: CREATES_PER_ROUND }, async (_, i) => {
        await sleep((i * SPREAD_MS) / CREATES_PER_ROUND);
        return call('POST', `/api/users/${user.body.id}/todos`, { title: `round ${round} todo ${i}` });
      });
      const deletion = (async () => {
        await sleep(SPREAD_MS / 2 + Math.random() * 10 - 5);
        return call('DELETE', `/api/users/${user.body.id}`);
      })();
      const answers = await Promise.all([...creates, deletion]);
      expect(answers.at(-1)!.status).toBe(204);
      for (const { status } of answers.slice(0, -1)) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      created += answers.slice(0, -1).filter((a) => a.status === 201).length;
      // Whatever the client was told, nothing of this user may remain.
      expect(await db.collection('todos').countDocuments({ userId: ObjectId.createFromHexString(user.body.id) })).toBe(0);
    }
    const after = await integrity(db);
    console.log(
      `integrity race: ${ROUNDS} rounds × (${CREATES_PER_ROUND} creates + 1 delete); creates answered ` +
        `${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}; ${created} todos acknowledged then removed by the cascade; ` +
        `database afterwards: ${after.todos} todos, ${after.orphans} orphans, ${after.tombstones} tombstones`,
    );
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([201, 404]));
    expect([...statuses.keys()].every((s) => s === 201 || s === 404)).toBe(true);
    expect(after).toEqual({ todos: 0, orphans: 0, tombstones: 0 });
  }, 60_000);

  it('shows the race is real: the old check-then-act against delete-then-cascade leaves orphans', async () => {
    const naive = client.db(uniqueDbName('integrity_naive'));
    const users = naive.collection('users');
    const todos = naive.collection('todos');
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const { insertedId: owner } = await users.insertOne({ name: `Naive ${round}` });
        const creates = Array.from({ length: CREATES_PER_ROUND }, async (_, i) => {
          await sleep((i * SPREAD_MS) / CREATES_PER_ROUND);
          if (await users.findOne({ _id: owner })) await todos.insertOne({ userId: owner, title: `todo ${i}` });
        });
        const deletion = (async () => {
          await sleep(SPREAD_MS / 2);
          await users.deleteOne({ _id: owner });
          await todos.deleteMany({ userId: owner });
        })();
        await Promise.all([...creates, deletion]);
      }
      const naiveAfter = await integrity(naive);
      console.log(`integrity race, old algorithm on the same server: ${naiveAfter.orphans} orphans over ${ROUNDS} rounds`);
      expect(naiveAfter.orphans).toBeGreaterThan(0);
    } finally {
      await naive.dropDatabase().catch(() => {});
    }
  }, 60_000);
});

describe('a deletion interrupted after its tombstone', () => {
  it('hides the user, refuses their todos, and is finished by a second DELETE or at start-up', async () => {
    const c = collections(client.db(uniqueDbName('integrity_tombstone')));
    await ensureIndexes(c);
    try {
      for (const finish of ['delete again', 'start-up sweep'] as const) {
        const user = await createUser(c, { name: 'Half Gone', email: `half-${finish.replace(/\W/g, '')}@example.com` });
        const todo = (await createTodo(c, user.id, { title: 'kept until the cascade' }))!;
        // What a crash right after step 1 of deleteUser leaves behind.
        const _id = ObjectId.createFromHexString(user.id);
        await c.users.updateOne({ _id }, { $set: { deletingAt: new Date(Date.now() - 120_000) } });

        expect(await findUser(c, user.id)).toBeNull();
        expect(await updateUser(c, user.id, { name: 'Back?' })).toBeNull();
        expect((await listUsers(c, { limit: 10, email: user.email })).items).toEqual([]);
        expect(await listTodos(c, user.id, { limit: 10 })).toBeNull();
        expect(await createTodo(c, user.id, { title: 'refused' })).toBeNull();
        expect(await c.todos.countDocuments({ userId: _id })).toBe(1);

        if (finish === 'delete again') expect(await deleteUser(c, user.id)).toBe(true);
        else expect(await finishInterruptedDeletes(c)).toBe(1);
        expect(await findTodo(c, todo.id)).toBeNull();
        expect(await c.users.countDocuments({ _id })).toBe(0);
        expect(await deleteUser(c, user.id)).toBe(false);
      }
    } finally {
      await c.users.db.dropDatabase().catch(() => {});
    }
  });
});
