import { newId } from '../domain/ids.ts';
import type { ProposalStatus } from '../domain/statuses.ts';
import type { Environment, EventRecord, Proposal } from '../domain/types.ts';
import { AppError, notFound } from '../errors.ts';
import type { Db, Queryable } from './db.ts';
import { insertOrConflict } from './errors.ts';
import { publishIn } from './events.ts';
import { requirePartner } from './partners.ts';
import { requireStores, resourceEndpointFor } from './resources.ts';
import type { Sealer } from './sealed.ts';
import type { Waker } from './waker.ts';

interface ProposalRow {
  id: string;
  partner_id: string;
  environment: Environment;
  external_id: string | null;
  store_id: string | null;
  webhook_url: string | null;
  status: ProposalStatus;
  previous_status: ProposalStatus | null;
  reason: string | null;
  description: string | null;
  status_changed_at: number;
  data: string;
  approval: string | null;
  approved_at: number | null;
  payment: string | null;
  payment_approved_at: number | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS =
  'id, partner_id, environment, external_id, store_id, webhook_url, status, previous_status, reason, description, ' +
  'status_changed_at, data, approval, approved_at, payment, payment_approved_at, created_at, updated_at';

const toProposal = (r: ProposalRow): Proposal => ({
  id: r.id,
  partnerId: r.partner_id,
  environment: r.environment,
  externalId: r.external_id,
  storeId: r.store_id,
  webhookUrl: r.webhook_url,
  status: r.status,
  previousStatus: r.previous_status,
  reason: r.reason,
  description: r.description,
  statusChangedAt: r.status_changed_at,
  data: r.data,
  approval: r.approval,
  approvedAt: r.approved_at,
  payment: r.payment,
  paymentApprovedAt: r.payment_approved_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface NewProposal
  extends Pick<Proposal, 'partnerId' | 'environment' | 'externalId' | 'storeId' | 'webhookUrl' | 'status'> {
  /** Generated when null. */
  id: string | null;
  /** A JSON object, kept and merged into the proposal.created event's data. */
  data: Record<string, unknown>;
  /** Created already approved: `data` is also the credit approval. */
  approved: boolean;
  /** Created already released or paid: `data` is also the payment approval. */
  paymentApproved: boolean;
}

/** What a status change writes, decided (and validated) by the caller from the current proposal. */
export interface StatusChange {
  status: ProposalStatus;
  reason: string | null;
  description: string | null;
  /** Merged into the event's data; kept as the approval or payment conditions when it reaches them. */
  data: Record<string, unknown>;
  /** Store `data` as the credit approval (first time `approved` is reached). */
  approves: boolean;
  /** Store `data` as the payment approval (first time `released` or `paid` is reached). */
  approvesPayment: boolean;
}

export interface ProposalChange {
  proposal: Proposal;
  /** null when the status was already the one asked for: nothing changed, no event. */
  event: EventRecord | null;
}

/**
 * The lender's side of proposals. Every change writes the proposal and publishes its event in
 * one transaction: the webhook can never announce a status the polling endpoints do not show.
 */
export class Proposals {
  readonly #db: Db;
  readonly #waker: Waker;
  readonly #sealer: Sealer;

  constructor(db: Db, waker: Waker, sealer: Sealer) {
    this.#db = db;
    this.#waker = waker;
    this.#sealer = sealer;
  }

  /** Runs a change that publishes, and announces its due deliveries once it has committed. */
  async #publishing(
    change: (tx: Queryable) => Promise<ProposalChange & { due: number }>,
  ): Promise<ProposalChange> {
    const { due, ...result } = await this.#db.transaction(change);
    if (due > 0) this.#waker.wake();
    return result;
  }

  create(input: NewProposal, now: number, firstAttemptDelayMs: number): Promise<ProposalChange> {
    const id = input.id ?? newId('prp');
    const data = JSON.stringify(input.data);
    return this.#publishing(async (tx) => {
      await requirePartner(tx, input.partnerId);
      if (input.storeId !== null) await requireStores(tx, input.partnerId, [input.storeId]);
      await insertOrConflict(
        tx,
        `INSERT INTO proposals (id, partner_id, environment, external_id, store_id, webhook_url, status,
             status_changed_at, data, approval, approved_at, payment, payment_approved_at, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $8, $8)`,
        [
          id,
          input.partnerId,
          input.environment,
          input.externalId,
          input.storeId,
          input.webhookUrl,
          input.status,
          now,
          data,
          input.approved ? data : null,
          input.approved ? now : null,
          input.paymentApproved ? data : null,
          input.paymentApproved ? now : null,
        ],
        () => new AppError(409, 'proposal_exists', `A proposal ${JSON.stringify(id)} already exists.`),
      );
      if (input.webhookUrl) {
        await resourceEndpointFor(
          tx,
          this.#sealer,
          input.partnerId,
          input.environment,
          input.webhookUrl,
          now,
        );
      }
      const proposal = await find(tx, id, false);
      const published = await publishIn(
        tx,
        {
          partnerId: input.partnerId,
          environment: input.environment,
          type: 'proposal.created',
          subject: `proposal/${id}`,
          storeId: input.storeId,
          data: JSON.stringify({
            ...input.data,
            proposal_id: id,
            external_id: input.externalId,
            store_id: input.storeId,
            status: input.status,
          }),
          idempotencyKey: null,
        },
        { now, firstAttemptDelayMs },
      );
      return { proposal, event: published.event, due: published.due };
    });
  }

  get(id: string): Promise<Proposal> {
    return find(this.#db, id, false);
  }

  /**
   * Moves a proposal to a new status. `decide` sees the current proposal (locked on
   * PostgreSQL, so two changes cannot both start from the same status) and returns the change,
   * null for "already there", or throws (an invalid transition) to write nothing.
   */
  changeStatus(
    id: string,
    decide: (current: Proposal) => StatusChange | null,
    now: number,
    firstAttemptDelayMs: number,
  ): Promise<ProposalChange> {
    return this.#publishing(async (tx) => {
      const current = await find(tx, id, true);
      const change = decide(current);
      if (change === null) return { proposal: current, event: null, due: 0 };
      const conditions = JSON.stringify(change.data);
      await tx.run(
        `UPDATE proposals SET status = $2, previous_status = status, reason = $3, description = $4,
           status_changed_at = $5, updated_at = $5,
           approval = CASE WHEN $6 AND approved_at IS NULL THEN $7 ELSE approval END,
           approved_at = CASE WHEN $6 AND approved_at IS NULL THEN $5 ELSE approved_at END,
           payment = CASE WHEN $8 AND payment_approved_at IS NULL THEN $7 ELSE payment END,
           payment_approved_at = CASE WHEN $8 AND payment_approved_at IS NULL THEN $5 ELSE payment_approved_at END
         WHERE id = $1`,
        [
          id,
          change.status,
          change.reason,
          change.description,
          now,
          change.approves,
          conditions,
          change.approvesPayment,
        ],
      );
      const proposal = await find(tx, id, false);
      const published = await publishIn(
        tx,
        {
          partnerId: proposal.partnerId,
          environment: proposal.environment,
          type: 'proposal.status_changed',
          subject: `proposal/${id}`,
          storeId: proposal.storeId,
          data: JSON.stringify({
            ...change.data,
            proposal_id: id,
            external_id: proposal.externalId,
            store_id: proposal.storeId,
            status: proposal.status,
            previous_status: current.status,
            reason: change.reason,
            description: change.description,
            changed_at: new Date(now).toISOString(),
          }),
          idempotencyKey: null,
        },
        { now, firstAttemptDelayMs },
      );
      return { proposal, event: published.event, due: published.due };
    });
  }
}

async function find(q: Queryable, id: string, forUpdate: boolean): Promise<Proposal> {
  const lock = forUpdate && q.engine === 'postgres' ? ' FOR UPDATE' : '';
  const row = await q.get<ProposalRow>(`SELECT ${COLUMNS} FROM proposals WHERE id = $1${lock}`, [id]);
  if (!row) throw notFound('proposal', id);
  return toProposal(row);
}
