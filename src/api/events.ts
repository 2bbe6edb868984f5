import { AppError } from '../errors.ts';
import { deliveryJson, eventJson } from './render.ts';
import { Id, NewEventBody } from './schemas.ts';
import type { Api, ApiOptions } from './server.ts';

export function eventRoutes(app: Api, { store, firstAttemptDelayMs, onDue }: ApiOptions): void {
  app.post('/events', { schema: { body: NewEventBody } }, async (request, reply) => {
    const body = request.body;
    const header = request.headers['idempotency-key'];
    const headerKey = typeof header === 'string' && header !== '' ? header : null;
    const bodyKey = body.idempotency_key ?? null;
    if (headerKey !== null && bodyKey !== null && headerKey !== bodyKey) {
      throw new AppError(
        422,
        'idempotency_key_mismatch',
        'The Idempotency-Key header and idempotency_key differ.',
      );
    }
    const published = await store.events.publish(
      {
        partnerId: body.partner_id,
        environment: body.environment,
        type: body.type,
        subject: body.subject ?? null,
        data: JSON.stringify(body.data),
        idempotencyKey: bodyKey ?? headerKey,
      },
      Date.now(),
      firstAttemptDelayMs,
    );
    if (published.deliveries > 0) onDue();
    if (!published.created) reply.header('idempotent-replayed', 'true');
    return reply.status(202).type('application/json').send(eventJson(published.event));
  });

  app.get('/events/:id', { schema: { params: Id } }, async (request, reply) =>
    reply.type('application/json').send(eventJson(await store.events.get(request.params.id))),
  );

  app.get('/events/:id/deliveries', { schema: { params: Id } }, async (request) =>
    (await store.deliveries.listByEvent(request.params.id)).map(deliveryJson),
  );
}
