import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
  type RawServerDefault,
} from 'fastify';
import type { Logger } from 'pino';
import type { TransitionTable } from '../domain/statuses.ts';
import type { DeliveryOutcome } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import type { RenderEvent } from '../formats/index.ts';
import { type DeliveryTarget, isDatabaseUnavailable, type Store } from '../store/index.ts';
import { deliveryRoutes } from './deliveries.ts';
import { endpointRoutes } from './endpoints.ts';
import { eventRoutes } from './events.ts';
import { partnerRoutes, storeRoutes } from './partners.ts';
import { proposalRoutes } from './proposals.ts';

export interface ApiOptions {
  store: Store;
  logger: Logger;
  /** SHA-256 of the operator token. */
  adminTokenHash: Buffer;
  maxBodyBytes: number;
  allowPrivateNetworks: boolean;
  /** Delay before a new delivery's first attempt (the retry schedule's first entry). */
  firstAttemptDelayMs: number;
  /** Deliveries were made due: wake the dispatcher of this process, if it runs one. */
  onDue: () => void;
  transitions: TransitionTable;
  /** Sends one event to one endpoint now, as the dispatcher would (POST /v1/endpoints/{id}/test). */
  testSend: (event: RenderEvent, target: DeliveryTarget) => Promise<DeliveryOutcome>;
}

export type Api = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const errorBody = (code: string, message: string, details?: unknown): ErrorBody => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

/** Fastify's own client errors, mapped to our stable codes. */
const FRAMEWORK_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed_json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'malformed_json'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_request'],
};

interface AjvError {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** One entry per violated rule, located by JSON pointer. */
function validationDetails(errors: readonly AjvError[]) {
  return errors.map((e) => {
    const child = e.params.missingProperty ?? e.params.additionalProperty;
    const path = child === undefined ? e.instancePath || '/' : `${e.instancePath}/${String(child)}`;
    const message =
      e.keyword === 'additionalProperties' ? 'is not a known field' : (e.message ?? 'is invalid');
    return { path, message };
  });
}

export function buildApi(options: ApiOptions): Api {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxBodyBytes,
    routerOptions: { ignoreTrailingSlash: true },
    ajv: {
      // Never coerce or strip: a wrong type or an unknown field is the client's mistake to hear about.
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true, useDefaults: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      return reply.status(error.status).send(errorBody(error.code, error.message, error.details));
    }
    if (error.validation) {
      const where =
        error.validationContext === 'body' ? 'request body' : (error.validationContext ?? 'request');
      const details = validationDetails(error.validation as AjvError[]);
      const first = details[0];
      return reply
        .status(422)
        .send(
          errorBody(
            'validation_failed',
            `The ${where} is invalid${first ? `: ${first.path} ${first.message}` : ''}.`,
            details,
          ),
        );
    }
    const mapped = error.code ? FRAMEWORK_ERRORS[error.code] : undefined;
    if (mapped) return reply.status(mapped[0]).send(errorBody(mapped[1], error.message));
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      return reply
        .status(503)
        .header('retry-after', '5')
        .send(
          errorBody(
            'database_unavailable',
            'The database is unavailable; retry shortly. Nothing was written.',
          ),
        );
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send(errorBody('bad_request', error.message));
    }
    request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
    return reply.status(500).send(errorBody('internal_error', 'Internal error.'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(errorBody('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );

  app.get('/health', async (_request, reply) => {
    try {
      await options.store.ping();
      return { status: 'ok' };
    } catch (error) {
      options.logger.warn({ err: error }, 'health check: database unavailable');
      return reply.status(503).send({ status: 'unavailable' });
    }
  });

  app.register(
    async (plugin) => {
      const v1 = plugin.withTypeProvider<TypeBoxTypeProvider>();
      v1.addHook('onRequest', async (request, reply) => {
        const header = request.headers.authorization ?? '';
        const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
        if (token === '' || !timingSafeEqual(sha256(token), options.adminTokenHash)) {
          return reply
            .status(401)
            .header('www-authenticate', 'Bearer')
            .send(errorBody('unauthorized', 'Missing or wrong bearer token.'));
        }
      });
      partnerRoutes(v1, options);
      storeRoutes(v1, options);
      endpointRoutes(v1, options);
      proposalRoutes(v1, options);
      eventRoutes(v1, options);
      deliveryRoutes(v1, options);
    },
    { prefix: '/v1' },
  );

  return app;
}

/** `?limit=&after=` → a page; limit defaults to 100, at most 1000. */
export function page(query: { limit?: string | undefined; after?: string | undefined }) {
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  if (limit < 1 || limit > 1000) {
    throw new AppError(422, 'validation_failed', 'limit must be between 1 and 1000.', [
      { path: '/limit', message: 'must be between 1 and 1000' },
    ]);
  }
  return { limit, after: query.after ?? '' };
}
