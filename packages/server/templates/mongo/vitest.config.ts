import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Tests write to their own database, never to the one `npm start` uses.
    env: { MONGODB_DB: process.env.MONGODB_TEST_DB ?? '{{dbName}}_test' },
  },
});
