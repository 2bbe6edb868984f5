import { normalizeCnpj } from '../domain/cnpj.ts';
import { AppError } from '../errors.ts';
import { partnerJson } from './render.ts';
import { Id, NewPartnerBody, PageQuery } from './schemas.ts';
import { type Api, type ApiOptions, page } from './server.ts';

export function partnerRoutes(app: Api, { store }: ApiOptions): void {
  app.post('/partners', { schema: { body: NewPartnerBody } }, async (request, reply) => {
    const { name, cnpj, contact } = request.body;
    const normalized = normalizeCnpj(cnpj);
    if (!normalized) {
      throw new AppError(422, 'invalid_cnpj', `${JSON.stringify(cnpj)} is not a valid CNPJ.`, [
        { path: '/cnpj', message: 'check digits do not match, or the format is not 14 characters' },
      ]);
    }
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
