/**
 * Raw HTTP/1.x requests and what `carafe serve` must make of them, run by
 * test/server-conformance.test.ts against the real server with test/fixtures/server/echo.mjs
 * (which answers with the environ it got).
 *
 * Our own cases and expectations, from RFC 9110/9112 and from reading the published corpora of
 * Gunicorn (tests/requests/valid|invalid), llhttp (test/request/*.md) and h11 (h11/tests): `from`
 * names the RFC section and the corpus case each one is modelled on. Where those servers differ
 * from each other or from the RFC, the expectation follows the RFC, or the stricter reading.
 *
 * Every case is one connection: `send` is written at once, then the responses in `expect` must
 * arrive in order, and then the server must close the connection (`after: 'close'`, within a
 * bound) or keep it open (`'open'`) — and in both cases send nothing more: no request smuggled
 * in after the expected ones is ever answered. A refusal (status >= 400) is always an RFC 9457
 * problem with `Connection: close`, and the last response.
 */

/** What the app saw for one request: each key must have this value in its environ, or be absent (`null`). */
export type Seen = Record<string, string | null>;

/** One expected response: the app's answer (200) with what it saw, or a refusal. */
export type Expected = { status: 200; seen: Seen } | { status: number; detail?: RegExp };

export interface Case {
  /** `group/name`, unique. */
  id: string;
  /** The RFC section and the corpus cases it is modelled on. */
  from: string;
  /** The bytes sent, as latin1 text. */
  send: string;
  expect: Expected[];
  /** After the expected responses: the server closes the connection, or keeps it open. */
  after: 'close' | 'open';
}

const CRLF = '\r\n';

/** A request head: the request line and field lines, each ended by CRLF, then the empty line. */
function head(requestLine: string, ...fields: string[]): string {
  return requestLine + CRLF + fields.map((field) => field + CRLF).join('') + CRLF;
}

/** The app's answer, with what it saw. */
function ok(seen: Seen): Expected {
  return { status: 200, seen };
}

/** A refusal with `status`, its problem detail matching `detail` when given. */
function refused(status: number, detail?: RegExp): Expected {
  return detail ? { status, detail } : { status };
}

const HOST = 'Host: example.com';
const SECOND = head('GET /second HTTP/1.1', HOST);
const CHUNKED_HELLO = '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';

/** `count` header fields `X-Field-<i>: v`. */
function fields(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `X-Field-${i}: v`);
}

export const CORPUS: Case[] = [
  // --- Request line and target (RFC 9112 §3) -------------------------------------------------
  {
    id: 'target/origin-form',
    from: 'RFC 9112 §3.2.1; gunicorn valid/002',
    send: head('GET /test HTTP/1.1', HOST, 'Accept: */*'),
    expect: [
      ok({
        REQUEST_METHOD: 'GET',
        PATH_INFO: '/test',
        QUERY_STRING: '',
        SERVER_PROTOCOL: 'HTTP/1.1',
        HTTP_HOST: 'example.com',
        SERVER_NAME: 'example.com',
        SERVER_PORT: '80',
        HTTP_ACCEPT: '*/*',
        RAW_URI: '/test',
      }),
    ],
    after: 'open',
  },
  {
    id: 'target/query',
    from: 'RFC 9112 §3.2.1; llhttp uri.md "Query URL with question mark"',
    send: head('GET /p/q?a=1&b=?c HTTP/1.1', HOST),
    expect: [ok({ PATH_INFO: '/p/q', QUERY_STRING: 'a=1&b=?c' })],
    after: 'open',
  },
  {
    id: 'target/empty-query',
    from: 'RFC 3986 §3.4',
    send: head('GET /p? HTTP/1.1', HOST),
    expect: [ok({ PATH_INFO: '/p', QUERY_STRING: '', RAW_URI: '/p?' })],
    after: 'open',
  },
  {
    id: 'target/slashes-kept',
    from: 'gunicorn valid/100',
    send: head('GET ///keeping_slashes HTTP/1.1', HOST),
    expect: [ok({ PATH_INFO: '///keeping_slashes' })],
    after: 'open',
  },
  {
    id: 'target/percent-decoded',
    from: 'TSGI §2.2 (PATH_INFO decoded, RAW_URI as sent)',
    send: head('GET /a%20b/caf%C3%A9?x=%20 HTTP/1.1', HOST),
    expect: [ok({ PATH_INFO: '/a b/café', QUERY_STRING: 'x=%20', RAW_URI: '/a%20b/caf%C3%A9?x=%20' })],
    after: 'open',
  },
  {
    id: 'target/quotes-and-pipe',
    from: 'gunicorn valid/014; llhttp uri.md "Quotes in URI", "Query URL with vertical bar character"',
    send: head('GET /with_"quotes"?foo="bar"|baz HTTP/1.1', HOST),
    expect: [ok({ PATH_INFO: '/with_"quotes"', QUERY_STRING: 'foo="bar"|baz' })],
    after: 'open',
  },
  {
    id: 'target/malformed-percent-encoding',
    from: 'TSGI §2.2, §6.7',
    send: head('GET /a%zz HTTP/1.1', HOST),
    expect: [refused(400, /percent-encoded/)],
    after: 'close',
  },
  {
    id: 'target/percent-encoded-invalid-utf8',
    from: 'TSGI §2.2, §6.7',
    send: head('GET /caf%C3 HTTP/1.1', HOST),
    expect: [refused(400, /percent-encoded/)],
    after: 'close',
  },
  {
    id: 'target/fragment',
    from: 'RFC 9112 §3.2 (no fragment in request-target); gunicorn valid/005 strips it, we refuse',
    send: head('GET /forums/1/topics/2375?page=1#posts-17408 HTTP/1.1', HOST),
    expect: [refused(400, /fragment/)],
    after: 'close',
  },
  {
    id: 'target/fragment-without-query',
    from: 'RFC 9112 §3.2; llhttp uri.md "Fragment in URI"',
    send: head('GET /page#top HTTP/1.1', HOST),
    expect: [refused(400, /fragment/)],
    after: 'close',
  },
  {
    id: 'target/space-in-target',
    from: 'RFC 9112 §3; llhttp uri.md "Space in URI"',
    send: head('GET /a b HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'target/raw-utf8',
    from: 'RFC 9112 §3.2 (only URI characters); llhttp uri.md "Disallow UTF-8 in URI path in strict mode"; gunicorn valid/027 accepts',
    send: head('GET /caf\xc3\xa9 HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'target/control-character',
    from: 'RFC 9112 §3.2',
    send: head('GET /a\x01b HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'target/relative',
    from: 'RFC 9112 §3.2; gunicorn invalid/rfc9112_target_relative_01',
    send: head('GET foo/bar HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'target/authority-form-without-connect',
    from: 'RFC 9112 §3.2.3; gunicorn invalid/rfc9112_target_authority_non_connect_01',
    send: head('GET example.com:443 HTTP/1.1', 'Host: example.com:443'),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'target/malformed',
    from: 'gunicorn invalid/016',
    send: head('PUT s://]ufd/: HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'target/asterisk-options',
    from: 'RFC 9112 §3.2.4; gunicorn valid/rfc9112_target_asterisk_options_01',
    send: head('OPTIONS * HTTP/1.1', HOST),
    expect: [ok({ REQUEST_METHOD: 'OPTIONS', PATH_INFO: '', QUERY_STRING: '', RAW_URI: '*' })],
    after: 'open',
  },
  {
    id: 'target/asterisk-get',
    from: 'RFC 9112 §3.2.4; gunicorn invalid/rfc9112_target_asterisk_non_options_01',
    send: head('GET * HTTP/1.1', HOST),
    expect: [refused(400, /OPTIONS/)],
    after: 'close',
  },
  {
    id: 'target/absolute-form',
    from: 'RFC 9112 §3.2.2; gunicorn valid/rfc9112_target_absolute_01',
    send: head('GET http://example.com/foo?q=1 HTTP/1.1', HOST),
    expect: [
      ok({
        PATH_INFO: '/foo',
        QUERY_STRING: 'q=1',
        HTTP_HOST: 'example.com',
        SERVER_NAME: 'example.com',
        SERVER_PORT: '80',
        RAW_URI: 'http://example.com/foo?q=1',
      }),
    ],
    after: 'open',
  },
  {
    id: 'target/absolute-form-wins-over-host',
    from: "RFC 9112 §3.2.2 (the target's authority replaces Host)",
    send: head('GET http://target.example:8080/p HTTP/1.1', 'Host: other.example'),
    expect: [ok({ PATH_INFO: '/p', HTTP_HOST: 'target.example:8080', SERVER_NAME: 'target.example', SERVER_PORT: '8080' })],
    after: 'open',
  },
  {
    id: 'target/absolute-form-https-port',
    from: 'RFC 9112 §3.2.2; RFC 9110 §4.2.2; gunicorn valid/rfc9112_target_absolute_https_01',
    send: head('GET https://secure.example/p HTTP/1.1', HOST),
    expect: [ok({ HTTP_HOST: 'secure.example', SERVER_NAME: 'secure.example', SERVER_PORT: '443' })],
    after: 'open',
  },
  {
    id: 'target/absolute-form-ipv6',
    from: 'RFC 3986 §3.2.2; gunicorn valid/rfc9112_target_absolute_ipv6_01',
    send: head('GET http://[::1]:8080/foo HTTP/1.1', 'Host: [::1]:8080'),
    expect: [ok({ PATH_INFO: '/foo', SERVER_NAME: '[::1]', SERVER_PORT: '8080' })],
    after: 'open',
  },
  {
    id: 'target/absolute-form-no-path',
    from: 'RFC 9112 §3.2.2; llhttp uri.md "Host terminated by a query string"',
    send: head('GET http://example.com HTTP/1.1', HOST),
    expect: [ok({ PATH_INFO: '/', QUERY_STRING: '' })],
    after: 'open',
  },
  {
    id: 'target/absolute-form-upper-case-scheme',
    from: 'RFC 3986 §3.1 (schemes are case-insensitive)',
    send: head('GET HTTP://example.com/x HTTP/1.1', HOST),
    expect: [ok({ PATH_INFO: '/x', SERVER_NAME: 'example.com' })],
    after: 'open',
  },
  {
    id: 'target/absolute-form-userinfo',
    from: 'RFC 9110 §4.2.4 (treat userinfo as an error); gunicorn valid/rfc9112_target_absolute_userinfo_01 accepts it',
    send: head('GET http://user:pass@example.com:8080/foo HTTP/1.1', 'Host: example.com:8080'),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'target/absolute-form-empty-host',
    from: 'RFC 9110 §4.2.1 (an http URI with an empty host is invalid)',
    send: head('GET http:///path HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'target/absolute-form-unclosed-ipv6',
    from: 'RFC 3986 §3.2.2',
    send: head('GET http://[::1/path HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'target/absolute-form-bad-port',
    from: 'RFC 3986 §3.2.3',
    send: head('GET http://example.com:80x/ HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'target/absolute-form-other-scheme',
    from: 'RFC 9112 §3.2.2 (an origin server serves http and https URIs)',
    send: head('GET ftp://example.com/file HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },

  // --- Methods (RFC 9110 §9) ------------------------------------------------------------------
  {
    id: 'method/extension-method',
    from: 'RFC 9110 §9.1; llhttp method.md',
    send: head('PROPFIND /dav HTTP/1.1', HOST),
    expect: [ok({ REQUEST_METHOD: 'PROPFIND', PATH_INFO: '/dav' })],
    after: 'open',
  },
  {
    id: 'method/unknown-token',
    from: 'RFC 9110 §9.1 (unrecognized method: 501); gunicorn valid/031 "-BLARGH"',
    send: head('-BLARGH /foo HTTP/1.1', HOST),
    expect: [refused(501)],
    after: 'close',
  },
  {
    id: 'method/lower-case',
    from: 'RFC 9110 §9.1 (methods are case-sensitive: "get" is not GET)',
    send: head('get / HTTP/1.1', HOST),
    expect: [refused(501)],
    after: 'close',
  },
  {
    id: 'method/not-a-token',
    from: 'RFC 9110 §9.1; gunicorn invalid/003b',
    send: head('bla:rgh /foo HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'method/nul',
    from: 'gunicorn invalid/prefix_02',
    send: head('GET\x00 /foo HTTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'method/connect',
    from: 'RFC 9110 §9.3.6 (no tunnel here: 405 with an empty Allow); gunicorn valid/rfc9112_target_authority_connect_01',
    send: head('CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443'),
    expect: [refused(405, /CONNECT/)],
    after: 'close',
  },
  {
    id: 'method/connect-after-a-get',
    from: 'RFC 9112 §9.3.2 (pipelining); the earlier response is sent first',
    send: head('GET /slow HTTP/1.1', HOST) + head('CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443'),
    expect: [ok({ PATH_INFO: '/slow' }), refused(405)],
    after: 'close',
  },

  // --- Versions (RFC 9112 §2.3, RFC 9110 §6.2) ------------------------------------------------
  {
    id: 'version/http-1.0',
    from: 'RFC 9112 §9.3 (HTTP/1.0 closes unless keep-alive); gunicorn valid/015',
    send: head('GET /test HTTP/1.0', 'Host: 0.0.0.0:5000'),
    expect: [ok({ SERVER_PROTOCOL: 'HTTP/1.0', SERVER_NAME: '0.0.0.0', SERVER_PORT: '5000' })],
    after: 'close',
  },
  {
    id: 'version/http-1.0-without-host',
    from: 'RFC 9112 §3.2 (Host is required of HTTP/1.1 only)',
    send: head('GET /old HTTP/1.0'),
    expect: [ok({ SERVER_PROTOCOL: 'HTTP/1.0', HTTP_HOST: null, SERVER_NAME: '127.0.0.1' })],
    after: 'close',
  },
  {
    id: 'version/http-2.0',
    from: 'RFC 9110 §15.6.6; gunicorn invalid/version_02',
    send: head('GET /foo HTTP/2.0', HOST),
    expect: [refused(505)],
    after: 'close',
  },
  {
    id: 'version/http-3.0',
    from: 'RFC 9110 §15.6.6',
    send: head('GET /foo HTTP/3.0', HOST),
    expect: [refused(505)],
    after: 'close',
  },
  {
    id: 'version/http-2-preface',
    from: 'RFC 9113 §3.4 (prior knowledge is not spoken here)',
    send: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    expect: [refused(505)],
    after: 'close',
  },
  {
    id: 'version/http-0.9-token',
    from: 'RFC 9112 §2.3',
    send: head('GET /foo HTTP/0.9', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'version/http-0.9-simple-request',
    from: 'RFC 9112 §2.3 (no HTTP/0.9 simple requests); gunicorn invalid/001',
    send: 'GET /foo\r\n\r\n',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'version/unknown-minor',
    from: "RFC 9110 §2.5 says to serve HTTP/1.2 as 1.1; Node's parser refuses it (400)",
    send: head('GET /foo HTTP/1.2', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'version/not-http',
    from: 'gunicorn invalid/004; llhttp invalid.md "RTSP protocol and PUT method"',
    send: head('GET /foo FTP/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'version/lower-case-name',
    from: 'RFC 9112 §2.3 (HTTP-name is case-sensitive)',
    send: head('GET /foo http/1.1', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'version/three-digits',
    from: 'gunicorn invalid/018',
    send: head('GET /test HTTP/111', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'version/long-major',
    from: 'gunicorn invalid/prefix_06',
    send: head(`GET /the/future HTTP/${'1'.repeat(88)}.1`, HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'version/two-digit-minor',
    from: 'gunicorn invalid/version_01',
    send: head('GET /foo HTTP/0.99', HOST),
    expect: [refused(400)],
    after: 'close',
  },

  // --- Host (RFC 9112 §3.2, RFC 3986 §3.2.2) -------------------------------------------------
  {
    id: 'host/missing',
    from: "RFC 9112 §3.2 (400 for HTTP/1.1 without Host: as a problem, not Node's empty 400)",
    send: head('GET / HTTP/1.1'),
    expect: [refused(400, /Host/)],
    after: 'close',
  },
  {
    id: 'host/twice',
    from: 'RFC 9112 §3.2; gunicorn invalid/042',
    send: head('GET /stuff/here?foo=bar HTTP/1.1', 'Host: localhost', 'Host: evil.example.com'),
    expect: [refused(400, /more than one Host/)],
    after: 'close',
  },
  {
    id: 'host/twice-same-value',
    from: 'RFC 9112 §3.2 (more than one Host line, whatever they say)',
    send: head('GET / HTTP/1.1', HOST, HOST),
    expect: [refused(400, /more than one Host/)],
    after: 'close',
  },
  {
    id: 'host/twice-on-http-1.0',
    from: 'RFC 9112 §3.2',
    send: head('GET / HTTP/1.0', HOST, 'Host: evil.example'),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'host/space',
    from: 'RFC 3986 §3.2.2 (reg-name)',
    send: head('GET / HTTP/1.1', 'Host: exa mple.com'),
    expect: [refused(400, /Host/)],
    after: 'close',
  },
  {
    id: 'host/path',
    from: 'RFC 3986 §3.2.2',
    send: head('GET / HTTP/1.1', 'Host: example.com/evil'),
    expect: [refused(400, /Host/)],
    after: 'close',
  },
  {
    id: 'host/userinfo',
    from: 'RFC 9112 §3.2 (uri-host [":" port])',
    send: head('GET / HTTP/1.1', 'Host: user@example.com'),
    expect: [refused(400, /Host/)],
    after: 'close',
  },
  {
    id: 'host/two-ports',
    from: 'RFC 3986 §3.2.3',
    send: head('GET / HTTP/1.1', 'Host: example.com:80:80'),
    expect: [refused(400, /Host/)],
    after: 'close',
  },
  {
    id: 'host/port-not-digits',
    from: 'RFC 3986 §3.2.3',
    send: head('GET / HTTP/1.1', 'Host: example.com:8o'),
    expect: [refused(400, /Host/)],
    after: 'close',
  },
  {
    id: 'host/bare-ipv6',
    from: 'RFC 3986 §3.2.2 (an IPv6 address goes in brackets)',
    send: head('GET / HTTP/1.1', 'Host: ::1'),
    expect: [refused(400, /Host/)],
    after: 'close',
  },
  {
    id: 'host/bad-percent',
    from: 'RFC 3986 §2.1',
    send: head('GET / HTTP/1.1', 'Host: ex%zzample.com'),
    expect: [refused(400, /Host/)],
    after: 'close',
  },
  {
    id: 'host/ipv6-literal',
    from: 'RFC 3986 §3.2.2',
    send: head('GET / HTTP/1.1', 'Host: [::1]:8080'),
    expect: [ok({ HTTP_HOST: '[::1]:8080', SERVER_NAME: '[::1]', SERVER_PORT: '8080' })],
    after: 'open',
  },
  {
    id: 'host/sub-delims',
    from: 'RFC 3986 §3.2.2 (a reg-name may hold sub-delims); gunicorn valid/002',
    send: head('GET / HTTP/1.1', 'Host: 0.0.0.0=5000'),
    expect: [ok({ SERVER_NAME: '0.0.0.0=5000', SERVER_PORT: '80' })],
    after: 'open',
  },
  {
    id: 'host/empty-port',
    from: 'RFC 3986 §3.2.3 (an empty port is the default)',
    send: head('GET / HTTP/1.1', 'Host: example.com:'),
    expect: [ok({ SERVER_NAME: 'example.com', SERVER_PORT: '80' })],
    after: 'open',
  },
  {
    id: 'host/empty',
    from: 'RFC 9112 §3.2 (an empty Host when the target has no authority)',
    send: head('GET / HTTP/1.1', 'Host:'),
    expect: [ok({ HTTP_HOST: '', SERVER_NAME: '127.0.0.1' })],
    after: 'open',
  },
  {
    id: 'host/case-kept-and-trimmed',
    from: 'RFC 9110 §5.5 (leading and trailing whitespace is not part of the value)',
    send: head('GET / HTTP/1.1', 'Host: \tExample.COM:8080 \t'),
    expect: [ok({ HTTP_HOST: 'Example.COM:8080', SERVER_NAME: 'Example.COM', SERVER_PORT: '8080' })],
    after: 'open',
  },

  // --- Header fields (RFC 9110 §5, RFC 9112 §5) ----------------------------------------------
  {
    id: 'fields/content-type-twice-different',
    from: 'RFC 9110 §8.3 (a single value); gunicorn invalid/041',
    send: head('GET /stuff/here?foo=bar HTTP/1.1', 'Host: localhost', 'Content-Type: application/json', 'Content-Type: text/html'),
    expect: [refused(400, /Content-Type/)],
    after: 'close',
  },
  {
    id: 'fields/content-type-twice-same',
    from: 'RFC 9110 §5.3',
    send: head('GET / HTTP/1.1', HOST, 'Content-Type: text/plain', 'Content-Type: text/plain'),
    expect: [ok({ CONTENT_TYPE: 'text/plain', HTTP_CONTENT_TYPE: null })],
    after: 'open',
  },
  {
    id: 'fields/list-joined',
    from: 'RFC 9110 §5.3; gunicorn valid/017',
    send: head('GET / HTTP/1.1', HOST, 'If-Match: bazinga!', 'If-Match: large-sound'),
    expect: [ok({ HTTP_IF_MATCH: 'bazinga!, large-sound' })],
    after: 'open',
  },
  {
    id: 'fields/cookies-joined',
    from: 'RFC 6265 §5.4',
    send: head('GET / HTTP/1.1', HOST, 'Cookie: a=1', 'Cookie: b=2'),
    expect: [ok({ HTTP_COOKIE: 'a=1; b=2' })],
    after: 'open',
  },
  {
    id: 'fields/whitespace-trimmed',
    from: 'RFC 9110 §5.5; gunicorn valid/padding_01, rfc9110_field_value_htab_trim_01',
    send: head('GET / HTTP/1.1', HOST, 'Name: \t value \t '),
    expect: [ok({ HTTP_NAME: 'value' })],
    after: 'open',
  },
  {
    id: 'fields/empty-value',
    from: 'RFC 9110 §5.5',
    send: head('GET / HTTP/1.1', HOST, 'X-Empty:'),
    expect: [ok({ HTTP_X_EMPTY: '' })],
    after: 'open',
  },
  {
    id: 'fields/obs-text-value',
    from: 'RFC 9110 §5.5 (obs-text); gunicorn valid/rfc9110_field_value_obs_text_01',
    send: head('GET / HTTP/1.1', HOST, 'X-Value: caf\xc3\xa9'),
    expect: [ok({ HTTP_X_VALUE: 'caf\xc3\xa9' })],
    after: 'open',
  },
  {
    id: 'fields/tchar-name',
    from: 'RFC 9110 §5.6.2; gunicorn valid/rfc9110_field_name_special_chars_01',
    send: head('GET / HTTP/1.1', HOST, 'X.Custom|Pipe: ok'),
    expect: [ok({ 'HTTP_X.CUSTOM|PIPE': 'ok' })],
    after: 'open',
  },
  {
    id: 'fields/underscore-dropped',
    from: 'TSGI §2.2 (no spoofing a dashed name); gunicorn invalid/040 (header_map)',
    send: head('GET / HTTP/1.1', HOST, 'X_Forwarded_For: 203.0.113.9', 'Content_Length: -1E23'),
    expect: [ok({ HTTP_X_FORWARDED_FOR: null, CONTENT_LENGTH: null })],
    after: 'open',
  },
  {
    id: 'fields/space-before-colon',
    from: 'RFC 9112 §5.1 (MUST reject); gunicorn invalid/020; h11 test_io "foo  : line"',
    send: head('GET /stuff/here?foo=bar HTTP/1.1', HOST, 'Content-Length : 3') + 'xyz',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'fields/nul-in-name',
    from: 'RFC 9110 §5.1; gunicorn invalid/005',
    send: head('GET /foo HTTP/1.1', HOST, 'ba\x00z: bar'),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'fields/non-ascii-name',
    from: 'RFC 9110 §5.1; gunicorn invalid/nonascii_03',
    send: head('GET /germans.. HTTP/1.1', HOST, 'Content-Length\xc3\x9f: 3', 'Content-Length: 3') + '\xc3\x84',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'fields/no-colon',
    from: 'RFC 9112 §5',
    send: head('GET / HTTP/1.1', HOST, 'NoColonHere'),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'fields/empty-name',
    from: 'RFC 9112 §5; h11 test_io ": line"',
    send: head('GET / HTTP/1.1', HOST, ': value'),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'fields/obs-fold',
    from: 'RFC 9112 §5.2 (a server may reject obs-fold with 400); gunicorn invalid/obs_fold_01',
    send: head('GET / HTTP/1.1', 'Long: one', ' two', HOST),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'fields/bel-in-value',
    from: 'RFC 9110 §5.5; gunicorn invalid/rfc9110_field_value_ctl_bel_01',
    send: head('GET /foo HTTP/1.1', HOST, 'X-Value: plain\x07injected'),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'fields/del-in-value',
    from: 'RFC 9110 §5.5; gunicorn invalid/rfc9110_field_value_ctl_del_01',
    send: head('GET /foo HTTP/1.1', HOST, 'X-Value: plain\x7finjected'),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'fields/bare-cr-in-value',
    from: 'RFC 9112 §2.2 (a bare CR is rejected)',
    send: head('GET / HTTP/1.1', HOST, 'X-Value: a\rb'),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'fields/bare-lf-smuggles-a-request',
    from: 'RFC 9112 §2.2; gunicorn invalid/invalid_field_value_01',
    send: 'GET / HTTP/1.1\r\nHost: x\r\nNewline: a\nContent-Length: 26\r\nGET / HTTP/1.1\nHost: x\r\n\r\n',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'fields/expect-unknown',
    from: "RFC 9110 §10.1.1 (417, as a problem rather than Node's empty one)",
    send: head('GET / HTTP/1.1', HOST, 'Expect: the-unexpected'),
    expect: [refused(417)],
    after: 'close',
  },
  {
    id: 'fields/expect-100-continue',
    from: 'RFC 9110 §10.1.1 (the 100 is sent when the app reads the body)',
    send: head('POST /upload HTTP/1.1', HOST, 'Expect: 100-continue', 'Content-Length: 5') + 'hello',
    expect: [ok({ 'tsgi.input': 'hello', HTTP_EXPECT: '100-continue' })],
    after: 'open',
  },

  // --- Message body and framing (RFC 9112 §6, §7) --------------------------------------------
  {
    id: 'body/content-length',
    from: 'RFC 9112 §6.2; gunicorn valid/001',
    send: head('PUT /stuff/here?foo=bar HTTP/1.1', HOST, 'Content-Type: application/json', 'Content-Length: 14') + '{"nom": "nom"}',
    expect: [ok({ REQUEST_METHOD: 'PUT', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: '14', 'tsgi.input': '{"nom": "nom"}' })],
    after: 'open',
  },
  {
    id: 'body/content-length-on-get',
    from: 'RFC 9110 §9.3.1; gunicorn valid/rfc9110_body_framing_get_cl_nonzero_01',
    send: head('GET /foo HTTP/1.1', HOST, 'Content-Length: 5') + 'hello',
    expect: [ok({ 'tsgi.input': 'hello' })],
    after: 'open',
  },
  {
    id: 'body/content-length-leading-zeros',
    from: 'RFC 9110 §8.6 (1*DIGIT); llhttp content-length.md "Content-Length with zeroes"',
    send: head('POST / HTTP/1.1', HOST, 'Content-Length: 005') + 'hello',
    expect: [ok({ 'tsgi.input': 'hello' })],
    after: 'open',
  },
  {
    id: 'body/chunked',
    from: 'RFC 9112 §7.1; gunicorn valid/010',
    send:
      head('POST /post_chunked_all_your_base HTTP/1.1', HOST, 'Transfer-Encoding: chunked') +
      '1e\r\nall your base are belong to us\r\n0\r\n\r\n',
    expect: [ok({ HTTP_TRANSFER_ENCODING: 'chunked', 'tsgi.input': 'all your base are belong to us' })],
    after: 'open',
  },
  {
    id: 'body/chunked-extensions',
    from: 'RFC 9112 §7.1.1; gunicorn valid/rfc9112_chunked_ext_quoted_01; llhttp "Chunk extensions quoting"',
    send:
      head('POST / HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5;some;parameters=stuff\r\nhello\r\n6;q="a b"\r\n world\r\n0\r\n\r\n',
    expect: [ok({ 'tsgi.input': 'hello world' })],
    after: 'open',
  },
  {
    id: 'body/chunked-extensions-with-whitespace',
    from: 'RFC 9112 §7.1.1 allows BWS around ";"; Node\'s parser refuses it (400), gunicorn valid/013 accepts',
    send: head('POST / HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5; some; parameters=stuff\r\nhello\r\n0\r\n\r\n' + SECOND,
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'body/chunked-size-forms',
    from: 'RFC 9112 §7.1 (HEXDIG, either case, leading zeros); gunicorn valid/011, rfc9112_chunked_size_*',
    send: head('POST / HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '0005\r\nhello\r\nA\r\n0123456789\r\n000\r\n\r\n',
    expect: [ok({ 'tsgi.input': 'hello0123456789' })],
    after: 'open',
  },
  {
    id: 'body/chunked-trailers-stay-out',
    from: 'RFC 9110 §6.5 (trailers are not header fields); gunicorn valid/012',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\nVary: *\r\nX-Checksum: abc\r\n\r\n',
    expect: [ok({ HTTP_VARY: null, HTTP_X_CHECKSUM: null, 'tsgi.input': 'hello' })],
    after: 'open',
  },
  {
    id: 'body/host-trailer-stays-out',
    from: 'RFC 9110 §6.5.1 (a trailer never replaces a header field); gunicorn invalid/rfc9110_trailer_forbidden_host_01 refuses it',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\nHost: evil.example.com\r\n\r\n' + SECOND,
    expect: [
      ok({ HTTP_HOST: 'example.com', SERVER_NAME: 'example.com', 'tsgi.input': 'hello' }),
      ok({ PATH_INFO: '/second', HTTP_HOST: 'example.com' }),
    ],
    after: 'open',
  },
  {
    id: 'smuggling/content-length-trailer',
    from: 'RFC 9110 §6.5.1 (no framing fields in trailers); gunicorn invalid/rfc9110_trailer_forbidden_cl_01',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\nContent-Length: 99\r\n\r\n' + SECOND,
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'body/pipelined-after-chunked',
    from: 'RFC 9112 §9.3.2; gunicorn valid/023',
    send: head('POST /first HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + CHUNKED_HELLO + SECOND,
    expect: [ok({ PATH_INFO: '/first', 'tsgi.input': 'hello world' }), ok({ PATH_INFO: '/second' })],
    after: 'open',
  },
  {
    id: 'body/pipelined-after-content-length',
    from: 'RFC 9112 §6.3; gunicorn valid/020',
    send: head('POST /first HTTP/1.1', HOST, 'Content-Length: 5') + 'hello' + SECOND,
    expect: [ok({ PATH_INFO: '/first', 'tsgi.input': 'hello' }), ok({ PATH_INFO: '/second' })],
    after: 'open',
  },
  {
    id: 'smuggling/content-length-and-chunked',
    from: 'RFC 9112 §6.3 (CL.TE: 400 and close); gunicorn invalid/rfc9112_smuggle_cl_te_chunked_01; llhttp transfer-encoding.md',
    send: head('POST /p HTTP/1.1', HOST, 'Content-Length: 3', 'Transfer-Encoding: chunked') + '0\r\n\r\n' + SECOND,
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunked-and-content-length',
    from: 'RFC 9112 §6.3 (TE.CL)',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked', 'Content-Length: 40') + '0\r\n\r\n' + SECOND,
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/two-content-lengths',
    from: 'RFC 9112 §6.3; gunicorn invalid/021; llhttp content-length.md "Error on duplicate Content-Length"',
    send: head('POST /p HTTP/1.1', HOST, 'Content-Length: 3', 'Content-Length: 2') + 'xyz',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/content-length-list',
    from: 'RFC 9112 §6.3; gunicorn invalid/rfc9112_smuggle_cl_list_form_01',
    send: head('POST /p HTTP/1.1', HOST, 'Content-Length: 5, 5') + 'hello',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/content-length-negative',
    from: 'RFC 9110 §8.6; gunicorn invalid/014',
    send: head('POST /p HTTP/1.1', HOST, 'Content-Length: -1') + 'x',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/content-length-plus',
    from: 'RFC 9110 §8.6; gunicorn invalid/024',
    send: head('POST /p HTTP/1.1', HOST, 'Content-Length: +1') + 'x',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/content-length-two-numbers',
    from: 'RFC 9110 §8.6; gunicorn invalid/prefix_04',
    send: head('POST /p HTTP/1.1', HOST, 'Content-Length: 3 1') + 'xyzabc123',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/content-length-overflow',
    from: 'llhttp content-length.md "Error on Content-Length overflow"',
    send: head('POST /p HTTP/1.1', HOST, 'Content-Length: 1000000000000000000000'),
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunked-not-last',
    from: 'RFC 9112 §6.3 (chunked must be the final coding); gunicorn invalid/chunked_06; llhttp "POST with chunked before other transfer coding names"',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked, gzip') + CHUNKED_HELLO,
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunked-twice',
    from: 'RFC 9112 §7 (chunked once); gunicorn invalid/chunked_03, chunked_04; llhttp "POST with chunked and duplicate transfer-encoding"',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked') + CHUNKED_HELLO,
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunkedchunked',
    from: 'RFC 9112 §6.1 (an unknown coding: 501); llhttp transfer-encoding.md "POST with chunkedchunked as transfer-encoding"',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunkedchunked') + CHUNKED_HELLO + SECOND,
    expect: [refused(501)],
    after: 'close',
  },
  {
    id: 'smuggling/tab-before-chunked-with-content-length',
    from: 'gunicorn invalid/chunked_02',
    send: head('POST /p HTTP/1.1', HOST, 'Content-Length: 12', 'Transfer-Encoding: \tchunked') + CHUNKED_HELLO,
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/other-transfer-coding',
    from: 'RFC 9112 §6.1 (a coding the server does not understand: 501); gunicorn valid/025 accepts, h11 refuses',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: gzip, chunked') + CHUNKED_HELLO,
    expect: [refused(501)],
    after: 'close',
  },
  {
    id: 'smuggling/identity-then-chunked',
    from: 'RFC 9112 §6.1 (identity is no coding anymore); gunicorn valid/rfc9112_smuggle_te_identity_chunked_01 accepts',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: identity, chunked') + CHUNKED_HELLO,
    expect: [refused(501)],
    after: 'close',
  },
  {
    id: 'smuggling/http-1.0-chunked-keep-alive',
    from: 'RFC 9112 §6.1 (Transfer-Encoding on HTTP/1.0: faulty framing, close); gunicorn invalid/chunked_05',
    send: head('POST /a HTTP/1.0', HOST, 'Transfer-Encoding: chunked', 'Connection: keep-alive') + '5\r\nhello\r\n0\r\n\r\n' + SECOND,
    expect: [refused(400, /HTTP\/1\.0/)],
    after: 'close',
  },
  {
    id: 'smuggling/chunk-size-underscore',
    from: 'RFC 9112 §7.1; gunicorn invalid/chunked_01',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5\r\nhello\r\n6_0\r\n world\r\n0\r\n\r\n' + SECOND,
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunk-size-signed',
    from: 'RFC 9112 §7.1; gunicorn invalid/rfc9112_chunked_size_minus_sign_01, plus_sign_01',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '+5\r\nhello\r\n0\r\n\r\n',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunk-size-space-before',
    from: 'RFC 9112 §7.1; gunicorn invalid/chunked_10',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5\r\nhello\r\n 0\r\n\r\n',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunk-size-space-after',
    from: 'RFC 9112 §7.1; gunicorn invalid/chunked_09; llhttp "Space after chunk header"',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5\r\nhello\r\n0 \r\n\r\n',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunk-size-missing',
    from: 'RFC 9112 §7.1; gunicorn invalid/chunked_13',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '\r\nhello\r\n0\r\n\r\n',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunk-size-huge',
    from: 'h11 test_io "9" * 100',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + `${'9'.repeat(100)}\r\nxxx`,
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunk-header-bare-lf',
    from: 'RFC 9112 §7.1; gunicorn invalid/chunked_11; llhttp "Chunk header not terminated by CRLF"',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5\n;\r\nhello\r\n0\r\n\r\n',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunk-extension-bare-cr',
    from: 'RFC 9112 §2.2; gunicorn invalid/chunked_14',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5;ext=val\rue\r\nhello\r\n0\r\n\r\n',
    expect: [refused(400)],
    after: 'close',
  },
  {
    id: 'smuggling/chunk-data-too-long',
    from: 'RFC 9112 §7.1; llhttp "Chunk data not terminated by CRLF"',
    send: head('POST /p HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + '5\r\nhelloXX\r\n0\r\n\r\n' + SECOND,
    expect: [refused(400)],
    after: 'close',
  },

  // --- Connection management (RFC 9112 §9) ---------------------------------------------------
  {
    id: 'connection/pipelined',
    from: 'RFC 9112 §9.3.2; gunicorn valid/018',
    send: head('GET /first HTTP/1.1', HOST) + SECOND,
    expect: [ok({ PATH_INFO: '/first' }), ok({ PATH_INFO: '/second' })],
    after: 'open',
  },
  {
    id: 'connection/empty-lines-between',
    from: 'RFC 9112 §2.2 (empty lines before a request line are ignored); llhttp connection.md "CRLF between requests"',
    send: head('GET /first HTTP/1.1', HOST) + '\r\n' + SECOND,
    expect: [ok({ PATH_INFO: '/first' }), ok({ PATH_INFO: '/second' })],
    after: 'open',
  },
  {
    id: 'connection/http-1.0-keep-alive',
    from: 'RFC 9112 §9.3 (appendix C.2.2); gunicorn valid/022',
    send: head('GET /first HTTP/1.0', 'Connection: Keep-Alive') + SECOND,
    expect: [ok({ PATH_INFO: '/first', SERVER_PROTOCOL: 'HTTP/1.0' }), ok({ PATH_INFO: '/second' })],
    after: 'open',
  },
  {
    id: 'connection/close-then-more-bytes',
    from: "RFC 9112 §9.6 (nothing after close is processed); gunicorn valid/021: the app's response is kept",
    send: head('GET /first HTTP/1.1', HOST, 'Connection: close') + SECOND,
    expect: [ok({ PATH_INFO: '/first', HTTP_CONNECTION: 'close' })],
    after: 'close',
  },
  {
    id: 'connection/close-then-more-bytes-slow-app',
    from: 'RFC 9112 §9.6: the bytes arrive before the app answers, which is not replaced by a 400',
    send: head('GET /slow HTTP/1.1', HOST, 'Connection: close') + 'GARBAGE\r\n\r\n',
    expect: [ok({ PATH_INFO: '/slow' })],
    after: 'close',
  },
  {
    id: 'connection/close-then-more-bytes-body',
    from: 'RFC 9112 §9.6: the app is still reading a body when the bytes arrive',
    send: head('POST /first HTTP/1.1', HOST, 'Connection: close', 'Content-Length: 5') + 'hello' + SECOND,
    expect: [ok({ PATH_INFO: '/first', 'tsgi.input': 'hello' })],
    after: 'close',
  },
  {
    id: 'connection/http-1.0-then-more-bytes',
    from: 'RFC 9112 §9.3 (HTTP/1.0 closes); gunicorn valid/019',
    send: head('GET /first HTTP/1.0') + SECOND,
    expect: [ok({ PATH_INFO: '/first' })],
    after: 'close',
  },
  {
    id: 'connection/http-1.0-then-garbage-slow-app',
    from: "RFC 9112 §9.3; the issue's lost response",
    send: head('GET /slow HTTP/1.0') + 'GARBAGE',
    expect: [ok({ PATH_INFO: '/slow' })],
    after: 'close',
  },
  {
    id: 'connection/garbage-after-keep-alive-request',
    from: 'RFC 9112 §2.2: the response owed comes first, then the 400',
    send: head('GET /slow HTTP/1.1', HOST) + 'GARBAGE\r\n\r\n',
    expect: [ok({ PATH_INFO: '/slow' }), refused(400)],
    after: 'close',
  },
  {
    id: 'connection/upgrade-not-taken',
    from: 'RFC 9110 §7.8 (a server may ignore Upgrade); llhttp connection.md "upgrade": the connection closes after the answer',
    send: head('GET /a HTTP/1.1', HOST, 'Upgrade: websocket', 'Connection: Upgrade') + SECOND,
    expect: [ok({ PATH_INFO: '/a', HTTP_UPGRADE: 'websocket' })],
    after: 'close',
  },
  {
    id: 'connection/upgrade-h2c-not-taken',
    from: 'RFC 9110 §7.8; RFC 7540 §3.2 (h2c is not offered)',
    send: head('GET /a HTTP/1.1', HOST, 'Upgrade: h2c', 'Connection: Upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAAQAAP__'),
    expect: [ok({ PATH_INFO: '/a', HTTP_UPGRADE: 'h2c' })],
    after: 'close',
  },
  {
    id: 'connection/upgrade-post-with-body',
    from: 'llhttp connection.md "Upgrade POST request"',
    send: head('POST /a HTTP/1.1', HOST, 'Upgrade: websocket', 'Connection: Upgrade', 'Content-Length: 5') + 'hello' + SECOND,
    expect: [ok({ PATH_INFO: '/a', 'tsgi.input': 'hello' })],
    after: 'close',
  },

  // --- Limits at their defaults, counted as Gunicorn counts them -----------------------------
  {
    id: 'limits/request-line-at-limit',
    from: 'Gunicorn limit_request_line (4094 bytes, without CRLF)',
    send: head(`GET /${'a'.repeat(4094 - 'GET / HTTP/1.1'.length)} HTTP/1.1`, HOST),
    expect: [ok({ REQUEST_METHOD: 'GET' })],
    after: 'open',
  },
  {
    id: 'limits/request-line-over-limit',
    from: 'Gunicorn limit_request_line; gunicorn invalid/006; RFC 9112 §3 (414)',
    send: head(`GET /${'a'.repeat(4095 - 'GET / HTTP/1.1'.length)} HTTP/1.1`, HOST),
    expect: [refused(414)],
    after: 'close',
  },
  {
    id: 'limits/request-line-100k',
    from: 'Gunicorn limit_request_line; gunicorn invalid/limit_line_default_01',
    send: head(`GET /${'a'.repeat(100 * 1024)} HTTP/1.1`, HOST),
    expect: [refused(414)],
    after: 'close',
  },
  {
    id: 'limits/fields-at-limit',
    from: 'Gunicorn limit_request_fields (100)',
    send: head('GET / HTTP/1.1', HOST, ...fields(99)),
    expect: [ok({ HTTP_X_FIELD_98: 'v' })],
    after: 'open',
  },
  {
    id: 'limits/fields-over-limit',
    from: 'Gunicorn limit_request_fields; gunicorn invalid/009; RFC 6585 §5 (431)',
    send: head('GET / HTTP/1.1', HOST, ...fields(100)),
    expect: [refused(431, /more than 100 header fields/)],
    after: 'close',
  },
  {
    id: 'limits/ten-thousand-fields',
    from: 'Gunicorn limit_request_fields',
    send: head('GET / HTTP/1.1', HOST, ...fields(10_000)),
    expect: [refused(431)],
    after: 'close',
  },
  {
    id: 'limits/field-at-limit',
    from: 'Gunicorn limit_request_field_size (8190 bytes: "name: value" and its CRLF)',
    send: head('GET / HTTP/1.1', HOST, `X-Big: ${'b'.repeat(8190 - 'X-Big: \r\n'.length)}`),
    expect: [ok({ REQUEST_METHOD: 'GET' })],
    after: 'open',
  },
  {
    id: 'limits/field-over-limit',
    from: 'Gunicorn limit_request_field_size; gunicorn invalid/017',
    send: head('GET / HTTP/1.1', HOST, `X-Big: ${'b'.repeat(8191 - 'X-Big: \r\n'.length)}`),
    expect: [refused(431, /X-Big/)],
    after: 'close',
  },
  {
    id: 'limits/one-megabyte-field',
    from: 'Gunicorn limit_request_field_size; gunicorn invalid/limit_header_default_01: 431, not 414',
    send: head('GET / HTTP/1.1', HOST, `X-Huge: ${'h'.repeat(1024 * 1024)}`),
    expect: [refused(431)],
    after: 'close',
  },
  {
    id: 'limits/declared-body-over-limit',
    from: 'Gunicorn has none; RFC 9110 §15.5.14 (413, and the connection closes)',
    send: head('POST /upload HTTP/1.1', HOST, 'Content-Length: 5000') + 'x'.repeat(5000) + SECOND,
    expect: [refused(413)],
    after: 'close',
  },
  {
    id: 'limits/chunked-body-over-limit',
    from: 'RFC 9110 §15.5.14; RFC 9112 §9.6 (413, and the connection closes)',
    send:
      head('POST /upload HTTP/1.1', HOST, 'Transfer-Encoding: chunked') +
      `1000\r\n${'x'.repeat(4096)}\r\n`.repeat(2) +
      '0\r\n\r\n' +
      SECOND,
    expect: [refused(413)],
    after: 'close',
  },
];
