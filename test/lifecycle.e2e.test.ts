import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { testEngines } from './support/engines.ts';
import { ADMIN_TOKEN, callApi, eventually, startTestArauto, uniqueCnpj } from './support/harness.ts';
import { spawnArauto } from './support/process.ts';
import { TestReceiver } from './support/receiver.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function setUp(base: string, receiverUrl: string, endpoints: number) {
  const partner = await callApi(
    base,
    'POST',
    '/v1/partners',
    {
      name: 'Parceiro',
      cnpj: uniqueCnpj(),
      contact: { name: 'Ana', email: 'ana@example.com' },
    },
    auth,
  );
  assert.equal(partner.status, 201);
  for (let i = 0; i < endpoints; i++) {
    const res = await callApi(
      base,
      'POST',
      `/v1/partners/${partner.body.id}/endpoints`,
      {
        url: `${receiverUrl}/e${i}`,
        environment: 'sandbox',
      },
      auth,
    );
    assert.equal(res.status, 201);
  }
  return partner.body.id as string;
}

function publishOne(base: string, partnerId: string, n: number) {
  return callApi(
    base,
    'POST',
    '/v1/events',
    {
      partner_id: partnerId,
      environment: 'sandbox',
      type: 'proposal.status_changed',
      subject: `proposal/${n}`,
      data: { proposal_id: String(n), status: 'in_analysis' },
    },
    auth,
  );
}

/** The distinct (event, endpoint) pairs a receiver has seen. */
const pairs = (r: TestReceiver) => new Set(r.requests.map((q) => `${q.headers['webhook-id']} ${q.path}`));

for (const engine of testEngines()) {
  describe(`process life cycle on ${engine.name}`, () => {
    after(() => engine.cleanup());

    it('kill -9 in mid-stream loses nothing: every acknowledged event is delivered after a restart', async () => {
      const databaseUrl = await engine.freshDatabaseUrl();
      const receiver = await TestReceiver.start();
      // A slow receiver and few connections keep the dispatcher behind the publisher, so the kill
      // lands with deliveries in flight and others not yet attempted.
      receiver.respond((_req, res) => {
        setTimeout(() => res.end(), 50);
      });
      const env = {
        ARAUTO_DATABASE_URL: databaseUrl,
        ARAUTO_DELIVERY_TIMEOUT: '1s',
        ARAUTO_DELIVERY_LEASE: '3s',
        ARAUTO_POLL_INTERVAL: '100ms',
        ARAUTO_ORIGIN_CONCURRENCY: '8',
      };
      try {
        const first = await spawnArauto(['serve'], env);
        const base = first.url ?? '';
        const partnerId = await setUp(base, receiver.url(''), 2);

        const acknowledged: string[] = [];
        let n = 0;
        let killed = false;
        const publisher = async () => {
          while (!killed && n < 400) {
            const i = n++;
            try {
              const res = await publishOne(base, partnerId, i);
              if (res.status === 202) acknowledged.push(res.body.id);
            } catch {
              return; // the process is gone: this publish was never acknowledged
            }
          }
        };
        const publishing = Promise.all(Array.from({ length: 8 }, publisher));
        await receiver.waitFor((requests) => requests.length >= 20 && acknowledged.length >= 150, 20_000);
        first.proc.kill('SIGKILL');
        killed = true;
        const { signal } = await first.exited;
        assert.equal(signal, 'SIGKILL');
        await publishing;
        assert.ok(
          acknowledged.length >= 75,
          `only ${acknowledged.length} events were published before the kill`,
        );
        const delivered = pairs(receiver).size;
        assert.ok(
          delivered < acknowledged.length * 2,
          'the kill must land mid-stream, with deliveries still owed',
        );

        const second = await spawnArauto(['serve'], env);
        try {
          await receiver.waitFor((requests) => {
            const seen = new Set(requests.map((q) => `${q.headers['webhook-id']} ${q.path}`));
            return acknowledged.every((id) => seen.has(`${id} /e0`) && seen.has(`${id} /e1`));
          }, 30_000);
          // And the log agrees: every delivery of every acknowledged event succeeded.
          for (const id of acknowledged.slice(0, 50)) {
            const deliveries = await callApi(
              second.url ?? '',
              'GET',
              `/v1/events/${id}/deliveries`,
              undefined,
              auth,
            );
            assert.equal(deliveries.body.length, 2);
            await eventually(async () => {
              const list = (
                await callApi(second.url ?? '', 'GET', `/v1/events/${id}/deliveries`, undefined, auth)
              ).body;
              return list.every((d: { status: string }) => d.status === 'succeeded') ? true : undefined;
            });
          }
        } finally {
          second.proc.kill('SIGTERM');
          await second.exited;
        }
      } finally {
        await receiver.close();
      }
    });

    it('SIGTERM stops within 10 s, finishing short attempts and releasing long ones for the next start', async () => {
      const databaseUrl = await engine.freshDatabaseUrl();
      const receiver = await TestReceiver.start();
      let slow = true;
      receiver.respond((req, res) => {
        // /e0 answers after 300 ms (finishes within the grace); /e1 would take 20 s (released).
        const delay = req.path === '/e0' ? 300 : slow ? 20_000 : 0;
        setTimeout(() => res.end(), delay).unref();
      });
      const env = {
        ARAUTO_DATABASE_URL: databaseUrl,
        ARAUTO_DELIVERY_TIMEOUT: '30s',
        ARAUTO_SHUTDOWN_GRACE: '2s',
      };
      try {
        const proc = await spawnArauto(['serve'], env);
        const base = proc.url ?? '';
        const partnerId = await setUp(base, receiver.url(''), 2);
        const ids: string[] = [];
        for (let i = 0; i < 10; i++) ids.push((await publishOne(base, partnerId, i)).body.id);
        await receiver.waitForCount(20);

        const started = Date.now();
        proc.proc.kill('SIGTERM');
        const { code } = await proc.exited;
        const took = Date.now() - started;
        assert.equal(code, 0, proc.output.join('\n'));
        assert.ok(took < 10_000, `shutdown took ${took} ms`);

        // Inspect the database the process left behind.
        slow = false;
        const after = await startTestArauto(databaseUrl, {}, { api: true, dispatcher: false });
        try {
          for (const id of ids) {
            const list = (await after.call('GET', `/v1/events/${id}/deliveries`)).body;
            const byPath = new Map(
              // biome-ignore lint/suspicious/noExplicitAny: JSON from the API
              list.map((d: any) => [d.endpoint_id, d]),
            );
            assert.equal(byPath.size, 2);
            // biome-ignore lint/suspicious/noExplicitAny: JSON from the API
            const statuses = list.map((d: any) => `${d.status}/${d.attempts.length}`).sort();
            // The short one finished (1 attempt, succeeded); the long one was released unattempted.
            assert.deepEqual(statuses, ['pending/0', 'succeeded/1']);
          }
        } finally {
          await after.close();
        }

        // Released, not leased: the next start sends them at once instead of after a lease expiry.
        const before = receiver.requests.length;
        const next = await spawnArauto(['serve'], { ...env, ARAUTO_DELIVERY_LEASE: '10m' });
        try {
          await receiver.waitForCount(before + 10, 10_000);
        } finally {
          next.proc.kill('SIGTERM');
          await next.exited;
        }
      } finally {
        await receiver.close();
      }
    });
  });
}
