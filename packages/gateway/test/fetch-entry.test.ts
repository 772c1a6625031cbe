/**
 * `@carafe/gateway/fetch`, the node-free entry: nothing it loads imports a Node built-in, the main
 * entry re-exports all of it, and the pieces it replaced (Node's reason phrases, Buffer.byteLength)
 * agree with Node's own.
 */
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { fileURLToPath } from 'node:url';
import * as main from '@carafe/gateway';
import { describe, expect, it } from 'vitest';
import * as fetchEntry from '../src/fetch.js';
import { STATUS_TEXT } from '../src/status-text.js';
import { utf8Length } from '../src/utf8.js';
import { describeNodeImports, importGraph } from './import-graph.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe('@carafe/gateway/fetch', () => {
  it('imports no Node built-in, directly or through its dependencies', () => {
    const graph = importGraph(here('../src/fetch.ts'), { root: here('../../..') });
    expect(graph.files.length).toBeGreaterThan(10);
    expect(graph.files).toContain('packages/gateway/src/fetch-binding.ts');
    expect(describeNodeImports(graph)).toEqual([]);
    expect(graph.unresolved).toEqual([]);
  });

  it('is what @carafe/gateway resolves to for fetch runtimes (conditions workerd, worker, browser), and is exported as ./fetch', () => {
    const manifest = JSON.parse(readFileSync(here('../package.json'), 'utf8')) as { exports: Record<string, Record<string, string>> };
    expect(manifest.exports['./fetch']).toEqual({ types: './dist/fetch.d.ts', default: './dist/fetch.js' });
    const root = manifest.exports['.']!;
    for (const condition of ['workerd', 'worker', 'browser']) expect(root[condition]).toBe('./dist/fetch.js');
    expect(Object.keys(root).at(-1)).toBe('default');
    expect(root.default).toBe('./dist/index.js');
  });

  it('holds nothing the main entry lacks', () => {
    for (const [name, value] of Object.entries(fetchEntry)) expect(main[name as keyof typeof main], name).toBe(value);
    expect(Object.keys(fetchEntry)).toEqual(
      expect.arrayContaining(['toFetchHandler', 'fromFetchHandler', 'HttpStatusError', 'problemResponse', 'validator']),
    );
    expect(Object.keys(fetchEntry)).not.toContain('serve');
    expect(Object.keys(fetchEntry)).not.toContain('sendFile');
  });
});

describe('the node-free replacements', () => {
  it('STATUS_TEXT is Node’s STATUS_CODES', () => {
    expect({ ...STATUS_TEXT }).toEqual({ ...STATUS_CODES });
    expect(main.statusLine(413)).toBe(`413 ${STATUS_CODES[413]}`);
  });

  it('utf8Length is Buffer.byteLength, lone surrogates included', () => {
    for (const text of ['', 'ascii', 'café', '€uro', '😀 emoji', 'a\ud800b', '\udc00', `${'x'.repeat(1000)}ü`, '\u07ff\u0800\uffff']) {
      expect(utf8Length(text), JSON.stringify(text)).toBe(Buffer.byteLength(text));
    }
  });

  it('problemResponse bodies stay Buffers on Node', () => {
    const body = main.problemResponse(404).body[0];
    expect(Buffer.isBuffer(body)).toBe(true);
    expect(String(body)).toBe('{"type":"about:blank","title":"Not Found","status":404}');
  });
});
