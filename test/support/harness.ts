import assert from 'node:assert/strict';
import pino from 'pino';
import { type Config, loadConfig } from '../../src/config.ts';
import { type Arauto, type Roles, startArauto } from '../../src/main.ts';
import { TestReceiver } from './receiver.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** 32 bytes, base64: PostgreSQL deployments must be given one. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/** A config for tests: ephemeral port, a fast retry schedule, loopback receivers allowed. */
export function testConfig(databaseUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ARAUTO_DATABASE_URL: databaseUrl,
    ARAUTO_ADMIN_TOKEN: ADMIN_TOKEN,
    ARAUTO_ALLOW_PRIVATE_NETWORKS: 'true',
    ARAUTO_RETRY_SCHEDULE: '0,200ms,200ms',
    ARAUTO_DELIVERY_TIMEOUT: '2s',
    ARAUTO_POLL_INTERVAL: '50ms',
    ARAUTO_SHUTDOWN_GRACE: '1s',
    ARAUTO_LOG_LEVEL: 'silent',
    ARAUTO_MASTER_KEY: TEST_MASTER_KEY,
    ...env,
  });
}

export interface TestArauto extends Arauto {
  /** Calls the API with the operator token; JSON in, JSON (or null) out. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** POSTs and asserts the status; returns the body. */
  post(path: string, body: unknown, expected: number): Promise<ApiResponse['body']>;
  /** GETs and returns the body. */
  get(path: string): Promise<ApiResponse['body']>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  body: any;
}

export async function startTestArauto(
  databaseUrl: string,
  env: Record<string, string> = {},
  roles: Roles = { api: true, dispatcher: true },
): Promise<TestArauto> {
  const config = testConfig(databaseUrl, env);
  const arauto = await startArauto(config, roles, pino({ level: config.logLevel }));
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    callApi(arauto.url ?? '', method, path, body, { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers });
  return Object.assign(arauto, {
    call,
    post: async (path: string, body: unknown, expected: number) => {
      const res = await call('POST', path, body);
      assert.equal(res.status, expected, `POST ${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    get: async (path: string) => (await call('GET', path)).body,
  });
}

export async function callApi(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(base + path, init);
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Valid CNPJs for fixtures (check digits computed as the Receita Federal does). */
export const CNPJS = ['11444777000161', '12ABC34501DE35'];

let cnpjCounter = 0;

/** A valid numeric CNPJ not used before in this process (partners' CNPJs are unique). */
export function uniqueCnpj(): string {
  cnpjCounter++;
  const base = `${String(Date.now() % 1e6).padStart(6, '0')}${String(cnpjCounter).padStart(4, '0')}01`.slice(
    -12,
  );
  const digits = [...base].map(Number);
  const dv = (weights: number[]) => {
    const sum = weights.reduce((acc, w, i) => acc + w * (digits[i] ?? 0), 0);
    const r = sum % 11;
    return r < 2 ? 0 : 11 - r;
  };
  digits.push(dv([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]));
  digits.push(dv([6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]));
  return digits.join('');
}

export async function createPartner(app: TestArauto): Promise<string> {
  const res = await app.call('POST', '/v1/partners', {
    name: 'Concessionária Teste',
    cnpj: uniqueCnpj(),
    contact: { name: 'Maria Silva', email: 'maria@example.com' },
  });
  if (res.status !== 201)
    throw new Error(`creating a partner failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

export async function createEndpoint(
  app: TestArauto,
  partnerId: string,
  url: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; secret: string }> {
  const res = await app.call('POST', `/v1/partners/${partnerId}/endpoints`, {
    url,
    environment: 'sandbox',
    ...extra,
  });
  if (res.status !== 201)
    throw new Error(`creating an endpoint failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, secret: res.body.secret };
}

let published = 0;

/** Publishes an event about a new proposal (unless `extra` says otherwise); returns its id. */
export async function publish(
  app: TestArauto,
  partnerId: string,
  type = 'proposal.created',
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await app.call('POST', '/v1/events', {
    partner_id: partnerId,
    environment: 'sandbox',
    type,
    data: { proposal_id: `p-${process.pid}-${++published}` },
    ...extra,
  });
  if (res.status !== 202) throw new Error(`publishing failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Real receivers started by a test file, all closed by closeAll() in its after(). */
export function receiverPool() {
  const started: TestReceiver[] = [];
  return {
    async start(tls?: Parameters<typeof TestReceiver.start>[0]): Promise<TestReceiver> {
      const receiver = await TestReceiver.start(tls);
      started.push(receiver);
      return receiver;
    },
    async closeAll(): Promise<void> {
      for (const receiver of started.splice(0)) await receiver.close();
    },
  };
}
