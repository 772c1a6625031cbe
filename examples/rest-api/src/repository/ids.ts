import { ObjectId } from 'mongodb';

const HEX_ID = /^[0-9a-f]{24}$/i;

/**
 * The ObjectId an API id names, or `null` when the text is not one. The API's ids are
 * exactly 24 hex digits; anything else can name no document, so callers answer 404.
 * (`ObjectId.isValid` alone would also accept any 12-character string.)
 */
export function parseId(id: string): ObjectId | null {
  return HEX_ID.test(id) ? ObjectId.createFromHexString(id) : null;
}
