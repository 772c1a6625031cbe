import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type RunningApp } from './support-app.js';

let running: RunningApp;
let api: ReturnType<typeof request>;
beforeAll(async () => {
  running = await startTestApp('api');
  api = request(running.server);
});
afterAll(async () => {
  await running?.close();
});

const HEX_ID = /^[0-9a-f]{24}$/;
const MISSING = '0123456789abcdef01234567';

function expectProblem(res: request.Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
}

/** Fields named by a validation problem's `errors` list. */
const failingFields = (res: request.Response): string[] => (res.body.errors as Array<{ field: string }>).map((e) => e.field);

async function newUser(name: string, email: string) {
  const res = await api.post('/api/users').send({ name, email });
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string; email: string; createdAt: string };
}

describe('users', () => {
  it('creates a user: 201, the user, and its Location', async () => {
    const res = await api.post('/api/users').send({ name: 'Ada Lovelace', email: 'ada@example.com' });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      id: expect.stringMatching(HEX_ID),
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      createdAt: expect.any(String),
    });
    expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    expect(res.headers.location).toBe(`/api/users/${res.body.id}`);
    const fetched = await api.get(res.headers.location!);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(res.body);
  });

  it('refuses a second user with the same email in any letter case: 409', async () => {
    await newUser('First', 'dup@example.com');
    const res = await api.post('/api/users').send({ name: 'Second', email: 'DUP@Example.com' });
    expectProblem(res, 409);
    expect(res.body.detail).toContain('DUP@Example.com');
  });

  it('validates bodies and lists every failing field', async () => {
    const cases: Array<[body: unknown, fields: string[]]> = [
      [{}, ['/name', '/email']],
      [{ name: '', email: 'not-an-email' }, ['/name', '/email']],
      [{ name: 'x'.repeat(101), email: 'a@example.com' }, ['/name']],
      [{ name: 'Ok', email: 'a@example.com', admin: true }, ['/admin']],
      [{ name: 42, email: ['a@example.com'] }, ['/name', '/email']],
    ];
    for (const [body, fields] of cases) {
      const res = await api.post('/api/users').send(body as object);
      expectProblem(res, 400);
      for (const field of fields) expect(failingFields(res), JSON.stringify(body)).toContain(field);
    }
    expect(await running.client.db(running.dbName).collection('users').countDocuments({ name: 'Ok' })).toBe(0);
  });

  it('answers MongoDB operators in a body with 400, never running them as a query', async () => {
    await newUser('Target', 'target@example.com');
    const injected = await api.post('/api/users').send({ name: 'Mallory', email: { $gt: '' } });
    expectProblem(injected, 400);
    expect(failingFields(injected)).toContain('/email');
    const patched = await api.patch(`/api/users/${MISSING}`).send({ email: { $ne: null } });
    expectProblem(patched, 400);
    const listed = await api.get('/api/users').query('email[$gt]=');
    expectProblem(listed, 400);
  });

  it('rejects a body that is not JSON with a problem response', async () => {
    const res = await api.post('/api/users').set('content-type', 'application/json').send('{"name": "broken"');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('updates a user partially, with the same rules', async () => {
    const user = await newUser('Grace', 'grace@example.com');
    const renamed = await api.patch(`/api/users/${user.id}`).send({ name: 'Grace Hopper' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ ...user, name: 'Grace Hopper' });
    expectProblem(await api.patch(`/api/users/${user.id}`).send({ email: 'nope' }), 400);
    expectProblem(await api.patch(`/api/users/${user.id}`).send({ id: 'x' }), 400);
    expectProblem(await api.patch(`/api/users/${user.id}`).send({}), 400);
    await newUser('Taken', 'taken@example.com');
    expectProblem(await api.patch(`/api/users/${user.id}`).send({ email: 'TAKEN@example.com' }), 409);
    const moved = await api.patch(`/api/users/${user.id}`).send({ email: 'grace.hopper@example.com' });
    expect(moved.body.email).toBe('grace.hopper@example.com');
  });

  it('answers unknown and malformed ids with 404', async () => {
    for (const id of [MISSING, 'not-an-id', '123', 'ZZZZZZZZZZZZZZZZZZZZZZZZ']) {
      expectProblem(await api.get(`/api/users/${id}`), 404);
      expectProblem(await api.patch(`/api/users/${id}`).send({ name: 'x' }), 404);
      expectProblem(await api.delete(`/api/users/${id}`), 404);
      expectProblem(await api.get(`/api/users/${id}/todos`), 404);
      expectProblem(await api.post(`/api/users/${id}/todos`).send({ title: 't' }), 404);
      expectProblem(await api.patch(`/api/todos/${id}`).send({ done: true }), 404);
      expectProblem(await api.delete(`/api/todos/${id}`), 404);
    }
  });

  it('deletes a user with their todos: 204', async () => {
    const user = await newUser('Leaving', 'leaving@example.com');
    const todo = (await api.post(`/api/users/${user.id}/todos`).send({ title: 'last thing' })).body;
    const res = await api.delete(`/api/users/${user.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectProblem(await api.get(`/api/users/${user.id}`), 404);
    expectProblem(await api.patch(`/api/todos/${todo.id}`).send({ done: true }), 404);
    const db = running.client.db(running.dbName);
    expect(await db.collection('todos').countDocuments({ title: 'last thing' })).toBe(0);
  });

  it('filters the list by exact email', async () => {
    const user = await newUser('Finder', 'finder@example.com');
    await newUser('Finder Two', 'finder2@example.com');
    const res = await api.get('/api/users').query({ email: 'finder@example.com' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [user], next: null });
    expect((await api.get('/api/users').query({ email: 'finder' })).status).toBe(400);
    expect((await api.get('/api/users').query({ email: 'nobody@example.com' })).body).toEqual({ items: [], next: null });
  });

  it('validates limit and after', async () => {
    for (const query of ['limt=5', 'limit=0', 'limit=101', 'limit=abc', 'limit=1.5', 'after=xyz', `after=${MISSING}0`]) {
      const res = await api.get(`/api/users?${query}`);
      expectProblem(res, 400);
      expect(res.body.errors.length, query).toBeGreaterThan(0);
    }
  });
});

describe('pagination', () => {
  it('walks the whole collection in id order with limit and next', async () => {
    const db = running.client.db(running.dbName);
    for (let i = 0; i < 23; i++) await newUser(`Walker ${i}`, `walker${i}@example.com`);
    const total = await db.collection('users').countDocuments();
    expect(total).toBeGreaterThan(23);

    for (const limit of [1, 7, 20, 100]) {
      const seen: string[] = [];
      let next: string | null = null;
      let pages = 0;
      do {
        const res = await api.get('/api/users').query(next ? { limit, after: next } : { limit });
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(limit);
        seen.push(...res.body.items.map((u: { id: string }) => u.id));
        next = res.body.next;
        if (next !== null) expect(next).toBe(seen.at(-1));
        pages++;
      } while (next !== null && pages <= total);
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
      expect(seen).toEqual([...seen].sort());
      expect(pages).toBe(Math.max(1, Math.ceil(total / limit)));
    }
  });

  it('defaults to 20 items per page', async () => {
    const res = await api.get('/api/users');
    expect(res.body.items).toHaveLength(20);
    expect(res.body.next).toBe(res.body.items[19].id);
  });
});

describe('todos', () => {
  it("creates, lists, filters, updates and deletes a user's todos", async () => {
    const user = await newUser('Doer', 'doer@example.com');
    const created = await api.post(`/api/users/${user.id}/todos`).send({ title: 'Write the README' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(HEX_ID),
      userId: user.id,
      title: 'Write the README',
      done: false,
      createdAt: expect.any(String),
    });
    expect(created.headers.location).toBe(`/api/todos/${created.body.id}`);
    const second = await api.post(`/api/users/${user.id}/todos`).send({ title: 'Ship it', done: true });
    expect(second.body.done).toBe(true);

    const all = await api.get(`/api/users/${user.id}/todos`);
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ items: [created.body, second.body], next: null });
    expect((await api.get(`/api/users/${user.id}/todos?done=true`)).body.items).toEqual([second.body]);
    expect((await api.get(`/api/users/${user.id}/todos?done=false`)).body.items).toEqual([created.body]);
    const firstPage = await api.get(`/api/users/${user.id}/todos?limit=1`);
    expect(firstPage.body).toEqual({ items: [created.body], next: created.body.id });
    const secondPage = await api.get(`/api/users/${user.id}/todos?limit=1&after=${created.body.id}`);
    expect(secondPage.body).toEqual({ items: [second.body], next: null });
    expectProblem(await api.get(`/api/users/${user.id}/todos?done=maybe`), 400);

    const updated = await api.patch(`/api/todos/${created.body.id}`).send({ done: true });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ ...created.body, done: true });

    const removed = await api.delete(`/api/todos/${created.body.id}`);
    expect(removed.status).toBe(204);
    expect((await api.get(`/api/users/${user.id}/todos`)).body.items).toEqual([second.body]);
    expectProblem(await api.delete(`/api/todos/${created.body.id}`), 404);
  });

  it('validates todo bodies', async () => {
    const user = await newUser('Validator', 'validator@example.com');
    const cases: Array<[unknown, string]> = [
      [{}, '/title'],
      [{ title: '' }, '/title'],
      [{ title: 'x'.repeat(201) }, '/title'],
      [{ title: 'ok', done: 'yes' }, '/done'],
      [{ title: 'ok', userId: user.id }, '/userId'],
      [{ title: { $regex: '.*' } }, '/title'],
    ];
    for (const [body, field] of cases) {
      const res = await api.post(`/api/users/${user.id}/todos`).send(body as object);
      expectProblem(res, 400);
      expect(failingFields(res), JSON.stringify(body)).toContain(field);
    }
    const todo = (await api.post(`/api/users/${user.id}/todos`).send({ title: 'ok' })).body;
    expectProblem(await api.patch(`/api/todos/${todo.id}`).send({ done: 'true' }), 400);
    expectProblem(await api.patch(`/api/todos/${todo.id}`).send({ title: '' }), 400);
    expectProblem(await api.patch(`/api/todos/${todo.id}`).send({ userId: MISSING }), 400);
  });
});

describe('service endpoints', () => {
  it('GET /healthz and /readyz answer 200 while MongoDB answers', async () => {
    const health = await api.get('/healthz');
    expect(health.status).toBe(200);
    const ready = await api.get('/readyz');
    expect(ready.status).toBe(200);
  });

  it('GET /openapi.json describes every route with its schemas', async () => {
    const res = await api.get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/api/todos/{id}', '/api/users', '/api/users/{id}', '/api/users/{id}/todos', '/healthz', '/openapi.json', '/readyz'].sort(),
    );
    expect(Object.keys(doc.paths['/api/users']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/users/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(Object.keys(doc.paths['/api/todos/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
    const createUser = doc.paths['/api/users'].post;
    const bodySchema = createUser.requestBody.content['application/json'].schema;
    expect(bodySchema).toMatchObject({ required: ['name', 'email'], additionalProperties: false });
    expect(bodySchema.properties.email.format).toBe('email');
    expect(createUser.responses['201']).toBeDefined();
    const listParams = doc.paths['/api/users'].get.parameters.map((p: { name: string }) => p.name);
    expect(listParams).toEqual(expect.arrayContaining(['limit', 'after', 'email']));
  });

  it('answers an unknown path with a 404 problem', async () => {
    expectProblem(await api.get('/api/nothing-here'), 404);
  });
});
