import { carafeDependencies, type CarafeSource } from './source.js';

/** What a generated project develops and tests with (kept in step with the Carafe repository's own). */
export const DEV_DEPENDENCIES: Readonly<Record<string, string>> = {
  '@types/node': '^22.20.7',
  '@types/supertest': '^7.2.1',
  supertest: '^7.3.2',
  typescript: '^7.0.2',
  vitest: '^5.1.2',
};

/** The MongoDB driver a `--mongo` project uses. */
export const MONGODB_DRIVER = '^7.9.1';

/** Where `npm start` and `npm run dev` keep the embedded FerretDB's data in a `--mongo` project. */
const FERRETDB_DATA = '.data/ferretdb';

const sorted = (record: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));

/**
 * The npm scripts: `build` compiles src/, `typecheck` checks src/ and test/, `start` builds and
 * serves, `dev` recompiles on every change and reloads the server after each successful compile,
 * `test` type-checks and runs vitest.
 */
function scripts(mongo: boolean): Record<string, string> {
  const serve = 'carafe serve dist/app.js';
  // scripts/watch.mjs sends the server SIGHUP itself, after a compile that succeeded: no --reload.
  const dev = `node scripts/watch.mjs ${serve}`;
  const common = { build: 'tsc -p tsconfig.build.json', typecheck: 'tsc -p .' };
  if (!mongo) {
    return { ...common, start: `npm run build && ${serve}`, dev, test: 'npm run typecheck && vitest run' };
  }
  // Without MONGODB_URI, with-mongodb.mjs starts the embedded FerretDB around the command.
  const withMongo = 'node scripts/with-mongodb.mjs';
  return {
    ...common,
    start: `npm run build && ${withMongo} --data ${FERRETDB_DATA} ${serve}`,
    dev: `${withMongo} --data ${FERRETDB_DATA} ${dev}`,
    test: `npm run typecheck && ${withMongo} vitest run`,
  };
}

/** The generated project's `package.json`. */
export function manifest(name: string, mongo: boolean, source: CarafeSource): Record<string, unknown> {
  return {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=22.12' },
    scripts: scripts(mongo),
    dependencies: sorted({ ...carafeDependencies(source), ...(mongo ? { mongodb: MONGODB_DRIVER } : {}) }),
    devDependencies: sorted({ ...DEV_DEPENDENCIES }),
  };
}
