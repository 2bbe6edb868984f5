import { newId } from '../domain/ids.ts';
import type { Partner } from '../domain/types.ts';
import { AppError, notFound } from '../errors.ts';
import type { Db, Queryable } from './db.ts';
import { insertOrConflict } from './errors.ts';

interface PartnerRow {
  id: string;
  name: string;
  cnpj: string;
  contact_name: string;
  contact_email: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'id, name, cnpj, contact_name, contact_email, created_at, updated_at';

const toPartner = (r: PartnerRow): Partner => ({
  id: r.id,
  name: r.name,
  cnpj: r.cnpj,
  contact: { name: r.contact_name, email: r.contact_email },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface NewPartner {
  name: string;
  cnpj: string;
  contact: { name: string; email: string };
}

export interface Page {
  limit: number;
  /** Return records whose id sorts after this one. */
  after: string;
}

export async function requirePartner(q: Queryable, partnerId: string): Promise<void> {
  const found = await q.get('SELECT 1 AS one FROM partners WHERE id = $1', [partnerId]);
  if (!found) throw notFound('partner', partnerId);
}

export class Partners {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async create(input: NewPartner, now: number): Promise<Partner> {
    const partner: Partner = { id: newId('ptn'), ...input, createdAt: now, updatedAt: now };
    await insertOrConflict(
      this.#db,
      `INSERT INTO partners (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [partner.id, partner.name, partner.cnpj, partner.contact.name, partner.contact.email, now, now],
      () => new AppError(409, 'partner_exists', `A partner with CNPJ ${input.cnpj} is already registered.`),
    );
    return partner;
  }

  async get(id: string): Promise<Partner> {
    const row = await this.#db.get<PartnerRow>(`SELECT ${COLUMNS} FROM partners WHERE id = $1`, [id]);
    if (!row) throw notFound('partner', id);
    return toPartner(row);
  }

  async list(page: Page): Promise<Partner[]> {
    const rows = await this.#db.all<PartnerRow>(
      `SELECT ${COLUMNS} FROM partners WHERE id > $1 ORDER BY id LIMIT $2`,
      [page.after, page.limit],
    );
    return rows.map(toPartner);
  }
}
