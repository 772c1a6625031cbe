import { MongoServerError } from 'mongodb';

/** Raised when a user's email (compared case-insensitively) is already taken. */
export class EmailTakenError extends Error {
  constructor(readonly email: string) {
    super(`a user with the email ${email} already exists`);
    this.name = 'EmailTakenError';
  }
}

/** MongoDB's (and FerretDB's, on insert) code for a unique index violation. */
const DUPLICATE_KEY = 11000;

/**
 * True when a write failed on a unique index. FerretDB 1.24 on SQLite reports the violation
 * as code 11000 on insert but as a generic InternalError naming SQLite's UNIQUE constraint on
 * update; both mean the same thing, so both are recognised.
 */
export function isDuplicateKey(error: unknown): boolean {
  if (!(error instanceof MongoServerError)) return false;
  return error.code === DUPLICATE_KEY || /UNIQUE constraint failed/.test(error.message);
}
