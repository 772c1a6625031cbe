/**
 * sendFromDirectory (Flask's send_from_directory): serves files inside a root and answers 404 for
 * every way out of it. PATH_INFO is percent-decoded, so `..%2F` reaches a `*name` wildcard as `..`.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Carafe, sendFromDirectory } from '@carafe/core';
import { call, client, makeEnviron } from './helpers.js';

const base = mkdtempSync(join(tmpdir(), 'carafe-sfd-'));
const root = join(base, 'public');
mkdirSync(join(root, 'css'), { recursive: true });
writeFileSync(join(root, 'css', 'site.css'), 'body{}');
writeFileSync(join(root, 'hello.txt'), 'hello');
writeFileSync(join(base, 'secret.txt'), 'top secret');
mkdirSync(join(base, 'public-old'));
writeFileSync(join(base, 'public-old', 'x.txt'), 'old');
symlinkSync(join(base, 'secret.txt'), join(root, 'leak.txt'));
symlinkSync(base, join(root, 'up'));
symlinkSync(join(root, 'hello.txt'), join(root, 'alias.txt'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function app() {
  const app = new Carafe();
  app.get('/files/*name', (req) => sendFromDirectory(root, req.params.name, { maxAge: 60 }));
  app.get('/one/:name', (req) => sendFromDirectory(root, req.params.name));
  app.get('/raw', (req) => sendFromDirectory(root, String(req.query.p)));
  return app;
}

describe('sendFromDirectory', () => {
  it('serves files inside the root, with the file() semantics', async () => {
    const http = client(app());
    await http.get('/files/hello.txt').expect(200, 'hello').expect('cache-control', 'public, max-age=60');
    await http
      .get('/files/css/site.css')
      .expect(200)
      .expect('content-type', /text\/css/);
    await http.get('/files/alias.txt').expect(200, 'hello'); // a link that stays inside
    await http.get('/raw?p=css/site.css').expect(200);
  });

  const escapes: Array<[string, string]> = [
    ['dot-dot segment', '/files/../secret.txt'],
    ['encoded slash (decoded into the wildcard)', '/files/..%2Fsecret.txt'],
    ['encoded dot-dot', '/files/%2e%2e/secret.txt'],
    ['sibling with the same prefix', '/files/../public-old/x.txt'],
    ['symlink to a file outside', '/files/leak.txt'],
    ['symlink to a directory outside', '/files/up/secret.txt'],
    ['missing file', '/files/nope.txt'],
    ['a directory', '/files/css'],
    ['the root itself', '/files/'],
  ];
  for (const [what, path] of escapes) {
    it(`answers 404 for ${what}`, async () => {
      // In process: supertest's client would normalise some of these paths before sending.
      const res = await call(app(), makeEnviron({ PATH_INFO: decodeURIComponent(path), RAW_URI: path }));
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('top secret');
      expect(res.headers).toContainEqual(['content-type', 'application/problem+json']);
    });
  }

  const rawEscapes: Array<[string, string]> = [
    ['an absolute path', '/etc/passwd'],
    ['an absolute path into the root', root + '/hello.txt'],
    ['a NUL byte', 'hello.txt\0.png'],
    ['a backslash', '..\\secret.txt'],
    ['dot-dot in the middle', 'css/../../secret.txt'],
    ['an empty path', ''],
  ];
  for (const [what, p] of rawEscapes) {
    it(`answers 404 for ${what}`, async () => {
      await client(app())
        .get(`/raw?p=${encodeURIComponent(p)}`)
        .expect(404);
    });
  }

  it('refuses a segment holding a separator (an array built by hand)', async () => {
    const a = new Carafe();
    a.get('/x', () => sendFromDirectory(root, ['..', 'secret.txt']));
    a.get('/y', () => sendFromDirectory(root, ['css/../../secret.txt']));
    a.get('/z', () => sendFromDirectory(root, ['css', 'site.css']));
    await client(a).get('/x').expect(404);
    await client(a).get('/y').expect(404);
    await client(a).get('/z').expect(200, 'body{}');
  });
});
