import { checkEndpointUrl } from '../domain/network.ts';
import type { Endpoint, Environment } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { endpointJson } from './render.ts';
import { EndpointPatchBody, Id, NewEndpointBody, PageQuery, PartnerIdParam } from './schemas.ts';
import { type Api, type ApiOptions, page } from './server.ts';

export function endpointRoutes(app: Api, { store, allowPrivateNetworks }: ApiOptions): void {
  const validUrl = (url: string, environment: Environment): string => {
    const check = checkEndpointUrl(url, environment, allowPrivateNetworks);
    if (!check.ok)
      throw new AppError(422, check.code, check.message, [{ path: '/url', message: check.message }]);
    return check.url;
  };

  app.post(
    '/partners/:partner_id/endpoints',
    { schema: { params: PartnerIdParam, body: NewEndpointBody } },
    async (request, reply) => {
      const body = request.body;
      const endpoint = await store.endpoints.create(
        {
          partnerId: request.params.partner_id,
          url: validUrl(body.url, body.environment),
          environment: body.environment,
          eventTypes: body.event_types ?? null,
          description: body.description ?? null,
        },
        Date.now(),
      );
      // The only response that carries the secret besides GET …/secret.
      return reply.status(201).send({ ...endpointJson(endpoint), secret: endpoint.secret });
    },
  );

  app.get(
    '/partners/:partner_id/endpoints',
    { schema: { params: PartnerIdParam, querystring: PageQuery } },
    async (request) =>
      (await store.endpoints.listByPartner(request.params.partner_id, page(request.query))).map(endpointJson),
  );

  app.get('/endpoints/:id', { schema: { params: Id } }, async (request) =>
    endpointJson(await store.endpoints.get(request.params.id)),
  );

  app.get('/endpoints/:id/secret', { schema: { params: Id } }, async (request) => ({
    secret: (await store.endpoints.get(request.params.id)).secret,
  }));

  app.patch('/endpoints/:id', { schema: { params: Id, body: EndpointPatchBody } }, async (request) => {
    const patch = request.body;
    const updated = await store.endpoints.update(
      request.params.id,
      (current): Endpoint => {
        const environment = patch.environment ?? current.environment;
        const url = patch.url ?? current.url;
        const enabled = patch.enabled ?? current.enabled;
        return {
          ...current,
          // Re-checked when either changes: moving a sandbox http endpoint to production must fail.
          url: patch.url !== undefined || patch.environment !== undefined ? validUrl(url, environment) : url,
          environment,
          eventTypes: patch.event_types === undefined ? current.eventTypes : patch.event_types,
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
