import { bmpCode, credereState, creditasName } from '../domain/statuses.ts';
import type {
  Delivery,
  Endpoint,
  EventRecord,
  Partner,
  PartnerStore,
  Proposal,
  Simulation,
} from '../domain/types.ts';
import { authJson } from './endpoint-contract.ts';

/** Resources as the API shows them: snake_case, ISO 8601 times, secrets only where asked for. */

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const partnerJson = (p: Partner) => ({
  id: p.id,
  name: p.name,
  cnpj: p.cnpj,
  contact: p.contact,
  created_at: iso(p.createdAt),
  updated_at: iso(p.updatedAt),
});

export const endpointJson = (e: Endpoint) => ({
  id: e.id,
  partner_id: e.partnerId,
  kind: e.kind,
  url: e.url,
  environment: e.environment,
  event_types: e.eventTypes,
  store_ids: e.storeIds,
  ordering: e.ordering,
  format: e.format,
  method: e.method,
  payload: e.payload,
  format_options: e.formatOptions,
  signature: e.signature,
  auth: authJson(e.auth),
  description: e.description,
  enabled: e.enabled,
  disabled_reason: e.disabledReason,
  created_at: iso(e.createdAt),
  updated_at: iso(e.updatedAt),
});

/**
 * An event as JSON text. `data` is spliced in as stored, so publishing never parses and
 * re-serialises the payload it just validated.
 */
export function eventJson(e: EventRecord): string {
  const head = JSON.stringify({
    id: e.id,
    partner_id: e.partnerId,
    environment: e.environment,
    type: e.type,
    subject: e.subject,
    store_id: e.storeId,
    idempotency_key: e.idempotencyKey,
    created_at: iso(e.createdAt),
  });
  return `${head.slice(0, -1)},"data":${e.data}}`;
}

export const deliveryJson = (d: Delivery) => ({
  id: d.id,
  event_id: d.eventId,
  endpoint_id: d.endpointId,
  status: d.status,
  attempt_count: d.attemptCount,
  next_attempt_at: iso(d.nextAttemptAt),
  created_at: iso(d.createdAt),
  updated_at: iso(d.updatedAt),
  attempts: d.attempts.map((a) => ({
    number: a.number,
    at: iso(a.at),
    status_code: a.statusCode,
    duration_ms: a.durationMs,
    error: a.error,
    error_message: a.errorMessage,
    response_body: a.responseBody,
  })),
});

export const storeJson = (s: PartnerStore) => ({
  id: s.id,
  partner_id: s.partnerId,
  name: s.name,
  cnpj: s.cnpj,
  created_at: iso(s.createdAt),
});

export const simulationJson = (s: Simulation) => ({
  id: s.id,
  partner_id: s.partnerId,
  environment: s.environment,
  store_id: s.storeId,
  webhook_url: s.webhookUrl,
  created_at: iso(s.createdAt),
});

/** The status in every vocabulary a partner may speak (null where a platform has no name for it). */
export const statusCodes = (p: Proposal) => ({
  bmp_situacao: bmpCode(p.status),
  credere_state: credereState(p.status),
  creditas_name: creditasName(p.status),
});

export const proposalJson = (p: Proposal) => ({
  id: p.id,
  partner_id: p.partnerId,
  environment: p.environment,
  external_id: p.externalId,
  store_id: p.storeId,
  webhook_url: p.webhookUrl,
  status: p.status,
  previous_status: p.previousStatus,
  reason: p.reason,
  description: p.description,
  status_changed_at: iso(p.statusChangedAt),
  ...statusCodes(p),
  data: JSON.parse(p.data) as unknown,
  created_at: iso(p.createdAt),
  updated_at: iso(p.updatedAt),
});

export const proposalStatusJson = (p: Proposal) => ({
  proposal_id: p.id,
  external_id: p.externalId,
  status: p.status,
  previous_status: p.previousStatus,
  reason: p.reason,
  description: p.description,
  changed_at: iso(p.statusChangedAt),
  ...statusCodes(p),
});
