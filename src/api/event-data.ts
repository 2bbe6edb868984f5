import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { EVENT_CATALOG, type EventTypeSpec, eventTypeSpec } from '../domain/catalog.ts';
import { AppError } from '../errors.ts';

// ajv and ajv-formats are CommonJS; under nodenext their callable is the `default` export.
const ajv = new AjvModule.default({ allErrors: true, strict: true });
addFormatsModule.default(ajv);
const validators = new Map(EVENT_CATALOG.map((spec) => [spec.type, ajv.compile(spec.schema)]));

/**
 * Checks `data` against its type's schema in the catalog. Unknown type → 422
 * `unknown_event_type`; a violation → 422 `invalid_event_data` naming each JSON pointer.
 * Fields beyond the schema pass: the platforms warn that payloads grow.
 */
export function validateEventData(type: string, data: Record<string, unknown>): EventTypeSpec {
  const spec = eventTypeSpec(type);
  const validate = validators.get(type);
  if (!spec || !validate) {
    throw new AppError(
      422,
      'unknown_event_type',
      `Unknown event type ${JSON.stringify(type)}; see GET /v1/event-types.`,
      [{ path: '/type', message: 'is not in the event catalog' }],
    );
  }
  if (validate(data)) return spec;
  const details = (validate.errors ?? []).map((e) => {
    const missing = e.params && 'missingProperty' in e.params ? `/${String(e.params.missingProperty)}` : '';
    return { path: `/data${e.instancePath}${missing}`, message: e.message ?? 'is invalid' };
  });
  const first = details[0];
  throw new AppError(
    422,
    'invalid_event_data',
    `data does not match the ${type} schema${first ? `: ${first.path} ${first.message}` : ''}.`,
    details,
  );
}

/** Endpoint filters must name catalog types, or a family (`proposal.*`) with members. */
export function checkEventTypeFilters(filters: readonly string[] | null | undefined): void {
  if (!filters) return;
  const unknown = filters.filter((f) =>
    f.endsWith('.*') ? !EVENT_CATALOG.some((s) => s.type.startsWith(f.slice(0, -1))) : !eventTypeSpec(f),
  );
  if (unknown.length > 0) {
    throw new AppError(
      422,
      'unknown_event_type',
      `Unknown event type ${unknown.map((u) => JSON.stringify(u)).join(', ')}; see GET /v1/event-types.`,
      unknown.map((u) => ({ path: '/event_types', message: `${u} is not in the event catalog` })),
    );
  }
}
