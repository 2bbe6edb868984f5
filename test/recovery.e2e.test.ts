import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { testEngines } from './support/engines.ts';
import {
  ADMIN_TOKEN,
  callApi,
  createEndpoint,
  createPartner,
  eventually,
  publish,
  startTestArauto,
} from './support/harness.ts';
import { type ArautoProcess, spawnArauto } from './support/process.ts';
import { TestReceiver } from './support/receiver.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

const postgres = testEngines().find((e) => e.name === 'postgres');

describe('PostgreSQL: several processes and outages', {
  skip: postgres ? false : 'PostgreSQL not available',
}, () => {
  const engine = postgres;
  after(() => engine?.cleanup());

  it('three dispatcher processes on one database never deliver the same attempt twice', async () => {
    assert.ok(engine);
    const databaseUrl = await engine.freshDatabaseUrl();
    const receiver = await TestReceiver.start();
    const processes: ArautoProcess[] = [];
    try {
      const api = await spawnArauto(['serve', '--api-only'], { ARAUTO_DATABASE_URL: databaseUrl });
      processes.push(api);
      for (let i = 0; i < 3; i++) {
        processes.push(
          await spawnArauto(['serve', '--dispatcher-only'], {
            ARAUTO_DATABASE_URL: databaseUrl,
            ARAUTO_CLAIM_BATCH: '5',
            ARAUTO_POLL_INTERVAL: '20ms',
          }),
        );
      }
      const base = api.url ?? '';
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const partner = await callApi(
        base,
        'POST',
        '/v1/partners',
        {
          name: 'P',
          cnpj: '11444777000161',
          contact: { name: 'A', email: 'a@b.co' },
        },
        auth,
      );
      await callApi(
        base,
        'POST',
        `/v1/partners/${partner.body.id}/endpoints`,
        { url: receiver.url(), environment: 'sandbox' },
        auth,
      );
      const ids: string[] = [];
      await Promise.all(
        Array.from({ length: 6 }, async (_, worker) => {
          for (let i = worker; i < 300; i += 6) {
            const res = await callApi(
              base,
              'POST',
              '/v1/events',
              {
                partner_id: partner.body.id,
                environment: 'sandbox',
                type: 'proposal.created',
                data: { proposal_id: `n-${i}` },
              },
              auth,
            );
            assert.equal(res.status, 202, JSON.stringify(res.body));
            ids.push(res.body.id);
          }
        }),
      );
      await receiver.waitForCount(300, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 500)); // room for any duplicate to show up
      const received = receiver.requests.map((q) => q.headers['webhook-id']);
      assert.equal(received.length, 300, 'one request per event, no more');
      assert.deepEqual([...new Set(received)].sort(), [...ids].sort());
    } finally {
      for (const p of processes) p.proc.kill('SIGTERM');
      for (const p of processes) await p.exited;
      await receiver.close();
    }
  });

  it('rides out a database outage: 503 meanwhile, everything delivered after', async () => {
    assert.ok(engine);
    const direct = new URL(await engine.freshDatabaseUrl());
    const proxy = await TcpProxy.start(direct.hostname, Number(direct.port || 5432));
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    const receiver = await TestReceiver.start();
    const app = await startTestArauto(viaProxy.toString());
    try {
      const partnerId = await createPartner(app);
      await createEndpoint(app, partnerId, receiver.url());
      const before: string[] = [];
      for (let i = 0; i < 20; i++) before.push(await publish(app, partnerId));
      receiver.respond((_req, res) => {
        setTimeout(() => res.end(), 300).unref(); // results land while the database is away
      });
      const during = publish(app, partnerId).catch((e) => e);
      proxy.cut();
      await during;

      const health = await callApi(app.url ?? '', 'GET', '/health');
      assert.equal(health.status, 503);
      const refused = await app.call('POST', '/v1/events', {
        partner_id: partnerId,
        environment: 'sandbox',
        type: 'proposal.created',
        data: { proposal_id: 'during-outage' },
      });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'database_unavailable');
      await new Promise((resolve) => setTimeout(resolve, 1500));

      proxy.restore();
      receiver.respond((_req, res) => {
        res.end();
      });
      await eventually(async () =>
        (await callApi(app.url ?? '', 'GET', '/health')).status === 200 ? true : undefined,
      );
      const afterIds: string[] = [];
      for (let i = 0; i < 20; i++) afterIds.push(await publish(app, partnerId));
      for (const id of [...before, ...afterIds]) {
        await eventually(
          async () => {
            const list = (await app.call('GET', `/v1/events/${id}/deliveries`)).body;
            return list[0]?.status === 'succeeded' ? true : undefined;
          },
          20_000,
          `delivery of ${id}`,
        );
      }
      const seen = new Set(receiver.requests.map((q) => q.headers['webhook-id']));
      for (const id of [...before, ...afterIds]) assert.ok(seen.has(id), id);
    } finally {
      await app.close();
      await receiver.close();
      await proxy.close();
    }
  });
});
