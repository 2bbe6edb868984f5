import assert from 'node:assert/strict';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parseDatabaseUrl } from '../src/store/db.ts';
import { testEngines } from './support/engines.ts';
import {
  createPartner,
  eventually,
  receiverPool,
  startTestArauto,
  type TestArauto,
} from './support/harness.ts';
import { type ReceivedRequest, verify } from './support/receiver.ts';
import { makeTestPki, type TestPki } from './support/tls.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON from the API
type Json = any;

/**
 * Checks a Standard Webhooks v1a (ed25519) signature with node:crypto alone, the way a partner
 * without a Standard Webhooks library would: the signed content is `${id}.${timestamp}.${body}`.
 */
function verifyV1aWithNodeCrypto(
  publicKey: string,
  id: string,
  timestamp: string,
  body: string,
  header: string,
): boolean {
  const raw = Buffer.from(publicKey.replace(/^whpk_/, ''), 'base64');
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
  return header
    .split(' ')
    .filter((s) => s.startsWith('v1a,'))
    .some((s) =>
      cryptoVerify(null, Buffer.from(`${id}.${timestamp}.${body}`), key, Buffer.from(s.slice(4), 'base64')),
    );
}

/** A real OAuth 2.0 token server (client credentials) that counts what it hands out. */
async function startTokenServer() {
  const issued: string[] = [];
  const seen: Array<{ authorization: string | undefined; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, body });
      const ok =
        req.headers.authorization === `Basic ${Buffer.from('arauto-client:s3cr3t').toString('base64')}`;
      if (!ok) {
        res.statusCode = 401;
        res.end('{"error":"invalid_client"}');
        return;
      }
      const token = `tok-${issued.length + 1}`;
      issued.push(token);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`,
    issued,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('v1a verification helper', () => {
  it('accepts the published Standard Webhooks v1a test vector', () => {
    assert.equal(
      verifyV1aWithNodeCrypto(
        'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        '1614265330',
        '{"test": 2432232314}',
        'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==',
      ),
      true,
    );
    assert.equal(
      verifyV1aWithNodeCrypto(
        'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        '1614265330',
        '{"test": 2432232315}',
        'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==',
      ),
      false,
    );
  });
});

for (const engine of testEngines()) {
  describe(`platform contracts on ${engine.name}`, () => {
    let app: TestArauto;
    let pki: TestPki;
    let databaseUrl: string;
    const pool = receiverPool();
    const receiver = pool.start;
    before(async () => {
      pki = await makeTestPki();
      databaseUrl = await engine.freshDatabaseUrl();
      app = await startTestArauto(databaseUrl, { ARAUTO_TLS_CA_FILE: pki.caFile });
    });
    after(async () => {
      await app.close();
      await pool.closeAll();
      await engine.cleanup();
    });

    const post = (path: string, body: unknown, expected: number): Promise<Json> =>
      app.post(path, body, expected);
    const endpoint = (partnerId: string, body: Json, expected = 201) =>
      post(`/v1/partners/${partnerId}/endpoints`, { environment: 'sandbox', ...body }, expected);
    const json = (q: ReceivedRequest) => JSON.parse(q.body);

    /** Draft → in_analysis → approved → released → paid, with an operation code. */
    async function journey(partnerId: string, id: string): Promise<void> {
      await post(
        '/v1/proposals',
        { partner_id: partnerId, environment: 'sandbox', id, external_id: 'OP 7/8' },
        201,
      );
      for (const status of ['in_analysis', 'approved', 'released', 'paid']) {
        await post(`/v1/proposals/${id}/status`, { status, reason: `motivo ${status}` }, 200);
      }
    }

    it('speaks each platform format, every request still carrying a valid Standard Webhooks signature', async () => {
      const partnerId = await createPartner(app);
      const r = await receiver();
      const made: Record<string, Json> = {};
      for (const [name, body] of Object.entries({
        standard: { url: r.url('/standard') },
        thin: { url: r.url('/thin'), payload: 'thin' },
        cloudevents: {
          url: r.url('/ce'),
          format: 'cloudevents',
          format_options: { type_prefix: 'br.com.lender.' },
        },
        creditas: { url: r.url('/creditas'), format: 'creditas', event_types: ['proposal.status_changed'] },
        credere: { url: r.url('/credere'), format: 'credere' },
        bmpGet: { url: r.url('/bmp-get'), format: 'bmp', method: 'GET' },
        bmpPost: {
          url: r.url('/bmp/{PROPOSTA}/{SITUACAO}?op={IDENTIFICADOR}'),
          format: 'bmp',
          method: 'POST',
        },
      })) {
        made[name] = await endpoint(partnerId, body);
      }
      await journey(partnerId, 'P-FMT');
      // Five events each, but Creditas subscribed to the four status changes only.
      await r.waitForCount(6 * 5 + 4, 15_000);
      const at = (prefix: string) => r.requests.filter((q) => q.path.startsWith(prefix));
      for (const q of r.requests) {
        const owner = Object.values(made).find((e) =>
          q.path.startsWith(
            new URL(e.url.replace(/\{[A-Z]+\}/g, 'x')).pathname.split('/').slice(0, 2).join('/'),
          ),
        );
        assert.ok(owner, q.path);
        verify(owner.secret, q); // throws on a bad signature
      }

      const standard = at('/standard').map(json);
      assert.deepEqual(
        standard.map((b: Json) => [b.type, b.data.status]),
        [
          ['proposal.created', 'draft'],
          ['proposal.status_changed', 'in_analysis'],
          ['proposal.status_changed', 'approved'],
          ['proposal.status_changed', 'released'],
          ['proposal.status_changed', 'paid'],
        ],
      );
      const thin = at('/thin').map(json);
      assert.deepEqual(Object.keys(thin[2].data).sort(), [
        'changed_at',
        'external_id',
        'previous_status',
        'proposal_id',
        'status',
        'store_id',
      ]);

      const ce = at('/ce');
      assert.equal(ce[0]?.headers['content-type'], 'application/cloudevents+json');
      const ceBody = json(ce[1] as ReceivedRequest);
      assert.equal(ceBody.specversion, '1.0');
      assert.equal(ceBody.type, 'br.com.lender.proposal.status_changed');
      assert.equal(ceBody.subject, 'proposal/P-FMT');
      assert.equal(ceBody.id, ce[1]?.headers['webhook-id']);
      assert.equal(ceBody.data.status, 'in_analysis');

      assert.deepEqual(
        at('/creditas').map(json),
        ['PROCESSED', 'CREDIT_ANALYSED', 'RELEASED', 'PAID'].map((name) => ({ id: 'P-FMT', name })),
      );

      const credere = at('/credere').map(json);
      assert.deepEqual(credere[0], { event: 'proposal_created', proposal: { id: 'P-FMT' } });
      assert.deepEqual(credere[1], {
        event: 'proposal_status_updated',
        proposal: { id: 'P-FMT', state: 'análise' },
      });
      assert.deepEqual(credere[2], {
        event: 'proposal_status_updated',
        proposal: { id: 'P-FMT', state: 'aprovada' },
      });

      const bmpGet = at('/bmp-get');
      assert.deepEqual(
        bmpGet.map((q) => [q.method, q.path, q.body]),
        [0, 1, 2, 8, 9].map((code) => [
          'GET',
          `/bmp-get?proposta=P-FMT&situacao=${code}&identificador=OP%207%2F8`,
          '',
        ]),
      );
      const bmpPost = at('/bmp/');
      assert.deepEqual(
        bmpPost.map((q) => [q.method, q.path]),
        [0, 1, 2, 8, 9].map((code) => ['POST', `/bmp/P-FMT/${code}?op=OP%207%2F8`]),
      );
      assert.deepEqual(
        bmpPost.map((q) => q.body),
        ['', '', '', '', '{"descricaoOcorrencia":"Crédito ou débito efetivado"}'],
      );
    });

    it('presents each kind of credential, and signs with ed25519 when asked', async () => {
      const partnerId = await createPartner(app);
      const plain = await receiver();
      const tokens = await startTokenServer();
      const mutual = await receiver({ ...pki.server, ca: pki.caCert, requestCert: true });
      let rejectedOnce = false;
      plain.respond((req, res) => {
        // The OAuth endpoint's partner revokes the first token early: Arauto must fetch another.
        if (req.path === '/oauth' && req.headers.authorization === 'Bearer tok-1' && !rejectedOnce) {
          rejectedOnce = true;
          res.statusCode = 401;
        }
        res.end();
      });
      try {
        const made = {
          header: await endpoint(partnerId, {
            url: plain.url('/header'),
            auth: { type: 'header', name: 'X-Api-Key', value: 'k-123' },
          }),
          basic: await endpoint(partnerId, {
            url: plain.url('/basic'),
            auth: { type: 'basic', username: 'dealer', password: 'p@ss:w' },
          }),
          bearer: await endpoint(partnerId, {
            url: plain.url('/bearer'),
            auth: { type: 'bearer', token: 'static-token' },
          }),
          oauth: await endpoint(partnerId, {
            url: plain.url('/oauth'),
            auth: {
              type: 'oauth2',
              token_url: tokens.url,
              client_id: 'arauto-client',
              client_secret: 's3cr3t',
              scope: 'webhooks',
            },
          }),
          mtls: await endpoint(partnerId, {
            url: mutual.url('/mtls', 'localhost'),
            auth: { type: 'mtls', cert: pki.client.cert, key: pki.client.key },
          }),
          noCert: await endpoint(partnerId, { url: mutual.url('/no-cert', 'localhost') }),
          v1a: await endpoint(partnerId, { url: plain.url('/v1a'), signature: 'v1a' }),
        };
        // One event at a time, so the token refresh is seen in order.
        for (const n of [1, 2]) {
          await post(
            '/v1/events',
            {
              partner_id: partnerId,
              environment: 'sandbox',
              type: 'customer.updated',
              data: { customer_id: `c-${n}` },
            },
            202,
          );
          await plain.waitFor((rs) => rs.filter((q) => q.path === '/oauth').length >= n + 1);
        }
        await plain.waitFor(
          (rs) =>
            rs.filter((q) => q.path !== '/oauth').length >= 8 &&
            rs.filter((q) => q.path === '/oauth').length >= 3,
        );
        await mutual.waitForCount(2);
        const by = (path: string) => plain.requests.filter((q) => q.path === path);
        assert.ok(by('/header').every((q) => q.headers['x-api-key'] === 'k-123'));
        assert.ok(
          by('/basic').every(
            (q) => q.headers.authorization === `Basic ${Buffer.from('dealer:p@ss:w').toString('base64')}`,
          ),
        );
        assert.ok(by('/bearer').every((q) => q.headers.authorization === 'Bearer static-token'));
        assert.deepEqual(
          by('/oauth').map((q) => q.headers.authorization),
          ['Bearer tok-1', 'Bearer tok-2', 'Bearer tok-2'],
          'the 401 made Arauto fetch a new token once; the second event reused it',
        );
        assert.equal(tokens.issued.length, 2);
        assert.equal(new URLSearchParams(tokens.seen[0]?.body).get('grant_type'), 'client_credentials');
        assert.equal(new URLSearchParams(tokens.seen[0]?.body).get('scope'), 'webhooks');
        assert.deepEqual(
          mutual.requests.map((q) => q.path),
          ['/mtls', '/mtls'],
        );
        const noCert = await eventually(async () => {
          const list: Json[] = (
            await app.call('GET', `/v1/events/${mutual.requests[0]?.headers['webhook-id']}/deliveries`)
          ).body;
          const d = list.find((x) => x.endpoint_id === made.noCert.id);
          return d && d.attempts.length > 0 ? d : undefined;
        });
        assert.ok(
          ['tls_error', 'connection_reset', 'network_error'].includes(noCert.attempts[0].error),
          noCert.attempts[0].error,
        );

        const { public_key } = (await app.call('GET', `/v1/endpoints/${made.v1a.id}/public-key`)).body;
        assert.match(public_key, /^whpk_/);
        for (const q of by('/v1a')) {
          assert.match(q.headers['webhook-signature'] ?? '', /^v1a,/);
          assert.ok(
            verifyV1aWithNodeCrypto(
              public_key,
              q.headers['webhook-id'] ?? '',
              q.headers['webhook-timestamp'] ?? '',
              q.body,
              q.headers['webhook-signature'] ?? '',
            ),
          );
          assert.throws(() => verify(made.v1a.secret, q), 'a v1 verifier must not accept it');
        }
        for (const path of ['/header', '/basic', '/bearer', '/oauth']) {
          const owner = Object.values(made).find((e: Json) => e.url.endsWith(path));
          for (const q of by(path)) verify(owner.secret, q);
        }

        // Write-only: the API shows what identifies a credential, never what proves it.
        const shown = JSON.stringify((await app.call('GET', `/v1/partners/${partnerId}/endpoints`)).body);
        for (const secret of ['k-123', 'p@ss:w', 'static-token', 's3cr3t', 'PRIVATE KEY']) {
          assert.ok(!shown.includes(secret), `the API leaked ${secret}`);
        }
        const oauth = (await app.call('GET', `/v1/endpoints/${made.oauth.id}`)).body.auth;
        assert.deepEqual(oauth, {
          type: 'oauth2',
          token_url: tokens.url,
          client_id: 'arauto-client',
          scope: 'webhooks',
          audience: null,
        });
        const mtls = (await app.call('GET', `/v1/endpoints/${made.mtls.id}`)).body.auth;
        assert.equal(mtls.type, 'mtls');
        assert.match(mtls.certificate.subject, /arauto-client/);

        // Encrypted at rest: the database holds none of it in clear.
        const rows = await rawEndpointRows(databaseUrl);
        const dump = JSON.stringify(rows);
        for (const secret of [
          'k-123',
          'p@ss:w',
          'static-token',
          's3cr3t',
          'PRIVATE KEY',
          made.header.secret,
          'whsk_',
        ]) {
          assert.ok(!dump.includes(secret), `the database holds ${secret.slice(0, 12)}… in clear`);
        }
        assert.ok(rows.every((row) => /^v1\./.test(String(row.secret))));
      } finally {
        await tokens.close();
      }
    });

    it('test-sends a catalog example through the endpoint’s format and credentials', async () => {
      const partnerId = await createPartner(app);
      const r = await receiver();
      r.respond((_req, res) => {
        res.statusCode = 202;
        res.end('recebido');
      });
      const bmp = await endpoint(partnerId, {
        url: r.url('/cb'),
        format: 'bmp',
        method: 'GET',
        auth: { type: 'bearer', token: 't' },
      });
      const result = await post(`/v1/endpoints/${bmp.id}/test`, {}, 200);
      assert.equal(result.type, 'proposal.status_changed');
      assert.equal(result.succeeded, true);
      assert.equal(result.status_code, 202);
      assert.equal(result.response_body, 'recebido');
      assert.equal(result.request.method, 'GET');
      assert.match(result.request.url, /proposta=B2B-36C2FCBF-8422-46D5-B94F-F1A2EB756D53&situacao=3$/);
      assert.equal(r.requests[0]?.headers.authorization, 'Bearer t');
      verify(bmp.secret, r.requests[0] as ReceivedRequest);

      const standard = await endpoint(partnerId, { url: r.url('/std') });
      const customer = await post(`/v1/endpoints/${standard.id}/test`, { type: 'customer.created' }, 200);
      assert.equal(customer.succeeded, true);
      assert.equal(json(r.requests[1] as ReceivedRequest).type, 'customer.created');
      assert.equal(
        (await post(`/v1/endpoints/${bmp.id}/test`, { type: 'customer.created' }, 422)).error.code,
        'unrenderable',
      );
      assert.equal(
        (await post(`/v1/endpoints/${standard.id}/test`, { type: 'loan.exploded' }, 422)).error.code,
        'unknown_event_type',
      );
      const down = await endpoint(partnerId, { url: 'http://127.0.0.1:9/closed' });
      const failed = await post(`/v1/endpoints/${down.id}/test`, null, 200);
      assert.equal(failed.succeeded, false);
      assert.equal(failed.error, 'connection_refused');
      // Nothing was stored: a test send is not an event.
      const feed = (await app.call('GET', `/v1/events?partner_id=${partnerId}&environment=sandbox`)).body;
      assert.deepEqual(feed.data, []);
    });

    it('refuses invalid combinations with 422 and a clear code', async () => {
      const partnerId = await createPartner(app);
      const cases: Array<[Json, string]> = [
        [{ url: 'https://x.example.com/cb/{FOO}', format: 'bmp' }, 'invalid_url_template'],
        [{ url: 'https://{PROPOSTA}.example.com/cb', format: 'bmp' }, 'invalid_url_template'],
        [{ url: 'https://x.example.com/', method: 'GET' }, 'invalid_method'],
        [{ url: 'https://x.example.com/', format: 'credere', method: 'GET' }, 'invalid_method'],
        [{ url: 'https://x.example.com/', format: 'bmp', event_types: ['customer.*'] }, 'format_event_types'],
        [
          { url: 'https://x.example.com/', format: 'creditas', format_options: { nomes: {} } },
          'invalid_format_options',
        ],
        [
          { url: 'https://x.example.com/', format: 'creditas', format_options: { names: { paid: 'pago' } } },
          'invalid_format_options',
        ],
        [{ url: 'https://x.example.com/', format_options: { anything: 1 } }, 'invalid_format_options'],
        [
          { url: 'https://x.example.com/', auth: { type: 'header', name: 'Content-Type', value: 'x' } },
          'invalid_auth',
        ],
        [
          { url: 'https://x.example.com/', auth: { type: 'header', name: 'webhook-signature', value: 'x' } },
          'invalid_auth',
        ],
        [{ url: 'https://x.example.com/', auth: { type: 'kerberos' } }, 'invalid_auth'],
        [
          { url: 'https://x.example.com/', auth: { type: 'basic', username: 'a:b', password: 'c' } },
          'invalid_auth',
        ],
        [{ url: 'https://x.example.com/', auth: { type: 'bearer' } }, 'invalid_auth'],
        [{ url: 'https://x.example.com/', auth: { type: 'bearer', token: 't', extra: 1 } }, 'invalid_auth'],
        [
          { url: 'https://x.example.com/', auth: { type: 'mtls', cert: 'not a cert', key: 'x' } },
          'invalid_auth',
        ],
        [
          {
            url: 'https://x.example.com/',
            auth: { type: 'mtls', cert: pki.client.cert, key: pki.server.key },
          },
          'invalid_auth',
        ],
        [
          {
            url: 'https://x.example.com/',
            environment: 'production',
            auth: {
              type: 'oauth2',
              token_url: 'http://auth.example.com/token',
              client_id: 'a',
              client_secret: 'b',
            },
          },
          'https_required',
        ],
        [{ url: 'https://x.example.com/', signature: 'v2' }, 'validation_failed'],
        [{ url: 'https://x.example.com/', payload: 'medium' }, 'validation_failed'],
        [{ url: 'https://x.example.com/', format: 'soap' }, 'validation_failed'],
      ];
      for (const [body, code] of cases) {
        const res = await endpoint(partnerId, body, 422);
        assert.equal(res.error.code, code, JSON.stringify(body));
      }
      assert.deepEqual((await app.call('GET', `/v1/partners/${partnerId}/endpoints`)).body, []);

      // PATCH checks the combination it produces, not just the fields it changes.
      const e = await endpoint(partnerId, { url: 'https://x.example.com/' });
      const toGet = await app.call('PATCH', `/v1/endpoints/${e.id}`, { method: 'GET' });
      assert.equal(toGet.body.error.code, 'invalid_method');
      const toBmp = await app.call('PATCH', `/v1/endpoints/${e.id}`, { format: 'bmp', method: 'PUT' });
      assert.equal(toBmp.status, 200);
      assert.equal(toBmp.body.method, 'PUT');
      const back = await app.call('PATCH', `/v1/endpoints/${e.id}`, { format: 'standard' });
      assert.equal(back.status, 200);
      assert.equal(back.body.method, 'POST', 'a new format brings its default method');
      const bmpGet = await app.call('PATCH', `/v1/endpoints/${e.id}`, { format: 'bmp', method: 'GET' });
      assert.equal(bmpGet.status, 200);
      const leaveBmp = await app.call('PATCH', `/v1/endpoints/${e.id}`, {
        format: 'creditas',
        method: 'GET',
      });
      assert.equal(leaveBmp.body.error.code, 'invalid_method');
      assert.equal((await app.call('GET', `/v1/endpoints/${e.id}`)).body.format, 'bmp', 'nothing changed');
    });
  });
}

/** The endpoints table as stored, read behind Arauto's back. */
async function rawEndpointRows(databaseUrl: string): Promise<Array<Record<string, unknown>>> {
  const location = parseDatabaseUrl(databaseUrl);
  if (location.engine === 'sqlite') {
    const db = new DatabaseSync(location.target, { readOnly: true });
    try {
      return db.prepare('SELECT secret, auth, signing_key FROM endpoints').all() as Array<
        Record<string, unknown>
      >;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: location.target });
  await client.connect();
  try {
    return (await client.query(`SELECT secret, auth, signing_key FROM ${location.schema}.endpoints`)).rows;
  } finally {
    await client.end();
  }
}
