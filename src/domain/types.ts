import type { ProposalStatus } from './statuses.ts';

/** The records Arauto keeps. Times are epoch milliseconds; the API renders them as ISO 8601. */

export const ENVIRONMENTS = ['sandbox', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export interface Partner {
  id: string;
  name: string;
  /** 14 bare characters, upper case (numeric or alphanumeric form). */
  cnpj: string;
  contact: { name: string; email: string };
  createdAt: number;
  updatedAt: number;
}

export const ORDERINGS = ['subject', 'none'] as const;
/** `subject`: deliveries to one endpoint that share a subject go out one at a time, in publish order. */
export type Ordering = (typeof ORDERINGS)[number];

export interface Endpoint {
  id: string;
  partnerId: string;
  /**
   * `endpoint`: registered through the API. `resource`: created for a `webhook_url` given on a
   * proposal or simulation; it receives only events about those resources.
   */
  kind: 'endpoint' | 'resource';
  url: string;
  environment: Environment;
  /** null = every event type. */
  eventTypes: string[] | null;
  /** null = every store; otherwise only events of these stores. */
  storeIds: string[] | null;
  ordering: Ordering;
  /** How the event is rendered on the wire (src/formats). */
  format: FormatName;
  method: HttpMethod;
  payload: PayloadMode;
  formatOptions: Record<string, unknown> | null;
  /** `v1`: HMAC-SHA256 with `secret`; `v1a`: ed25519 with `signingKey` (public key via the API). */
  signature: SignatureScheme;
  /** Credentials Arauto presents to the partner; write-only in the API, encrypted at rest. */
  auth: EndpointAuth;
  description: string | null;
  enabled: boolean;
  /** Why the endpoint was disabled: `gone` (the receiver answered 410) or `manual`. */
  disabledReason: string | null;
  secret: string;
  /** `whsk_…` ed25519 key for `v1a` signatures; every endpoint has one so it can switch. */
  signingKey: string;
  createdAt: number;
  updatedAt: number;
}

/** How an event goes on the wire; src/formats renders each. */
export const FORMAT_NAMES = ['standard', 'cloudevents', 'creditas', 'credere', 'bmp'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

export const HTTP_METHODS = ['POST', 'GET', 'PUT'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** `full`: the event's whole `data`; `thin`: only identifiers, status and time (LGPD's necessity). */
export type PayloadMode = 'full' | 'thin';

export const SIGNATURE_SCHEMES = ['v1', 'v1a'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

/** Outbound authentication, one scheme per endpoint (the BMP document's list). */
export type EndpointAuth =
  | { type: 'none' }
  | { type: 'header'; name: string; value: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | {
      type: 'oauth2';
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      scope: string | null;
      audience: string | null;
    }
  | { type: 'mtls'; cert: string; key: string; passphrase: string | null };

/** An event is immutable once published. `data` is kept as the JSON text that is sent. */
export interface EventRecord {
  id: string;
  partnerId: string;
  environment: Environment;
  type: string;
  subject: string | null;
  /** The partner's store the event concerns (from data.store_id or its proposal/simulation). */
  storeId: string | null;
  data: string;
  idempotencyKey: string | null;
  createdAt: number;
}

/** A store (loja) of a partner — a dealer’s shop, Credere’s "loja". */
export interface PartnerStore {
  partnerId: string;
  id: string;
  name: string;
  cnpj: string;
  createdAt: number;
}

export interface Simulation {
  id: string;
  partnerId: string;
  environment: Environment;
  storeId: string | null;
  webhookUrl: string | null;
  createdAt: number;
}

export interface Proposal {
  id: string;
  partnerId: string;
  environment: Environment;
  /** The operation code the partner sent on creation (BMP's *identificador*). */
  externalId: string | null;
  storeId: string | null;
  webhookUrl: string | null;
  status: ProposalStatus;
  previousStatus: ProposalStatus | null;
  reason: string | null;
  description: string | null;
  statusChangedAt: number;
  /** JSON object text: what the lender attached on creation. */
  data: string;
  /** JSON object text given with the change to `approved`, once reached. */
  approval: string | null;
  approvedAt: number | null;
  /** JSON object text given with the change to `released` or `paid`, once reached. */
  payment: string | null;
  paymentApprovedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface Attempt {
  number: number;
  at: number;
  statusCode: number | null;
  durationMs: number;
  /** Error class (see AttemptError), null on success. */
  error: AttemptError | null;
  errorMessage: string | null;
  /** The first 4 KiB of the response body. */
  responseBody: string | null;
}

export interface Delivery {
  id: string;
  eventId: string;
  endpointId: string;
  status: DeliveryStatus;
  attemptCount: number;
  /** When the next attempt is due (pending only). */
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
  attempts: Attempt[];
}

/** Why an attempt failed, stable for dashboards and alerts. */
export const ATTEMPT_ERRORS = [
  'http_status', // the receiver answered, but not 2xx
  'redirect', // 3xx: redirects are never followed
  'timeout',
  'connection_refused',
  'connection_reset',
  'dns_error',
  'tls_error',
  'blocked_address', // the network guard refused the destination
  'network_error',
  'endpoint_disabled',
  'endpoint_deleted',
  'auth_error', // credentials could not be obtained (OAuth2 token endpoint refused or unreachable)
  'unrenderable', // the endpoint's format cannot express this event (e.g. a status BMP has no code for)
] as const;
export type AttemptError = (typeof ATTEMPT_ERRORS)[number];

/** What came of sending one request: the receiver's answer, or why there was none. */
export type SendOutcome =
  | {
      kind: 'response';
      statusCode: number;
      durationMs: number;
      responseBody: string;
      retryAfter: string | undefined;
    }
  | { kind: 'error'; error: AttemptError; message: string; durationMs: number }
  /** Cancelled by shutdown: not an attempt, the delivery goes back to the queue. */
  | { kind: 'aborted' };

/** An attempt as the courier reports it: the exchange and the request it made, or why none was made. */
export type DeliveryOutcome =
  | (Exclude<SendOutcome, { kind: 'aborted' }> & { request: { method: string; url: string } })
  | { kind: 'aborted' }
  /** The endpoint's format cannot express the event (e.g. a status BMP has no code for). */
  | { kind: 'unrenderable'; reason: string };
