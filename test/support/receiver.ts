import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** What the receiver answers; the default is 204 at once. */
export type Responder = (request: ReceivedRequest, res: ServerResponse) => void | Promise<void>;

/**
 * A real HTTP(S) receiver on 127.0.0.1:0 that records every request. `verify` checks a request
 * with the independent `standardwebhooks` package, the way a partner would.
 */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly #server: Server;
  readonly #scheme: 'http' | 'https';
  #responder: Responder = (_req, res) => {
    res.statusCode = 204;
    res.end();
  };
  readonly #waiters: Array<() => void> = [];

  private constructor(server: Server, scheme: 'http' | 'https') {
    this.#server = server;
    this.#scheme = scheme;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: Object.fromEntries(
            Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
          ),
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        this.requests.push(received);
        for (const wake of this.#waiters.splice(0)) wake();
        Promise.resolve(this.#responder(received, res)).catch(() => res.destroy());
      });
    });
  }

  static async start(tls?: {
    key: string;
    cert: string;
    ca?: string;
    requestCert?: boolean;
  }): Promise<TestReceiver> {
    const server = tls
      ? createHttpsServer({ ...tls, rejectUnauthorized: tls.requestCert ?? false })
      : createServer();
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new TestReceiver(server, tls ? 'https' : 'http');
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  url(path = '/hook', host = '127.0.0.1'): string {
    return `${this.#scheme}://${host}:${this.port}${path}`;
  }

  respond(responder: Responder): void {
    this.#responder = responder;
  }

  /** Waits until `predicate` holds over the requests received so far. */
  async waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.requests)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `receiver: condition not met after ${timeoutMs} ms (${this.requests.length} requests)`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForCount(count: number, timeoutMs?: number): Promise<void> {
    return this.waitFor((r) => r.length >= count, timeoutMs);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Verifies one request as a partner would; throws WebhookVerificationError when it fails. */
export function verify(secret: string, request: ReceivedRequest): unknown {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': request.headers['webhook-id'] ?? '',
    'webhook-timestamp': request.headers['webhook-timestamp'] ?? '',
    'webhook-signature': request.headers['webhook-signature'] ?? '',
  });
}
