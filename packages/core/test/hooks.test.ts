import { describe, expect, it } from 'vitest';
import { Blueprint, Carafe, Response, abort } from '@carafe/core';
import { client } from './helpers.js';

describe('request hooks', () => {
  it('runs before hooks in order, after hooks in reverse order, then teardown', async () => {
    const calls: string[] = [];
    const app = new Carafe();
    app.beforeRequest(() => void calls.push('before 1'));
    app.beforeRequest(() => void calls.push('before 2'));
    app.afterRequest(() => void calls.push('after 1'));
    app.afterRequest((res) => {
      calls.push('after 2');
      res.headers.set('x-after', '2');
    });
    app.teardownRequest((error) => void calls.push(`teardown ${String(error)}`));
    app.get('/', () => {
      calls.push('handler');
      return 'ok';
    });
    await client(app).get('/').expect(200, 'ok').expect('x-after', '2');
    expect(calls).toEqual(['before 1', 'before 2', 'handler', 'after 2', 'after 1', 'teardown undefined']);
  });

  it('short-circuits when a before hook returns a response', async () => {
    const app = new Carafe();
    let handled = false;
    app.beforeRequest((req) => (req.header('authorization') ? undefined : new Response('no', { status: 401 })));
    app.afterRequest((res) => void res.headers.set('x-seen', 'yes'));
    app.get('/', () => {
      handled = true;
      return 'secret';
    });
    await client(app).get('/').expect(401, 'no').expect('x-seen', 'yes');
    expect(handled).toBe(false);
    await client(app).get('/').set('authorization', 'x').expect(200, 'secret');
  });

  it('lets an after hook replace the response', async () => {
    const app = new Carafe();
    app.afterRequest(() => ({ replaced: true }));
    app.get('/', () => 'original');
    await client(app).get('/').expect(200, { replaced: true });
  });

  it('runs teardown with the error when the handler fails, and still answers 500', async () => {
    const seen: unknown[] = [];
    const app = new Carafe();
    app.teardownRequest((error) => void seen.push(error));
    app.teardownRequest(() => {
      throw new Error('teardown failure is only logged');
    });
    app.get('/boom', () => {
      throw new Error('kaboom');
    });
    app.get('/missing', () => abort(404));
    const lines: string[] = [];
    const http = client(app, { write: (m) => void lines.push(m) });
    await http.get('/boom').expect(500);
    expect(seen).toHaveLength(1);
    expect((seen[0] as Error).message).toBe('kaboom');
    expect(lines.join('')).toMatch(/teardown failure is only logged/);
    await http.get('/missing').expect(404);
    expect(seen[1]).toBeUndefined();
  });

  it('runs hooks for unmatched requests (404) at app level', async () => {
    const calls: string[] = [];
    const app = new Carafe();
    app.beforeRequest(() => void calls.push('before'));
    app.afterRequest((res) => void calls.push(`after ${res.status}`));
    app.teardownRequest(() => void calls.push('teardown'));
    await client(app).get('/nothing').expect(404);
    expect(calls).toEqual(['before', 'after 404', 'teardown']);
  });

  it('scopes blueprint hooks to the blueprint and orders them like Flask', async () => {
    const calls: string[] = [];
    const app = new Carafe();
    const outer = new Blueprint('outer', { urlPrefix: '/outer' });
    const inner = new Blueprint('inner', { urlPrefix: '/inner' });
    app.beforeRequest(() => void calls.push('app before'));
    app.afterRequest(() => void calls.push('app after'));
    app.teardownRequest(() => void calls.push('app teardown'));
    outer.beforeRequest(() => void calls.push('outer before'));
    outer.afterRequest(() => void calls.push('outer after'));
    inner.beforeRequest(() => void calls.push('inner before'));
    inner.afterRequest(() => void calls.push('inner after'));
    inner.teardownRequest(() => void calls.push('inner teardown'));
    inner.get('/x', () => {
      calls.push('handler');
      return 'x';
    });
    app.get('/plain', () => {
      calls.push('plain');
      return 'p';
    });
    outer.register(inner);
    app.register(outer);
    const http = client(app);
    await http.get('/outer/inner/x').expect(200, 'x');
    expect(calls).toEqual([
      'app before',
      'outer before',
      'inner before',
      'handler',
      'inner after',
      'outer after',
      'app after',
      'inner teardown',
      'app teardown',
    ]);
    calls.length = 0;
    await http.get('/plain').expect(200, 'p');
    expect(calls).toEqual(['app before', 'plain', 'app after', 'app teardown']);
  });

  it('answers 500 when an after hook fails, and teardown gets that error', async () => {
    const app = new Carafe();
    let got: unknown;
    app.afterRequest(() => {
      throw new Error('after failed');
    });
    app.teardownRequest((error) => {
      got = error;
    });
    app.get('/', () => 'ok');
    await client(app, { write: () => {} })
      .get('/')
      .expect(500);
    expect((got as Error).message).toBe('after failed');
  });
});
