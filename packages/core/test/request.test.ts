import { describe, expect, it } from 'vitest';
import { Carafe } from '@carafe/core';
import { call, client, makeEnviron, mount } from './helpers.js';

describe('Request', () => {
  it('exposes method, path, url, query, headers, cookies, remote address and state', async () => {
    const app = new Carafe();
    app.beforeRequest((req) => {
      req.state.user = 'ada';
    });
    app.get('/things/:id', (req) => ({
      method: req.method,
      path: req.path,
      scriptName: req.scriptName,
      url: req.url,
      query: req.query,
      params: req.params,
      agent: req.headers.get('X-Custom-Header'),
      agentLower: req.header('x-custom-header'),
      hasMissing: req.headers.has('x-missing'),
      cookies: req.cookies,
      remote: req.remoteAddr,
      user: req.state.user,
      route: req.route,
    }));
    const res = await client(mount('/base', app))
      .get('/base/things/42?tag=a&tag=b&q=hello+world&empty=')
      .set('X-Custom-Header', 'yes')
      .set('Cookie', 'a=1; b=two%20words')
      .expect(200);
    expect(res.body).toMatchObject({
      method: 'GET',
      path: '/things/42',
      scriptName: '/base',
      query: { tag: ['a', 'b'], q: 'hello world', empty: '' },
      params: { id: '42' },
      agent: 'yes',
      agentLower: 'yes',
      hasMissing: false,
      cookies: { a: '1', b: 'two words' },
      user: 'ada',
      route: { name: '/things/:id', path: '/things/:id' },
    });
    expect(res.body.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/base\/things\/42\?tag=a&tag=b&q=hello\+world&empty=$/);
    expect(res.body.remote).toMatch(/127\.0\.0\.1|::1/);
  });

  it('iterates headers with lower-case names', async () => {
    const app = new Carafe();
    app.post('/h', (req) => req.headers.toObject());
    const res = await client(app).post('/h').set('X-One', '1').set('Content-Type', 'text/plain').send('x').expect(200);
    expect(res.body).toMatchObject({ 'x-one': '1', 'content-type': 'text/plain', 'content-length': '1' });
  });

  it('reads the body as bytes, text and JSON', async () => {
    const app = new Carafe();
    app.post('/bytes', async (req) => ({ length: (await req.bytes()).byteLength, again: (await req.text()).length }));
    app.post('/text', (req) => req.text());
    app.post('/json', (req) => req.json());
    const http = client(app);
    await http
      .post('/bytes')
      .set('content-type', 'application/octet-stream')
      .send(Buffer.alloc(3000, 1))
      .expect(200, { length: 3000, again: 3000 });
    await http.post('/text').set('content-type', 'text/plain').send('héllo').expect(200, 'héllo');
    await http
      .post('/json')
      .send({ a: [1, 2] })
      .expect(200, { a: [1, 2] });
    await http.post('/json').set('content-type', 'application/merge-patch+json').send('{"b":1}').expect(200, { b: 1 });
  });

  it('decodes text as UTF-8 the way TextDecoder does: BOM dropped, bad bytes replaced', async () => {
    const app = new Carafe();
    app.post('/text', async (req) => ({ text: await req.text() }));
    app.post('/json', (req) => req.json());
    const http = client(app);
    await http.post('/json').set('content-type', 'application/json').send('\ufeff{"c":"é"}').expect(200, { c: 'é' });
    const invalid = Buffer.from([0x61, 0xff, 0x62, 0xe2, 0x82]);
    const res = await http.post('/text').set('content-type', 'text/plain').send(invalid).expect(200);
    expect(res.body.text).toBe(new TextDecoder().decode(invalid));
    expect(res.body.text).toBe('a\ufffdb\ufffd');
  });

  it('answers 400 for JSON that does not parse and 415 for a non-JSON body', async () => {
    const app = new Carafe();
    app.post('/json', (req) => req.json());
    const http = client(app);
    const bad = await http.post('/json').set('content-type', 'application/json').send('{"a":').expect(400);
    expect(bad.headers['content-type']).toBe('application/problem+json');
    expect(bad.body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(bad.body.detail).toMatch(/does not parse/);
    const form = await http.post('/json').type('form').send('a=1').expect(415);
    expect(form.body).toMatchObject({ status: 415, title: 'Unsupported Media Type' });
  });

  it('answers 413 beyond maxContentLength, by declared length or while streaming', async () => {
    const app = new Carafe({ maxContentLength: 1000 });
    app.post('/upload', async (req) => (await req.bytes()).byteLength);
    const http = client(app);
    await http.post('/upload').set('content-type', 'application/octet-stream').send(Buffer.alloc(1000)).expect(200, '1000');
    const declared = await http.post('/upload').set('content-type', 'application/octet-stream').send(Buffer.alloc(1001)).expect(413);
    expect(declared.body).toMatchObject({ status: 413, title: 'Payload Too Large' });
    const chunked = http.post('/upload').set('content-type', 'application/octet-stream').set('transfer-encoding', 'chunked');
    chunked.write(Buffer.alloc(600));
    chunked.write(Buffer.alloc(600));
    const streamed = await chunked.expect(413);
    expect(streamed.body.status).toBe(413);
  });

  it('parses urlencoded and multipart forms with files', async () => {
    const app = new Carafe();
    app.post('/form', async (req) => {
      const form = await req.form();
      return {
        name: form.get('name'),
        tags: form.getAll('tag'),
        files: form.files.map((f) => ({ field: f.fieldName, name: f.filename, type: f.contentType, size: f.size, text: f.text() })),
      };
    });
    const http = client(app);
    await http
      .post('/form')
      .type('form')
      .send('name=Ada&tag=x&tag=y')
      .expect(200, { name: 'Ada', tags: ['x', 'y'], files: [] });
    const res = await http
      .post('/form')
      .field('name', 'Grace')
      .attach('doc', Buffer.from('file body'), { filename: 'notes.txt', contentType: 'text/plain' })
      .expect(200);
    expect(res.body).toEqual({
      name: 'Grace',
      tags: [],
      files: [{ field: 'doc', name: 'notes.txt', type: 'text/plain', size: 9, text: 'file body' }],
    });
  });

  it('stops reading a body over the limit as for await would: the input is told to return()', async () => {
    const app = new Carafe({ maxContentLength: 10 });
    app.post('/upload', async (req) => (await req.bytes()).byteLength);
    let reads = 0;
    let returned = false;
    const input = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: reads++ === 5, value: new Uint8Array(4) }),
        return: async () => {
          returned = true;
          return { done: true as const, value: undefined };
        },
      }),
    };
    const res = await call(app, makeEnviron({ REQUEST_METHOD: 'POST', PATH_INFO: '/upload', 'tsgi.input': input }));
    expect(res.status).toBe(413);
    expect(reads).toBe(3); // 4 + 4 + 4 bytes: the third chunk crosses the limit of 10
    expect(returned).toBe(true);
  });

  it('answers form limits as problems', async () => {
    const app = new Carafe({ maxContentLength: 200 });
    app.post('/form', async (req) => (await req.form()).files.length);
    const http = client(app);
    const big = await http.post('/form').attach('f', Buffer.alloc(500), 'big.bin').expect(413);
    expect(big.headers['content-type']).toBe('application/problem+json');
    const noType = await http.post('/form').expect(415);
    expect(noType.body.status).toBe(415);
  });
});
