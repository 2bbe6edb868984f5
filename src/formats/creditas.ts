/**
 * `creditas`: the Creditas B2B-API envelope `{"id", "name", "data"}` (creditas-webhooks.txt).
 * `id` is the resource id (the proposal's for proposal and attempt events); `name` is the
 * Creditas status name for status changes and the upper-cased type for everything else; `data`
 * is the lender's part of the event, left out when empty (the document marks it optional).
 */
import { EVENT_CATALOG, eventTypeSpec } from '../domain/catalog.ts';
import { creditasName, isProposalStatus } from '../domain/statuses.ts';
import { fail, JSON_TYPE, nameIn, namesOf, parseData, parseNamesOption, partnerObject } from './shared.ts';
import type { Format } from './types.ts';

/** The event types whose Creditas name is the new status (REJECTED, PROCESSED, …). */
export const CREDITAS_STATUS_TYPES: readonly string[] = [
  'proposal.status_changed',
  'proposal_attempt.status_changed',
];

const NAME = /^[A-Z][A-Z0-9_]*$/;

/** The name of a type that is not a status change: `proposal.created` → `PROPOSAL_CREATED`. */
export const creditasTypeName = (type: string): string => type.toUpperCase().replaceAll('.', '_');

function checkNameKey(key: string): string | null {
  if (isProposalStatus(key)) return null;
  if (CREDITAS_STATUS_TYPES.includes(key)) {
    return `${JSON.stringify(key)} is named by its status: use the status as the key (e.g. "rejected")`;
  }
  if (EVENT_CATALOG.some((spec) => spec.type === key)) return null;
  return `${JSON.stringify(key)} is neither a canonical status nor a catalog event type`;
}

export const creditas: Format = {
  name: 'creditas',
  eventTypes: null,
  methods: ['POST', 'PUT'],
  parseOptions: (options) => parseNamesOption('creditas', options, checkNameKey, NAME),
  checkUrl: () => null,
  render(event, endpoint) {
    const spec = eventTypeSpec(event.type);
    if (!spec) return fail(`creditas: ${event.type} is not a catalog event type`);
    const data = parseData(event.data);
    if (!data) return fail('creditas: the event data is not a JSON object');
    const id = data[spec.subject.idField];
    if (typeof id !== 'string' || id === '') return fail(`creditas: data.${spec.subject.idField} is missing`);
    const names = namesOf(endpoint.formatOptions);
    let name: string;
    if (CREDITAS_STATUS_TYPES.includes(event.type)) {
      const status = data.status;
      if (!isProposalStatus(status)) return fail('creditas: data.status is not a canonical status');
      name = nameIn(names, status) ?? creditasName(status);
    } else {
      name = nameIn(names, event.type) ?? creditasTypeName(event.type);
    }
    const rest = partnerObject(event.type, data, endpoint.payload === 'thin');
    const body = JSON.stringify(Object.keys(rest).length === 0 ? { id, name } : { id, name, data: rest });
    return {
      ok: true,
      request: { method: endpoint.method, url: endpoint.url, contentType: JSON_TYPE, body },
    };
  },
};
