import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import type { Attempt } from '../src/domain/types.ts';
import { STANDARD_DELIVERY } from '../src/store/endpoints.ts';
import { IDEMPOTENCY_WINDOW_MS } from '../src/store/events.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { testEngines } from './support/engines.ts';
import { uniqueCnpj } from './support/harness.ts';

const logger = pino({ level: 'silent' });
const masterKey = Buffer.alloc(32, 7);

for (const engine of testEngines()) {
  describe(`store on ${engine.name}`, () => {
    after(() => engine.cleanup());

    async function freshStore(): Promise<Store> {
      const store = openStore({
        databaseUrl: await engine.freshDatabaseUrl(),
        poolSize: 4,
        logger,
        masterKey,
      });
      await store.migrate();
      return store;
    }

    async function partnerWithEndpoints(store: Store, count: number, eventTypes: string[] | null = null) {
      const now = Date.now();
      const partner = await store.partners.create(
        { name: 'Parceiro', cnpj: uniqueCnpj(), contact: { name: 'Ana', email: 'ana@example.com' } },
        now,
      );
      const endpoints = [];
      for (let i = 0; i < count; i++) {
        endpoints.push(
          await store.endpoints.create(
            {
              partnerId: partner.id,
              url: `https://p${i}.example.com/hook`,
              environment: 'sandbox',
              eventTypes,
              storeIds: null,
              ...STANDARD_DELIVERY,
              description: null,
            },
            now,
          ),
        );
      }
      return { partner, endpoints };
    }

    let proposals = 0;
    /** An event about a new proposal each time, so that delivery lines never hold each other up here. */
    const event = (
      partnerId: string,
      extra: Partial<{ type: string; idempotencyKey: string | null; subject: string | null }> = {},
    ) => {
      const id = String(++proposals);
      return {
        partnerId,
        environment: 'sandbox' as const,
        type: 'proposal.created',
        subject: `proposal/${id}`,
        storeId: null,
        data: JSON.stringify({ proposal_id: id }),
        idempotencyKey: null,
        ...extra,
      };
    };

    const okAttempt = (number: number, at: number): Attempt => ({
      number,
      at,
      statusCode: 200,
      durationMs: 5,
      error: null,
      errorMessage: null,
      responseBody: 'ok',
    });

    it('applies migrations once and records them', async () => {
      const store = await freshStore();
      try {
        assert.deepEqual(await store.migrate(), []);
        await store.ping();
      } finally {
        await store.close();
      }
      assert.ok(MIGRATIONS.length >= 1);
    });

    it('keeps partners with unique CNPJs', async () => {
      const store = await freshStore();
      try {
        const cnpj = uniqueCnpj();
        const now = Date.now();
        const created = await store.partners.create(
          { name: 'A', cnpj, contact: { name: 'B', email: 'b@x.com' } },
          now,
        );
        assert.deepEqual(await store.partners.get(created.id), created);
        await assert.rejects(
          store.partners.create({ name: 'C', cnpj, contact: { name: 'D', email: 'd@x.com' } }, now),
          (e: { status?: number; code?: string }) => e.status === 409 && e.code === 'partner_exists',
        );
        assert.equal((await store.partners.list({ limit: 10, after: '' })).length, 1);
        await assert.rejects(store.partners.get('ptn_missing'), { code: 'partner_not_found' });
      } finally {
        await store.close();
      }
    });

    it('fans an event out to every matching, enabled endpoint in one transaction', async () => {
      const store = await freshStore();
      try {
        const { partner, endpoints } = await partnerWithEndpoints(store, 3);
        const [, second, third] = endpoints;
        assert.ok(second && third);
        await store.endpoints.update(second.id, (e) => ({ ...e, eventTypes: ['customer.*'] }), Date.now());
        await store.endpoints.update(
          third.id,
          (e) => ({ ...e, enabled: false, disabledReason: 'manual' }),
          Date.now(),
        );
        const published = await store.events.publish(event(partner.id), Date.now(), 0);
        assert.equal(published.created, true);
        assert.equal(published.deliveries, 1);
        const deliveries = await store.deliveries.listByEvent(published.event.id);
        assert.deepEqual(
          deliveries.map((d) => [d.endpointId, d.status, d.attemptCount]),
          [[endpoints[0]?.id, 'pending', 0]],
        );
        assert.deepEqual(await store.events.get(published.event.id), published.event);
      } finally {
        await store.close();
      }
    });

    it('refuses to publish for an unknown partner and writes nothing', async () => {
      const store = await freshStore();
      try {
        await assert.rejects(store.events.publish(event('ptn_nobody'), Date.now(), 0), {
          code: 'partner_not_found',
        });
        assert.deepEqual(await store.queue.claim(Date.now(), 10, 60_000, { skip: [] }), []);
      } finally {
        await store.close();
      }
    });

    it('returns the first event for a repeated idempotency key within 24 h, and a new one after', async () => {
      const store = await freshStore();
      try {
        const { partner } = await partnerWithEndpoints(store, 1);
        const now = Date.now();
        const first = await store.events.publish(event(partner.id, { idempotencyKey: 'k-1' }), now, 0);
        const again = await store.events.publish(
          event(partner.id, { idempotencyKey: 'k-1', type: 'other.type' }),
          now + 1000,
          0,
        );
        assert.equal(again.created, false);
        assert.equal(again.event.id, first.event.id);
        assert.equal(again.event.type, 'proposal.created');
        assert.equal((await store.queue.claim(now + 2000, 10, 60_000, { skip: [] })).length, 1);

        const later = await store.events.publish(
          event(partner.id, { idempotencyKey: 'k-1' }),
          now + IDEMPOTENCY_WINDOW_MS + 1,
          0,
        );
        assert.equal(later.created, true);
        assert.notEqual(later.event.id, first.event.id);
      } finally {
        await store.close();
      }
    });

    it('creates one event when the same key is published concurrently', async () => {
      const store = await freshStore();
      try {
        const { partner } = await partnerWithEndpoints(store, 1);
        const now = Date.now();
        const results = await Promise.all(
          Array.from({ length: 8 }, () =>
            store.events.publish(event(partner.id, { idempotencyKey: 'race' }), now, 0),
          ),
        );
        assert.equal(new Set(results.map((r) => r.event.id)).size, 1);
        assert.equal(results.filter((r) => r.created).length, 1);
        assert.equal((await store.queue.claim(now, 100, 60_000, { skip: [] })).length, 1);
      } finally {
        await store.close();
      }
    });

    it('leases due deliveries, hides them until the lease expires, and hands them out again after', async () => {
      const store = await freshStore();
      try {
        const { partner } = await partnerWithEndpoints(store, 2);
        const now = Date.now();
        await store.events.publish(event(partner.id), now, 0);
        const claimed = await store.queue.claim(now, 10, 30_000, { skip: [] });
        assert.equal(claimed.length, 2);
        assert.match(claimed[0]?.event.data ?? '', /^\{"proposal_id":"\d+"\}$/);
        assert.match(claimed[0]?.endpoint.secret ?? '', /^whsec_/);
        assert.deepEqual(await store.queue.claim(now + 29_000, 10, 30_000, { skip: [] }), []);
        // The dispatcher that held them died: after the lease they are due again, with a new token.
        const again = await store.queue.claim(now + 30_001, 10, 30_000, { skip: [] });
        assert.equal(again.length, 2);
        assert.ok(
          again.every((d) => d.leaseToken === (claimed.find((c) => c.id === d.id)?.leaseToken ?? 0) + 1),
        );

        // The late result of the first lease is dropped; the current one is recorded.
        const [a] = claimed;
        const [current] = again.filter((d) => d.id === a?.id);
        assert.ok(a && current);
        const result = {
          id: a.id,
          status: 'succeeded' as const,
          nextAttemptAt: null,
          disableEndpoint: null,
          releaseLine: null,
        };
        await store.queue.complete(
          [{ ...result, leaseToken: a.leaseToken, attempt: okAttempt(1, now) }],
          now,
        );
        assert.equal((await store.deliveries.get(a.id)).status, 'pending');
        await store.queue.complete(
          [{ ...result, leaseToken: current.leaseToken, attempt: okAttempt(1, now) }],
          now,
        );
        const done = await store.deliveries.get(a.id);
        assert.equal(done.status, 'succeeded');
        assert.equal(done.attemptCount, 1);
        assert.deepEqual(done.attempts, [okAttempt(1, now)]);
      } finally {
        await store.close();
      }
    });

    it('claims for all endpoints but some, or for some only, and releases leases without counting an attempt', async () => {
      const store = await freshStore();
      try {
        const { partner, endpoints } = await partnerWithEndpoints(store, 2);
        const now = Date.now();
        await store.events.publish(event(partner.id), now, 0);
        const skipped = endpoints[0]?.id ?? '';
        const claimed = await store.queue.claim(now, 10, 30_000, { skip: [skipped] });
        assert.deepEqual(
          claimed.map((d) => d.endpoint.id),
          [endpoints[1]?.id],
        );
        await store.queue.release(claimed, now + 1);
        const only = await store.queue.claim(now + 2, 10, 30_000, { only: [skipped] });
        assert.deepEqual(
          only.map((d) => d.endpoint.id),
          [skipped],
        );
        await store.queue.release(only, now + 2);
        const back = await store.queue.claim(now + 3, 10, 30_000, { skip: [] });
        assert.equal(back.length, 2);
        assert.ok(back.every((d) => d.attemptCount === 0));
      } finally {
        await store.close();
      }
    });

    it('records failures, schedules retries and disables an endpoint that answered 410', async () => {
      const store = await freshStore();
      try {
        const { partner, endpoints } = await partnerWithEndpoints(store, 1);
        const now = Date.now();
        await store.events.publish(event(partner.id), now, 0);
        const [d] = await store.queue.claim(now, 10, 30_000, { skip: [] });
        assert.ok(d);
        await store.queue.complete(
          [
            {
              id: d.id,
              leaseToken: d.leaseToken,
              status: 'failed',
              nextAttemptAt: null,
              disableEndpoint: d.endpoint.id,
              releaseLine: null,
              attempt: {
                ...okAttempt(1, now),
                statusCode: 410,
                error: 'http_status',
                errorMessage: 'HTTP 410',
              },
            },
          ],
          now,
        );
        const endpoint = await store.endpoints.get(endpoints[0]?.id ?? '');
        assert.equal(endpoint.enabled, false);
        assert.equal(endpoint.disabledReason, 'gone');
        const delivery = await store.deliveries.get(d.id);
        assert.equal(delivery.status, 'failed');
        assert.equal(delivery.attempts[0]?.statusCode, 410);
        // New events skip the disabled endpoint.
        assert.equal((await store.events.publish(event(partner.id), now, 0)).deliveries, 0);
      } finally {
        await store.close();
      }
    });

    it('retries a failed delivery once on request, and refuses while an attempt is in flight', async () => {
      const store = await freshStore();
      try {
        const { partner } = await partnerWithEndpoints(store, 1);
        const now = Date.now();
        await store.events.publish(event(partner.id), now, 0);
        const [d] = await store.queue.claim(now, 10, 30_000, { skip: [] });
        assert.ok(d);
        await assert.rejects(store.deliveries.retry(d.id, now + 1), { code: 'delivery_in_flight' });
        const failed = {
          ...okAttempt(1, now),
          statusCode: 500,
          error: 'http_status' as const,
          errorMessage: 'HTTP 500',
        };
        await store.queue.complete(
          [
            {
              id: d.id,
              leaseToken: d.leaseToken,
              status: 'failed',
              nextAttemptAt: null,
              disableEndpoint: null,
              releaseLine: null,
              attempt: failed,
            },
          ],
          now,
        );
        await store.deliveries.retry(d.id, now + 10);
        const [again] = await store.queue.claim(now + 10, 10, 30_000, { skip: [] });
        assert.equal(again?.id, d.id);
        assert.equal(again?.manualRetry, true);
        assert.equal(again?.attemptCount, 1);
        await assert.rejects(store.deliveries.retry('dlv_missing', now), { code: 'delivery_not_found' });
      } finally {
        await store.close();
      }
    });

    it('soft-deletes endpoints: gone from the API, still behind their deliveries', async () => {
      const store = await freshStore();
      try {
        const { partner, endpoints } = await partnerWithEndpoints(store, 1);
        const id = endpoints[0]?.id ?? '';
        const now = Date.now();
        await store.events.publish(event(partner.id), now, 0);
        await store.endpoints.delete(id, now);
        await assert.rejects(store.endpoints.get(id), { code: 'endpoint_not_found' });
        await assert.rejects(store.endpoints.delete(id, now), { code: 'endpoint_not_found' });
        assert.deepEqual(
          await store.endpoints.listByPartner(partner.id, 'endpoint', { limit: 10, after: '' }),
          [],
        );
        const [d] = await store.queue.claim(now, 10, 30_000, { skip: [] });
        assert.equal(d?.endpoint.deleted, true);
      } finally {
        await store.close();
      }
    });

    it('a failing update leaves the endpoint as it was', async () => {
      const store = await freshStore();
      try {
        const { endpoints } = await partnerWithEndpoints(store, 1);
        const before = endpoints[0];
        assert.ok(before);
        await assert.rejects(
          store.endpoints.update(
            before.id,
            () => {
              throw new Error('validation failed');
            },
            Date.now(),
          ),
          /validation failed/,
        );
        assert.deepEqual(await store.endpoints.get(before.id), before);
      } finally {
        await store.close();
      }
    });

    it('never hands one delivery to two concurrent claimers', async () => {
      const url = await engine.freshDatabaseUrl();
      const stores = [openStore({ databaseUrl: url, poolSize: 4, logger, masterKey })];
      await stores[0]?.migrate();
      // Several processes' worth of connections on PostgreSQL; SQLite has one writer anyway.
      if (engine.name === 'postgres') {
        for (let i = 0; i < 3; i++)
          stores.push(openStore({ databaseUrl: url, poolSize: 4, logger, masterKey }));
      }
      const main = stores[0];
      assert.ok(main);
      try {
        const { partner } = await partnerWithEndpoints(main, 2);
        const now = Date.now();
        for (let i = 0; i < 150; i++) await main.events.publish(event(partner.id), now, 0);
        const claimedIds: string[] = [];
        await Promise.all(
          stores.flatMap((s) =>
            Array.from({ length: 4 }, async () => {
              for (;;) {
                const batch = await s.queue.claim(now, 7, 30_000, { skip: [] });
                if (batch.length === 0) return;
                claimedIds.push(...batch.map((d) => d.id));
              }
            }),
          ),
        );
        assert.equal(claimedIds.length, 300);
        assert.equal(new Set(claimedIds).size, 300);
      } finally {
        for (const s of stores) await s.close();
      }
    });
  });
}
