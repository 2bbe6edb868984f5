import type { EventRecord } from './types.ts';

/**
 * The default request body, Standard Webhooks' recommended shape. Built by concatenation:
 * `data` is stored as the JSON text the lender sent (already validated and compact), so
 * parsing and re-serialising it for every delivery would only burn CPU.
 *
 * @example standardBody(event) // '{"type":"proposal.created","timestamp":"2026-07-01T12:00:00.000Z","data":{...}}'
 */
export function standardBody(event: Pick<EventRecord, 'type' | 'createdAt' | 'data'>): string {
  return `{"type":${JSON.stringify(event.type)},"timestamp":"${new Date(event.createdAt).toISOString()}","data":${event.data}}`;
}
