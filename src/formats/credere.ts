/**
 * `credere`: Credere's `{"event": <name>, <object key>: {…}}` (credere-webhooks.txt). The object is
 * the lender's part of the event as received (Credere's own object passes through unchanged),
 * with its identifier filled in when missing and `state` in Credere's vocabulary.
 */
import { EVENT_CATALOG } from '../domain/catalog.ts';
import { credereState, isProposalStatus } from '../domain/statuses.ts';
import {
  canonicalFieldsOf,
  fail,
  JSON_TYPE,
  nameIn,
  namesOf,
  parseData,
  parseNamesOption,
  partnerObject,
} from './shared.ts';
import type { Format } from './types.ts';

export interface CredereEvent {
  /** The `event` value Arauto sends by default. */
  name: string;
  /** The key of the object: simulation, proposal, proposal_attempt or customer. */
  objectKey: 'simulation' | 'proposal' | 'proposal_attempt' | 'customer';
  /** Where the object's identifier comes from when the lender's object has none. */
  idField: 'simulation_id' | 'proposal_id' | 'attempt_id' | 'customer_id';
}

/**
 * Catalog type → Credere event. proposal.status_changed is `proposal_status_updated`, the name of
 * its section in the document (whose example says `proposal_updated`, the name of an edit).
 */
export const CREDERE_EVENTS: Readonly<Record<string, CredereEvent>> = {
  'simulation.processed': { name: 'processed_simulation', objectKey: 'simulation', idField: 'simulation_id' },
  'proposal.created': { name: 'proposal_created', objectKey: 'proposal', idField: 'proposal_id' },
  'proposal.updated': { name: 'proposal_updated', objectKey: 'proposal', idField: 'proposal_id' },
  'proposal.status_changed': {
    name: 'proposal_status_updated',
    objectKey: 'proposal',
    idField: 'proposal_id',
  },
  'proposal_attempt.created': {
    name: 'proposal_attempt_created',
    objectKey: 'proposal_attempt',
    idField: 'attempt_id',
  },
  'proposal_attempt.updated': {
    name: 'proposal_attempt_updated',
    objectKey: 'proposal_attempt',
    idField: 'attempt_id',
  },
  'proposal_attempt.status_changed': {
    name: 'status_updated',
    objectKey: 'proposal_attempt',
    idField: 'attempt_id',
  },
  'proposal_attempt.synced_from_bank': {
    name: 'synced_proposal_condition_from_bank',
    objectKey: 'proposal_attempt',
    idField: 'attempt_id',
  },
  'customer.created': { name: 'customer_created', objectKey: 'customer', idField: 'customer_id' },
  'customer.updated': { name: 'customer_updated', objectKey: 'customer', idField: 'customer_id' },
};

const NAME = /^[a-z][a-z0-9_]*$/;

const checkNameKey = (key: string): string | null =>
  EVENT_CATALOG.some((spec) => spec.type === key)
    ? null
    : `${JSON.stringify(key)} is not a catalog event type`;

export const credere: Format = {
  name: 'credere',
  eventTypes: null,
  methods: ['POST', 'PUT'],
  parseOptions: (options) => parseNamesOption('credere', options, checkNameKey, NAME),
  checkUrl: () => null,
  render(event, endpoint) {
    const entry = Object.hasOwn(CREDERE_EVENTS, event.type) ? CREDERE_EVENTS[event.type] : undefined;
    if (!entry) return fail(`credere: ${event.type} has no Credere event`);
    const data = parseData(event.data);
    if (!data) return fail('credere: the event data is not a JSON object');
    let object = partnerObject(event.type, data, endpoint.payload === 'thin');
    // The identifier: Credere's own when the lender sent it, else Arauto's resource id (first key).
    const idKey = entry.objectKey === 'simulation' ? 'uuid' : 'id';
    if (object[idKey] === undefined || object[idKey] === null) {
      const id = data[entry.idField];
      if (typeof id !== 'string' || id === '') return fail(`credere: data.${entry.idField} is missing`);
      if (object[idKey] === null) object[idKey] = id;
      else object = { [idKey]: id, ...object };
    }
    // Only types whose data carries Arauto's `status` (proposals and attempts) get a Credere state.
    const status = data.status;
    if (canonicalFieldsOf(event.type).has('status') && isProposalStatus(status)) {
      const state = credereState(status);
      if (state !== null) object.state = state;
    }
    const name = nameIn(namesOf(endpoint.formatOptions), event.type) ?? entry.name;
    const body = JSON.stringify({ event: name, [entry.objectKey]: object });
    return {
      ok: true,
      request: { method: endpoint.method, url: endpoint.url, contentType: JSON_TYPE, body },
    };
  },
};
