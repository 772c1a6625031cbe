import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_KEY, basicAuth, bearerAuth, jwtAuth, requireScopes, timingSafeEqual, type AuthInfo } from '@carafe/middleware';
import type { TsgiApplication } from '@carafe/gateway';
import { caller } from './helpers.js';

/** Answers with the identity the middleware left in the environ. */
const whoami: TsgiApplication = (environ) => {
  const body = JSON.stringify(environ[AUTH_KEY] ?? null);
  return { status: 200, headers: [['Content-Type', 'application/json']], body: [body] };
};

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const hs = (claims: Record<string, unknown> = {}, secret = SECRET) => {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    sub: 'user-1',
    iss: 'https://auth.test/',
    aud: 'api',
    iat: now,
    exp: now + 300,
    scope: 'todos:read todos:write',
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
};
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('jwtAuth', () => {
  const call = caller(jwtAuth({ secret: SECRET, issuer: 'https://auth.test/', audience: 'api' })(whoami));

  it('puts the verified identity in environ["carafe.auth"]', async () => {
    const res = await call('/me', bearer(await hs()));
    expect(res.status).toBe(200);
    const auth = (await res.json()) as AuthInfo;
    expect(auth).toMatchObject({ scheme: 'Bearer', subject: 'user-1', scopes: ['todos:read', 'todos:write'] });
    expect(auth.claims).toMatchObject({ iss: 'https://auth.test/', aud: 'api' });
  });

  it('answers 401 with an RFC 6750 challenge without a token, and with error="invalid_token" for a bad one', async () => {
    const none = await call('/me');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect(none.headers.get('content-type')).toBe('application/problem+json');
    const cases: Array<[string, string]> = [
      [await hs({}, 'another-secret-another-secret-another-secret'), 'The access token is not valid.'],
      [await hs({ exp: Math.floor(Date.now() / 1000) - 60 }), 'The access token expired.'],
      [await hs({ aud: 'other-api' }), 'The access token\'s "aud" claim is not valid.'],
      [await hs({ iss: 'https://evil.test/' }), 'The access token\'s "iss" claim is not valid.'],
      ['not.a.jwt', 'The access token is not valid.'],
      ['opaque-token', 'The access token is not a JWT.'],
    ];
    for (const [token, description] of cases) {
      const res = await call('/me', bearer(token));
      expect(res.status, description).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="api", error="invalid_token", error_description=${JSON.stringify(description)}`,
      );
      expect(((await res.json()) as { detail: string }).detail).toBe(description);
    }
  });

  it('allows clock skew (5 s by default) and can refuse tokens older than maxTokenAge', async () => {
    const justExpired = await hs({ exp: Math.floor(Date.now() / 1000) - 2 });
    expect((await call('/me', bearer(justExpired))).status).toBe(200);
    const strict = caller(jwtAuth({ secret: SECRET, clockTolerance: 0 })(whoami));
    expect((await strict('/me', bearer(justExpired))).status).toBe(401);
    const old = await hs({ iat: Math.floor(Date.now() / 1000) - 7200 });
    expect((await caller(jwtAuth({ secret: SECRET, maxTokenAge: '1h' })(whoami))('/me', bearer(old))).status).toBe(401);
  });

  it('answers 403 with error="insufficient_scope" when a required scope is missing', async () => {
    const admin = caller(jwtAuth({ secret: SECRET, scopes: ['admin'] })(whoami));
    const res = await admin('/me', bearer(await hs()));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The token lacks the scope admin.", scope="admin"',
    );
    expect((await admin('/me', bearer(await hs({ scope: 'admin' })))).status).toBe(200);
  });

  it('refuses a token whose alg is not accepted (no HMAC with a public key, no "none")', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const rsOnly = caller(jwtAuth({ publicKey: pem, algorithms: ['RS256'] })(whoami));
    const rs = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('r').setExpirationTime('1m').sign(privateKey);
    expect((await rsOnly('/me', bearer(rs))).status).toBe(200);
    // HS256 signed with the public key's PEM as the secret: the classic confusion attack.
    const confused = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('x').sign(new TextEncoder().encode(pem));
    const res = await rsOnly('/me', bearer(confused));
    expect(res.status).toBe(401);
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;
    expect((await rsOnly('/me', bearer(unsigned))).status).toBe(401);
  });

  it('verifies ES256 with a JWK key and EdDSA from a JWKS', async () => {
    const es = await generateKeyPair('ES256');
    const esCall = caller(jwtAuth({ key: await exportJWK(es.publicKey), algorithms: ['ES256'] })(whoami));
    const esToken = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('es').setExpirationTime('1m').sign(es.privateKey);
    expect(((await (await esCall('/me', bearer(esToken))).json()) as AuthInfo).subject).toBe('es');
    const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const edCall = caller(jwtAuth({ key: ed.publicKey, algorithms: ['EdDSA'] })(whoami));
    const edToken = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setSubject('ed').setExpirationTime('1m').sign(ed.privateKey);
    expect(((await (await edCall('/me', bearer(edToken))).json()) as AuthInfo).subject).toBe('ed');
  });

  it('maps claims to a user and lets requests without credentials through when optional', async () => {
    const call = caller(jwtAuth({ secret: SECRET, optional: true, user: (claims) => ({ id: claims.sub }) })(whoami));
    expect(await (await call('/me')).json()).toBeNull();
    expect(((await (await call('/me', bearer(await hs()))).json()) as AuthInfo).user).toEqual({ id: 'user-1' });
    expect((await call('/me', bearer('x.y.z'))).status).toBe(401);
  });

  it('checks its options', () => {
    expect(() => jwtAuth({})).toThrow(/exactly one/);
    expect(() => jwtAuth({ secret: SECRET, jwksUrl: 'http://x.test/' })).toThrow(/exactly one/);
    expect(() => jwtAuth({ publicKey: '-----BEGIN PUBLIC KEY-----' })).toThrow(/algorithms/);
  });
});

describe('jwtAuth with a JWKS URL', () => {
  let server: Server;
  let jwks: { keys: JWK[] } = { keys: [] };
  let fetches = 0;
  let url = '';
  const keys: Record<string, { privateKey: CryptoKey; jwk: JWK }> = {};

  beforeAll(async () => {
    for (const kid of ['key-1', 'key-2']) {
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      keys[kid] = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
    }
    jwks = { keys: [keys['key-1']!.jwk] };
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const signWith = (kid: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid })
      .setSubject(kid)
      .setAudience('api')
      .setExpirationTime('1m')
      .sign(keys[kid]!.privateKey);

  it('fetches the set once, caches it, and picks up a rotated key (the old one then refused)', async () => {
    const call = caller(jwtAuth({ jwksUrl: url, audience: 'api', jwks: { cooldownDuration: 0 } })(whoami));
    expect((await call('/me', bearer(await signWith('key-1')))).status).toBe(200);
    expect((await call('/me', bearer(await signWith('key-1')))).status).toBe(200);
    expect(fetches).toBe(1);
    jwks = { keys: [keys['key-2']!.jwk] }; // the issuer rotates its key
    const rotated = await call('/me', bearer(await signWith('key-2')));
    expect(rotated.status).toBe(200);
    expect(((await rotated.json()) as AuthInfo).subject).toBe('key-2');
    expect(fetches).toBe(2);
    const old = await call('/me', bearer(await signWith('key-1')));
    expect(old.status).toBe(401);
  });

  it('answers 503, not 401, when the key set cannot be fetched', async () => {
    const call = caller(jwtAuth({ jwksUrl: 'http://127.0.0.1:1/jwks.json', jwks: { timeoutDuration: 500 } })(whoami));
    const res = await call('/me', bearer(await signWith('key-1')));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });
});

describe('bearerAuth and basicAuth', () => {
  it('accepts static tokens and what verify accepts', async () => {
    const call = caller(
      bearerAuth({
        tokens: ['t0k3n-one', 't0k3n-two'],
        verify: (token) => (token === 'db-token' ? { subject: 'svc', scopes: ['read'] } : false),
      })(whoami),
    );
    expect((await call('/', bearer('t0k3n-two'))).status).toBe(200);
    expect(await (await call('/', bearer('db-token'))).json()).toMatchObject({ subject: 'svc', scopes: ['read'] });
    const bad = await call('/', bearer('nope'));
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const malformed = await call('/', { headers: { authorization: 'Bearer a b' } });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('checks Basic credentials (RFC 7617) and challenges with realm and charset', async () => {
    const call = caller(basicAuth({ users: { admin: 's3cret', ada: 'lovelace' }, realm: 'admin area' })(whoami));
    const basic = (user: string, pass: string) => ({
      headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` },
    });
    expect(await (await call('/', basic('ada', 'lovelace'))).json()).toMatchObject({ scheme: 'Basic', subject: 'ada' });
    const wrong = await call('/', basic('ada', 'babbage'));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="admin area", charset="UTF-8"');
    expect((await call('/')).headers.get('www-authenticate')).toBe('Basic realm="admin area", charset="UTF-8"');
    expect((await call('/', { headers: { authorization: 'Basic !!!' } })).status).toBe(401);
    const viaVerify = caller(basicAuth({ verify: (user, pass) => user === 'u' && pass === 'p:with:colons' })(whoami));
    expect((await viaVerify('/', basic('u', 'p:with:colons'))).status).toBe(200);
  });

  it('compares in constant time', () => {
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
  });

  it('requireScopes: 401 without an identity, 403 without the scope', async () => {
    const app = bearerAuth({ verify: (t) => ({ subject: t, scopes: t === 'writer' ? ['write'] : [] }), optional: true })(
      requireScopes('write')(whoami),
    );
    const call = caller(app);
    expect((await call('/')).status).toBe(401);
    const reader = await call('/', bearer('reader'));
    expect(reader.status).toBe(403);
    expect(reader.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect((await call('/', bearer('writer'))).status).toBe(200);
  });

  it('describes itself for OpenAPI', () => {
    expect(jwtAuth({ secret: SECRET, scopes: ['write'] }).openapi).toMatchObject({
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      security: [{ bearerAuth: ['write'] }],
    });
    expect(basicAuth({ users: { a: 'b' }, schemeName: 'admin' }).openapi.securitySchemes).toEqual({
      admin: { type: 'http', scheme: 'basic' },
    });
  });
});
