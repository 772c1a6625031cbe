import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests import the packages by name; resolve those names to TypeScript sources so a
// test run never sees a stale build. Child processes (the carafe CLI) run the build,
// which `npm test` refreshes with `tsc -b` first.
const resolve = {
  alias: [
    { find: /^@carafe\/gateway$/, replacement: src('gateway') },
    { find: /^@carafe\/gateway\/node$/, replacement: fileURLToPath(new URL('./packages/gateway/src/node.ts', import.meta.url)) },
    { find: /^@carafe\/core$/, replacement: src('core') },
    { find: /^@carafe\/server$/, replacement: src('server') },
    { find: /^@carafe\/middleware$/, replacement: src('middleware') },
    // @carafe/core's Node-only modules, which it loads through its package.json "imports" (#carafe-node/*).
    { find: /^#carafe-node\/(.*)$/, replacement: fileURLToPath(new URL('./packages/core/src/node/$1.ts', import.meta.url)) },
  ],
};

const shared = { testTimeout: 30_000, hookTimeout: 120_000, pool: 'forks' as const };

// Two tiers: `unit` (each package's own tests, in-process or on loopback sockets) needs nothing
// but Node; `e2e` (the example, the CLI, nginx, generated projects) gets a real MongoDB-compatible
// server — the embedded FerretDB unless MONGODB_URI is set. `npm test` runs both;
// `npx vitest run --project unit` runs the fast tier alone.
export default defineConfig({
  resolve,
  test: {
    projects: [
      {
        resolve,
        test: {
          ...shared,
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'test/architecture.test.ts', 'test/bench-*.test.ts'],
        },
      },
      {
        resolve,
        test: {
          ...shared,
          name: 'e2e',
          include: ['examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/architecture.test.ts', 'test/bench-*.test.ts'],
          globalSetup: ['test/setup/mongo.ts'],
        },
      },
    ],
  },
});
