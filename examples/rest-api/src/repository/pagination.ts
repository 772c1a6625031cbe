import type { Collection, Document, Filter, WithId } from 'mongodb';
import type { ObjectId } from 'mongodb';

/** One page of a collection in id order; `next` is the cursor for the following page, `null` on the last one. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface PageRequest {
  /** Page size, already validated (1–100). */
  limit: number;
  /** Return only documents whose id is greater than this one (the previous page's `next`). */
  after?: ObjectId | undefined;
}

/**
 * Reads one page in `_id` order (keyset pagination: stable under inserts, no skip cost).
 * Asks for one document more than the page holds, so `next` is `null` exactly on the last page.
 */
export async function readPage<D extends Document & { _id: ObjectId }, T>(
  collection: Collection<D>,
  filter: Filter<D>,
  { limit, after }: PageRequest,
  toApi: (doc: WithId<D>) => T,
  options: { maxTimeMS?: number } = {},
): Promise<Page<T>> {
  const query = (after ? { $and: [filter, { _id: { $gt: after } }] } : filter) as Filter<D>;
  const docs = await collection
    .find(query, options)
    .sort({ _id: 1 })
    .limit(limit + 1)
    .toArray();
  const hasMore = docs.length > limit;
  const pageDocs = hasMore ? docs.slice(0, limit) : docs;
  const last = pageDocs[pageDocs.length - 1];
  return { items: pageDocs.map(toApi), next: hasMore && last ? last._id.toHexString() : null };
}
