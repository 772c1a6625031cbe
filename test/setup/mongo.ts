/**
 * Vitest global setup: gives every test run a real MongoDB-compatible server.
 * When MONGODB_URI is set (a real MongoDB, or CI's own FerretDB) it is used as is;
 * otherwise the embedded default — FerretDB on SQLite in a temporary directory — is
 * started here once, and its URI reaches the forked test workers (and any server they
 * spawn) through the environment and through `inject('mongodbUri')`.
 * Test files pick their own database name (MONGODB_DB) so they never share data.
 */
import type { TestProject } from 'vitest/node';
// @ts-expect-error -- plain ESM script without type declarations
import { startFerretDB } from '../../scripts/ferretdb.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    mongodbUri: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.MONGODB_URI;
  if (given) {
    project.provide('mongodbUri', given);
    return undefined;
  }
  const ferret = (await startFerretDB()) as { uri: string; stop: () => Promise<void> };
  process.env.MONGODB_URI = ferret.uri;
  project.provide('mongodbUri', ferret.uri);
  return async () => {
    delete process.env.MONGODB_URI;
    await ferret.stop();
  };
}
