import { eventTypeSpec, subjectOf } from '../domain/catalog.ts';
import { newId } from '../domain/ids.ts';
import { publicKeyOf } from '../domain/signature-v1a.ts';
import type { Endpoint } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { FORMATS } from '../formats/index.ts';
import { requireStores } from '../store/index.ts';
import { checkDeliveryShape, parseAuth } from './endpoint-contract.ts';
import { checkEventTypeFilters } from './event-data.ts';
import { endpointJson } from './render.ts';
import {
  EndpointListQuery,
  EndpointPatchBody,
  Id,
  NewEndpointBody,
  PartnerIdParam,
  TestSendBody,
} from './schemas.ts';
import { type Api, type ApiOptions, page } from './server.ts';
import { validUrl } from './url.ts';

export function endpointRoutes(app: Api, { store, allowPrivateNetworks, testSend }: ApiOptions): void {
  app.post(
    '/partners/:partner_id/endpoints',
    { schema: { params: PartnerIdParam, body: NewEndpointBody } },
    async (request, reply) => {
      const body = request.body;
      const partnerId = request.params.partner_id;
      checkEventTypeFilters(body.event_types);
      const eventTypes = body.event_types ?? null;
      const format = body.format ?? 'standard';
      const shape = checkDeliveryShape(
        {
          url: body.url,
          environment: body.environment,
          format,
          method: body.method ?? null,
          formatOptions: body.format_options,
          eventTypes,
        },
        allowPrivateNetworks,
      );
      const storeIds = body.store_ids ?? null;
      const endpoint = await store.endpoints.create(
        {
          partnerId,
          url: shape.url,
          environment: body.environment,
          eventTypes,
          storeIds,
          ordering: body.ordering ?? 'subject',
          format,
          method: shape.method,
          payload: body.payload ?? 'full',
          formatOptions: shape.formatOptions,
          signature: body.signature ?? 'v1',
          auth: body.auth ? parseAuth(body.auth, body.environment, allowPrivateNetworks) : { type: 'none' },
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

  // For `signature: "v1a"`: the partner verifies ed25519 signatures with this public key.
  app.get('/endpoints/:id/public-key', { schema: { params: Id } }, async (request) => {
    const endpoint = await store.endpoints.get(request.params.id);
    return { public_key: publicKeyOf(endpoint.signingKey), signature: endpoint.signature };
  });

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
        const enabled = patch.enabled ?? current.enabled;
        const eventTypes = patch.event_types === undefined ? current.eventTypes : patch.event_types;
        const format = patch.format ?? current.format;
        // A new format brings its own default method and options unless they are given too.
        const formatChanged = patch.format !== undefined && patch.format !== current.format;
        const shape = checkDeliveryShape(
          {
            url: patch.url ?? current.url,
            environment,
            format,
            method: patch.method ?? (formatChanged ? null : current.method),
            formatOptions:
              patch.format_options !== undefined
                ? patch.format_options
                : formatChanged
                  ? null
                  : current.formatOptions,
            eventTypes,
          },
          allowPrivateNetworks,
        );
        if (patch.store_ids) await requireStores(tx, current.partnerId, patch.store_ids);
        // Kept credentials must still suit a new environment (an http token URL is not production).
        if (patch.auth === undefined && current.auth.type === 'oauth2') {
          validUrl(current.auth.tokenUrl, environment, allowPrivateNetworks, '/auth/token_url');
        }
        return {
          ...current,
          url: shape.url,
          environment,
          eventTypes,
          storeIds: patch.store_ids === undefined ? current.storeIds : patch.store_ids,
          ordering: patch.ordering ?? current.ordering,
          format,
          method: shape.method,
          payload: patch.payload ?? current.payload,
          formatOptions: shape.formatOptions,
          signature: patch.signature ?? current.signature,
          // Credentials are replaced whole (they are never shown, so they cannot be edited in part).
          auth:
            patch.auth !== undefined
              ? parseAuth(patch.auth, environment, allowPrivateNetworks)
              : current.auth,
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

  /**
   * Sends the catalog example of a type through the endpoint's format, signature and credentials,
   * as a delivery would, and answers what the receiver said. Nothing is stored: partners use it
   * during homologação, before any real event exists.
   */
  app.post('/endpoints/:id/test', { schema: { params: Id, body: TestSendBody } }, async (request) => {
    const endpoint = await store.endpoints.get(request.params.id);
    const carried = FORMATS[endpoint.format].eventTypes;
    const type =
      request.body?.type ??
      (carried === null || carried.includes('proposal.status_changed')
        ? 'proposal.status_changed'
        : (carried[0] ?? ''));
    const spec = eventTypeSpec(type);
    if (!spec) {
      throw new AppError(422, 'unknown_event_type', `Unknown event type ${JSON.stringify(type)}.`, [
        { path: '/type', message: 'is not in the event catalog' },
      ]);
    }
    const event = {
      id: newId('evt'),
      type,
      subject: subjectOf(spec, spec.example),
      partnerId: endpoint.partnerId,
      environment: endpoint.environment,
      createdAt: Date.now(),
      data: JSON.stringify(spec.example),
    };
    const outcome = await testSend(event, { ...endpoint, deleted: false });
    if (outcome.kind === 'unrenderable') {
      throw new AppError(
        422,
        'unrenderable',
        `The ${endpoint.format} format cannot send ${type}: ${outcome.reason}`,
      );
    }
    if (outcome.kind === 'aborted') throw new AppError(503, 'test_cancelled', 'The test send was cancelled.');
    const response = outcome.kind === 'response' ? outcome : null;
    const succeeded = response !== null && response.statusCode >= 200 && response.statusCode < 300;
    return {
      event_id: event.id,
      type,
      request: outcome.request,
      succeeded,
      status_code: response?.statusCode ?? null,
      duration_ms: outcome.durationMs,
      error: outcome.kind === 'error' ? outcome.error : succeeded ? null : 'http_status',
      error_message:
        outcome.kind === 'error' ? outcome.message : succeeded ? null : `HTTP ${response?.statusCode}`,
      response_body: response?.responseBody ?? null,
    };
  });
}
