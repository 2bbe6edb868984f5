import { newId } from '../domain/ids.ts';
import { newSigningSecret } from '../domain/signature.ts';
import type { Environment, PartnerStore, Simulation } from '../domain/types.ts';
import { AppError, notFound } from '../errors.ts';
import { type Db, inList, type Queryable } from './db.ts';
import { ensureResourceEndpoint } from './endpoints.ts';
import { insertOrConflict } from './errors.ts';
import { type Page, requirePartner } from './partners.ts';
import type { Sealer } from './sealed.ts';

/**
 * The secret that signs requests to `webhook_url`s (per partner and environment): a partner
 * that passes its URL on each proposal reads it once from the API. Created on first use.
 */
export async function partnerSecret(
  q: Queryable,
  sealer: Sealer,
  partnerId: string,
  environment: Environment,
  now: number,
): Promise<string> {
  const aad = `partner:${partnerId}:${environment}:secret`;
  const read = () =>
    q.get<{ secret: string }>(
      'SELECT secret FROM partner_secrets WHERE partner_id = $1 AND environment = $2',
      [partnerId, environment],
    );
  const existing = await read();
  if (existing) return sealer.open(existing.secret, aad);
  await q.run(
    `INSERT INTO partner_secrets (partner_id, environment, secret, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (partner_id, environment) DO NOTHING`,
    [partnerId, environment, sealer.seal(newSigningSecret(), aad), now],
  );
  const row = await read();
  if (!row) throw new Error('partner secret vanished after insert');
  return sealer.open(row.secret, aad);
}

/** The endpoint behind a resource's `webhook_url`, created with the partner's secret. */
export async function resourceEndpointFor(
  tx: Queryable,
  sealer: Sealer,
  partnerId: string,
  environment: Environment,
  url: string,
  now: number,
): Promise<string> {
  const secret = await partnerSecret(tx, sealer, partnerId, environment, now);
  return ensureResourceEndpoint(tx, sealer, partnerId, environment, url, secret, now);
}

/** Fails with 422 `unknown_store` unless every id is a store of the partner. */
export async function requireStores(q: Queryable, partnerId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await q.all<{ id: string }>(
    `SELECT id FROM stores WHERE partner_id = $1 AND id ${inList(q.engine, 2)}`,
    [partnerId, ids],
  );
  const known = new Set(rows.map((r) => r.id));
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new AppError(
      422,
      'unknown_store',
      `The partner has no store ${missing.map((m) => JSON.stringify(m)).join(', ')}.`,
      {
        stores: missing,
      },
    );
  }
}

interface StoreRow {
  partner_id: string;
  id: string;
  name: string;
  cnpj: string;
  created_at: number;
}

const toStore = (r: StoreRow): PartnerStore => ({
  partnerId: r.partner_id,
  id: r.id,
  name: r.name,
  cnpj: r.cnpj,
  createdAt: r.created_at,
});

export class Stores {
  readonly #db: Db;
  readonly #sealer: Sealer;

  constructor(db: Db, sealer: Sealer) {
    this.#db = db;
    this.#sealer = sealer;
  }

  create(partnerId: string, input: { id: string | null; name: string; cnpj: string }, now: number) {
    const store: PartnerStore = {
      partnerId,
      id: input.id ?? newId('str'),
      name: input.name,
      cnpj: input.cnpj,
      createdAt: now,
    };
    return this.#db.transaction(async (tx) => {
      await requirePartner(tx, partnerId);
      await insertOrConflict(
        tx,
        'INSERT INTO stores (partner_id, id, name, cnpj, created_at) VALUES ($1, $2, $3, $4, $5)',
        [partnerId, store.id, store.name, store.cnpj, now],
        () =>
          new AppError(409, 'store_exists', `The partner already has a store ${JSON.stringify(store.id)}.`),
      );
      return store;
    });
  }

  async list(partnerId: string, page: Page): Promise<PartnerStore[]> {
    await requirePartner(this.#db, partnerId);
    const rows = await this.#db.all<StoreRow>(
      'SELECT partner_id, id, name, cnpj, created_at FROM stores WHERE partner_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [partnerId, page.after, page.limit],
    );
    return rows.map(toStore);
  }

  async get(partnerId: string, id: string): Promise<PartnerStore> {
    const row = await this.#db.get<StoreRow>(
      'SELECT partner_id, id, name, cnpj, created_at FROM stores WHERE partner_id = $1 AND id = $2',
      [partnerId, id],
    );
    if (!row) throw notFound('store', id);
    return toStore(row);
  }

  secret(partnerId: string, environment: Environment, now: number): Promise<string> {
    return this.#db.transaction(async (tx) => {
      await requirePartner(tx, partnerId);
      return partnerSecret(tx, this.#sealer, partnerId, environment, now);
    });
  }
}

interface SimulationRow {
  id: string;
  partner_id: string;
  environment: Environment;
  store_id: string | null;
  webhook_url: string | null;
  created_at: number;
}

const toSimulation = (r: SimulationRow): Simulation => ({
  id: r.id,
  partnerId: r.partner_id,
  environment: r.environment,
  storeId: r.store_id,
  webhookUrl: r.webhook_url,
  createdAt: r.created_at,
});

export class Simulations {
  readonly #db: Db;
  readonly #sealer: Sealer;

  constructor(db: Db, sealer: Sealer) {
    this.#db = db;
    this.#sealer = sealer;
  }

  create(
    input: Omit<Simulation, 'id' | 'createdAt'> & { id: string | null },
    now: number,
  ): Promise<Simulation> {
    const simulation: Simulation = { ...input, id: input.id ?? newId('sim'), createdAt: now };
    return this.#db.transaction(async (tx) => {
      await requirePartner(tx, input.partnerId);
      if (input.storeId !== null) await requireStores(tx, input.partnerId, [input.storeId]);
      await insertOrConflict(
        tx,
        `INSERT INTO simulations (id, partner_id, environment, store_id, webhook_url, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          simulation.id,
          simulation.partnerId,
          simulation.environment,
          simulation.storeId,
          simulation.webhookUrl,
          now,
        ],
        () =>
          new AppError(
            409,
            'simulation_exists',
            `A simulation ${JSON.stringify(simulation.id)} already exists.`,
          ),
      );
      if (simulation.webhookUrl) {
        await resourceEndpointFor(
          tx,
          this.#sealer,
          simulation.partnerId,
          simulation.environment,
          simulation.webhookUrl,
          now,
        );
      }
      return simulation;
    });
  }

  async get(id: string): Promise<Simulation> {
    const row = await this.#db.get<SimulationRow>(
      'SELECT id, partner_id, environment, store_id, webhook_url, created_at FROM simulations WHERE id = $1',
      [id],
    );
    if (!row) throw notFound('simulation', id);
    return toSimulation(row);
  }
}
