/**
 * Byte ranges (RFC 9110 §14): the Range header on top of `range-parser` (the parser Express and
 * `send` use), If-Range, and Content-Range values.
 *
 * `range-parser` does the arithmetic (suffixes, clamping, merging overlapping ranges) but is
 * looser than the RFC in two places, so each range-spec is checked here first: a spec whose
 * last position is before its first makes the whole header invalid, to be ignored (§14.1.1)
 * rather than unsatisfiable; and a suffix longer than the representation means all of it
 * (§14.1.3) rather than nothing.
 */
import rangeParser from 'range-parser';
import { parseHttpDate, strongMatch, type Validators } from './conditional.js';

/** A byte range, both ends inclusive, as Content-Range writes them. */
export interface ByteRange {
  start: number;
  end: number;
}

const RANGE_SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

/**
 * Parses a Range header against a representation of `size` bytes:
 * - the satisfiable ranges, overlapping and adjacent ones merged, in request order;
 * - `'unsatisfiable'` when none is (answer 416 with `Content-Range: bytes *\/size`);
 * - `undefined` when the header is to be ignored: another unit than `bytes`, or malformed.
 */
export function parseRange(header: string, size: number): ByteRange[] | 'unsatisfiable' | undefined {
  const equals = header.indexOf('=');
  if (equals === -1 || header.slice(0, equals).trim().toLowerCase() !== 'bytes') return undefined;
  const specs: string[] = [];
  for (const spec of header.slice(equals + 1).split(',')) {
    const match = RANGE_SPEC.exec(spec);
    if (match === null) return undefined;
    const [, first = '', last = ''] = match;
    if (first === '' && last === '') return undefined;
    if (first !== '' && last !== '' && Number(last) < Number(first)) return undefined;
    specs.push(first === '' ? `-${Math.min(Number(last), size)}` : `${first}-${last}`);
  }
  const ranges = rangeParser(size, `bytes=${specs.join(',')}`, { combine: true });
  if (ranges === -1) return 'unsatisfiable';
  if (ranges === -2) return undefined;
  return ranges.map(({ start, end }) => ({ start, end }));
}

/**
 * Step 5 of RFC 9110 §13.2.2: may the Range header be honoured? Yes without If-Range. An
 * entity tag must match the current ETag strongly (a weak ETag never does); a date must equal
 * the modification time exactly. Anything else, or a validator not sent, means "send it all".
 */
export function ifRangeMatches(ifRange: string | undefined, validators: Validators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    return validators.etag !== undefined && strongMatch(value, validators.etag);
  }
  return validators.lastModified !== undefined && parseHttpDate(value) === validators.lastModified;
}

/** The Content-Range value of a 206 (`bytes 0-99/1000`), or of a 416 without a range (`bytes *\/1000`). */
export function contentRange(size: number, range?: ByteRange): string {
  return range === undefined ? `bytes */${size}` : `bytes ${range.start}-${range.end}/${size}`;
}
