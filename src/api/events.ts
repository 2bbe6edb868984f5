import { EVENT_CATALOG, subjectOf } from '../domain/catalog.ts';
import { AppError } from '../errors.ts';
import { validateEventData } from './event-data.ts';
import { deliveryJson, eventJson } from './render.ts';
import { FeedQuery, Id, NewEventBody } from './schemas.ts';
import { type Api, type ApiOptions, page } from './server.ts';

export function eventRoutes(app: Api, { store, firstAttemptDelayMs, onDue }: ApiOptions): void {
  app.get('/event-types', async () =>
    EVENT_CATALOG.map((spec) => ({
      type: spec.type,
      description: spec.description,
      subject: spec.subject.kind,
      schema: spec.schema,
      example: spec.example,
      source: spec.source,
    })),
  );

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
    const spec = validateEventData(body.type, body.data);
    // The subject routes the event to a resource's webhook_url and orders its deliveries, so it
    // must agree with the resource the data names.
    const derived = subjectOf(spec, body.data);
    const subject = body.subject ?? derived;
    if (body.subject && derived && body.subject !== derived) {
      throw new AppError(
        422,
        'subject_mismatch',
        `subject ${JSON.stringify(body.subject)} does not match the data (${derived}).`,
        [{ path: '/subject', message: `should be ${derived}` }],
      );
    }
    const storeId = typeof body.data.store_id === 'string' ? body.data.store_id : null;
    const published = await store.events.publish(
      {
        partnerId: body.partner_id,
        environment: body.environment,
        type: body.type,
        subject,
        storeId,
        data: JSON.stringify(body.data),
        idempotencyKey: bodyKey ?? headerKey,
      },
      Date.now(),
      firstAttemptDelayMs,
    );
    if (published.due > 0) onDue();
    if (!published.created) reply.header('idempotent-replayed', 'true');
    return reply.status(202).type('application/json').send(eventJson(published.event));
  });

  // The catch-up feed: a partner that was down pages through its events, oldest first.
  app.get('/events', { schema: { querystring: FeedQuery } }, async (request, reply) => {
    const q = request.query;
    await store.partners.get(q.partner_id); // 404 for an unknown partner
    const feed = await store.events.feed(q.partner_id, q.environment, q.after ?? null, page(q).limit);
    return reply
      .type('application/json')
      .send(
        `{"data":[${feed.events.map(eventJson).join(',')}],"next_cursor":${JSON.stringify(feed.nextCursor)}}`,
      );
  });

  app.get('/events/:id', { schema: { params: Id } }, async (request, reply) =>
    reply.type('application/json').send(eventJson(await store.events.get(request.params.id))),
  );

  app.get('/events/:id/deliveries', { schema: { params: Id } }, async (request) =>
    (await store.deliveries.listByEvent(request.params.id)).map(deliveryJson),
  );
}
