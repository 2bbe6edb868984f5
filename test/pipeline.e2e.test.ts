import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVENT_CATALOG } from '../src/domain/catalog.ts';
import { testEngines } from './support/engines.ts';
import {
  callApi,
  createEndpoint,
  createPartner,
  eventually,
  receiverPool,
  startTestArauto,
  type TestArauto,
  uniqueCnpj,
} from './support/harness.ts';
import { type ReceivedRequest, type TestReceiver, verify } from './support/receiver.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON from the API
type Json = any;

for (const engine of testEngines()) {
  describe(`credit pipeline on ${engine.name}`, () => {
    let app: TestArauto;
    const pool = receiverPool();
    const receiver = pool.start;
    before(async () => {
      app = await startTestArauto(await engine.freshDatabaseUrl(), {
        ARAUTO_RETRY_SCHEDULE: '0,300ms,300ms',
      });
    });
    after(async () => {
      await app.close();
      await pool.closeAll();
      await engine.cleanup();
    });

    const post = (path: string, body: unknown, expected: number): Promise<Json> =>
      app.post(path, body, expected);
    const get = (path: string): Promise<Json> => app.get(path);
    const bodies = (r: TestReceiver) => r.requests.map((q) => JSON.parse(q.body));

    describe('event catalog', () => {
      it('lists the ten canonical types with a schema and an example each', async () => {
        const types: Json[] = await get('/v1/event-types');
        assert.deepEqual(
          types.map((t) => t.type),
          [
            'simulation.processed',
            'proposal.created',
            'proposal.updated',
            'proposal.status_changed',
            'proposal_attempt.created',
            'proposal_attempt.updated',
            'proposal_attempt.status_changed',
            'proposal_attempt.synced_from_bank',
            'customer.created',
            'customer.updated',
          ],
        );
        for (const t of types) {
          assert.equal(typeof t.description, 'string');
          assert.equal(t.schema.type, 'object');
          assert.equal(typeof t.example, 'object');
        }
      });

      it('accepts every catalog example and derives its subject', async () => {
        const partnerId = await createPartner(app);
        for (const spec of EVENT_CATALOG) {
          const event = await post(
            '/v1/events',
            { partner_id: partnerId, environment: 'sandbox', type: spec.type, data: spec.example },
            202,
          );
          const id = spec.example[spec.subject.idField];
          assert.equal(event.subject, `${spec.subject.kind}/${id}`, spec.type);
          assert.deepEqual(event.data, spec.example);
        }
      });

      it('refuses unknown types, names the JSON pointer of a schema violation, accepts extra fields', async () => {
        const partnerId = await createPartner(app);
        const base = { partner_id: partnerId, environment: 'sandbox' };
        const unknown = await post('/v1/events', { ...base, type: 'proposal.exploded', data: {} }, 422);
        assert.equal(unknown.error.code, 'unknown_event_type');

        const missing = await post(
          '/v1/events',
          { ...base, type: 'proposal.status_changed', data: { proposal_id: '1' } },
          422,
        );
        assert.equal(missing.error.code, 'invalid_event_data');
        assert.ok(
          missing.error.details.some((d: Json) => d.path === '/data/status'),
          JSON.stringify(missing.error),
        );

        const wrongType = await post(
          '/v1/events',
          { ...base, type: 'proposal.created', data: { proposal_id: 7 } },
          422,
        );
        assert.deepEqual(
          wrongType.error.details.map((d: Json) => d.path),
          ['/data/proposal_id'],
        );
        const badStatus = await post(
          '/v1/events',
          { ...base, type: 'proposal.status_changed', data: { proposal_id: '1', status: 'aprovada' } },
          422,
        );
        assert.match(badStatus.error.message, /\/data\/status/);

        const extra = await post(
          '/v1/events',
          { ...base, type: 'customer.updated', data: { customer_id: '9', campo_novo: { qualquer: [1, 2] } } },
          202,
        );
        assert.deepEqual(extra.data.campo_novo, { qualquer: [1, 2] });

        const mismatch = await post(
          '/v1/events',
          { ...base, type: 'customer.updated', subject: 'customer/1', data: { customer_id: '2' } },
          422,
        );
        assert.equal(mismatch.error.code, 'subject_mismatch');
        // On PostgreSQL the feed shows an event once older transactions have ended: wait for it.
        const written = await eventually(async () => {
          const page = await get(`/v1/events?partner_id=${partnerId}&environment=sandbox`);
          return page.data.length > 0 ? page.data : undefined;
        });
        assert.equal(written.length, 1, 'only the valid event was written');
      });

      it('refuses endpoint subscriptions to types that do not exist', async () => {
        const partnerId = await createPartner(app);
        for (const event_types of [['proposal.exploded'], ['loan.*']]) {
          const res = await post(
            `/v1/partners/${partnerId}/endpoints`,
            { url: 'https://x.example.com/', environment: 'sandbox', event_types },
            422,
          );
          assert.equal(res.error.code, 'unknown_event_type');
        }
        await post(
          `/v1/partners/${partnerId}/endpoints`,
          {
            url: 'https://x.example.com/',
            environment: 'sandbox',
            event_types: ['proposal_attempt.*', 'customer.updated'],
          },
          201,
        );
      });
    });

    describe('proposals and the polling fallback', () => {
      it('drives a proposal from draft to paid, one signed status_changed per step, polling answers from the same data', async () => {
        const partnerId = await createPartner(app);
        const r = await receiver();
        const { secret } = await createEndpoint(app, partnerId, r.url());
        const created = await post(
          '/v1/proposals',
          {
            partner_id: partnerId,
            environment: 'sandbox',
            id: 'PROP-1',
            external_id: 'OP-1',
            data: { valor: 100 },
          },
          201,
        );
        assert.equal(created.status, 'draft');
        assert.equal(created.bmp_situacao, 0);
        assert.match(created.event_id, /^evt_/);

        const notYet = await app.call('GET', '/v1/proposals/PROP-1/conditions/credit-approved');
        assert.equal(notYet.status, 404);
        assert.equal(notYet.body.error.code, 'not_reached');

        const steps: Array<[string | number, string]> = [
          ['in_analysis', 'in_analysis'],
          ['aprovada', 'approved'], // a Credere state
          [8, 'released'], // a BMP code
          ['paid', 'paid'],
        ];
        let previous = 'draft';
        for (const [input, expected] of steps) {
          const body: Json = { status: input, reason: `to ${expected}` };
          if (expected === 'approved') body.data = { valor_liberado: 2500000, parcelas: 48 };
          if (expected === 'released') body.data = { banco: '341', agencia: '0001' };
          const changed = await post('/v1/proposals/PROP-1/status', body, 200);
          assert.equal(changed.status, expected);
          assert.equal(changed.previous_status, previous);
          const status = await get('/v1/proposals/PROP-1/status');
          assert.equal(status.status, expected);
          previous = expected;
        }

        await r.waitForCount(5);
        const received = bodies(r);
        assert.deepEqual(
          received.map((b: Json) => [b.type, b.data.status]),
          [
            ['proposal.created', 'draft'],
            ['proposal.status_changed', 'in_analysis'],
            ['proposal.status_changed', 'approved'],
            ['proposal.status_changed', 'released'],
            ['proposal.status_changed', 'paid'],
          ],
          'in publish order',
        );
        for (const q of r.requests) verify(secret, q);
        const approved = received[2].data;
        assert.deepEqual(
          {
            proposal_id: approved.proposal_id,
            external_id: approved.external_id,
            status: approved.status,
            previous_status: approved.previous_status,
            reason: approved.reason,
            description: approved.description,
          },
          {
            proposal_id: 'PROP-1',
            external_id: 'OP-1',
            status: 'approved',
            previous_status: 'in_analysis',
            reason: 'to approved',
            description: null,
          },
        );
        assert.ok(!Number.isNaN(Date.parse(approved.changed_at)));
        assert.equal(approved.valor_liberado, 2500000);

        const credit = await get('/v1/proposals/PROP-1/conditions/credit-approved');
        assert.deepEqual(credit.conditions, { valor_liberado: 2500000, parcelas: 48 });
        const payment = await get('/v1/proposals/PROP-1/conditions/payment-approved');
        assert.deepEqual(payment.payment, { banco: '341', agencia: '0001' });
        assert.equal(payment.status, 'paid');

        const history: Json[] = await get('/v1/proposals/PROP-1/events');
        assert.deepEqual(
          history.map((e) => e.data.status),
          ['draft', 'in_analysis', 'approved', 'released', 'paid'],
        );
        const proposal = await get('/v1/proposals/PROP-1');
        assert.deepEqual(
          [proposal.status, proposal.credere_state, proposal.bmp_situacao, proposal.creditas_name],
          ['paid', null, 9, 'PAID'],
        );
      });

      it('answers the same status again with 200 and no event, and refuses an invalid transition with 409', async () => {
        const partnerId = await createPartner(app);
        await post(
          '/v1/proposals',
          { partner_id: partnerId, environment: 'sandbox', id: 'PROP-2', status: 1 },
          201,
        );
        const again = await post('/v1/proposals/PROP-2/status', { status: 'in_analysis' }, 200);
        assert.equal(again.event_id, null);
        const invalid = await post('/v1/proposals/PROP-2/status', { status: 'paid' }, 409);
        assert.equal(invalid.error.code, 'invalid_transition');
        assert.deepEqual(invalid.error.details.from, 'in_analysis');
        assert.ok(invalid.error.details.allowed.includes('approved'));
        assert.ok(!invalid.error.details.allowed.includes('paid'));
        const unknown = await post('/v1/proposals/PROP-2/status', { status: 'quase_la' }, 422);
        assert.equal(unknown.error.code, 'unknown_status');
        const history: Json[] = await get('/v1/proposals/PROP-2/events');
        assert.equal(history.length, 1, 'only proposal.created');
        assert.equal((await get('/v1/proposals/PROP-2')).status, 'in_analysis');
      });

      it('counts a proposal created mid-way (already paid) as approved for credit and payment', async () => {
        const partnerId = await createPartner(app);
        await post(
          '/v1/proposals',
          { partner_id: partnerId, environment: 'sandbox', id: 'MID-1', status: 9, data: { valor: 5000 } },
          201,
        );
        assert.equal((await get('/v1/proposals/MID-1')).status, 'paid');
        assert.deepEqual((await get('/v1/proposals/MID-1/conditions/credit-approved')).conditions, {
          valor: 5000,
        });
        assert.deepEqual((await get('/v1/proposals/MID-1/conditions/payment-approved')).payment, {
          valor: 5000,
        });
        await post(
          '/v1/proposals',
          { partner_id: partnerId, environment: 'sandbox', id: 'MID-2', status: 'pré_aprovada' },
          201,
        );
        assert.equal((await app.call('GET', '/v1/proposals/MID-2/conditions/credit-approved')).status, 404);
      });

      it('refuses bad proposals and writes nothing', async () => {
        const partnerId = await createPartner(app);
        const base = { partner_id: partnerId, environment: 'sandbox' };
        await post('/v1/proposals', { ...base, id: 'DUP-1' }, 201);
        assert.equal(
          (await post('/v1/proposals', { ...base, id: 'DUP-1' }, 409)).error.code,
          'proposal_exists',
        );
        assert.equal(
          (await post('/v1/proposals', { ...base, partner_id: 'ptn_nope', id: 'X-1' }, 404)).error.code,
          'partner_not_found',
        );
        assert.equal(
          (await post('/v1/proposals', { ...base, id: 'X-2', store_id: 'nope' }, 422)).error.code,
          'unknown_store',
        );
        const badUrl = await post(
          '/v1/proposals',
          { ...base, id: 'X-3', webhook_url: 'ftp://x.example.com/' },
          422,
        );
        assert.equal(badUrl.error.code, 'invalid_url');
        assert.equal(badUrl.error.details[0].path, '/webhook_url');
        const http = await post(
          '/v1/proposals',
          { ...base, environment: 'production', id: 'X-4', webhook_url: 'http://x.example.com/' },
          422,
        );
        assert.equal(http.error.code, 'https_required');
        assert.equal(
          (await post('/v1/proposals', { ...base, id: 'X-5', status: 'whatever' }, 422)).error.code,
          'unknown_status',
        );
        for (const id of ['X-1', 'X-2', 'X-3', 'X-4', 'X-5']) {
          assert.equal((await app.call('GET', `/v1/proposals/${id}`)).status, 404, id);
        }
        assert.equal(
          (await post('/v1/proposals/NOPE/status', { status: 'approved' }, 404)).error.code,
          'proposal_not_found',
        );
      });

      it('refuses a private webhook_url when the guard is on', async () => {
        const guarded = await startTestArauto(await engine.freshDatabaseUrl(), {
          ARAUTO_ALLOW_PRIVATE_NETWORKS: 'false',
        });
        try {
          const partnerId = await createPartner(guarded);
          const res = await guarded.call('POST', '/v1/proposals', {
            partner_id: partnerId,
            environment: 'sandbox',
            webhook_url: 'http://169.254.169.254/latest/',
          });
          assert.equal(res.status, 422);
          assert.equal(res.body.error.code, 'url_not_allowed');
          assert.match(res.body.error.message, /link-local/);
          const sim = await guarded.call('POST', '/v1/simulations', {
            partner_id: partnerId,
            environment: 'sandbox',
            webhook_url: 'http://127.0.0.1:9/',
          });
          assert.equal(sim.status, 422);
        } finally {
          await guarded.close();
        }
      });
    });

    describe('stores, per-resource URLs and de-duplication', () => {
      it('scopes endpoints to stores', async () => {
        const partnerId = await createPartner(app);
        await post(
          `/v1/partners/${partnerId}/stores`,
          { id: 'loja-a', name: 'Loja A', cnpj: uniqueCnpj() },
          201,
        );
        await post(
          `/v1/partners/${partnerId}/stores`,
          { id: 'loja-b', name: 'Loja B', cnpj: uniqueCnpj() },
          201,
        );
        assert.equal(
          (
            await post(
              `/v1/partners/${partnerId}/stores`,
              { id: 'loja-a', name: 'A', cnpj: uniqueCnpj() },
              409,
            )
          ).error.code,
          'store_exists',
        );
        assert.equal(
          (await post(`/v1/partners/${partnerId}/stores`, { name: 'C', cnpj: '11.111.111/1111-11' }, 422))
            .error.code,
          'invalid_cnpj',
        );
        const unknownStore = await post(
          `/v1/partners/${partnerId}/endpoints`,
          { url: 'https://x.example.com/', environment: 'sandbox', store_ids: ['loja-z'] },
          422,
        );
        assert.equal(unknownStore.error.code, 'unknown_store');
        const [onlyA, all] = [await receiver(), await receiver()];
        await createEndpoint(app, partnerId, onlyA.url(), { store_ids: ['loja-a'] });
        await createEndpoint(app, partnerId, all.url());
        await post(
          '/v1/proposals',
          { partner_id: partnerId, environment: 'sandbox', id: 'SA-1', store_id: 'loja-a' },
          201,
        );
        await post(
          '/v1/proposals',
          { partner_id: partnerId, environment: 'sandbox', id: 'SB-1', store_id: 'loja-b' },
          201,
        );
        // An attempt event names only its proposal: its store comes from the proposal.
        await post(
          '/v1/events',
          {
            partner_id: partnerId,
            environment: 'sandbox',
            type: 'proposal_attempt.created',
            data: { proposal_id: 'SA-1', attempt_id: 'T-1' },
          },
          202,
        );
        await all.waitForCount(3);
        await onlyA.waitForCount(2);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(
          bodies(onlyA).map((b: Json) => [b.type, b.data.proposal_id]),
          [
            ['proposal.created', 'SA-1'],
            ['proposal_attempt.created', 'SA-1'],
          ],
        );
        assert.equal(all.requests.length, 3);
        const stores: Json[] = await get(`/v1/partners/${partnerId}/stores`);
        assert.deepEqual(
          stores.map((s) => s.id),
          ['loja-a', 'loja-b'],
        );
      });

      it("sends a resource's webhook_url only its own events, signed with the partner's secret, once per URL", async () => {
        const partnerId = await createPartner(app);
        const [hook, registered] = [await receiver(), await receiver()];
        const shared = registered.url('/shared');
        // A proposal URL, a simulation URL, and one URL both registered and given on a proposal.
        await createEndpoint(app, partnerId, shared, { event_types: ['proposal.*', 'proposal_attempt.*'] });
        await post(
          '/v1/proposals',
          { partner_id: partnerId, environment: 'sandbox', id: 'R-1', webhook_url: hook.url('/proposal') },
          201,
        );
        await post(
          '/v1/proposals',
          { partner_id: partnerId, environment: 'sandbox', id: 'R-2', webhook_url: shared },
          201,
        );
        await post(
          '/v1/simulations',
          {
            partner_id: partnerId,
            environment: 'sandbox',
            id: 'SIM-1',
            webhook_url: hook.url('/simulation'),
          },
          201,
        );
        const publish = (type: string, data: Json) =>
          post('/v1/events', { partner_id: partnerId, environment: 'sandbox', type, data }, 202);
        await publish('proposal_attempt.status_changed', {
          proposal_id: 'R-1',
          attempt_id: 'A1',
          status: 'approved',
        });
        await publish('simulation.processed', { simulation_id: 'SIM-1' });
        await publish('simulation.processed', { simulation_id: 'SIM-OTHER' });

        await hook.waitForCount(3);
        await registered.waitForCount(3);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const byPath = (r: TestReceiver, path: string) =>
          r.requests
            .filter((q) => q.path === path)
            .map((q) => [JSON.parse(q.body).type, JSON.parse(q.body).data]);
        assert.deepEqual(
          byPath(hook, '/proposal').map(([type, data]) => [type, data.proposal_id]),
          [
            ['proposal.created', 'R-1'],
            ['proposal_attempt.status_changed', 'R-1'],
          ],
        );
        assert.deepEqual(byPath(hook, '/simulation'), [['simulation.processed', { simulation_id: 'SIM-1' }]]);
        // R-2's URL is also a registered endpoint: each event reaches it once.
        const sharedEvents = registered.requests.map((q) => q.headers['webhook-id']);
        assert.equal(new Set(sharedEvents).size, sharedEvents.length, 'no event twice');
        assert.deepEqual(
          byPath(registered, '/shared').map(([type, data]) => [type, data.proposal_id]),
          [
            ['proposal.created', 'R-1'],
            ['proposal.created', 'R-2'],
            ['proposal_attempt.status_changed', 'R-1'],
          ],
        );

        const { secret } = await get(`/v1/partners/${partnerId}/secrets/sandbox`);
        assert.match(secret, /^whsec_/);
        for (const q of hook.requests) verify(secret, q);
        const other = await get(`/v1/partners/${partnerId}/secrets/production`);
        assert.notEqual(other.secret, secret);
        const hidden: Json[] = await get(`/v1/partners/${partnerId}/endpoints`);
        assert.equal(hidden.length, 1, 'resource endpoints are not listed with registered ones');
        const resources: Json[] = await get(`/v1/partners/${partnerId}/endpoints?kind=resource`);
        // R-2's URL has a resource endpoint too; the registered one simply wins the de-duplication.
        assert.deepEqual(
          resources.map((e) => e.url).sort(),
          [hook.url('/proposal'), hook.url('/simulation'), shared].sort(),
        );
      });
    });

    describe('ordered delivery per subject', () => {
      it('holds later deliveries of a subject while an earlier one retries, without holding up other subjects', async () => {
        const partnerId = await createPartner(app);
        const r = await receiver();
        const failuresLeft = new Map([['A-0', 2]]);
        r.respond((req, res) => {
          const key = `${JSON.parse(req.body).data.proposal_id}-${JSON.parse(req.body).data.n}`;
          const left = failuresLeft.get(key) ?? 0;
          if (left > 0) {
            failuresLeft.set(key, left - 1);
            res.statusCode = 503;
          }
          res.end();
        });
        await createEndpoint(app, partnerId, r.url());
        const publish = (proposal: string, n: number) =>
          post(
            '/v1/events',
            {
              partner_id: partnerId,
              environment: 'sandbox',
              type: 'proposal.updated',
              data: { proposal_id: proposal, n },
            },
            202,
          );
        for (let n = 0; n < 3; n++) await publish('A', n);
        for (let n = 0; n < 3; n++) await publish('B', n);
        await r.waitFor(
          (requests) => requests.filter((q) => q.headers['arauto-attempt'] !== undefined).length >= 8,
        );

        const sent = r.requests.map((q: ReceivedRequest) => {
          const data = JSON.parse(q.body).data;
          return `${data.proposal_id}-${data.n}`;
        });
        // A-0 was tried three times before A-1 went; B did not wait for A.
        assert.deepEqual(
          sent.filter((s) => s.startsWith('A')),
          ['A-0', 'A-0', 'A-0', 'A-1', 'A-2'],
        );
        assert.deepEqual(
          sent.filter((s) => s.startsWith('B')),
          ['B-0', 'B-1', 'B-2'],
        );
        assert.ok(
          sent.indexOf('B-2') < sent.lastIndexOf('A-0'),
          `B finished before A-0 succeeded: ${sent.join(' ')}`,
        );
      });

      it('releases the next delivery when an earlier one finally fails', async () => {
        const partnerId = await createPartner(app);
        const r = await receiver();
        r.respond((req, res) => {
          res.statusCode = JSON.parse(req.body).data.n === 0 ? 500 : 204;
          res.end();
        });
        await createEndpoint(app, partnerId, r.url());
        const ids: string[] = [];
        for (let n = 0; n < 2; n++) {
          ids.push(
            (
              await post(
                '/v1/events',
                {
                  partner_id: partnerId,
                  environment: 'sandbox',
                  type: 'proposal.updated',
                  data: { proposal_id: 'F', n },
                },
                202,
              )
            ).id,
          );
        }
        const waiting = (await get(`/v1/events/${ids[1]}/deliveries`))[0];
        assert.equal(waiting.status, 'pending');
        const retry = await app.call('POST', `/v1/deliveries/${waiting.id}/retry`);
        assert.equal(retry.status, 409);
        assert.equal(retry.body.error.code, 'delivery_waiting');
        await r.waitForCount(4);
        const sent = r.requests.map((q) => JSON.parse(q.body).data.n);
        assert.deepEqual(sent, [0, 0, 0, 1]);
        const first = (await get(`/v1/events/${ids[0]}/deliveries`))[0];
        assert.equal(first.status, 'failed');
        await eventually(async () =>
          (await get(`/v1/events/${ids[1]}/deliveries`))[0].status === 'succeeded' ? true : undefined,
        );
      });

      it('sends in parallel when the endpoint asks for no ordering', async () => {
        const partnerId = await createPartner(app);
        const r = await receiver();
        let first = true;
        r.respond((_req, res) => {
          if (first) {
            first = false;
            res.statusCode = 503;
          }
          res.end();
        });
        await createEndpoint(app, partnerId, r.url(), { ordering: 'none' });
        for (let n = 0; n < 2; n++) {
          await post(
            '/v1/events',
            {
              partner_id: partnerId,
              environment: 'sandbox',
              type: 'proposal.updated',
              data: { proposal_id: 'N', n },
            },
            202,
          );
        }
        await r.waitForCount(3);
        const sent = r.requests.map((q) => JSON.parse(q.body).data.n);
        assert.deepEqual(sent, [0, 1, 0], 'n=1 did not wait for the retry of n=0');
      });
    });

    describe('catch-up feed', () => {
      it('pages through a partner’s events oldest first with a stable cursor', async () => {
        const partnerId = await createPartner(app);
        const otherPartner = await createPartner(app);
        const published: string[] = [];
        for (let i = 0; i < 5; i++) {
          published.push(
            (
              await post(
                '/v1/events',
                {
                  partner_id: partnerId,
                  environment: 'sandbox',
                  type: 'customer.updated',
                  data: { customer_id: String(i) },
                },
                202,
              )
            ).id,
          );
        }
        await post(
          '/v1/events',
          {
            partner_id: partnerId,
            environment: 'production',
            type: 'customer.updated',
            data: { customer_id: 'p' },
          },
          202,
        );
        await post(
          '/v1/events',
          {
            partner_id: otherPartner,
            environment: 'sandbox',
            type: 'customer.updated',
            data: { customer_id: 'o' },
          },
          202,
        );
        // On PostgreSQL an event shows once every older transaction in the cluster has ended: page
        // until all have shown, checking that nothing repeats or arrives out of order.
        const seen: string[] = [];
        let cursor = '';
        const readPage = async () => {
          const res = await get(
            `/v1/events?partner_id=${partnerId}&environment=sandbox&limit=2${cursor ? `&after=${cursor}` : ''}`,
          );
          assert.ok(res.data.length <= 2);
          seen.push(...res.data.map((e: Json) => e.id));
          if (res.data.length === 0 && cursor)
            assert.equal(res.next_cursor, cursor, 'an empty page keeps the cursor');
          cursor = res.next_cursor;
        };
        await eventually(async () => {
          await readPage();
          return seen.length >= published.length ? true : undefined;
        });
        assert.deepEqual(seen, published);
        // Later events appear after the cursor the reader already holds.
        const later = await post(
          '/v1/events',
          {
            partner_id: partnerId,
            environment: 'sandbox',
            type: 'customer.updated',
            data: { customer_id: 'late' },
          },
          202,
        );
        await eventually(async () => {
          await readPage();
          return seen.length > published.length ? true : undefined;
        });
        assert.deepEqual(seen, [...published, later.id]);

        const bad = await app.call(
          'GET',
          `/v1/events?partner_id=${partnerId}&environment=sandbox&after=garbage`,
        );
        assert.equal(bad.status, 422);
        assert.equal(bad.body.error.code, 'invalid_cursor');
        const missing = await app.call('GET', '/v1/events?environment=sandbox');
        assert.equal(missing.status, 422);
        const unknown = await callApi(
          app.url ?? '',
          'GET',
          '/v1/events?partner_id=ptn_nope&environment=sandbox',
          undefined,
          {
            authorization: 'Bearer test-admin-token-0123456789',
          },
        );
        assert.equal(unknown.status, 404);
      });
    });
  });
}
