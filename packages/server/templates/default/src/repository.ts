import { randomUUID } from 'node:crypto';
import { NoteNotFoundError, type Note } from './note.js';
import type { NewNote } from './notes.js';

/**
 * Notes kept in memory: each worker process has its own and they are gone on restart, which is
 * why carafe.config.js runs a single worker. `carafe new --mongo` generates a MongoDB repository
 * with the same methods.
 */
class MemoryRepository {
  readonly #notes = new Map<string, Note>();

  async open(): Promise<void> {}

  async close(): Promise<void> {
    this.#notes.clear();
  }

  async list(): Promise<Note[]> {
    return [...this.#notes.values()];
  }

  async create(input: NewNote): Promise<Note> {
    const note: Note = { id: randomUUID(), title: input.title, body: input.body ?? '', createdAt: new Date().toISOString() };
    this.#notes.set(note.id, note);
    return note;
  }

  async get(id: string): Promise<Note> {
    const note = this.#notes.get(id);
    if (!note) throw new NoteNotFoundError(id);
    return note;
  }
}

export const repository = new MemoryRepository();
