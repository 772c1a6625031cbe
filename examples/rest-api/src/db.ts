import { MongoClient } from 'mongodb';
import { collections, ensureIndexes, type Collections } from './repository/index.js';

/** Where the data lives. */
export interface DatabaseOptions {
  /** A MongoDB connection string; default `process.env.MONGODB_URI` (read at start-up). */
  uri?: string | undefined;
  /** Database name; default `process.env.MONGODB_DB`, else the connection string's, else `test`. */
  dbName?: string | undefined;
  /** How long an operation waits for a reachable server before failing (ms). */
  serverSelectionTimeoutMS?: number;
}

/** How long `/readyz` waits for a ping before answering 503. */
const PING_TIMEOUT_MS = 2_000;

/**
 * The MongoDB client's lifecycle in one worker: opened by `start()` (the app's lifespan
 * start-up), closed by `stop()` (its shutdown). Requests get the collections through
 * `collections()`, which also guarantees the indexes exist — a unique email index
 * created after the first sign-up would come too late.
 */
export class Database {
  #client: MongoClient | undefined;
  #ready: Promise<Collections> | undefined;

  constructor(private readonly options: DatabaseOptions = {}) {}

  /** Opens the client and creates the indexes. If MongoDB does not answer yet the process
   *  keeps running (health probes answer, `/readyz` says 503) and the next request retries. */
  async start(): Promise<void> {
    this.#client = this.#newClient();
    try {
      await this.collections();
    } catch (error) {
      process.stderr.write(`rest-api: MongoDB is not reachable yet (${String(error)}); will retry on demand\n`);
    }
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#ready = undefined;
    await client?.close();
  }

  /** The collections, once their indexes exist. After the first success this is a resolved promise. */
  collections(): Promise<Collections> {
    if (!this.#ready) {
      const client = this.#client;
      if (!client) return Promise.reject(new Error('the database is not started (lifespan start-up has not run)'));
      const dbName = this.options.dbName ?? process.env.MONGODB_DB ?? undefined;
      const ready = (async () => {
        const found = collections(client.db(dbName || undefined));
        await ensureIndexes(found);
        return found;
      })();
      this.#ready = ready;
      // A failure is not cached: the next request tries again, on a new client, because a client
      // whose first connection failed stays closed ("Topology is closed").
      ready.catch(() => {
        if (this.#ready !== ready) return;
        this.#ready = undefined;
        if (this.#client === client) {
          this.#client = this.#newClient();
          void client.close().catch(() => {});
        }
      });
    }
    return this.#ready;
  }

  #newClient(): MongoClient {
    const uri = this.options.uri ?? process.env.MONGODB_URI;
    if (!uri) {
      throw new Error('MONGODB_URI is not set: point it at MongoDB, or use `npm start`, which starts the embedded FerretDB');
    }
    return new MongoClient(uri, {
      serverSelectionTimeoutMS: this.options.serverSelectionTimeoutMS ?? 5_000,
      appName: 'carafe-rest-api',
    });
  }

  /** True when MongoDB answers a ping within a short time (and the indexes exist). */
  async ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(resolve, PING_TIMEOUT_MS, false);
    });
    const pinged = (async () => {
      await this.collections();
      await this.#client?.db('admin').command({ ping: 1 });
      return this.#client !== undefined;
    })().catch(() => false);
    try {
      return await Promise.race([pinged, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
