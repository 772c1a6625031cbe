import { Blueprint, json, type FromSchema } from '@carafe/core';
import { writeAuth } from './edge.js';
import { repository } from './repository.js';

/** What a client may send to create a note; Carafe answers 400 with every failing field otherwise. */
const newNoteSchema = {
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 200 },
    body: { type: 'string', maxLength: 10_000 },
  },
  required: ['title'],
  additionalProperties: false,
} as const;

export type NewNote = FromSchema<typeof newNoteSchema>;

/** The notes resource: list, create and read. */
export const notes = new Blueprint('notes');

notes.get('', { name: 'list' }, () => repository.list());

// Writes need a JWT once JWT_JWKS_URL or JWT_SECRET is set (src/edge.ts).
notes.post('', { name: 'create', middleware: writeAuth, schema: { body: newNoteSchema } }, async (req) => {
  const note = await repository.create(req.body);
  return json(note, { status: 201, headers: { location: req.urlFor('notes.get', { id: note.id }) } });
});

notes.get('/:id', { name: 'get' }, (req) => repository.get(req.params.id));
