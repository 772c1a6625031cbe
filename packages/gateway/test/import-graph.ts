/**
 * Walks a module's static import graph — ES `import`/`export … from`, and `require()` in CommonJS
 * dependencies — resolving packages as a bundler for a fetch runtime does (package `exports` under
 * the `workerd`, `worker` and `browser` conditions), and reports every Node built-in it reaches
 * with the chain of files that leads there. Dynamic `import()` is not followed: a module loaded
 * only when called (a Node-only path) is not on the graph a runtime must load.
 *
 * Used by fetch-entry.test.ts (the gateway's node-free entry, on its sources) and by
 * test/runtimes/import-graph.test.ts (@carafe/core's build).
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/** The conditions esbuild (and wrangler) resolve with when bundling for workerd. */
export const FETCH_RUNTIME_CONDITIONS = ['workerd', 'worker', 'browser'];

export interface NodeImport {
  /** The built-in, e.g. `node:crypto` or `path`. */
  builtin: string;
  /** The files from the entry to the one importing the built-in. */
  chain: string[];
}

export interface ImportGraph {
  /** Every file reached. */
  files: string[];
  /** Every Node built-in reached, once per importing file. */
  nodeImports: NodeImport[];
  /** Specifiers that could not be resolved, with the file importing them. */
  unresolved: string[];
}

const BUILTINS = new Set(builtinModules);
const ESM_FROM = /(?:^|[^\w$.])(import|export)\s+(type\s+)?[\w$*{}\s,]*?\s*from\s*['"]([^'"\n]+)['"]/g;
const ESM_BARE = /(?:^|[^\w$.])import\s*['"]([^'"\n]+)['"]/g;
const CJS_REQUIRE = /(?:^|[^\w$.])require\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1');
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]!);
}

function nearestPackage(file: string): { dir: string; json: Record<string, unknown> } | undefined {
  let dir = dirname(file);
  for (;;) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) return { dir, json: JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> };
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function isEsm(file: string): boolean {
  if (file.endsWith('.ts') || file.endsWith('.mjs') || file.endsWith('.mts')) return true;
  if (file.endsWith('.cjs')) return false;
  return nearestPackage(file)?.json.type === 'module';
}

/** The static imports of one file: `[specifier, isRequire]`. */
function importsOf(file: string): Array<[string, boolean]> {
  const code = stripComments(readFileSync(file, 'utf8'));
  const found: Array<[string, boolean]> = [];
  if (isEsm(file)) {
    for (const match of code.matchAll(ESM_FROM)) if (match[2] === undefined) found.push([match[3]!, false]);
    for (const match of code.matchAll(ESM_BARE)) found.push([match[1]!, false]);
  } else {
    for (const match of code.matchAll(CJS_REQUIRE)) found.push([match[1]!, true]);
  }
  return found;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** The file a path names (symlinks resolved, so a workspace package is its own directory), or `undefined`. */
function resolveFile(path: string): string | undefined {
  if (isFile(path)) return realpathSync(path);
  // TypeScript sources import `./x.js` meaning `./x.ts`.
  if (path.endsWith('.js') && isFile(`${path.slice(0, -3)}.ts`)) return realpathSync(`${path.slice(0, -3)}.ts`);
  for (const suffix of ['.js', '.cjs', '.mjs', '.json', '/index.js', '/index.cjs'])
    if (isFile(path + suffix)) return realpathSync(path + suffix);
  return undefined;
}

/** Node's exports resolution: the first key of a condition object that is in `conditions`. */
function pickExport(target: unknown, conditions: Set<string>): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const item of target) {
      const picked = pickExport(item, conditions);
      if (picked !== undefined) return picked;
    }
    return undefined;
  }
  if (target !== null && typeof target === 'object') {
    for (const [key, value] of Object.entries(target)) {
      if (conditions.has(key)) {
        const picked = pickExport(value, conditions);
        if (picked !== undefined) return picked;
      }
    }
  }
  return undefined;
}

function resolvePackage(specifier: string, from: string, isRequire: boolean, runtimeConditions: string[]): string | undefined {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const subpath = `.${specifier.slice(name.length)}`;
  let dir = dirname(from);
  for (;;) {
    const packageDir = join(dir, 'node_modules', name);
    const manifest = join(packageDir, 'package.json');
    if (existsSync(manifest)) {
      const json = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
      const conditions = new Set([...runtimeConditions, isRequire ? 'require' : 'import', 'default']);
      if (json.exports !== undefined) {
        const exportsMap = json.exports as Record<string, unknown> | string;
        const isSubpathMap =
          typeof exportsMap === 'object' && !Array.isArray(exportsMap) && Object.keys(exportsMap).some((key) => key.startsWith('.'));
        const target = isSubpathMap ? (exportsMap as Record<string, unknown>)[subpath] : subpath === '.' ? exportsMap : undefined;
        const picked = pickExport(target, conditions);
        return picked === undefined ? undefined : resolveFile(resolve(packageDir, picked));
      }
      if (subpath !== '.') return resolveFile(resolve(packageDir, subpath));
      const browser = typeof json.browser === 'string' ? json.browser : undefined;
      const main =
        browser ??
        (!isRequire && typeof json.module === 'string' ? json.module : undefined) ??
        (json.main as string | undefined) ??
        'index.js';
      return resolveFile(resolve(packageDir, main));
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The graph of `entry` (a file path). `root` only shortens the paths in chains.
 * `conditions` default to {@link FETCH_RUNTIME_CONDITIONS}.
 */
export function importGraph(entry: string, options: { root?: string; conditions?: string[] } = {}): ImportGraph {
  const conditions = options.conditions ?? FETCH_RUNTIME_CONDITIONS;
  const show = (file: string) => (options.root === undefined ? file : relative(options.root, file));
  const parent = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  const nodeImports: NodeImport[] = [];
  const unresolved: string[] = [];
  const chainTo = (file: string) => {
    const chain: string[] = [];
    for (let at: string | undefined = file; at !== undefined; at = parent.get(at)) chain.unshift(show(at));
    return chain;
  };
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (file.endsWith('.json')) continue;
    for (const [specifier, isRequire] of importsOf(file)) {
      if (isBuiltin(specifier)) {
        nodeImports.push({ builtin: specifier, chain: chainTo(file) });
        continue;
      }
      const target = specifier.startsWith('.')
        ? resolveFile(resolve(dirname(file), specifier))
        : resolvePackage(specifier, file, isRequire, conditions);
      if (target === undefined) {
        unresolved.push(`${specifier} (from ${show(file)})`);
        continue;
      }
      if (!parent.has(target)) {
        parent.set(target, file);
        queue.push(target);
      }
    }
  }
  return { files: [...parent.keys()].map(show), nodeImports, unresolved };
}

/** One line per built-in reached: `node:crypto ← a.js → b.js`. */
export function describeNodeImports(graph: ImportGraph): string[] {
  return graph.nodeImports.map(({ builtin, chain }) => `${builtin}  ←  ${chain.join(' → ')}`);
}
