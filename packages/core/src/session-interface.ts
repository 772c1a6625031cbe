/**
 * Where sessions are loaded from and saved to (Flask's `SessionInterface`). The default keeps the
 * data in a signed cookie; an app can swap in its own, e.g. a server-side store keyed by a cookie.
 * Separate from session.ts, which the request imports: this module imports the request.
 */
import type { CarafeConfig } from './config.js';
import type { Request } from './request.js';
import type { Response } from './response.js';
import { NullSession, Session, SessionSigner } from './session.js';

/**
 * Opens and saves the session of a request. Pass one as `new Carafe({ sessions })`.
 *
 * @example
 * // Server-side sessions: the cookie holds only an id (give the ids enough entropy).
 * const store = new Map<string, Record<string, unknown>>();
 * const sessions: SessionInterface = {
 *   open: (req) => new Session(store.get(req.cookies.sid ?? '')),
 *   save: (req, response) => {
 *     if (!req.session.modified) return;
 *     const sid = req.cookies.sid ?? randomUUID();
 *     store.set(sid, req.session.toJSON());
 *     response.setCookie('sid', sid, { httpOnly: true, path: '/' });
 *   },
 * };
 */
export interface SessionInterface {
  /**
   * Loads the session of `req`. Called the first time the request reads `req.session`, so it is
   * synchronous; requests that never touch the session never call it. Throwing fails the request.
   */
  open(req: Request<any, any, any>): Session;
  /**
   * Writes the session onto `response` (a cookie, usually) or into a store. Called once per request
   * that opened its session, after the after-request hooks, before teardown; may return a promise.
   */
  save(req: Request<any, any, any>, response: Response): void | Promise<void>;
}

/**
 * The default {@link SessionInterface}, like Flask's: the data lives in a cookie signed with
 * HMAC-SHA256 by `config.secretKey` (readable by the client, not forgeable), with the cookie
 * settings of `config.session`. Both are read per request, so config changes apply at once.
 * Without a secret key the session is a {@link NullSession}: it reads as empty and refuses changes.
 */
export class SignedCookieSessionInterface implements SessionInterface {
  /** The signer of the last key list seen, rebuilt only when `config.secretKey` changes. */
  #signer: { keys: string; signer: SessionSigner } | undefined;

  open(req: Request<any, any, any>): Session {
    const config = req.app.config;
    const signer = this.#signerFor(config);
    if (signer === undefined) return new NullSession(NO_SECRET_KEY);
    const cookie = req.cookies[config.session.cookieName];
    if (cookie === undefined) return new Session();
    // Every cookie, permanent or not, is refused past the permanent lifetime (as Flask does).
    return new Session(signer.unsign(cookie, { maxAgeSeconds: config.session.maxAge ?? config.permanentSessionLifetime }));
  }

  save(req: Request<any, any, any>, response: Response): void {
    const session = req.session;
    if (session instanceof NullSession) return;
    // The response depends on the cookie once the session was read, even if it did not change.
    addVaryCookie(response);
    const config = req.app.config;
    const { cookieName, maxAge, domain, secure, httpOnly, sameSite, partitioned, refreshEachRequest } = config.session;
    const path = config.session.path ?? (config.applicationRoot || req.scriptName || '/');
    const attributes = { path, domain, secure, httpOnly, sameSite, partitioned };
    const data = session.toJSON();
    if (Object.keys(data).length === 0) {
      if (session.modified && req.cookies[cookieName] !== undefined) response.clearCookie(cookieName, attributes);
      return;
    }
    // A permanent session's cookie is sent again on each request, so its expiry moves forward.
    if (!session.modified && !(session.permanent && refreshEachRequest)) return;
    const lifetime = maxAge ?? (session.permanent ? config.permanentSessionLifetime : undefined);
    const signer = this.#signerFor(config)!;
    response.setCookie(cookieName, signer.sign(data), {
      ...attributes,
      ...(lifetime !== undefined && { maxAge: lifetime, expires: new Date(Date.now() + lifetime * 1000) }),
    });
  }

  /** The signer for `config.secretKey`, or `undefined` when no key is set. */
  #signerFor(config: CarafeConfig): SessionSigner | undefined {
    const key = config.secretKey;
    const keys = typeof key === 'string' ? [key] : [...(key ?? [])];
    if (keys.length === 0 || keys.every((k) => k === '')) return undefined;
    if (keys.some((k) => typeof k !== 'string' || k === '')) throw new TypeError('config.secretKey: every key must be a non-empty string');
    const id = JSON.stringify(keys);
    if (this.#signer?.keys !== id) this.#signer = { keys: id, signer: new SessionSigner(keys) };
    return this.#signer.signer;
  }
}

const NO_SECRET_KEY = 'The session is unavailable because no secret key was set: set config.secretKey to a long random string.';

/** Adds `Cookie` to the response's `Vary` header unless it (or `*`) is already there. */
export function addVaryCookie(response: Response): void {
  const vary = response.headers.get('vary');
  if (!vary) response.headers.set('vary', 'Cookie');
  else if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(vary)) response.headers.set('vary', `${vary}, Cookie`);
}
