import { createHash } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Agent, buildConnector, type Dispatcher, request } from 'undici';
import type { AttemptError, SendOutcome } from '../domain/types.ts';
import { guardedConnector, guardedLookup } from './guard.ts';

/** How much of a receiver's answer is kept in the attempt log. */
export const RESPONSE_EXCERPT_BYTES = 4096;

export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  /** null: a request without a body (BMP callbacks by GET, or for most statuses). */
  body: string | null;
}

/** A client certificate for mutual TLS (PEM). */
export interface ClientCertificate {
  cert: string;
  key: string;
  passphrase: string | null;
}

export type { SendOutcome };

export interface Sender {
  send(
    request: OutboundRequest,
    signal: AbortSignal,
    clientCertificate?: ClientCertificate | null,
  ): Promise<SendOutcome>;
  /** What other outbound calls made for delivery (OAuth2 token requests) must go through. */
  readonly dispatcher: Dispatcher;
  close(): Promise<void>;
}

export interface HttpSenderOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  /** Connections kept per origin; the dispatcher never has more requests in flight to one. */
  connectionsPerOrigin: number;
  /** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
  tlsCa: string | null;
}

const CODES: Record<string, AttemptError> = {
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  UND_ERR_CLOSED: 'connection_reset',
  ENOTFOUND: 'dns_error',
  EAI_AGAIN: 'dns_error',
  EAI_NONAME: 'dns_error',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  ERR_ARAUTO_BLOCKED_ADDRESS: 'blocked_address',
  ERR_ARAUTO_OAUTH2: 'auth_error',
};

/** Maps whatever undici or Node threw to a stable error class. */
export function classifyError(error: unknown): AttemptError {
  const e = error as { name?: string; code?: string; cause?: unknown; errors?: unknown[] };
  if (e.name === 'TimeoutError') return 'timeout';
  const code = e.code ?? '';
  const known = CODES[code];
  if (known) return known;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME/.test(code)) return 'tls_error';
  // Happy-eyeballs failures arrive as an AggregateError of per-address errors.
  const inner = e.errors?.[0] ?? e.cause;
  return inner && inner !== error ? classifyError(inner) : 'network_error';
}

const messageOf = (error: unknown): string => {
  const e = error as { message?: string; cause?: { message?: string } };
  const message = e.message || String(error);
  return e.cause?.message && e.cause.message !== message ? `${message}: ${e.cause.message}` : message;
};

/**
 * The first RESPONSE_EXCERPT_BYTES of a response body. The status line already decided the
 * attempt, so a body that breaks off or stalls (until the attempt's timeout) only shortens the
 * excerpt.
 */
async function readExcerpt(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      // Leaving the loop early destroys the stream: a large answer costs its connection,
      // which is cheaper than reading megabytes nobody will look at.
      if (size >= RESPONSE_EXCERPT_BYTES) break;
    }
  } catch {
    // Keep what arrived.
  }
  // NUL cannot be stored in PostgreSQL text.
  return Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8').replaceAll('\0', '');
}

/**
 * The outbound HTTP client: keep-alive pools per origin, the network guard at connect time,
 * no redirects (undici's request never follows them), a total timeout per attempt.
 */
export class HttpSender implements Sender {
  readonly #agent: Agent;
  readonly #options: HttpSenderOptions;
  /** Agents that present a client certificate, by certificate: mTLS is set per endpoint. */
  readonly #mtls = new Map<string, Agent>();

  constructor(options: HttpSenderOptions) {
    this.#options = options;
    this.#agent = this.#newAgent(null);
  }

  get dispatcher(): Dispatcher {
    return this.#agent;
  }

  #newAgent(client: ClientCertificate | null): Agent {
    const o = this.#options;
    const connector = buildConnector({
      timeout: Math.min(o.timeoutMs, 10_000),
      allowH2: false,
      ...(o.tlsCa ? { ca: [...rootCertificates, o.tlsCa] } : {}),
      ...(o.allowPrivateNetworks ? {} : { lookup: guardedLookup }),
      ...(client
        ? {
            cert: client.cert,
            key: client.key,
            ...(client.passphrase ? { passphrase: client.passphrase } : {}),
          }
        : {}),
    });
    return new Agent({
      connections: o.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: o.allowPrivateNetworks ? connector : guardedConnector(connector),
    });
  }

  #agentFor(client: ClientCertificate | null | undefined): Agent {
    if (!client) return this.#agent;
    const key = createHash('sha256').update(client.cert).update('\0').update(client.key).digest('base64');
    let agent = this.#mtls.get(key);
    if (!agent) {
      if (this.#mtls.size >= 1000) {
        // Certificates were rotated many times over: start over rather than grow without bound.
        for (const old of this.#mtls.values()) void old.close();
        this.#mtls.clear();
      }
      agent = this.#newAgent(client);
      this.#mtls.set(key, agent);
    }
    return agent;
  }

  async send(
    outbound: OutboundRequest,
    signal: AbortSignal,
    clientCertificate?: ClientCertificate | null,
  ): Promise<SendOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await request(outbound.url, {
        dispatcher: this.#agentFor(clientCertificate),
        method: outbound.method,
        headers: outbound.headers,
        body: outbound.body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeoutMs)]),
      });
      const responseBody = await readExcerpt(response.body);
      const retryAfter = response.headers['retry-after'];
      return {
        kind: 'response',
        statusCode: response.statusCode,
        durationMs: elapsed(),
        responseBody,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (error) {
      if (signal.aborted) return { kind: 'aborted' };
      return { kind: 'error', error: classifyError(error), message: messageOf(error), durationMs: elapsed() };
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#agent.close(), ...[...this.#mtls.values()].map((a) => a.close())]);
  }
}
