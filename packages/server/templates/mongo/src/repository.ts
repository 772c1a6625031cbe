import { MongoClient, ObjectId, type Collection, type WithId } from 'mongodb';
import { NoteNotFoundError, type Note } from './note.js';
import type { NewNote } from './notes.js';

/** A note as stored. */
interface NoteDocument {
  _id: ObjectId;
  title: string;
  body: string;
  createdAt: Date;
}

const HEX_ID = /^[0-9a-f]{24}$/i;

const toNote = (doc: WithId<NoteDocument>): Note => ({
  id: doc._id.toHexString(),
  title: doc.title,
  body: doc.body,
  createdAt: doc.createdAt.toISOString(),
});

/**
 * Notes in MongoDB, through the official driver. Each worker opens its own client at start-up
 * (the app's `onStartup`) and closes it at shutdown. `MONGODB_URI` says where the server is and
 * `MONGODB_DB` which database to use (default `{{dbName}}`).
 */
class MongoRepository {
  #client: MongoClient | undefined;
  #notes: Collection<NoteDocument> | undefined;

  async open(): Promise<void> {
    const uri = process.env.MONGODB_URI;
    if (!uri) {
      throw new Error('MONGODB_URI is not set: point it at MongoDB, or run through `npm start`, which starts the embedded FerretDB');
    }
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000, appName: '{{name}}' });
    await client.connect();
    this.#client = client;
    this.#notes = client.db(process.env.MONGODB_DB || '{{dbName}}').collection<NoteDocument>('notes');
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#notes = undefined;
    await client?.close();
  }

  get #collection(): Collection<NoteDocument> {
    if (!this.#notes) throw new Error('the repository is not open (the app has not started up)');
    return this.#notes;
  }

  async list(): Promise<Note[]> {
    const docs = await this.#collection.find().sort({ _id: 1 }).limit(1_000).toArray();
    return docs.map(toNote);
  }

  async create(input: NewNote): Promise<Note> {
    const doc: NoteDocument = { _id: new ObjectId(), title: input.title, body: input.body ?? '', createdAt: new Date() };
    await this.#collection.insertOne(doc);
    return toNote(doc);
  }

  async get(id: string): Promise<Note> {
    // Ids are 24 hex digits; anything else can name no note.
    const doc = HEX_ID.test(id) ? await this.#collection.findOne({ _id: ObjectId.createFromHexString(id) }) : null;
    if (!doc) throw new NoteNotFoundError(id);
    return toNote(doc);
  }
}

export const repository = new MongoRepository();
