import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from './support/engines.ts';
import {
  ADMIN_TOKEN,
  callApi,
  createEndpoint,
  createPartner,
  startTestArauto,
  type TestArauto,
  uniqueCnpj,
} from './support/harness.ts';

for (const engine of testEngines()) {
  describe(`API on ${engine.name}`, () => {
    let app: TestArauto;
    before(async () => {
      // Dispatcher off: these tests look at what the API writes, not at deliveries.
      app = await startTestArauto(
        await engine.freshDatabaseUrl(),
        { ARAUTO_MAX_BODY_BYTES: '4096' },
        { api: true, dispatcher: false },
      );
    });
    after(async () => {
      await app.close();
      await engine.cleanup();
    });

    /** Row counts that must not move when a request is refused. */
    async function counts() {
      const partners = await app.call('GET', '/v1/partners?limit=1000');
      return { partners: partners.body.length };
    }

    it('answers /health without a token', async () => {
      const res = await callApi(app.url ?? '', 'GET', '/health');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'ok' });
    });

    it('refuses a missing or wrong token with 401', async () => {
      const attempts: Record<string, string>[] = [
        {},
        { authorization: 'Bearer nope' },
        { authorization: ADMIN_TOKEN },
      ];
      for (const headers of attempts) {
        const res = await callApi(app.url ?? '', 'GET', '/v1/partners', undefined, headers);
        assert.equal(res.status, 401);
        assert.equal(res.body.error.code, 'unauthorized');
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      }
    });

    it('creates, reads and lists partners with a normalised CNPJ', async () => {
      const res = await app.call('POST', '/v1/partners', {
        name: 'Revenda Alfa',
        cnpj: '12.ABC.345/01DE-35',
        contact: { name: 'João Souza', email: 'joao@alfa.com.br' },
      });
      assert.equal(res.status, 201);
      assert.match(res.body.id, /^ptn_/);
      assert.equal(res.body.cnpj, '12ABC34501DE35');
      assert.deepEqual(res.body.contact, { name: 'João Souza', email: 'joao@alfa.com.br' });
      const got = await app.call('GET', `/v1/partners/${res.body.id}`);
      assert.deepEqual(got.body, res.body);
      const list = await app.call('GET', '/v1/partners');
      assert.ok(list.body.some((p: { id: string }) => p.id === res.body.id));

      const duplicate = await app.call('POST', '/v1/partners', {
        name: 'Outra',
        cnpj: '12ABC34501DE35',
        contact: { name: 'X', email: 'x@y.com' },
      });
      assert.equal(duplicate.status, 409);
      assert.equal(duplicate.body.error.code, 'partner_exists');
    });

    it('pages through partners with limit and after', async () => {
      for (let i = 0; i < 3; i++) await createPartner(app);
      const first = await app.call('GET', '/v1/partners?limit=2');
      assert.equal(first.body.length, 2);
      const next = await app.call('GET', `/v1/partners?limit=2&after=${first.body[1].id}`);
      assert.ok(next.body.length >= 1);
      assert.ok(next.body.every((p: { id: string }) => p.id > first.body[1].id));
      const bad = await app.call('GET', '/v1/partners?limit=0');
      assert.equal(bad.status, 422);
    });

    it('manages endpoints: create with a secret, read without, patch, delete', async () => {
      const partnerId = await createPartner(app);
      const created = await app.call('POST', `/v1/partners/${partnerId}/endpoints`, {
        url: 'https://parceiro.example.com/webhooks',
        environment: 'production',
        event_types: ['proposal.status_changed', 'simulation.*'],
        description: 'Esteira',
      });
      assert.equal(created.status, 201);
      assert.match(created.body.id, /^ep_/);
      assert.match(created.body.secret, /^whsec_/);
      assert.equal(created.body.enabled, true);
      assert.deepEqual(created.body.event_types, ['proposal.status_changed', 'simulation.*']);

      const got = await app.call('GET', `/v1/endpoints/${created.body.id}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.secret, undefined);
      assert.equal(
        (await app.call('GET', `/v1/endpoints/${created.body.id}/secret`)).body.secret,
        created.body.secret,
      );

      const all = await app.call('POST', `/v1/partners/${partnerId}/endpoints`, {
        url: 'http://p.example.com/all',
        environment: 'sandbox',
      });
      assert.equal(all.body.event_types, null);

      const patched = await app.call('PATCH', `/v1/endpoints/${created.body.id}`, {
        enabled: false,
        event_types: null,
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.enabled, false);
      assert.equal(patched.body.disabled_reason, 'manual');
      assert.equal(patched.body.event_types, null);

      const toHttp = await app.call('PATCH', `/v1/endpoints/${created.body.id}`, {
        url: 'http://parceiro.example.com/x',
      });
      assert.equal(toHttp.status, 422);
      assert.equal(toHttp.body.error.code, 'https_required');
      const promote = await app.call('PATCH', `/v1/endpoints/${all.body.id}`, { environment: 'production' });
      assert.equal(promote.status, 422);
      assert.equal(promote.body.error.code, 'https_required');
      assert.equal((await app.call('GET', `/v1/endpoints/${all.body.id}`)).body.environment, 'sandbox');

      const listed = await app.call('GET', `/v1/partners/${partnerId}/endpoints`);
      assert.deepEqual(
        listed.body.map((e: { id: string }) => e.id).sort(),
        [created.body.id, all.body.id].sort(),
      );

      assert.equal((await app.call('DELETE', `/v1/endpoints/${created.body.id}`)).status, 204);
      assert.equal((await app.call('GET', `/v1/endpoints/${created.body.id}`)).status, 404);
      assert.equal((await app.call('DELETE', `/v1/endpoints/${created.body.id}`)).status, 404);
    });

    it('publishes events with 202 and returns them', async () => {
      const partnerId = await createPartner(app);
      const res = await app.call('POST', '/v1/events', {
        partner_id: partnerId,
        environment: 'sandbox',
        type: 'proposal.status_changed',
        subject: 'proposal/123',
        data: { proposal_id: '123', status: 'approved', valor: 1500.5 },
      });
      assert.equal(res.status, 202);
      assert.match(res.body.id, /^evt_/);
      assert.deepEqual(res.body.data, { proposal_id: '123', status: 'approved', valor: 1500.5 });
      assert.equal(res.body.subject, 'proposal/123');
      const got = await app.call('GET', `/v1/events/${res.body.id}`);
      assert.deepEqual(got.body, res.body);
      assert.deepEqual((await app.call('GET', `/v1/events/${res.body.id}/deliveries`)).body, []);
    });

    it('honours idempotency keys in the body or the Idempotency-Key header', async () => {
      const partnerId = await createPartner(app);
      const body = {
        partner_id: partnerId,
        environment: 'sandbox',
        type: 'customer.created',
        data: { customer_id: '1' },
      };
      const first = await app.call('POST', '/v1/events', { ...body, idempotency_key: 'abc' });
      const second = await app.call('POST', '/v1/events', {
        ...body,
        idempotency_key: 'abc',
        data: { customer_id: '2' },
      });
      assert.equal(second.status, 202);
      assert.equal(second.body.id, first.body.id);
      assert.deepEqual(second.body.data, { customer_id: '1' });
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      const viaHeader = await app.call('POST', '/v1/events', body, { 'idempotency-key': 'abc' });
      assert.equal(viaHeader.body.id, first.body.id);
      const mismatch = await app.call(
        'POST',
        '/v1/events',
        { ...body, idempotency_key: 'abc' },
        { 'idempotency-key': 'xyz' },
      );
      assert.equal(mismatch.status, 422);
      assert.equal(mismatch.body.error.code, 'idempotency_key_mismatch');
    });

    describe('bad input: a clear 4xx, a stable code, nothing written', () => {
      const cases: Array<{
        name: string;
        status: number;
        code: string;
        method?: string;
        path?: string;
        body: unknown;
        headers?: Record<string, string>;
      }> = [
        { name: 'malformed JSON', status: 400, code: 'malformed_json', body: '{"name": "x",' },
        {
          name: 'an empty JSON body',
          status: 400,
          code: 'malformed_json',
          body: '',
          headers: { 'content-type': 'application/json' },
        },
        {
          name: 'a non-JSON content type',
          status: 415,
          code: 'unsupported_media_type',
          body: 'name=x',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
        {
          name: 'a wrong type',
          status: 422,
          code: 'validation_failed',
          body: { name: 42, cnpj: '11444777000161', contact: { name: 'a', email: 'a@b.co' } },
        },
        {
          name: 'a missing field',
          status: 422,
          code: 'validation_failed',
          body: { name: 'x', cnpj: '11444777000161' },
        },
        {
          name: 'an unknown field',
          status: 422,
          code: 'validation_failed',
          body: { name: 'x', cnpj: '11444777000161', contact: { name: 'a', email: 'a@b.co' }, extra: 1 },
        },
        {
          name: 'an invalid e-mail',
          status: 422,
          code: 'validation_failed',
          body: { name: 'x', cnpj: '11444777000161', contact: { name: 'a', email: 'not-an-email' } },
        },
        {
          name: 'an invalid CNPJ',
          status: 422,
          code: 'invalid_cnpj',
          body: { name: 'x', cnpj: '11.444.777/0001-62', contact: { name: 'a', email: 'a@b.co' } },
        },
        {
          name: 'an oversize body',
          status: 413,
          code: 'payload_too_large',
          body: { name: 'x'.repeat(5000), cnpj: '1', contact: { name: 'a', email: 'a@b.co' } },
        },
      ];
      for (const c of cases) {
        it(`${c.name} → ${c.status} ${c.code}`, async () => {
          const before = await counts();
          const res = await app.call(c.method ?? 'POST', c.path ?? '/v1/partners', c.body, c.headers);
          assert.equal(res.status, c.status, JSON.stringify(res.body));
          assert.equal(res.body.error.code, c.code);
          assert.equal(typeof res.body.error.message, 'string');
          assert.deepEqual(await counts(), before);
        });
      }

      it('points at the offending fields with JSON pointers', async () => {
        const res = await app.call('POST', '/v1/partners', { name: 1, contact: { email: 'x' } });
        assert.equal(res.status, 422);
        const paths = res.body.error.details.map((d: { path: string }) => d.path);
        assert.ok(paths.includes('/name'), paths.join());
        assert.ok(paths.includes('/cnpj'), paths.join());
        assert.ok(paths.includes('/contact/name'), paths.join());
      });

      it('refuses invalid endpoint URLs with 422 and writes no endpoint', async () => {
        const partnerId = await createPartner(app);
        const refused: Array<[unknown, string]> = [
          [{ url: 'not a url', environment: 'sandbox' }, 'invalid_url'],
          [{ url: 'ftp://x.com/', environment: 'sandbox' }, 'invalid_url'],
          [{ url: 'http://x.com/', environment: 'production' }, 'https_required'],
          [{ url: 'https://x.com/', environment: 'staging' }, 'validation_failed'],
          [{ url: 'https://x.com/', environment: 'sandbox', event_types: [] }, 'validation_failed'],
          [
            { url: 'https://x.com/', environment: 'sandbox', event_types: ['Proposal Created'] },
            'validation_failed',
          ],
        ];
        for (const [body, code] of refused) {
          const res = await app.call('POST', `/v1/partners/${partnerId}/endpoints`, body);
          assert.equal(res.status, 422, JSON.stringify(body));
          assert.equal(res.body.error.code, code, JSON.stringify(body));
        }
        assert.deepEqual((await app.call('GET', `/v1/partners/${partnerId}/endpoints`)).body, []);
      });

      it('answers 404 for unknown partners, endpoints, events and deliveries', async () => {
        const checks: Array<[string, string, unknown, string]> = [
          ['GET', '/v1/partners/ptn_nope', undefined, 'partner_not_found'],
          [
            'POST',
            '/v1/partners/ptn_nope/endpoints',
            { url: 'https://x.com/', environment: 'sandbox' },
            'partner_not_found',
          ],
          ['GET', '/v1/partners/ptn_nope/endpoints', undefined, 'partner_not_found'],
          [
            'POST',
            '/v1/events',
            {
              partner_id: 'ptn_nope',
              environment: 'sandbox',
              type: 'customer.created',
              data: { customer_id: '1' },
            },
            'partner_not_found',
          ],
          ['GET', '/v1/endpoints/ep_nope', undefined, 'endpoint_not_found'],
          ['PATCH', '/v1/endpoints/ep_nope', { enabled: true }, 'endpoint_not_found'],
          ['GET', '/v1/events/evt_nope', undefined, 'event_not_found'],
          ['GET', '/v1/events/evt_nope/deliveries', undefined, 'event_not_found'],
          ['GET', '/v1/deliveries/dlv_nope', undefined, 'delivery_not_found'],
          ['POST', '/v1/deliveries/dlv_nope/retry', undefined, 'delivery_not_found'],
          ['GET', '/v1/nothing-here', undefined, 'route_not_found'],
        ];
        for (const [method, path, body, code] of checks) {
          const res = await app.call(method, path, body);
          assert.equal(res.status, 404, `${method} ${path}`);
          assert.equal(res.body.error.code, code, `${method} ${path}`);
        }
      });

      it('refuses event payloads of the wrong shape', async () => {
        const partnerId = await createPartner(app);
        const base = {
          partner_id: partnerId,
          environment: 'sandbox',
          type: 'proposal.created',
          data: { proposal_id: 'x' },
        };
        for (const body of [
          { ...base, data: 'text' },
          { ...base, data: [1, 2] },
          { ...base, type: 'Proposal Created' },
          { ...base, environment: 'prod' },
          { ...base, subject: '' },
          { partner_id: partnerId, environment: 'sandbox', type: 'proposal.created' },
        ]) {
          const res = await app.call('POST', '/v1/events', body);
          assert.equal(res.status, 422, JSON.stringify(body));
          assert.equal(res.body.error.code, 'validation_failed');
        }
        const tooBig = await app.call('POST', '/v1/events', { ...base, data: { blob: 'x'.repeat(5000) } });
        assert.equal(tooBig.status, 413);
      });

      it('refuses an empty PATCH', async () => {
        const partnerId = await createPartner(app);
        const { id } = await createEndpoint(app, partnerId, 'https://x.example.com/');
        const res = await app.call('PATCH', `/v1/endpoints/${id}`, {});
        assert.equal(res.status, 422);
      });
    });

    it('keeps CNPJ unique across formats', async () => {
      const cnpj = uniqueCnpj();
      const formatted = `${cnpj.slice(0, 2)}.${cnpj.slice(2, 5)}.${cnpj.slice(5, 8)}/${cnpj.slice(8, 12)}-${cnpj.slice(12)}`;
      const contact = { name: 'a', email: 'a@b.co' };
      assert.equal((await app.call('POST', '/v1/partners', { name: 'a', cnpj, contact })).status, 201);
      assert.equal(
        (await app.call('POST', '/v1/partners', { name: 'b', cnpj: formatted, contact })).status,
        409,
      );
    });
  });
}
