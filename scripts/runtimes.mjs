// @ts-check
// Bun, Deno and workerd as this repository provisions and runs them, shared by test/runtimes/
// (the README's "Runs on" examples over real HTTP) and the wall-clock bench (bench/lineup.mjs):
// where scripts/install-runtimes.sh puts the binaries, how a Worker is bundled for workerd
// (the README's esbuild command), and the workerd config that serves it.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where scripts/install-runtimes.sh links the binaries (it prints this directory). */
export const RUNTIMES_BIN = join(ROOT, '.tools', 'runtimes', 'bin');

/** The directory the runtimes are taken from: RUNTIMES_BIN, unless CARAFE_RUNTIMES_BIN names another (tests). */
export function runtimesBin() {
  return process.env.CARAFE_RUNTIMES_BIN || RUNTIMES_BIN;
}
export const INSTALL_RUNTIMES = 'scripts/install-runtimes.sh';
const ESBUILD = join(ROOT, 'node_modules', '.bin', 'esbuild');

/** The esbuild flags of the README's workerd bundle: one ES module, browser platform, the workerd export conditions. */
export const WORKERD_BUNDLE_FLAGS = ['--bundle', '--format=esm', '--platform=browser', '--conditions=workerd,worker'];

/** The compatibility settings of the README's workerd config: no Node.js compatibility. */
export const WORKERD_COMPATIBILITY = { date: '2026-11-01', flags: ['no_nodejs_compat', 'enable_request_signal'] };

/**
 * The path of an installed runtime binary, or null when it is not there (or not executable).
 * @param {'bun' | 'deno' | 'workerd'} name @param {string} [bin] the directory to look in
 */
export function runtimeBinary(name, bin = runtimesBin()) {
  const path = join(bin, name);
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

/** Why a runtime cannot run here, or null. @param {'bun' | 'deno' | 'workerd'} name @param {string} [bin] */
export function missingRuntime(name, bin = runtimesBin()) {
  if (runtimeBinary(name, bin) !== null) return null;
  return `${name} is not installed in ${bin.startsWith(ROOT) ? bin.slice(ROOT.length + 1) : bin}/ (run \`bash ${INSTALL_RUNTIMES}\`, which scripts/provision.sh runs)`;
}

/**
 * The modules a failed esbuild run could not resolve, each as `specifier ← importing file`.
 * @param {string} stderr esbuild's
 */
export function unresolvedModules(stderr) {
  const missing = [...stderr.matchAll(/Could not resolve "([^"]+)"\s*\n\s*\n\s*(\S+?):\d+/g)].map(
    ([, specifier, file]) => `${specifier} ← ${file.replace(/^(\.\.\/)+/, '')}`,
  );
  return [...new Set(missing)];
}

/**
 * Runs esbuild with `args` in `cwd` and throws a readable error when it fails: the modules
 * workerd (without Node.js compatibility) does not have, then esbuild's own output.
 * @param {string[]} args @param {string} cwd @param {string} [shown] the command as the error should show it
 */
export function esbuildForWorkerd(args, cwd, shown = `esbuild ${args.join(' ')}`) {
  // Every error, not the first six.
  const result = spawnSync(ESBUILD, [...args, '--log-limit=0'], { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.status === 0) return;
  const missing = unresolvedModules(result.stderr ?? '');
  const summary =
    missing.length > 0 ? `the app needs modules workerd (without Node.js compatibility) does not have:\n  ${missing.join('\n  ')}\n` : '';
  throw new Error(
    `bundling for workerd failed: ${summary}$ ${shown}\n${`${result.stderr ?? ''}${result.error?.message ?? ''}`.trim().slice(0, 3000)}`,
  );
}

/**
 * A workerd config serving one bundled ES module on `address`, with the README's compatibility settings.
 * @param {{bundle: string, address: string}} o the bundle's file name, relative to the config
 */
export function workerdConfig({ bundle, address }) {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "${address}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker", esModule = embed "${bundle}")],
  compatibilityDate = "${WORKERD_COMPATIBILITY.date}",
  compatibilityFlags = [${WORKERD_COMPATIBILITY.flags.map((f) => `"${f}"`).join(', ')}],
);
`;
}

/**
 * A runtime's version as it reports it: `1.4.5` for Bun, `2.9.6` for Deno, `2026-11-17` for
 * workerd; undefined when it is not installed.
 * @param {'bun' | 'deno' | 'workerd'} name @param {string} [bin]
 */
export function runtimeVersion(name, bin = runtimesBin()) {
  const path = runtimeBinary(name, bin);
  if (path === null) return undefined;
  const out = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const first = (out.stdout ?? '').trim().split('\n')[0] ?? '';
  return /^(?:bun |deno |workerd )?v?(\S+)/.exec(first)?.[1];
}
