import { type Dispatcher, request } from 'undici';

/** The OAuth 2.0 client-credentials settings of one endpoint. */
export interface OAuth2Config {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string | null;
  audience?: string | null;
}

/**
 * Getting a token failed: the token endpoint refused, answered something that is not a bearer
 * token, or could not be reached in time. `status` is the token endpoint's HTTP status, if it
 * answered; `cause` holds the network error, if any.
 */
export class OAuth2Error extends Error {
  readonly code = 'ERR_ARAUTO_OAUTH2';
  readonly status: number | null;

  constructor(message: string, status: number | null, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'OAuth2Error';
    this.status = status;
  }
}

/** Tokens are renewed this long before the token endpoint says they expire (clock skew, transit). */
const EXPIRY_MARGIN_MS = 30_000;
/** How long a token without `expires_in` is kept. */
const DEFAULT_LIFETIME_MS = 5 * 60_000;
/** A token answer is a few hundred bytes; more than this is not one. */
const MAX_BODY_BYTES = 64 * 1024;
const ERROR_EXCERPT_CHARS = 200;

interface Cached {
  config: OAuth2Config;
  token: string;
  expiresAt: number;
}

interface Flight {
  config: OAuth2Config;
  promise: Promise<string>;
  /** Aborts the shared fetch once every caller waiting on it has given up. */
  controller: AbortController;
  waiters: number;
}

const sameConfig = (a: OAuth2Config, b: OAuth2Config): boolean =>
  a.tokenUrl === b.tokenUrl &&
  a.clientId === b.clientId &&
  a.clientSecret === b.clientSecret &&
  (a.scope ?? null) === (b.scope ?? null) &&
  (a.audience ?? null) === (b.audience ?? null);

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks for both halves of Basic auth. */
const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

/** The token URL without query or credentials, safe to put in an error message. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'the token URL';
  }
}

async function readBody(body: AsyncIterable<Buffer>): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    // Leaving the loop destroys the stream: a huge answer costs its connection, not our memory.
    if (size > MAX_BODY_BYTES) return { text: '', truncated: true };
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

/** Seconds from `expires_in`, which some servers send as a string; null when absent or unreadable. */
function lifetimeSeconds(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/**
 * OAuth 2.0 client-credentials tokens for outbound webhooks, cached per endpoint until shortly
 * before they expire. Concurrent callers for one endpoint share one request to the token
 * endpoint, so a burst of deliveries costs one token, not one each.
 *
 * @example
 * const tokens = new OAuth2Tokens({ dispatcher: agent, timeoutMs: 10_000 });
 * headers.authorization = `Bearer ${await tokens.token(endpoint.id, endpoint.oauth2, signal)}`;
 * // on a 401 from the partner: tokens.invalidate(endpoint.id, thatToken)
 */
export class OAuth2Tokens {
  readonly #dispatcher: Dispatcher;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #flights = new Map<string, Flight>();

  constructor(options: { dispatcher: Dispatcher; timeoutMs: number; now?: () => number }) {
    this.#dispatcher = options.dispatcher;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A valid access token for `key` (the endpoint id): from the cache, from a fetch already under
   * way, or fetched now. Rejects with an OAuth2Error, or with `signal.reason` if `signal` aborts
   * first (which aborts the fetch only when no other caller still waits on it).
   */
  token(key: string, config: OAuth2Config, signal?: AbortSignal): Promise<string> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const cached = this.#cache.get(key);
    if (cached && sameConfig(cached.config, config)) {
      if (cached.expiresAt > this.#now()) return Promise.resolve(cached.token);
      this.#cache.delete(key);
    }
    let flight = this.#flights.get(key);
    // Changed credentials must not be answered with a token fetched for the old ones, nor a new
    // caller with a fetch that every earlier caller abandoned.
    if (!flight || !sameConfig(flight.config, config) || flight.controller.signal.aborted) {
      flight = this.#start(key, config);
    }
    return this.#wait(flight, signal);
  }

  /**
   * Forgets `token` for `key`, typically after the partner answered 401 to it. A token fetched
   * since then is kept: a late 401 on an old token must not throw away a fresh one.
   */
  invalidate(key: string, token: string): void {
    if (this.#cache.get(key)?.token === token) this.#cache.delete(key);
  }

  #start(key: string, config: OAuth2Config): Flight {
    const controller = new AbortController();
    const promise: Promise<string> = this.#fetch(config, controller.signal).then(
      ({ token, lifetimeMs }) => {
        // A fetch overtaken by one for newer credentials does not overwrite its result.
        if (this.#flights.get(key)?.promise === promise) {
          this.#flights.delete(key);
          this.#cache.set(key, { config, token, expiresAt: this.#now() + lifetimeMs });
        }
        return token;
      },
      (error: unknown) => {
        // Failures are not cached: the next delivery asks the token endpoint again.
        if (this.#flights.get(key)?.promise === promise) this.#flights.delete(key);
        throw error;
      },
    );
    const flight: Flight = { config, promise, controller, waiters: 0 };
    this.#flights.set(key, flight);
    return flight;
  }

  #wait(flight: Flight, signal: AbortSignal | undefined): Promise<string> {
    flight.waiters++;
    if (!signal) return flight.promise;
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        reject(signal.reason);
        flight.waiters--;
        if (flight.waiters === 0) flight.controller.abort(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (token) => {
          signal.removeEventListener('abort', onAbort);
          resolve(token);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  async #fetch(config: OAuth2Config, signal: AbortSignal): Promise<{ token: string; lifetimeMs: number }> {
    const where = describeUrl(config.tokenUrl);
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (config.scope) form.set('scope', config.scope);
    if (config.audience) form.set('audience', config.audience);
    const credentials = `${formEncode(config.clientId)}:${formEncode(config.clientSecret)}`;
    const timeout = AbortSignal.timeout(this.#timeoutMs);

    let status: number;
    let body: { text: string; truncated: boolean };
    try {
      // undici's request never follows redirects: a 3xx is reported as the answer it is.
      const response = await request(config.tokenUrl, {
        dispatcher: this.#dispatcher,
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          // Some servers (GitHub's, for one) answer form-encoded unless JSON is asked for.
          accept: 'application/json',
        },
        body: form.toString(),
        signal: AbortSignal.any([signal, timeout]),
      });
      status = response.statusCode;
      body = await readBody(response.body);
    } catch (error) {
      // Every caller gave up: not a token endpoint failure, and nobody is left to tell.
      if (signal.aborted) throw signal.reason;
      const message = timeout.aborted
        ? `timed out after ${this.#timeoutMs} ms`
        : `failed: ${(error as Error).message || String(error)}`;
      throw new OAuth2Error(`Token request to ${where} ${message}`, null, { cause: error });
    }

    if (status < 200 || status >= 300) {
      const excerpt = body.truncated
        ? `(a body over ${MAX_BODY_BYTES} bytes)`
        : body.text.replace(/\s+/g, ' ').trim().slice(0, ERROR_EXCERPT_CHARS);
      throw new OAuth2Error(
        `Token endpoint ${where} answered ${status}: ${excerpt || '(empty body)'}`,
        status,
      );
    }
    // From here on the body may hold a token: it is never quoted in an error.
    const refuse = (why: string) =>
      new OAuth2Error(`Token endpoint ${where} answered ${status} but ${why}`, status);
    if (body.truncated) throw refuse(`with a body over ${MAX_BODY_BYTES} bytes`);
    let answer: unknown;
    try {
      answer = JSON.parse(body.text);
    } catch {
      throw refuse('with a body that is not JSON');
    }
    if (typeof answer !== 'object' || answer === null) throw refuse('with JSON that is not an object');
    const { access_token, token_type, expires_in } = answer as Record<string, unknown>;
    if (typeof access_token !== 'string' || access_token === '') throw refuse('without an access_token');
    // RFC 6749 §7.1: a client must not use a token type it does not understand; Arauto sends Bearer.
    if (
      token_type !== undefined &&
      (typeof token_type !== 'string' || token_type.toLowerCase() !== 'bearer')
    ) {
      throw refuse(`with token_type ${JSON.stringify(String(token_type).slice(0, 40))}, not Bearer`);
    }
    const seconds = lifetimeSeconds(expires_in);
    const lifetimeMs =
      seconds === null ? DEFAULT_LIFETIME_MS : Math.max(0, seconds * 1000 - EXPIRY_MARGIN_MS);
    return { token: access_token, lifetimeMs };
  }
}
