import { MongoClient } from 'mongodb';
import { collections, ensureIndexes, finishInterruptedDeletes, type Collections } from './repository/index.js';
import { DatabaseUnavailableError, isDatabaseUnavailable } from './unavailable.js';

/** Where the data lives. */
export interface DatabaseOptions {
  /** A MongoDB connection string; default `process.env.MONGODB_URI` (read at start-up). */
  uri?: string | undefined;
  /** Database name; default `process.env.MONGODB_DB`, else the connection string's, else `test`. */
  dbName?: string | undefined;
  /**
   * The most time one request may spend on the database (ms): past it the request is answered
   * 503. Default `process.env.MONGODB_REQUEST_TIMEOUT_MS`, else 5000. Every driver timeout below
   * is derived from it.
   */
  requestTimeoutMS?: number | undefined;
  /** How long an operation waits for a reachable server before failing (ms); default min(3000, requestTimeoutMS). */
  serverSelectionTimeoutMS?: number;
}

/** The time limits the client runs with, all in ms (see `databaseTimeouts`). */
export interface DatabaseTimeouts {
  requestTimeoutMS: number;
  serverSelectionTimeoutMS: number;
  connectTimeoutMS: number;
  socketTimeoutMS: number;
  waitQueueTimeoutMS: number;
  maxTimeMS: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/**
 * The driver's timeouts, set deliberately from one budget. The budget itself is enforced by
 * `Database.run` (driver 7 has no client-wide operation timeout: its `timeoutMS` is deprecated and
 * has no effect); these make sure the driver gives up on its own soon after, so nothing it
 * started outlives the request by much:
 *  - serverSelectionTimeoutMS (3 s): how long an operation waits for a usable server — a dead
 *    or unreachable one fails here. The default (30 s) is what made requests hang.
 *  - connectTimeoutMS (2 s): TCP connect plus handshake; also the monitor's heartbeat timeout,
 *    so a frozen server is marked unknown (and its pool cleared) within 2 s.
 *  - socketTimeoutMS (the budget): no single operation legitimately waits longer for a reply; on
 *    a frozen server (SIGSTOP: the kernel still accepts connections and buffers requests) this is
 *    what ends an operation already sent. The default, 0, waits forever.
 *  - waitQueueTimeoutMS (the budget): how long an operation may wait for a pooled connection.
 *  - maxTimeMS (the budget, on reads): the server abandons a query no client waits for any more.
 */
export function databaseTimeouts(options: Pick<DatabaseOptions, 'requestTimeoutMS' | 'serverSelectionTimeoutMS'> = {}): DatabaseTimeouts {
  const fromEnv = process.env.MONGODB_REQUEST_TIMEOUT_MS;
  const budget = options.requestTimeoutMS ?? (fromEnv ? Number(fromEnv) : DEFAULT_REQUEST_TIMEOUT_MS);
  if (!Number.isInteger(budget) || budget <= 0) {
    throw new Error(`MONGODB_REQUEST_TIMEOUT_MS must be a positive number of milliseconds, not ${JSON.stringify(fromEnv ?? budget)}`);
  }
  return {
    requestTimeoutMS: budget,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? Math.min(3_000, budget),
    connectTimeoutMS: Math.min(2_000, budget),
    socketTimeoutMS: budget,
    waitQueueTimeoutMS: budget,
    maxTimeMS: budget,
  };
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
  readonly timeouts: DatabaseTimeouts;

  constructor(private readonly options: DatabaseOptions = {}) {
    this.timeouts = databaseTimeouts(options);
  }

  /**
   * Runs one request's database work within the budget (`timeouts.requestTimeoutMS`). When the
   * database is frozen, dead or unreachable this fails with `DatabaseUnavailableError` (the app
   * answers 503) — after at most the budget, however the driver fails or fails to fail. Work cut
   * off by the budget goes on in the background until the driver's own timeouts end it; its result
   * is dropped. Errors that are not about availability (a duplicate key, a bug) pass unchanged.
   */
  async run<T>(work: (collections: Collections) => Promise<T>): Promise<T> {
    const budget = this.timeouts.requestTimeoutMS;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseUnavailableError(`the database did not answer within ${budget} ms`)), budget);
    });
    const attempt = this.collections().then(work);
    attempt.catch(() => {}); // cut off by the deadline: its failure is nobody's to handle
    try {
      return await Promise.race([attempt, deadline]);
    } catch (error) {
      if (error instanceof DatabaseUnavailableError || !isDatabaseUnavailable(error)) throw error;
      throw new DatabaseUnavailableError(`the database is not reachable: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Opens the client and creates the indexes. If MongoDB does not answer yet the process
   *  keeps running (health probes answer, `/readyz` says 503) and the next request retries. */
  async start(): Promise<void> {
    this.#client = this.#newClient();
    try {
      const found = await this.collections();
      // Deletions a crash interrupted are finished here, in the background.
      void finishInterruptedDeletes(found).catch(() => {});
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
        const found = collections(client.db(dbName || undefined), { maxTimeMS: this.timeouts.maxTimeMS });
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
    const { serverSelectionTimeoutMS, connectTimeoutMS, socketTimeoutMS, waitQueueTimeoutMS } = this.timeouts;
    return new MongoClient(uri, {
      serverSelectionTimeoutMS,
      connectTimeoutMS,
      socketTimeoutMS,
      waitQueueTimeoutMS,
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
