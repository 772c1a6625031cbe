import { headerReader, requestHeader, type Environ } from '@carafe/gateway';
import { describe, expect, it } from 'vitest';

const environ = {
  CONTENT_TYPE: 'text/plain',
  HTTP_IF_NONE_MATCH: '"x"',
  HTTP_X_COUNT: 3,
} as unknown as Environ;

describe('requestHeader', () => {
  it('reads headers by HTTP name, any case', () => {
    expect(requestHeader(environ, 'If-None-Match')).toBe('"x"');
    expect(requestHeader(environ, 'if-none-match')).toBe('"x"');
    expect(requestHeader(environ, 'Content-Type')).toBe('text/plain');
    expect(headerReader(environ)('IF-NONE-MATCH')).toBe('"x"');
  });

  it('gives undefined for absent headers, non-string values and names with underscores', () => {
    expect(requestHeader(environ, 'Range')).toBeUndefined();
    expect(requestHeader(environ, 'X-Count')).toBeUndefined();
    expect(requestHeader(environ, 'If_None_Match')).toBeUndefined();
  });
});
