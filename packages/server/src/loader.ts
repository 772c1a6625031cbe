/** Loading the application named on the command line as `MODULE[:EXPORT]`. */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TsgiApplication } from '@carafe/gateway';

/** The app could not be imported, or its export is not a TSGI application. Exit code 4. */
export class AppLoadError extends Error {
  override name = 'AppLoadError';
}

export interface AppSpec {
  module: string;
  exportName: string;
}

/** Splits `MODULE[:EXPORT]`; the export defaults to `app`. */
export function parseAppSpec(spec: string): AppSpec {
  const colon = spec.lastIndexOf(':');
  if (colon > 0 && /^[A-Za-z_$][\w$]*$/.test(spec.slice(colon + 1))) {
    return { module: spec.slice(0, colon), exportName: spec.slice(colon + 1) };
  }
  return { module: spec, exportName: 'app' };
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** Turns the module part into an importable URL: a file relative to the working directory, or a package. */
export function moduleUrl(module: string, cwd = process.cwd()): string {
  for (const candidate of [module, `${module}.js`, `${module}.mjs`]) {
    const path = resolve(cwd, candidate);
    if (isFile(path)) return pathToFileURL(path).href;
  }
  if (module.startsWith('.') || module.startsWith('/')) {
    throw new AppLoadError(`cannot find module ${module} (looked in ${cwd})`);
  }
  try {
    return pathToFileURL(createRequire(resolve(cwd, 'package.json')).resolve(module)).href;
  } catch {
    throw new AppLoadError(`cannot find module ${module}: no such file and no such package from ${cwd}`);
  }
}

/** Imports the module and returns the named export, checked to be callable. */
export async function loadApp(spec: string): Promise<TsgiApplication> {
  const { module, exportName } = parseAppSpec(spec);
  const url = moduleUrl(module);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new AppLoadError(`cannot import ${module}: ${(error as Error)?.stack ?? String(error)}`);
  }
  const app = mod[exportName];
  if (app === undefined) {
    const names = Object.keys(mod).join(', ') || 'none';
    throw new AppLoadError(`module ${module} has no export named ${JSON.stringify(exportName)} (exports: ${names})`);
  }
  if (typeof app !== 'function') {
    throw new AppLoadError(`${module}:${exportName} is not a TSGI application (a function), but ${typeof app}`);
  }
  return app as TsgiApplication;
}
