import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines } from './support/engines.ts';
import {
  createEndpoint,
  createPartner,
  eventually,
  publish,
  receiverPool,
  startTestArauto,
  type TestArauto,
} from './support/harness.ts';
import { type ReceivedRequest, TestReceiver, verify } from './support/receiver.ts';

for (const engine of testEngines()) {
  describe(`delivery end to end on ${engine.name}`, () => {
    let app: TestArauto;
    const pool = receiverPool();
    const receiver = pool.start;

    before(async () => {
      app = await startTestArauto(await engine.freshDatabaseUrl(), { ARAUTO_DELIVERY_TIMEOUT: '400ms' });
    });
    after(async () => {
      await app.close();
      await pool.closeAll();
      await engine.cleanup();
    });

    async function deliveriesOf(eventId: string) {
      return (await app.call('GET', `/v1/events/${eventId}/deliveries`)).body as Array<{
        id: string;
        endpoint_id: string;
        status: string;
        attempts: Array<{
          status_code: number | null;
          error: string | null;
          at: string;
          response_body: string | null;
        }>;
      }>;
    }

    /** Waits until every delivery of the event is final and returns them. */
    function settled(eventId: string, timeoutMs = 10_000) {
      return eventually(
        async () => {
          const list = await deliveriesOf(eventId);
          return list.length > 0 && list.every((d) => d.status !== 'pending') ? list : undefined;
        },
        timeoutMs,
        `deliveries of ${eventId} to settle`,
      );
    }

    it('fans out to several endpoints, each request signed and shaped as Standard Webhooks', async () => {
      const partnerId = await createPartner(app);
      const rs = [await receiver(), await receiver(), await receiver()];
      const endpoints: Array<{ id: string; secret: string }> = [];
      for (const r of rs) endpoints.push(await createEndpoint(app, partnerId, r.url()));
      const eventId = await publish(app, partnerId, 'proposal.status_changed', {
        subject: 'proposal/77',
        data: { proposal_id: '77', status: 'approved', observação: 'ação' },
      });
      for (const [i, r] of rs.entries()) {
        await r.waitForCount(1);
        const [request] = r.requests;
        assert.ok(request);
        assert.equal(request.method, 'POST');
        assert.equal(request.headers['content-type'], 'application/json');
        assert.equal(request.headers['webhook-id'], eventId);
        assert.match(request.headers['webhook-timestamp'] ?? '', /^\d{10}$/);
        const payload = verify(endpoints[i]?.secret ?? '', request) as {
          type: string;
          timestamp: string;
          data: unknown;
        };
        assert.equal(payload.type, 'proposal.status_changed');
        assert.ok(Math.abs(Date.parse(payload.timestamp) - Date.now()) < 60_000);
        assert.deepEqual(payload.data, { proposal_id: '77', status: 'approved', observação: 'ação' });
        // Another endpoint's secret must not verify it.
        assert.throws(() => verify(endpoints[(i + 1) % 3]?.secret ?? '', request));
      }
      const deliveries = await settled(eventId);
      assert.equal(deliveries.length, 3);
      assert.deepEqual(deliveries.map((d) => d.endpoint_id).sort(), endpoints.map((e) => e.id).sort());
      for (const d of deliveries) {
        assert.equal(d.status, 'succeeded');
        assert.equal(d.attempts.length, 1);
        assert.equal(d.attempts[0]?.status_code, 204);
        assert.equal(d.attempts[0]?.error, null);
      }
      const one = await app.call('GET', `/v1/deliveries/${deliveries[0]?.id}`);
      assert.equal(one.body.status, 'succeeded');
      assert.deepEqual(Object.keys(one.body.attempts[0]).sort(), [
        'at',
        'duration_ms',
        'error',
        'error_message',
        'number',
        'response_body',
        'status_code',
      ]);
    });

    it('delivers only the event types an endpoint subscribed to', async () => {
      const partnerId = await createPartner(app);
      const [customers, proposals, everything] = [await receiver(), await receiver(), await receiver()];
      await createEndpoint(app, partnerId, customers.url(), { event_types: ['customer.created'] });
      await createEndpoint(app, partnerId, proposals.url(), { event_types: ['proposal.*'] });
      await createEndpoint(app, partnerId, everything.url());
      // Another environment and another partner must not receive it either.
      const production = await receiver();
      await app
        .call('POST', `/v1/partners/${partnerId}/endpoints`, {
          url: production.url(),
          environment: 'production',
        })
        .catch(() => {});
      const otherPartner = await createPartner(app);
      const other = await receiver();
      await createEndpoint(app, otherPartner, other.url());

      const eventId = await publish(app, partnerId, 'proposal.created');
      await settled(eventId);
      assert.equal(proposals.requests.length, 1);
      assert.equal(everything.requests.length, 1);
      assert.equal(customers.requests.length, 0);
      assert.equal(production.requests.length, 0);
      assert.equal(other.requests.length, 0);
    });

    it('retries after 500s with the same webhook-id and a fresh signature each time', async () => {
      const partnerId = await createPartner(app);
      const r = await receiver();
      let calls = 0;
      r.respond((_req, res) => {
        calls++;
        res.statusCode = calls <= 2 ? 500 : 200;
        res.end(calls <= 2 ? 'temporarily broken' : 'ok');
      });
      const { secret } = await createEndpoint(app, partnerId, r.url());
      const eventId = await publish(app, partnerId);
      const [d] = await settled(eventId);
      assert.equal(d?.status, 'succeeded');
      assert.deepEqual(
        d?.attempts.map((a) => a.status_code),
        [500, 500, 200],
      );
      assert.deepEqual(
        d?.attempts.map((a) => a.error),
        ['http_status', 'http_status', null],
      );
      assert.equal(d?.attempts[0]?.response_body, 'temporarily broken');
      assert.equal(r.requests.length, 3);
      assert.ok(r.requests.every((q) => q.headers['webhook-id'] === eventId));
      assert.ok(
        r.requests.every((q) => q.body === r.requests[0]?.body),
        'the body is identical on every attempt',
      );
      for (const q of r.requests) verify(secret, q);
      assert.deepEqual(
        r.requests.map((q) => q.headers['arauto-attempt']),
        ['1', '2', '3'],
      );
    });

    it('retries after a timeout and after a connection reset', async () => {
      const partnerId = await createPartner(app);
      const slow = await receiver();
      let slowCalls = 0;
      slow.respond((_req, res) => {
        slowCalls++;
        if (slowCalls === 1) {
          setTimeout(() => res.end(), 1500).unref();
          return;
        }
        res.end();
      });
      const reset = await receiver();
      let resetCalls = 0;
      reset.respond((_req, res) => {
        resetCalls++;
        if (resetCalls === 1) res.socket?.destroy();
        else res.end();
      });
      await createEndpoint(app, partnerId, slow.url());
      await createEndpoint(app, partnerId, reset.url());
      const eventId = await publish(app, partnerId);
      const deliveries = await settled(eventId);
      const errors = deliveries.map((d) => d.attempts.map((a) => a.error)).sort();
      assert.deepEqual(errors, [
        ['connection_reset', null],
        ['timeout', null],
      ]);
      assert.ok(deliveries.every((d) => d.status === 'succeeded'));
    });

    it('fails for good once the schedule is exhausted, then succeeds on a manual retry', async () => {
      const partnerId = await createPartner(app);
      const r = await receiver();
      let healthy = false;
      r.respond((_req, res) => {
        res.statusCode = healthy ? 200 : 503;
        res.end();
      });
      await createEndpoint(app, partnerId, r.url());
      const eventId = await publish(app, partnerId);
      const [failed] = await settled(eventId);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.attempts.length, 3, 'ARAUTO_RETRY_SCHEDULE=0,200ms,200ms allows three attempts');

      healthy = true;
      const retried = await app.call('POST', `/v1/deliveries/${failed?.id}/retry`);
      assert.equal(retried.status, 202);
      const done = await eventually(async () => {
        const d = (await app.call('GET', `/v1/deliveries/${failed?.id}`)).body;
        return d.status === 'succeeded' ? d : undefined;
      });
      assert.equal(done.attempts.length, 4);
      assert.equal(r.requests.length, 4);
    });

    it('a manual retry that fails again stays failed without restarting the schedule', async () => {
      const partnerId = await createPartner(app);
      const r = await receiver();
      r.respond((_req, res) => {
        res.statusCode = 500;
        res.end();
      });
      await createEndpoint(app, partnerId, r.url());
      const eventId = await publish(app, partnerId);
      const [failed] = await settled(eventId);
      await app.call('POST', `/v1/deliveries/${failed?.id}/retry`);
      const again = await eventually(async () => {
        const d = (await app.call('GET', `/v1/deliveries/${failed?.id}`)).body;
        return d.status === 'failed' && d.attempts.length === 4 ? d : undefined;
      });
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal((await app.call('GET', `/v1/deliveries/${again.id}`)).body.attempts.length, 4);
    });

    it('disables the endpoint on 410 Gone and stops sending to it', async () => {
      const partnerId = await createPartner(app);
      const r = await receiver();
      r.respond((_req, res) => {
        res.statusCode = 410;
        res.end();
      });
      const { id } = await createEndpoint(app, partnerId, r.url());
      const eventId = await publish(app, partnerId);
      const [d] = await settled(eventId);
      assert.equal(d?.status, 'failed');
      assert.equal(d?.attempts.length, 1);
      const endpoint = (await app.call('GET', `/v1/endpoints/${id}`)).body;
      assert.equal(endpoint.enabled, false);
      assert.equal(endpoint.disabled_reason, 'gone');
      const next = await publish(app, partnerId);
      assert.deepEqual(await deliveriesOf(next), []);
      const retry = await app.call('POST', `/v1/deliveries/${d?.id}/retry`);
      assert.equal(retry.status, 409);
      assert.equal(retry.body.error.code, 'endpoint_disabled');
      assert.equal(r.requests.length, 1);
    });

    it('waits at least as long as Retry-After says on 429', async () => {
      const partnerId = await createPartner(app);
      const r = await receiver();
      let calls = 0;
      r.respond((_req, res) => {
        calls++;
        if (calls === 1) {
          res.statusCode = 429;
          res.setHeader('retry-after', '1');
        }
        res.end();
      });
      await createEndpoint(app, partnerId, r.url());
      const eventId = await publish(app, partnerId);
      await settled(eventId);
      const [first, second] = r.requests as [ReceivedRequest, ReceivedRequest];
      const gap = second.at - first.at;
      assert.ok(gap >= 950, `second attempt came ${gap} ms after the first; Retry-After asked for 1000`);
      assert.ok(gap < 3000, `second attempt came ${gap} ms after the first`);
    });

    it('never follows redirects', async () => {
      const partnerId = await createPartner(app);
      const r = await receiver();
      r.respond((req, res) => {
        if (req.path === '/hook') {
          res.statusCode = 307;
          res.setHeader('location', '/elsewhere');
        }
        res.end();
      });
      await createEndpoint(app, partnerId, r.url());
      const eventId = await publish(app, partnerId);
      const [d] = await settled(eventId);
      assert.equal(d?.status, 'failed');
      assert.deepEqual(
        d?.attempts.map((a) => [a.status_code, a.error]),
        [
          [307, 'redirect'],
          [307, 'redirect'],
          [307, 'redirect'],
        ],
      );
      assert.ok(r.requests.every((q) => q.path === '/hook'));
    });

    it('records connection errors and the first 4 KiB of a response', async () => {
      const partnerId = await createPartner(app);
      const closed = await TestReceiver.start();
      const deadUrl = closed.url();
      await closed.close();
      const big = await receiver();
      big.respond((_req, res) => {
        res.statusCode = 500;
        res.end('é'.repeat(6000));
      });
      const dead = await createEndpoint(app, partnerId, deadUrl);
      await createEndpoint(app, partnerId, big.url());
      const eventId = await publish(app, partnerId);
      const deliveries = await settled(eventId);
      const refused = deliveries.find((d) => d.endpoint_id === dead.id);
      const bigOne = deliveries.find((d) => d.endpoint_id !== dead.id);
      assert.deepEqual(
        refused?.attempts.map((a) => a.error),
        ['connection_refused', 'connection_refused', 'connection_refused'],
      );
      assert.ok(refused?.attempts.every((a) => a.status_code === null));
      const excerpt = bigOne?.attempts[0]?.response_body ?? '';
      assert.ok(
        Buffer.byteLength(excerpt) <= 4096 && Buffer.byteLength(excerpt) >= 4090,
        String(Buffer.byteLength(excerpt)),
      );
    });

    it('publishing with an idempotency key twice delivers once', async () => {
      const partnerId = await createPartner(app);
      const r = await receiver();
      await createEndpoint(app, partnerId, r.url());
      const first = await publish(app, partnerId, 'proposal.created', { idempotency_key: 'op-123' });
      const second = await publish(app, partnerId, 'proposal.created', { idempotency_key: 'op-123' });
      assert.equal(first, second);
      await settled(first);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(r.requests.length, 1);
    });

    it('closes pending deliveries of a deleted endpoint without sending them', async () => {
      const partnerId = await createPartner(app);
      const r = await receiver();
      r.respond((_req, res) => {
        res.statusCode = 500;
        res.end();
      });
      const { id } = await createEndpoint(app, partnerId, r.url());
      const eventId = await publish(app, partnerId);
      await r.waitForCount(1);
      await app.call('DELETE', `/v1/endpoints/${id}`);
      const [d] = await settled(eventId);
      assert.equal(d?.status, 'failed');
      assert.equal(d?.attempts.at(-1)?.error, 'endpoint_deleted');
      assert.ok(r.requests.length <= 2);
    });
  });
}
