#!/usr/bin/env node
// The embedded FerretDB of this repository (`npm start`, the tests' global setup, provisioning):
// the very launcher `carafe new --mongo` gives a project, whose one home is
// packages/server/templates/mongo/scripts/ (with install-ferretdb.sh and go-build-module.sh), run
// for this repository's root, so the build lands in .tools/bin/ferretdb here.
//
//   node scripts/ferretdb.mjs install | start [--data DIR] [--port N]
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as launcher from '../packages/server/templates/mongo/scripts/ferretdb.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const FERRETDB_BIN = launcher.ferretdbBinary(ROOT);
export const freePort = launcher.freePort;
export const ensureFerretDB = () => launcher.ensureFerretDB({ root: ROOT });
/** {@link launcher.startFerretDB} for this repository. */
export const startFerretDB = (options = {}) => launcher.startFerretDB({ ...options, root: ROOT });

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  launcher.runAsCommand(process.argv.slice(2), { root: ROOT });
}
