/**
 * The layering rules of CONTRIBUTING.md, checked on the source: no import cycle inside any
 * package (type-only imports included: a type cycle still ties modules together for a reader),
 * the gateway depends on nothing of ours, core, server and middleware depend on the gateway alone
 * (never on each other), and create-carafe depends on the server alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['gateway', 'core', 'server', 'middleware', 'create-carafe'];

// `import … from '…'`, `import type … from '…'`, `export … from '…'`, `import '…'` and `import('…')`.
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The module specifiers a file imports, with comments stripped so examples in TSDoc do not count. */
function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  return [...code.matchAll(SPECIFIER)].map((match) => (match[1] ?? match[2])!);
}

/** Relative imports resolved to files; `./x.js` names `./x.ts` in the source tree. */
function graphOf(pkg: string): Map<string, string[]> {
  const src = join(ROOT, 'packages', pkg, 'src');
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(src)) {
    const targets = importsOf(readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    graph.set(file, targets);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the list of files around it. */
function cyclesIn(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('architecture', () => {
  it('finds a cycle when there is one (the checker itself)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cyclesIn(graph)).toEqual([['a', 'b', 'c', 'a']]);
    expect(importsOf("import type { X } from './x.js';\nexport { y } from './y.js';\n// import z from './z.js'")).toEqual([
      './x.js',
      './y.js',
    ]);
  });

  for (const pkg of PACKAGES) {
    it(`has no import cycle in packages/${pkg}/src, type-only imports included`, () => {
      const cycles = cyclesIn(graphOf(pkg)).map((cycle) => cycle.map((file) => relative(ROOT, file)).join(' → '));
      expect(cycles).toEqual([]);
    });
  }

  const allowed: Record<string, string[]> = {
    gateway: [],
    core: ['@carafe/gateway'],
    server: ['@carafe/gateway'],
    middleware: ['@carafe/gateway'],
    'create-carafe': ['@carafe/server'],
  };
  for (const pkg of PACKAGES) {
    it(`packages/${pkg} depends only on ${allowed[pkg]!.join(', ') || 'none'} of our packages`, () => {
      const ours = new Set<string>();
      for (const file of sourceFiles(join(ROOT, 'packages', pkg, 'src'))) {
        for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
          if (specifier.startsWith('@carafe/')) ours.add(specifier.split('/').slice(0, 2).join('/'));
        }
      }
      expect([...ours].filter((name) => !allowed[pkg]!.includes(name))).toEqual([]);
    });
  }
});
