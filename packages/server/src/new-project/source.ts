import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `@carafe/server` package's root: this module lives in `<root>/src/new-project/` or `<root>/dist/new-project/`. */
export const SERVER_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Carafe packages a generated project depends on at run time. */
export const CARAFE_PACKAGES = ['gateway', 'core', 'server', 'middleware'] as const;

/**
 * Where the running `carafe` CLI comes from, which decides what a generated project depends on:
 * a source checkout of the Carafe repository (nothing published needed: `file:` links to its
 * packages) or an install from the registry (the published versions).
 */
export type CarafeSource = { kind: 'checkout'; repo: string; version: string } | { kind: 'registry'; version: string };

function readVersion(packageJson: string): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

function isPackage(dir: string, name: string): boolean {
  const manifest = join(dir, 'package.json');
  return existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name;
}

/**
 * Finds out whether `serverRoot` is `<repo>/packages/server` of a Carafe checkout, with its
 * sibling packages next to it. An install from the registry sits in `node_modules/@carafe/server`.
 */
export function locateCarafe(serverRoot: string = SERVER_ROOT): CarafeSource {
  const version = readVersion(join(serverRoot, 'package.json'));
  const packagesDir = dirname(serverRoot);
  const repo = dirname(packagesDir);
  const inCheckout =
    basename(packagesDir) === 'packages' && CARAFE_PACKAGES.every((name) => isPackage(join(packagesDir, name), `@carafe/${name}`));
  return inCheckout ? { kind: 'checkout', repo, version } : { kind: 'registry', version };
}

/**
 * The dependency specifiers for the Carafe packages. From a checkout: absolute `file:` paths, so
 * the project works wherever it is written. Installed: `^` the running server's version, which is
 * every Carafe package's version (they are released together). `@carafe/gateway` is listed even
 * though the project imports it only in tests, because core and server depend on it by version and
 * npm must resolve that to the checkout too instead of asking the registry.
 */
export function carafeDependencies(source: CarafeSource): Record<string, string> {
  const entries = CARAFE_PACKAGES.map((name) => [
    `@carafe/${name}`,
    source.kind === 'checkout' ? `file:${join(source.repo, 'packages', name)}` : `^${source.version}`,
  ]);
  return Object.fromEntries(entries);
}

/** Carafe packages of a checkout that have not been built (their `dist/` is what a project loads). */
export function unbuiltPackages(source: CarafeSource): string[] {
  if (source.kind !== 'checkout') return [];
  return CARAFE_PACKAGES.filter((name) => !existsSync(join(source.repo, 'packages', name, 'dist', 'index.js')));
}
