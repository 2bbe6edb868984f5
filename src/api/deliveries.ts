import { deliveryJson } from './render.ts';
import { Id } from './schemas.ts';
import type { Api, ApiOptions } from './server.ts';

export function deliveryRoutes(app: Api, { store, onDue }: ApiOptions): void {
  app.get('/deliveries/:id', { schema: { params: Id } }, async (request) =>
    deliveryJson(await store.deliveries.get(request.params.id)),
  );

  app.post('/deliveries/:id/retry', { schema: { params: Id } }, async (request, reply) => {
    await store.deliveries.retry(request.params.id, Date.now());
    onDue();
    return reply.status(202).send(deliveryJson(await store.deliveries.get(request.params.id)));
  });
}
