import { Type } from 'typebox';
import { EVENT_TYPE_FILTER_PATTERN, EVENT_TYPE_PATTERN } from '../domain/event-types.ts';
import { ENVIRONMENTS } from '../domain/types.ts';

/**
 * Request shapes. Unknown fields are rejected (a typo such as `event_type` must not silently
 * subscribe an endpoint to everything); fields are validated before anything is written.
 */

const Environment = Type.Union(
  ENVIRONMENTS.map((e) => Type.Literal(e)),
  { description: 'sandbox (homologação) or production' },
);

const EventTypeFilters = Type.Array(Type.String({ pattern: EVENT_TYPE_FILTER_PATTERN, maxLength: 128 }), {
  minItems: 1,
  maxItems: 100,
  uniqueItems: true,
});

export const Id = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const PartnerIdParam = Type.Object({ partner_id: Type.String({ maxLength: 64 }) });

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    after: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const NewPartnerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    cnpj: Type.String({ minLength: 1, maxLength: 32 }),
    contact: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 200 }),
        email: Type.String({ format: 'email', maxLength: 320 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const NewEndpointBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    environment: Environment,
    event_types: Type.Optional(Type.Union([EventTypeFilters, Type.Null()])),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const EndpointPatchBody = Type.Object(
  {
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    environment: Type.Optional(Environment),
    event_types: Type.Optional(Type.Union([EventTypeFilters, Type.Null()])),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const NewEventBody = Type.Object(
  {
    partner_id: Type.String({ minLength: 1, maxLength: 64 }),
    environment: Environment,
    type: Type.String({ pattern: EVENT_TYPE_PATTERN, maxLength: 128 }),
    subject: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()])),
    data: Type.Record(Type.String(), Type.Unknown()),
    idempotency_key: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()])),
  },
  { additionalProperties: false },
);
