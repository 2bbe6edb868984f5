import type { Delivery, Endpoint, EventRecord, Partner } from '../domain/types.ts';

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
  url: e.url,
  environment: e.environment,
  event_types: e.eventTypes,
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
