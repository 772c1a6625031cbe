/** A note as the API shows it, whichever repository keeps it. */
export interface Note {
  id: string;
  title: string;
  body: string;
  createdAt: string;
}

/** Raised when no note has the id asked for; the app answers it with 404. */
export class NoteNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`There is no note with id ${id}.`);
    this.name = 'NoteNotFoundError';
  }
}
