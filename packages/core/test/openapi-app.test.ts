import { describe, expect, it } from 'vitest';
import { Blueprint, Carafe } from '@carafe/core';

describe('app.openapi', () => {
  it('documents every route of the app and its blueprints with their schemas', () => {
    const app = new Carafe();
    const users = new Blueprint('users', { urlPrefix: '/users' });
    users.get(
      '/:id',
      {
        name: 'detail',
        summary: 'Get a user',
        schema: {
          params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
          response: { 200: { type: 'object', properties: { id: { type: 'integer' } } } },
        },
      },
      (req) => ({ id: req.params.id }),
    );
    users.post('', { name: 'create', schema: { body: { type: 'object', properties: { name: { type: 'string' } } } } }, () => null);
    app.register(users, { urlPrefix: '/api/users' });
    app.get('/health', function health() {
      return 'ok';
    });
    const doc = app.openapi({ title: 'Demo', version: '1.0.0' }) as {
      openapi: string;
      info: unknown;
      paths: Record<string, Record<string, Record<string, any>>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({ title: 'Demo', version: '1.0.0' });
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/users', '/api/users/{id}', '/health']);
    const detail = doc.paths['/api/users/{id}']!.get!;
    expect(detail.operationId).toBe('users.detail');
    expect(detail.summary).toBe('Get a user');
    expect(detail.tags).toEqual(['users']);
    expect(detail.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path', required: true, schema: { type: 'integer' } })]),
    );
    expect(doc.paths['/api/users']!.post!.requestBody).toBeDefined();
    expect(doc.paths['/health']!.get!.operationId).toBe('health');
  });
});
