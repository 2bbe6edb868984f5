import { checkEndpointUrl } from '../domain/network.ts';
import type { Endpoint, Environment } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { requireStores } from '../store/index.ts';
import { checkEventTypeFilters } from './event-data.ts';
import { endpointJson } from './render.ts';
import { EndpointListQuery, EndpointPatchBody, Id, NewEndpointBody, PartnerIdParam } from './schemas.ts';
import { type Api, type ApiOptions, page } from './server.ts';

/**
 * Checks a URL a partner gave (endpoint or `webhook_url`) and returns it normalised, so that the
 * same URL registered in two places compares equal.
 */
export function validUrl(
  url: string,
  environment: Environment,
  allowPrivateNetworks: boolean,
  path = '/url',
): string {
  const check = checkEndpointUrl(url, environment, allowPrivateNetworks);
  if (!check.ok) throw new AppError(422, check.code, check.message, [{ path, message: check.message }]);
  return check.url;
}

export function endpointRoutes(app: Api, { store, allowPrivateNetworks }: ApiOptions): void {
  app.post(
    '/partners/:partner_id/endpoints',
    { schema: { params: PartnerIdParam, body: NewEndpointBody } },
    async (request, reply) => {
      const body = request.body;
      const partnerId = request.params.partner_id;
      checkEventTypeFilters(body.event_types);
      const storeIds = body.store_ids ?? null;
      const endpoint = await store.endpoints.create(
        {
          partnerId,
          url: validUrl(body.url, body.environment, allowPrivateNetworks),
          environment: body.environment,
          eventTypes: body.event_types ?? null,
          storeIds,
          ordering: body.ordering ?? 'subject',
          description: body.description ?? null,
        },
        Date.now(),
        (tx) => requireStores(tx, partnerId, storeIds ?? []),
      );
      // The only response that carries the secret besides GET …/secret.
      return reply.status(201).send({ ...endpointJson(endpoint), secret: endpoint.secret });
    },
  );

  app.get(
    '/partners/:partner_id/endpoints',
    { schema: { params: PartnerIdParam, querystring: EndpointListQuery } },
    async (request) =>
      (
        await store.endpoints.listByPartner(
          request.params.partner_id,
          request.query.kind ?? 'endpoint',
          page(request.query),
        )
      ).map(endpointJson),
  );

  app.get('/endpoints/:id', { schema: { params: Id } }, async (request) =>
    endpointJson(await store.endpoints.get(request.params.id)),
  );

  app.get('/endpoints/:id/secret', { schema: { params: Id } }, async (request) => ({
    secret: (await store.endpoints.get(request.params.id)).secret,
  }));

  app.patch('/endpoints/:id', { schema: { params: Id, body: EndpointPatchBody } }, async (request) => {
    const patch = request.body;
    checkEventTypeFilters(patch.event_types);
    const updated = await store.endpoints.update(
      request.params.id,
      async (current, tx): Promise<Endpoint> => {
        if (current.kind === 'resource' && Object.keys(patch).some((k) => k !== 'enabled')) {
          throw new AppError(
            422,
            'resource_endpoint',
            'This endpoint stands for a webhook_url given on proposals or simulations: only `enabled` can change.',
          );
        }
        const environment = patch.environment ?? current.environment;
        const url = patch.url ?? current.url;
        const enabled = patch.enabled ?? current.enabled;
        if (patch.store_ids) await requireStores(tx, current.partnerId, patch.store_ids);
        return {
          ...current,
          // Re-checked when either changes: moving a sandbox http endpoint to production must fail.
          url:
            patch.url !== undefined || patch.environment !== undefined
              ? validUrl(url, environment, allowPrivateNetworks)
              : url,
          environment,
          eventTypes: patch.event_types === undefined ? current.eventTypes : patch.event_types,
          storeIds: patch.store_ids === undefined ? current.storeIds : patch.store_ids,
          ordering: patch.ordering ?? current.ordering,
          description: patch.description === undefined ? current.description : patch.description,
          enabled,
          disabledReason: enabled ? null : patch.enabled === false ? 'manual' : current.disabledReason,
        };
      },
      Date.now(),
    );
    return endpointJson(updated);
  });

  app.delete('/endpoints/:id', { schema: { params: Id } }, async (request, reply) => {
    await store.endpoints.delete(request.params.id, Date.now());
    return reply.status(204).send();
  });
}
