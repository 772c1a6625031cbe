import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { inject } from 'vitest';

/** The URI of the run's MongoDB-compatible server (from test/setup/mongo.ts). */
export function mongodbUri(): string {
  const uri = inject('mongodbUri') ?? process.env.MONGODB_URI;
  if (!uri) throw new Error('no MongoDB: the vitest global setup (test/setup/mongo.ts) did not provide MONGODB_URI');
  return uri;
}

/** A database name of its own for one test file, so files running in parallel never share data. */
export function uniqueDbName(label: string): string {
  return `test_${label.replace(/\W+/g, '_')}_${randomBytes(4).toString('hex')}`;
}

/** A driver connection to a fresh database; `drop()` removes the database and closes the client. */
export async function openTestDb(label: string): Promise<{ client: MongoClient; db: Db; dbName: string; drop(): Promise<void> }> {
  const dbName = uniqueDbName(label);
  const client = await MongoClient.connect(mongodbUri());
  const db = client.db(dbName);
  return {
    client,
    db,
    dbName,
    async drop() {
      await db.dropDatabase().catch(() => {});
      await client.close();
    },
  };
}
