import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { STANDARD_DELIVERY } from '../src/store/endpoints.ts';
import { testEngines } from './support/engines.ts';
import {
  createEndpoint,
  createPartner,
  eventually,
  publish,
  startTestArauto,
  type TestArauto,
} from './support/harness.ts';
import { TestReceiver, verify } from './support/receiver.ts';
import { makeTestPki, type TestPki } from './support/tls.ts';

/** A name other than "localhost" that this machine resolves to loopback, if it has one. */
async function loopbackAlias(): Promise<string | null> {
  const name = hostname();
  try {
    const addresses = await lookup(name, { all: true });
    return addresses.length > 0 && addresses.every((a) => a.address.startsWith('127.') || a.address === '::1')
      ? name
      : null;
  } catch {
    return null;
  }
}

for (const engine of testEngines()) {
  describe(`network guard end to end on ${engine.name}`, () => {
    let app: TestArauto;
    let receiver: TestReceiver;
    before(async () => {
      app = await startTestArauto(await engine.freshDatabaseUrl(), {
        ARAUTO_ALLOW_PRIVATE_NETWORKS: 'false',
      });
      receiver = await TestReceiver.start();
    });
    after(async () => {
      await app.close();
      await receiver.close();
      await engine.cleanup();
    });

    it('refuses private destinations at registration', async () => {
      const partnerId = await createPartner(app);
      const port = receiver.port;
      for (const url of [
        `http://127.0.0.1:${port}/hook`,
        `http://[::ffff:127.0.0.1]:${port}/hook`,
        `http://[::1]:${port}/hook`,
        'http://169.254.169.254/latest/meta-data/',
        `http://localhost:${port}/hook`,
        'http://10.0.0.1/hook',
        'http://100.64.1.1/hook',
      ]) {
        const res = await app.call('POST', `/v1/partners/${partnerId}/endpoints`, {
          url,
          environment: 'sandbox',
        });
        assert.equal(res.status, 422, url);
        assert.equal(res.body.error.code, 'url_not_allowed', url);
      }
      assert.deepEqual((await app.call('GET', `/v1/partners/${partnerId}/endpoints`)).body, []);
    });

    it('refuses them again at delivery, for literal IPs and for every resolved address', async () => {
      // These URLs bypass registration, as an endpoint does whose DNS name was repointed after it
      // was registered (DNS rebinding): the delivery-time guard alone must stop them.
      const partnerId = await createPartner(app);
      const port = receiver.port;
      const urls = [
        `http://127.0.0.1:${port}/hook`,
        `http://[::ffff:127.0.0.1]:${port}/hook`,
        'http://169.254.169.254/latest/meta-data/',
        `http://localhost:${port}/hook`,
      ];
      const alias = await loopbackAlias();
      if (alias) urls.push(`http://${alias}:${port}/hook`);
      for (const url of urls) {
        await app.store.endpoints.create(
          {
            partnerId,
            url,
            environment: 'sandbox',
            eventTypes: null,
            storeIds: null,
            ...STANDARD_DELIVERY,
            description: url,
          },
          Date.now(),
        );
      }
      const eventId = await publish(app, partnerId);
      const deliveries = await eventually(async () => {
        const list = (await app.call('GET', `/v1/events/${eventId}/deliveries`)).body;
        return list.length === urls.length && list.every((d: { status: string }) => d.status === 'failed')
          ? list
          : undefined;
      });
      for (const d of deliveries) {
        assert.deepEqual(
          d.attempts.map((a: { error: string; status_code: number | null }) => [a.error, a.status_code]),
          [
            ['blocked_address', null],
            ['blocked_address', null],
            ['blocked_address', null],
          ],
        );
        assert.match(d.attempts[0].error_message, /not a public address/);
      }
      assert.equal(receiver.requests.length, 0, 'nothing may reach the loopback receiver');
    });

    it('accepts a name at registration but refuses it at delivery when it resolves to loopback', async (t) => {
      const alias = await loopbackAlias();
      if (!alias) return t.skip(`${hostname()} does not resolve to loopback on this machine`);
      const partnerId = await createPartner(app);
      await createEndpoint(app, partnerId, `http://${alias}:${receiver.port}/hook`);
      const eventId = await publish(app, partnerId);
      const [d] = await eventually(async () => {
        const list = (await app.call('GET', `/v1/events/${eventId}/deliveries`)).body;
        return list[0]?.status === 'failed' ? list : undefined;
      });
      assert.equal(d.attempts[0].error, 'blocked_address');
      assert.equal(receiver.requests.length, 0);
    });
  });

  describe(`TLS for production endpoints on ${engine.name}`, () => {
    let app: TestArauto;
    let pki: TestPki;
    const receivers: TestReceiver[] = [];
    before(async () => {
      pki = await makeTestPki();
      app = await startTestArauto(await engine.freshDatabaseUrl(), { ARAUTO_TLS_CA_FILE: pki.caFile });
    });
    after(async () => {
      await app.close();
      for (const r of receivers) await r.close();
      await engine.cleanup();
    });

    it('delivers over https to a certificate it trusts, and refuses one it does not', async () => {
      const trusted = await TestReceiver.start(pki.server);
      const untrusted = await TestReceiver.start(pki.untrusted);
      receivers.push(trusted, untrusted);
      const partnerId = await createPartner(app);
      const good = await createEndpoint(app, partnerId, trusted.url('/hook', 'localhost'), {
        environment: 'production',
      });
      const bad = await createEndpoint(app, partnerId, untrusted.url('/hook', 'localhost'), {
        environment: 'production',
      });
      const eventId = await app.call('POST', '/v1/events', {
        partner_id: partnerId,
        environment: 'production',
        type: 'proposal.status_changed',
        data: { proposal_id: '9', status: 'paid' },
      });
      assert.equal(eventId.status, 202);
      const deliveries = await eventually(async () => {
        const list = (await app.call('GET', `/v1/events/${eventId.body.id}/deliveries`)).body;
        return list.length === 2 && list.every((d: { status: string }) => d.status !== 'pending')
          ? list
          : undefined;
      });
      const byEndpoint = new Map(deliveries.map((d: { endpoint_id: string }) => [d.endpoint_id, d]));
      // biome-ignore lint/suspicious/noExplicitAny: JSON from the API
      const goodDelivery = byEndpoint.get(good.id) as any;
      // biome-ignore lint/suspicious/noExplicitAny: JSON from the API
      const badDelivery = byEndpoint.get(bad.id) as any;
      assert.equal(goodDelivery.status, 'succeeded');
      assert.equal(badDelivery.status, 'failed');
      assert.equal(badDelivery.attempts[0].error, 'tls_error');
      assert.equal(untrusted.requests.length, 0);
      assert.equal(trusted.requests.length, 1);
      const [request] = trusted.requests;
      assert.ok(request);
      verify(good.secret, request);
    });
  });
}
