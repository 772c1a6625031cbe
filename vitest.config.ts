import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests import the packages by name; resolve those names to TypeScript sources so a
// test run never sees a stale build. Child processes (the carafe CLI) run the build,
// which `npm test` refreshes with `tsc -b` first.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@carafe\/gateway$/, replacement: src('gateway') },
      { find: /^@carafe\/core$/, replacement: src('core') },
      { find: /^@carafe\/server$/, replacement: src('server') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // A real MongoDB-compatible server (the embedded FerretDB unless MONGODB_URI is set).
    globalSetup: ['test/setup/mongo.ts'],
  },
});
