/** Event type names: dot-separated lower-case words, e.g. `proposal.status_changed`. */
export const EVENT_TYPE_PATTERN = '^[a-z0-9_]+(\\.[a-z0-9_]+)*$';

/** What an endpoint may subscribe to: an event type, or a family of them such as `proposal.*`. */
export const EVENT_TYPE_FILTER_PATTERN = '^[a-z0-9_]+(\\.[a-z0-9_]+)*(\\.\\*)?$';

/**
 * Whether an endpoint subscribed to `filters` (null = everything) receives `type`.
 *
 * @example matchesEventType(['proposal.*'], 'proposal.created') // true
 */
export function matchesEventType(filters: readonly string[] | null, type: string): boolean {
  if (filters === null) return true;
  return filters.some((f) => (f.endsWith('.*') ? type.startsWith(f.slice(0, -1)) : f === type));
}
