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

export interface Endpoint {
  id: string;
  partnerId: string;
  url: string;
  environment: Environment;
  /** null = every event type. */
  eventTypes: string[] | null;
  description: string | null;
  enabled: boolean;
  /** Why the endpoint was disabled: `gone` (the receiver answered 410) or `manual`. */
  disabledReason: string | null;
  secret: string;
  createdAt: number;
  updatedAt: number;
}

/** An event is immutable once published. `data` is kept as the JSON text that is sent. */
export interface EventRecord {
  id: string;
  partnerId: string;
  environment: Environment;
  type: string;
  subject: string | null;
  data: string;
  idempotencyKey: string | null;
  createdAt: number;
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
] as const;
export type AttemptError = (typeof ATTEMPT_ERRORS)[number];
