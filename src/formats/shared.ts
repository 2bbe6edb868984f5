/** What the formats share: the canonical field lists, thin payloads, and option checking. */
import { EVENT_CATALOG } from '../domain/catalog.ts';
import type { RenderResult } from './types.ts';
import { FormatOptionsError } from './types.ts';

/** The fields a thin payload keeps: identifiers, status and time. */
export const THIN_FIELDS: readonly string[] = Object.freeze([
  'simulation_id',
  'proposal_id',
  'attempt_id',
  'customer_id',
  'external_id',
  'store_id',
  'status',
  'previous_status',
  'changed_at',
]);

/** Arauto's canonical data fields (catalog), which platform renderings strip from the partner object. */
export const CANONICAL_FIELDS: readonly string[] = Object.freeze([...THIN_FIELDS, 'reason', 'description']);

/** A thin copy of `data`: only the THIN_FIELDS it has, in THIN_FIELDS order. */
export function thinData(data: Record<string, unknown>): Record<string, unknown> {
  const thin: Record<string, unknown> = {};
  for (const field of THIN_FIELDS) if (Object.hasOwn(data, field)) thin[field] = data[field];
  return thin;
}

/**
 * The canonical fields the catalog defines for each type (CANONICAL_FIELDS ∩ the properties of
 * its data schema). Only these are Arauto's: a field of the same name in a type that does not
 * define it belongs to the lender (Credere's simulation has its own top-level `reason`).
 */
const CANONICAL_BY_TYPE: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  EVENT_CATALOG.map((spec) => {
    const properties = spec.schema.properties;
    const names = typeof properties === 'object' && properties !== null ? Object.keys(properties) : [];
    return [spec.type, new Set(names.filter((name) => CANONICAL_FIELDS.includes(name)))];
  }),
);
const ALL_CANONICAL: ReadonlySet<string> = new Set(CANONICAL_FIELDS);

/** The canonical fields of a type; every CANONICAL_FIELDS entry for a type outside the catalog. */
export const canonicalFieldsOf = (type: string): ReadonlySet<string> =>
  CANONICAL_BY_TYPE.get(type) ?? ALL_CANONICAL;

/**
 * The lender's part of `data`, as a platform object: `data` without the type's canonical fields,
 * key order kept. In thin mode nothing of the lender's is sent, so it is empty.
 */
export function partnerObject(
  type: string,
  data: Record<string, unknown>,
  thin: boolean,
): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  if (thin) return object;
  const canonical = canonicalFieldsOf(type);
  for (const [key, value] of Object.entries(data)) if (!canonical.has(key)) object[key] = value;
  return object;
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The event's `data` parsed, or null when it is not the JSON text of an object. */
export function parseData(text: string): Record<string, unknown> | null {
  try {
    const data: unknown = JSON.parse(text);
    return isPlainObject(data) ? data : null;
  } catch {
    return null;
  }
}

export const fail = (reason: string): RenderResult => ({ ok: false, reason });

export const JSON_TYPE = 'application/json';

/** ISO 8601 of an epoch-millisecond time, as the standard body writes it. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/**
 * The options object, or null when absent (null/undefined) or empty; throws when it is not a
 * JSON object or has a key outside `allowed`.
 */
export function optionsObject(
  format: string,
  options: unknown,
  allowed: readonly string[],
): Record<string, unknown> | null {
  if (options === null || options === undefined) return null;
  if (!isPlainObject(options)) throw new FormatOptionsError(`format_options of ${format} must be an object`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new FormatOptionsError(
        allowed.length === 0
          ? `format ${format} takes no format_options (got ${JSON.stringify(key)})`
          : `unknown format_options key ${JSON.stringify(key)} for ${format} (allowed: ${allowed.join(', ')})`,
      );
    }
  }
  return Object.keys(options).length === 0 ? null : options;
}

/**
 * Checks a `names` option: an object of key → name where every key passes `keyOk` and every
 * name matches `pattern` (at most 64 characters). Returns a copy, or null when empty.
 */
export function parseNames(
  format: string,
  value: unknown,
  keyOk: (key: string) => string | null,
  pattern: RegExp,
): Record<string, string> | null {
  if (!isPlainObject(value))
    throw new FormatOptionsError(`format_options.names of ${format} must be an object`);
  const names: Record<string, string> = {};
  for (const [key, name] of Object.entries(value)) {
    const problem = keyOk(key);
    if (problem !== null) throw new FormatOptionsError(`format_options.names: ${problem}`);
    if (typeof name !== 'string' || name.length > 64 || !pattern.test(name)) {
      throw new FormatOptionsError(
        `format_options.names[${JSON.stringify(key)}] must be a string of at most 64 characters matching ${pattern.source}`,
      );
    }
    names[key] = name;
  }
  return Object.keys(names).length === 0 ? null : names;
}

/** The `names` option of normalised options, or an empty record. */
export function namesOf(options: Record<string, unknown> | null): Readonly<Record<string, unknown>> {
  const names = options?.names;
  return isPlainObject(names) ? names : {};
}

/** A name from a names record, if it is a string. */
export const nameIn = (names: Readonly<Record<string, unknown>>, key: string): string | undefined => {
  const name = names[key];
  return typeof name === 'string' ? name : undefined;
};

/** The options of a format whose only option is a name map (Creditas, Credere). */
export function parseNamesOption(
  format: string,
  options: unknown,
  checkKey: (key: string) => string | null,
  pattern: RegExp,
): Record<string, unknown> | null {
  const given = optionsObject(format, options, ['names']);
  if (given === null) return null;
  const names = parseNames(format, given.names, checkKey, pattern);
  return names === null ? null : { names };
}
