/**
 * The package itself: its main entry loads no Node built-in (so the middleware runs on fetch
 * runtimes too; only the docs UI reads files, through `import()` when first asked), and it exports
 * what the README documents.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as entry from '@carafe/middleware';
import { describeNodeImports, importGraph } from '../../gateway/test/import-graph.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe('@carafe/middleware', () => {
  it('imports no Node built-in statically, directly or through jose and the gateway', () => {
    const graph = importGraph(here('../src/index.ts'), { root: here('../../..') });
    expect(graph.files).toContain('packages/middleware/src/jwt.ts');
    expect(graph.files.some((file) => file.includes('node_modules/jose/'))).toBe(true);
    expect(describeNodeImports(graph)).toEqual([]);
    expect(graph.unresolved).toEqual([]);
  });

  it('exports each piece', () => {
    for (const name of [
      'cors',
      'securityHeaders',
      'jwtAuth',
      'bearerAuth',
      'basicAuth',
      'requireScopes',
      'csrf',
      'rateLimit',
      'MemoryStore',
      'MongoRateLimitStore',
      'trustedHosts',
      'docsUi',
    ]) {
      expect(typeof (entry as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
