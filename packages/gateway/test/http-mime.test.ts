import { contentTypeFor, DEFAULT_CONTENT_TYPE } from '@carafe/gateway';
import { describe, expect, it } from 'vitest';

describe('contentTypeFor', () => {
  it('looks types up in mime-db by extension, any case', () => {
    expect(contentTypeFor('a/b/IMAGE.PNG')).toBe('image/png');
    expect(contentTypeFor('x.wasm')).toBe('application/wasm');
    expect(contentTypeFor('x.avif')).toBe('image/avif');
    expect(contentTypeFor('x.svg')).toBe('image/svg+xml');
  });

  it('adds charset=utf-8 to text types only', () => {
    expect(contentTypeFor('index.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeFor('app.mjs')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeFor('notes.md')).toBe('text/markdown; charset=utf-8');
    expect(contentTypeFor('data.json')).toBe('application/json');
  });

  it('falls back to application/octet-stream', () => {
    for (const name of ['data.unknownext', 'Makefile', '.env', '']) expect(contentTypeFor(name), name).toBe(DEFAULT_CONTENT_TYPE);
  });

  it('takes overrides by lower-case extension first', () => {
    const overrides = { '.map': 'application/json', '.txt': 'text/plain; charset=latin1' };
    expect(contentTypeFor('app.js.map', overrides)).toBe('application/json');
    expect(contentTypeFor('README.TXT', overrides)).toBe('text/plain; charset=latin1');
    expect(contentTypeFor('app.css', overrides)).toBe('text/css; charset=utf-8');
    expect(contentTypeFor('toString', { '.x': 'y' })).toBe(DEFAULT_CONTENT_TYPE);
  });
});
