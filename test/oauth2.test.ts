import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { type OAuth2Config, OAuth2Error, OAuth2Tokens } from '../src/delivery/oauth2.ts';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  form: URLSearchParams;
  /** The Basic credentials after form-decoding each half, or null if they were missing. */
  client: { id: string; secret: string } | null;
  /** The client closed the connection before the answer was written. */
  cancelled: boolean;
}

type Reply = { status: number; body: string; headers?: Record<string, string> } | 'hang';

const json = (status: number, body: unknown): Reply => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});

const formDecode = (value: string): string => decodeURIComponent(value.replaceAll('+', ' '));

function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}

/**
 * A real token endpoint on 127.0.0.1: checks the client's Basic credentials like a real
 * authorization server would (401 invalid_client otherwise) and lets each test decide the rest.
 */
class TokenServer {
  readonly calls: Seen[] = [];
  client = { id: 'arauto', secret: 's3cret' };
  reply: (seen: Seen, n: number) => Reply | Promise<Reply> = (_seen, n) =>
    json(200, { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 3600 });
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<TokenServer> {
    const server = createServer();
    const tokens = new TokenServer(server);
    server.on('request', (req, res) => void tokens.#handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return tokens;
  }

  url(path = '/oauth/token'): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const seen: Seen = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      form: new URLSearchParams(text),
      client: basicCredentials(req.headers.authorization),
      cancelled: false,
    };
    res.on('close', () => {
      if (!res.writableFinished) seen.cancelled = true;
    });
    this.calls.push(seen);
    const ok = seen.client?.id === this.client.id && seen.client.secret === this.client.secret;
    const reply = ok ? await this.reply(seen, this.calls.length) : json(401, { error: 'invalid_client' });
    if (reply === 'hang') return;
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    return once(this.#server, 'close').then(() => {});
  }
}

describe('OAuth 2.0 client credentials', () => {
  let server: TokenServer;
  let agent: Agent;
  let config: OAuth2Config;
  let tokens: OAuth2Tokens;

  before(async () => {
    server = await TokenServer.start();
    agent = new Agent();
  });
  after(async () => {
    await agent.close();
    await server.close();
  });
  beforeEach(() => {
    server.calls.length = 0;
    server.client = { id: 'arauto', secret: 's3cret' };
    server.reply = (_seen, n) =>
      json(200, { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 3600 });
    config = { tokenUrl: server.url(), clientId: 'arauto', clientSecret: 's3cret' };
    tokens = new OAuth2Tokens({ dispatcher: agent, timeoutMs: 2000 });
  });

  it('fetches a token once, with Basic auth and a form body, and reuses it', async () => {
    assert.equal(await tokens.token('ep_1', config), 'token-1');
    assert.equal(await tokens.token('ep_1', config), 'token-1');
    assert.equal(server.calls.length, 1);
    const [call] = server.calls;
    assert.equal(call?.method, 'POST');
    assert.equal(call?.path, '/oauth/token');
    assert.equal(call?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(call?.headers.accept, 'application/json');
    assert.equal(call?.headers.authorization, `Basic ${Buffer.from('arauto:s3cret').toString('base64')}`);
    assert.deepEqual([...(call?.form ?? [])], [['grant_type', 'client_credentials']]);
  });

  it('keeps one token per key', async () => {
    assert.equal(await tokens.token('ep_1', config), 'token-1');
    assert.equal(await tokens.token('ep_2', config), 'token-2');
    assert.equal(await tokens.token('ep_1', config), 'token-1');
    assert.equal(server.calls.length, 2);
  });

  it('form-encodes client id and secret before Basic encoding them (RFC 6749 §2.3.1)', async () => {
    server.client = { id: 'client:1 ação', secret: 'p@ss w:rd+/=%' };
    const token = await tokens.token('ep_1', {
      ...config,
      clientId: 'client:1 ação',
      clientSecret: 'p@ss w:rd+/=%',
    });
    assert.equal(token, 'token-1');
    const raw = Buffer.from(server.calls[0]?.headers.authorization?.slice(6) ?? '', 'base64').toString();
    assert.equal(raw, 'client%3A1+a%C3%A7%C3%A3o:p%40ss+w%3Ard%2B%2F%3D%25');
  });

  it('sends scope and audience when configured', async () => {
    await tokens.token('ep_1', {
      ...config,
      scope: 'webhooks:write proposals',
      audience: 'https://api.partner.example',
    });
    await tokens.token('ep_2', { ...config, scope: null, audience: '' });
    assert.deepEqual(Object.fromEntries(server.calls[0]?.form ?? []), {
      grant_type: 'client_credentials',
      scope: 'webhooks:write proposals',
      audience: 'https://api.partner.example',
    });
    assert.deepEqual(Object.fromEntries(server.calls[1]?.form ?? []), { grant_type: 'client_credentials' });
  });

  it('renews a token 30 s before expires_in says it expires', async () => {
    let now = 1_000_000;
    tokens = new OAuth2Tokens({ dispatcher: agent, timeoutMs: 2000, now: () => now });
    assert.equal(await tokens.token('ep_1', config), 'token-1');
    now += 3_570_000 - 1;
    assert.equal(await tokens.token('ep_1', config), 'token-1');
    now += 1;
    assert.equal(await tokens.token('ep_1', config), 'token-2');
    assert.equal(server.calls.length, 2);
  });

  it('keeps a token without expires_in 5 minutes, and one that expires within 30 s not at all', async () => {
    let now = 0;
    tokens = new OAuth2Tokens({ dispatcher: agent, timeoutMs: 2000, now: () => now });
    server.reply = (_seen, n) => json(200, { access_token: `token-${n}`, token_type: 'bearer' });
    assert.equal(await tokens.token('ep_1', config), 'token-1');
    now = 299_999;
    assert.equal(await tokens.token('ep_1', config), 'token-1');
    now = 300_000;
    assert.equal(await tokens.token('ep_1', config), 'token-2');

    server.reply = (_seen, n) =>
      json(200, { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 20 });
    assert.equal(await tokens.token('ep_2', config), 'token-3');
    assert.equal(await tokens.token('ep_2', config), 'token-4');

    // Some servers send expires_in as a string.
    server.reply = (_seen, n) => json(200, { access_token: `token-${n}`, expires_in: '120' });
    now = 0;
    assert.equal(await tokens.token('ep_3', config), 'token-5');
    now = 89_999;
    assert.equal(await tokens.token('ep_3', config), 'token-5');
    now = 90_000;
    assert.equal(await tokens.token('ep_3', config), 'token-6');
  });

  it('shares one fetch among concurrent callers', async () => {
    server.reply = async (_seen, n) => {
      await sleep(50);
      return json(200, { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 3600 });
    };
    const results = await Promise.all(Array.from({ length: 5 }, () => tokens.token('ep_1', config)));
    assert.deepEqual(results, Array(5).fill('token-1'));
    assert.equal(server.calls.length, 1);
  });

  it('invalidates only the token it is told about', async () => {
    let now = 0;
    tokens = new OAuth2Tokens({ dispatcher: agent, timeoutMs: 2000, now: () => now });
    const old = await tokens.token('ep_1', config);
    now = 3_600_000; // expired: the next call refreshes
    const fresh = await tokens.token('ep_1', config);
    assert.deepEqual([old, fresh], ['token-1', 'token-2']);

    // A late 401 on the old token must not throw the fresh one away.
    tokens.invalidate('ep_1', old);
    assert.equal(await tokens.token('ep_1', config), 'token-2');
    assert.equal(server.calls.length, 2);

    tokens.invalidate('ep_1', fresh);
    assert.equal(await tokens.token('ep_1', config), 'token-3');
    assert.equal(server.calls.length, 3);

    tokens.invalidate('ep_unknown', 'token-3');
    assert.equal(await tokens.token('ep_1', config), 'token-3');
  });

  it('fetches again when the credentials change', async () => {
    assert.equal(await tokens.token('ep_1', config), 'token-1');
    server.client = { id: 'arauto', secret: 'rotated' };
    assert.equal(await tokens.token('ep_1', { ...config, clientSecret: 'rotated' }), 'token-2');
    assert.equal(await tokens.token('ep_1', { ...config, clientSecret: 'rotated', scope: 'a' }), 'token-3');
    assert.equal(server.calls.length, 3);
  });

  for (const status of [400, 401]) {
    it(`rejects a ${status} with ERR_ARAUTO_OAUTH2 and what the server said, and does not cache it`, async () => {
      const description = `${'the client is not allowed this grant; '.repeat(10)}END`;
      server.reply = (_seen, n) =>
        n === 1
          ? json(status, {
              error: status === 400 ? 'invalid_grant' : 'invalid_client',
              error_description: description,
            })
          : json(200, { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 3600 });
      await assert.rejects(tokens.token('ep_1', config), (error: OAuth2Error) => {
        assert.ok(error instanceof OAuth2Error);
        assert.equal(error.code, 'ERR_ARAUTO_OAUTH2');
        assert.equal(error.status, status);
        const prefix = `Token endpoint ${server.url()} answered ${status}: `;
        assert.ok(error.message.startsWith(prefix), error.message);
        const excerpt = error.message.slice(prefix.length);
        assert.equal(excerpt.length, 200);
        assert.ok(excerpt.startsWith(`{"error":"invalid_`), excerpt);
        assert.ok(!error.message.includes('END'));
        assert.ok(!error.message.includes('s3cret'));
        return true;
      });
      assert.equal(await tokens.token('ep_1', config), 'token-2');
      assert.equal(server.calls.length, 2);
    });
  }

  it('reports wrong client credentials as the server answered them', async () => {
    await assert.rejects(
      tokens.token('ep_1', { ...config, clientSecret: 'wrong' }),
      (error: OAuth2Error) =>
        error.code === 'ERR_ARAUTO_OAUTH2' &&
        error.message.endsWith('answered 401: {"error":"invalid_client"}') &&
        !error.message.includes('wrong'),
    );
  });

  it('rejects a token server that never answers once the timeout passes, and tries again next time', async () => {
    tokens = new OAuth2Tokens({ dispatcher: agent, timeoutMs: 200 });
    server.reply = (_seen, n) =>
      n === 1 ? 'hang' : json(200, { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 3600 });
    const started = performance.now();
    await assert.rejects(tokens.token('ep_1', config), (error: OAuth2Error) => {
      assert.equal(error.code, 'ERR_ARAUTO_OAUTH2');
      assert.equal(error.status, null);
      assert.equal(error.message, `Token request to ${server.url()} timed out after 200 ms`);
      assert.equal((error.cause as Error).name, 'TimeoutError');
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 1500, `${elapsed} ms`);
    assert.equal(await tokens.token('ep_1', config), 'token-2');
  });

  it('rejects an unreachable token endpoint with ERR_ARAUTO_OAUTH2', async () => {
    const closed = await TokenServer.start();
    const url = closed.url();
    await closed.close();
    await assert.rejects(
      tokens.token('ep_1', { ...config, tokenUrl: url }),
      (error: OAuth2Error) =>
        error.code === 'ERR_ARAUTO_OAUTH2' && error.message.startsWith(`Token request to ${url} failed: `),
    );
  });

  it('never follows a redirect', async () => {
    server.reply = (seen, n) =>
      seen.path === '/oauth/token'
        ? { status: 302, body: '', headers: { location: '/elsewhere' } }
        : json(200, { access_token: `token-${n}` });
    await assert.rejects(
      tokens.token('ep_1', config),
      (error: OAuth2Error) => error.status === 302 && /answered 302: \(empty body\)$/.test(error.message),
    );
    assert.deepEqual(
      server.calls.map((c) => c.path),
      ['/oauth/token'],
    );
  });

  it('rejects a 2xx that is not a bearer token, without quoting the body', async () => {
    const answers: Array<[string, RegExp]> = [
      ['access_token=secret-1&token_type=bearer', /not JSON/],
      [JSON.stringify({ token_type: 'Bearer', secret: 'secret-2' }), /without an access_token/],
      [JSON.stringify({ access_token: '', token_type: 'Bearer' }), /without an access_token/],
      [JSON.stringify({ access_token: 'secret-3', token_type: 'mac' }), /token_type "mac", not Bearer/],
      [JSON.stringify(['secret-4']), /answered 200 but without an access_token/],
      ['"secret-5"', /not an object/],
    ];
    for (const [body, expected] of answers) {
      server.reply = () => ({ status: 200, body, headers: { 'content-type': 'application/json' } });
      await assert.rejects(tokens.token('ep_1', config), (error: OAuth2Error) => {
        assert.equal(error.code, 'ERR_ARAUTO_OAUTH2');
        assert.match(error.message, expected);
        assert.doesNotMatch(error.message, /secret-\d/);
        return true;
      });
    }
    assert.equal(server.calls.length, answers.length);
  });

  it('lets one caller give up without failing the others', async () => {
    server.reply = async (_seen, n) => {
      await sleep(100);
      return json(200, { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 3600 });
    };
    const impatient = tokens.token('ep_1', config, AbortSignal.timeout(20));
    const patient = tokens.token('ep_1', config, new AbortController().signal);
    const unbounded = tokens.token('ep_1', config);
    await assert.rejects(impatient, { name: 'TimeoutError' });
    assert.equal(await patient, 'token-1');
    assert.equal(await unbounded, 'token-1');
    assert.equal(server.calls.length, 1);
    assert.equal(server.calls[0]?.cancelled, false);
  });

  it('abandons the fetch when every caller has given up, and starts afresh for the next', async () => {
    server.reply = async (_seen, n) => {
      await sleep(n === 1 ? 300 : 0);
      return json(200, { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 3600 });
    };
    const a = new AbortController();
    const b = new AbortController();
    const first = tokens.token('ep_1', config, a.signal);
    const second = tokens.token('ep_1', config, b.signal);
    await sleep(50);
    a.abort(new Error('shutdown a'));
    b.abort(new Error('shutdown b'));
    await assert.rejects(first, /shutdown a/);
    await assert.rejects(second, /shutdown b/);
    await sleep(20);
    assert.equal(server.calls[0]?.cancelled, true);
    assert.equal(await tokens.token('ep_1', config), 'token-2');
    assert.equal(server.calls.length, 2);
    await assert.rejects(tokens.token('ep_1', config, AbortSignal.abort(new Error('already'))), /already/);
  });
});
