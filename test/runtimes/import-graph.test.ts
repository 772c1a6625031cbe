/**
 * "@carafe/core must not import Node built-ins on paths a fetch runtime needs" (issue 18), checked
 * on the build: the static import graph of packages/core/dist/index.js, with packages resolved as a
 * bundler for workerd resolves them (so `@carafe/gateway` is its node-free entry, dist/fetch.js),
 * must reach no `node:` module; and what core imports from `@carafe/gateway` must exist in that
 * entry. Run `npx tsc -b` first.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeNodeImports, importGraph } from '../../packages/gateway/test/import-graph.js';
import { ROOT } from './harness.js';

const CORE = join(ROOT, 'packages/core/dist/index.js');
const GATEWAY_FETCH = join(ROOT, 'packages/gateway/dist/fetch.js');

function built(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npx tsc -b\` first`);
  return path;
}

describe('the fetch path of the build', () => {
  it('@carafe/gateway/fetch reaches no Node built-in', () => {
    const graph = importGraph(built(GATEWAY_FETCH), { root: ROOT });
    expect(describeNodeImports(graph)).toEqual([]);
    expect(graph.unresolved).toEqual([]);
  });

  it('@carafe/core reaches no Node built-in (following @carafe/gateway to its node-free entry)', () => {
    const graph = importGraph(built(CORE), { root: ROOT });
    // The walk went through the gateway's node-free entry, not its node:http binding.
    expect(graph.files).toContain('packages/gateway/dist/fetch.js');
    expect(graph.files).not.toContain('packages/gateway/dist/binding.js');
    expect(graph.unresolved).toEqual([]);
    expect(describeNodeImports(graph), "Node built-ins on @carafe/core's import graph (built-in ← chain of files)").toEqual([]);
  });

  it('@carafe/core imports from @carafe/gateway only what its node-free entry exports', async () => {
    const available = new Set(Object.keys((await import(pathToFileURL(built(GATEWAY_FETCH)).href)) as object));
    const dist = join(ROOT, 'packages/core/dist');
    const missing: string[] = [];
    for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.js'))) {
      const code = readFileSync(join(dist, file), 'utf8');
      for (const [, names] of code.matchAll(/import\s*\{([^}]*)\}\s*from\s*['"]@carafe\/gateway['"]/g)) {
        for (const spec of names!.split(',')) {
          const name = spec.trim().split(/\s+as\s+/)[0]!;
          if (name !== '' && !available.has(name)) missing.push(`${name} (packages/core/dist/${file})`);
        }
      }
    }
    expect(missing, 'names core imports statically from @carafe/gateway that are Node-only').toEqual([]);
  });
});
