import type { KeyObject } from 'node:crypto';
import { sign, signingKey } from '../domain/signature.ts';
import { signingKeyV1a, signV1a } from '../domain/signature-v1a.ts';
import type { DeliveryOutcome, EndpointAuth } from '../domain/types.ts';
import { type RenderEvent, renderRequest } from '../formats/index.ts';
import type { DeliveryTarget } from '../store/index.ts';
import type { ClientCertificate, OutboundRequest, Sender } from './http.ts';
import { OAuth2Tokens } from './oauth2.ts';

export interface Attempting {
  deliveryId: string;
  attempt: number;
}

/** How many keys are kept decoded; past that the caches start over (secrets rotate rarely). */
const KEY_CACHE = 10_000;

function cached<K>(cache: Map<string, K>, secret: string, build: (secret: string) => K): K {
  let key = cache.get(secret);
  if (key === undefined) {
    if (cache.size >= KEY_CACHE) cache.clear();
    key = build(secret);
    cache.set(secret, key);
  }
  return key;
}

/**
 * Turns an event into the request one endpoint expects — its platform format, Standard
 * Webhooks signature (v1 or v1a) and credentials — and sends it. The dispatcher and the
 * API's test sends share it, so a homologação test goes out exactly as deliveries will.
 */
export class Courier {
  readonly #sender: Sender;
  readonly #userAgent: string;
  readonly #tokens: OAuth2Tokens;
  readonly #hmacKeys = new Map<string, KeyObject>();
  readonly #edKeys = new Map<string, KeyObject>();

  constructor(options: { sender: Sender; userAgent: string; timeoutMs: number }) {
    this.#sender = options.sender;
    this.#userAgent = options.userAgent;
    // Token requests go through the delivery dispatcher: the same network guard applies.
    this.#tokens = new OAuth2Tokens({ dispatcher: options.sender.dispatcher, timeoutMs: options.timeoutMs });
  }

  async deliver(
    event: RenderEvent,
    target: DeliveryTarget,
    meta: Attempting,
    signal: AbortSignal,
  ): Promise<DeliveryOutcome> {
    const rendered = renderRequest(event, target);
    if (!rendered.ok) return { kind: 'unrenderable', reason: rendered.reason };
    const { method, url, contentType, body } = rendered.request;
    const timestamp = Math.floor(Date.now() / 1000);
    const signature =
      target.signature === 'v1a'
        ? signV1a(cached(this.#edKeys, target.signingKey, signingKeyV1a), event.id, timestamp, body)
        : sign(cached(this.#hmacKeys, target.secret, signingKey), event.id, timestamp, body);
    const headers: Record<string, string> = {
      'user-agent': this.#userAgent,
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
      'arauto-delivery-id': meta.deliveryId,
      'arauto-attempt': String(meta.attempt),
    };
    if (contentType !== null) headers['content-type'] = contentType;
    const request: OutboundRequest = { method, url, headers, body: contentType === null ? null : body };
    const summary = { method, url };
    const auth = target.auth;

    if (auth.type !== 'oauth2') {
      Object.assign(headers, staticAuthHeaders(auth));
      const outcome = await this.#sender.send(request, signal, clientCertificate(auth));
      return outcome.kind === 'aborted' ? outcome : { ...outcome, request: summary };
    }

    const config = {
      tokenUrl: auth.tokenUrl,
      clientId: auth.clientId,
      clientSecret: auth.clientSecret,
      scope: auth.scope,
      audience: auth.audience,
    };
    const started = performance.now();
    for (let round = 0; ; round++) {
      let token: string;
      try {
        token = await this.#tokens.token(target.id, config, signal);
      } catch (error) {
        if (signal.aborted) return { kind: 'aborted' };
        const message = error instanceof Error ? error.message : String(error);
        return {
          kind: 'error',
          error: 'auth_error',
          message,
          durationMs: Math.round(performance.now() - started),
          request: summary,
        };
      }
      headers.authorization = `Bearer ${token}`;
      const outcome = await this.#sender.send(request, signal);
      if (outcome.kind === 'aborted') return outcome;
      // A 401 may mean the partner revoked the token early: fetch a fresh one and try once more.
      if (outcome.kind === 'response' && outcome.statusCode === 401 && round === 0) {
        this.#tokens.invalidate(target.id, token);
        continue;
      }
      return { ...outcome, request: summary };
    }
  }
}

/** Headers for the credentials that need no round trip. */
function staticAuthHeaders(auth: EndpointAuth): Record<string, string> {
  switch (auth.type) {
    case 'none':
    case 'mtls':
    case 'oauth2':
      return {};
    case 'header':
      return { [auth.name.toLowerCase()]: auth.value };
    case 'basic':
      return {
        authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
      };
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    default: {
      const unreachable: never = auth;
      throw new Error(`unknown auth ${JSON.stringify(unreachable)}`);
    }
  }
}

const clientCertificate = (auth: EndpointAuth): ClientCertificate | null =>
  auth.type === 'mtls' ? { cert: auth.cert, key: auth.key, passphrase: auth.passphrase } : null;
