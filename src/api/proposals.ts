import {
  allowedNext,
  CREDIT_APPROVED,
  canTransition,
  PAYMENT_APPROVED,
  PROPOSAL_STATUSES,
  type ProposalStatus,
  parseStatusInput,
} from '../domain/statuses.ts';
import type { Proposal } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import type { StatusChange } from '../store/index.ts';
import { eventJson, proposalJson, proposalStatusJson, simulationJson } from './render.ts';
import { Id, NewProposalBody, NewSimulationBody, StatusChangeBody } from './schemas.ts';
import type { Api, ApiOptions } from './server.ts';
import { validUrl } from './url.ts';

function status(input: string | number, path: string): ProposalStatus {
  const parsed = parseStatusInput(input);
  if (parsed === null) {
    throw new AppError(
      422,
      'unknown_status',
      `${JSON.stringify(input)} is not a proposal status. Use a canonical name (${PROPOSAL_STATUSES.join(', ')}), a BMP code (0-11), a Credere state or a Creditas name.`,
      [{ path, message: 'is not a known status' }],
    );
  }
  return parsed;
}

const notReached = (proposal: Proposal, what: string): AppError =>
  new AppError(
    404,
    'not_reached',
    `Proposal ${proposal.id} has not reached ${what} (it is ${proposal.status}).`,
    {
      status: proposal.status,
    },
  );

/** The lender drives proposals; partners' old polling endpoints are answered from the same rows. */
export function proposalRoutes(app: Api, options: ApiOptions): void {
  const { store, allowPrivateNetworks, firstAttemptDelayMs, onDue, transitions } = options;

  app.post('/proposals', { schema: { body: NewProposalBody } }, async (request, reply) => {
    const body = request.body;
    const webhookUrl = body.webhook_url
      ? validUrl(body.webhook_url, body.environment, allowPrivateNetworks, '/webhook_url')
      : null;
    const initial = body.status === undefined ? 'draft' : status(body.status, '/status');
    const { proposal, event } = await store.proposals.create(
      {
        id: body.id ?? null,
        partnerId: body.partner_id,
        environment: body.environment,
        externalId: body.external_id ?? null,
        storeId: body.store_id ?? null,
        webhookUrl,
        status: initial,
        data: body.data ?? {},
        // A proposal may enter Arauto mid-way (migrated from polling): its status says what it has reached.
        approved: CREDIT_APPROVED.includes(initial),
        paymentApproved: PAYMENT_APPROVED.includes(initial),
      },
      Date.now(),
      firstAttemptDelayMs,
    );
    onDue();
    return reply.status(201).send({ ...proposalJson(proposal), event_id: event?.id ?? null });
  });

  app.get('/proposals/:id', { schema: { params: Id } }, async (request) =>
    proposalJson(await store.proposals.get(request.params.id)),
  );

  app.post('/proposals/:id/status', { schema: { params: Id, body: StatusChangeBody } }, async (request) => {
    const body = request.body;
    const to = status(body.status, '/status');
    const { proposal, event } = await store.proposals.changeStatus(
      request.params.id,
      (current): StatusChange | null => {
        if (current.status === to) return null; // the same status again: nothing to announce
        if (!canTransition(transitions, current.status, to)) {
          const allowed = allowedNext(transitions, current.status);
          throw new AppError(
            409,
            'invalid_transition',
            `A proposal cannot go from ${current.status} to ${to}; allowed next: ${allowed.join(', ') || 'none (final status)'}.`,
            { from: current.status, to, allowed },
          );
        }
        return {
          status: to,
          reason: body.reason ?? null,
          description: body.description ?? null,
          data: body.data ?? {},
          approves: CREDIT_APPROVED.includes(to),
          approvesPayment: PAYMENT_APPROVED.includes(to),
        };
      },
      Date.now(),
      firstAttemptDelayMs,
    );
    if (event) onDue();
    return { ...proposalJson(proposal), event_id: event?.id ?? null };
  });

  app.get('/proposals/:id/status', { schema: { params: Id } }, async (request) =>
    proposalStatusJson(await store.proposals.get(request.params.id)),
  );

  app.get('/proposals/:id/conditions/credit-approved', { schema: { params: Id } }, async (request) => {
    const p = await store.proposals.get(request.params.id);
    if (p.approvedAt === null || p.approval === null) throw notReached(p, 'credit approval');
    return {
      proposal_id: p.id,
      external_id: p.externalId,
      status: p.status,
      approved_at: new Date(p.approvedAt).toISOString(),
      conditions: JSON.parse(p.approval) as unknown,
    };
  });

  app.get('/proposals/:id/conditions/payment-approved', { schema: { params: Id } }, async (request) => {
    const p = await store.proposals.get(request.params.id);
    if (p.paymentApprovedAt === null || p.payment === null)
      throw notReached(p, 'payment approval (released or paid)');
    return {
      proposal_id: p.id,
      external_id: p.externalId,
      status: p.status,
      payment_approved_at: new Date(p.paymentApprovedAt).toISOString(),
      payment: JSON.parse(p.payment) as unknown,
    };
  });

  app.get('/proposals/:id/events', { schema: { params: Id } }, async (request, reply) => {
    const proposal = await store.proposals.get(request.params.id);
    const events = await store.events.bySubject(`proposal/${proposal.id}`, 1000);
    return reply.type('application/json').send(`[${events.map(eventJson).join(',')}]`);
  });

  app.post('/simulations', { schema: { body: NewSimulationBody } }, async (request, reply) => {
    const body = request.body;
    const simulation = await store.simulations.create(
      {
        id: body.id ?? null,
        partnerId: body.partner_id,
        environment: body.environment,
        storeId: body.store_id ?? null,
        webhookUrl: body.webhook_url
          ? validUrl(body.webhook_url, body.environment, allowPrivateNetworks, '/webhook_url')
          : null,
      },
      Date.now(),
    );
    return reply.status(201).send(simulationJson(simulation));
  });

  app.get('/simulations/:id', { schema: { params: Id } }, async (request) =>
    simulationJson(await store.simulations.get(request.params.id)),
  );
}
