import { normalizeCnpj } from '../domain/cnpj.ts';
import { AppError } from '../errors.ts';
import { partnerJson, storeJson } from './render.ts';
import {
  Id,
  NewPartnerBody,
  NewStoreBody,
  PageQuery,
  PartnerEnvironmentParams,
  PartnerStoreParams,
} from './schemas.ts';
import { type Api, type ApiOptions, page } from './server.ts';

const invalidCnpj = (cnpj: string): AppError =>
  new AppError(422, 'invalid_cnpj', `${JSON.stringify(cnpj)} is not a valid CNPJ.`, [
    { path: '/cnpj', message: 'check digits do not match, or the format is not 14 characters' },
  ]);

export function partnerRoutes(app: Api, { store }: ApiOptions): void {
  app.post('/partners', { schema: { body: NewPartnerBody } }, async (request, reply) => {
    const { name, cnpj, contact } = request.body;
    const normalized = normalizeCnpj(cnpj);
    if (!normalized) throw invalidCnpj(cnpj);
    const partner = await store.partners.create({ name, cnpj: normalized, contact }, Date.now());
    return reply.status(201).send(partnerJson(partner));
  });

  app.get('/partners', { schema: { querystring: PageQuery } }, async (request) =>
    (await store.partners.list(page(request.query))).map(partnerJson),
  );

  app.get('/partners/:id', { schema: { params: Id } }, async (request) =>
    partnerJson(await store.partners.get(request.params.id)),
  );
}

export function storeRoutes(app: Api, { store }: ApiOptions): void {
  app.post('/partners/:id/stores', { schema: { params: Id, body: NewStoreBody } }, async (request, reply) => {
    const { id, name, cnpj } = request.body;
    const normalized = normalizeCnpj(cnpj);
    if (!normalized) throw invalidCnpj(cnpj);
    const created = await store.stores.create(
      request.params.id,
      { id: id ?? null, name, cnpj: normalized },
      Date.now(),
    );
    return reply.status(201).send(storeJson(created));
  });

  app.get('/partners/:id/stores', { schema: { params: Id, querystring: PageQuery } }, async (request) =>
    (await store.stores.list(request.params.id, page(request.query))).map(storeJson),
  );

  app.get('/partners/:id/stores/:store_id', { schema: { params: PartnerStoreParams } }, async (request) =>
    storeJson(await store.stores.get(request.params.id, request.params.store_id)),
  );

  // Signs requests to the webhook_urls given on this partner's proposals and simulations.
  app.get(
    '/partners/:id/secrets/:environment',
    { schema: { params: PartnerEnvironmentParams } },
    async (request) => ({
      environment: request.params.environment,
      secret: await store.stores.secret(request.params.id, request.params.environment, Date.now()),
    }),
  );
}
