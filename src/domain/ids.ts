import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

/** Resource prefixes make ids self-describing in logs and support tickets (`evt_01J…`). */
export type IdPrefix = 'ptn' | 'ep' | 'evt' | 'dlv';

/**
 * A new id: prefix + ULID. ULIDs sort by creation time, so `after=<id>` pagination is stable.
 *
 * @example newId('evt') // 'evt_01JD3T4V6W8X9Y0Z1A2B3C4D5E'
 */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}
