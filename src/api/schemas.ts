import { type TLiteral, Type } from 'typebox';
import { EVENT_TYPE_FILTER_PATTERN, EVENT_TYPE_PATTERN } from '../domain/event-types.ts';
import { ENVIRONMENTS, ORDERINGS } from '../domain/types.ts';
import { FORMAT_NAMES, type FormatName } from '../formats/types.ts';

/**
 * Request shapes. Unknown fields are rejected (a typo such as `event_type` must not silently
 * subscribe an endpoint to everything); fields are validated before anything is written.
 */

const Environment = Type.Union([Type.Literal(ENVIRONMENTS[0]), Type.Literal(ENVIRONMENTS[1])], {
  description: 'sandbox (homologação) or production',
});

const Ordering = Type.Union([Type.Literal(ORDERINGS[0]), Type.Literal(ORDERINGS[1])]);

const Format = Type.Union(
  FORMAT_NAMES.map((f) => Type.Literal(f)) as [TLiteral<FormatName>, ...TLiteral<FormatName>[]],
);
const Method = Type.Union([Type.Literal('POST'), Type.Literal('GET'), Type.Literal('PUT')]);
const Payload = Type.Union([Type.Literal('full'), Type.Literal('thin')]);
const Signature = Type.Union([Type.Literal('v1'), Type.Literal('v1a')]);
/** Checked field by field in endpoint-contract.ts, where each auth type's rules live. */
const Auth = Type.Object({ type: Type.String() }, { additionalProperties: true });
const FormatOptions = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]);

/** The fields that say how an endpoint is spoken to (issue: platform contracts). */
const DeliveryFields = {
  format: Type.Optional(Format),
  method: Type.Optional(Method),
  payload: Type.Optional(Payload),
  signature: Type.Optional(Signature),
  auth: Type.Optional(Auth),
  format_options: Type.Optional(FormatOptions),
};

/** Ids the lender chooses (proposals, simulations, stores) end up in URLs: keep them URL-safe. */
const ClientId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' });

const StoreIds = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1,
  maxItems: 100,
  uniqueItems: true,
});

const NullableString = (max: number) => Type.Union([Type.String({ maxLength: max }), Type.Null()]);

const JsonObject = Type.Record(Type.String(), Type.Unknown());

/** A status as the lender may send it: canonical name, BMP code, Credere state or Creditas name. */
const StatusInput = Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Integer()]);

const EventTypeFilters = Type.Array(Type.String({ pattern: EVENT_TYPE_FILTER_PATTERN, maxLength: 128 }), {
  minItems: 1,
  maxItems: 100,
  uniqueItems: true,
});

export const Id = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const PartnerIdParam = Type.Object({ partner_id: Type.String({ maxLength: 64 }) });
export const PartnerEnvironmentParams = Type.Object({
  id: Type.String({ maxLength: 64 }),
  environment: Environment,
});
export const PartnerStoreParams = Type.Object({
  id: Type.String({ maxLength: 64 }),
  store_id: Type.String({ maxLength: 64 }),
});

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
    store_ids: Type.Optional(Type.Union([StoreIds, Type.Null()])),
    ordering: Type.Optional(Ordering),
    ...DeliveryFields,
    description: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const TestSendBody = Type.Union([
  Type.Object({ type: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false }),
  Type.Null(),
]);

export const EndpointListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    after: Type.Optional(Type.String({ maxLength: 64 })),
    kind: Type.Optional(Type.Union([Type.Literal('endpoint'), Type.Literal('resource')])),
  },
  { additionalProperties: false },
);

export const EndpointPatchBody = Type.Object(
  {
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    environment: Type.Optional(Environment),
    event_types: Type.Optional(Type.Union([EventTypeFilters, Type.Null()])),
    store_ids: Type.Optional(Type.Union([StoreIds, Type.Null()])),
    ordering: Type.Optional(Ordering),
    ...DeliveryFields,
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

export const FeedQuery = Type.Object(
  {
    partner_id: Type.String({ minLength: 1, maxLength: 64 }),
    environment: Environment,
    after: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  },
  { additionalProperties: false },
);

export const NewStoreBody = Type.Object(
  {
    id: Type.Optional(ClientId),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    cnpj: Type.String({ minLength: 1, maxLength: 32 }),
  },
  { additionalProperties: false },
);

export const NewSimulationBody = Type.Object(
  {
    partner_id: Type.String({ minLength: 1, maxLength: 64 }),
    environment: Environment,
    id: Type.Optional(ClientId),
    webhook_url: Type.Optional(NullableString(2048)),
    store_id: Type.Optional(NullableString(64)),
  },
  { additionalProperties: false },
);

export const NewProposalBody = Type.Object(
  {
    partner_id: Type.String({ minLength: 1, maxLength: 64 }),
    environment: Environment,
    id: Type.Optional(ClientId),
    external_id: Type.Optional(NullableString(255)),
    store_id: Type.Optional(NullableString(64)),
    webhook_url: Type.Optional(NullableString(2048)),
    status: Type.Optional(StatusInput),
    data: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);

export const StatusChangeBody = Type.Object(
  {
    status: StatusInput,
    reason: Type.Optional(NullableString(1000)),
    description: Type.Optional(NullableString(2000)),
    data: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);
