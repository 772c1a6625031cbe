import { shutdown, startup, toNodeListener } from '@carafe/gateway';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app } from '../src/app.js';

// The app in-process, as the server would run it: lifespan start-up first, shutdown last.
const api = request(toNodeListener(app));
beforeAll(() => startup(app));
afterAll(() => shutdown(app));

describe('{{name}}', () => {
  it('answers /healthz, with the security headers', async () => {
    const res = await api.get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('creates a note, then reads it back and lists it', async () => {
    const created = await api.post('/notes').send({ title: 'Buy milk', body: 'Two litres' }).expect(201);
    expect(created.body).toMatchObject({ title: 'Buy milk', body: 'Two litres' });
    const location = `/notes/${created.body.id}`;
    expect(created.headers.location).toBe(location);

    const read = await api.get(location).expect(200);
    expect(read.body).toEqual(created.body);

    const list = await api.get('/notes').expect(200);
    expect(list.body).toContainEqual(created.body);
  });

  it('rejects an invalid note with a 400 problem document naming the field', async () => {
    const res = await api.post('/notes').send({ title: '', colour: 'red' }).expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, detail: 'The request failed validation.' });
    expect(res.body.errors).toContainEqual(expect.objectContaining({ location: 'body', field: '/title' }));
    expect(res.body.errors).toContainEqual(expect.objectContaining({ location: 'body', field: '/colour' }));
  });

  it('describes itself as an OpenAPI 3.1 document at /openapi.json, browsable at /docs', async () => {
    await api
      .get('/docs')
      .expect(200)
      .expect('content-type', /text\/html/);
    const res = await api.get('/openapi.json').expect(200);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    expect(res.body.info).toMatchObject({ title: '{{name}}' });
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/healthz', '/notes', '/notes/{id}']));
    // The create route's body schema, as the validator applies it.
    const create = res.body.paths['/notes'].post;
    expect(create.requestBody.content['application/json'].schema).toMatchObject({ required: ['title'] });
  });

  it('answers 404 with a problem document for an unknown note', async () => {
    const res = await api.get('/notes/no-such-note').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, detail: 'There is no note with id no-such-note.' });
  });
});
