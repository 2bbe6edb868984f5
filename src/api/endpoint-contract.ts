import { createPrivateKey, X509Certificate } from 'node:crypto';
import { EVENT_CATALOG } from '../domain/catalog.ts';
import { matchesEventType } from '../domain/event-types.ts';
import type { EndpointAuth, Environment } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { FORMATS, type FormatName, FormatOptionsError, type HttpMethod } from '../formats/index.ts';
import { validUrl } from './url.ts';

/**
 * How an endpoint is spoken to — format, method, URL template, credentials — checked together:
 * each is valid on its own only in combination with the others.
 */

const invalid = (code: string, message: string, path: string): AppError =>
  new AppError(422, code, message, [{ path, message }]);

/** Header names Arauto sets itself; a partner credential may not replace them. */
const RESERVED_HEADERS =
  /^(content-type|content-length|host|connection|transfer-encoding|user-agent|webhook-.*|arauto-.*)$/i;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

type Input = Record<string, unknown>;
const text = (input: Input, field: string, max: number, optional = false): string | null => {
  const value = input[field];
  if ((value === undefined || value === null) && optional) return null;
  if (typeof value !== 'string' || value === '' || value.length > max) {
    throw invalid(
      'invalid_auth',
      `auth.${field} must be a non-empty string of at most ${max} characters.`,
      `/auth/${field}`,
    );
  }
  return value;
};

const FIELDS: Record<EndpointAuth['type'], readonly string[]> = {
  none: [],
  header: ['name', 'value'],
  basic: ['username', 'password'],
  bearer: ['token'],
  oauth2: ['token_url', 'client_id', 'client_secret', 'scope', 'audience'],
  mtls: ['cert', 'key', 'passphrase'],
};

/**
 * Reads the `auth` object of an endpoint request into credentials, refusing what would fail at
 * every delivery: a reserved header, an OAuth2 token URL the network guard refuses, a client
 * certificate whose key does not match it.
 */
export function parseAuth(
  input: unknown,
  environment: Environment,
  allowPrivateNetworks: boolean,
): EndpointAuth {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('invalid_auth', 'auth must be an object with a type.', '/auth');
  }
  const auth = input as Input;
  const type = auth.type as EndpointAuth['type'];
  const fields = FIELDS[type];
  if (!fields) {
    throw invalid(
      'invalid_auth',
      `auth.type must be one of ${Object.keys(FIELDS).join(', ')}.`,
      '/auth/type',
    );
  }
  const unknown = Object.keys(auth).filter((k) => k !== 'type' && !fields.includes(k));
  if (unknown.length > 0) {
    throw invalid(
      'invalid_auth',
      `auth of type ${type} takes no ${unknown.join(', ')}.`,
      `/auth/${unknown[0]}`,
    );
  }
  switch (type) {
    case 'none':
      return { type };
    case 'header': {
      const name = text(auth, 'name', 64) ?? '';
      if (!HEADER_NAME.test(name) || RESERVED_HEADERS.test(name)) {
        throw invalid(
          'invalid_auth',
          `${JSON.stringify(name)} cannot carry a credential: choose another header.`,
          '/auth/name',
        );
      }
      const value = text(auth, 'value', 4096) ?? '';
      if (/[\r\n\0]/.test(value))
        throw invalid('invalid_auth', 'auth.value cannot hold line breaks.', '/auth/value');
      return { type, name, value };
    }
    case 'basic': {
      const username = text(auth, 'username', 256) ?? '';
      if (username.includes(':'))
        throw invalid('invalid_auth', 'A Basic username cannot contain ":".', '/auth/username');
      return { type, username, password: text(auth, 'password', 1024) ?? '' };
    }
    case 'bearer':
      return { type, token: text(auth, 'token', 4096) ?? '' };
    case 'oauth2':
      return {
        type,
        tokenUrl: validUrl(
          text(auth, 'token_url', 2048) ?? '',
          environment,
          allowPrivateNetworks,
          '/auth/token_url',
        ),
        clientId: text(auth, 'client_id', 512) ?? '',
        clientSecret: text(auth, 'client_secret', 2048) ?? '',
        scope: text(auth, 'scope', 1024, true),
        audience: text(auth, 'audience', 1024, true),
      };
    case 'mtls': {
      const cert = text(auth, 'cert', 65536) ?? '';
      const key = text(auth, 'key', 65536) ?? '';
      const passphrase = text(auth, 'passphrase', 1024, true);
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(cert);
      } catch {
        throw invalid('invalid_auth', 'auth.cert is not a PEM certificate.', '/auth/cert');
      }
      try {
        const privateKey = createPrivateKey(passphrase === null ? key : { key, passphrase });
        if (!certificate.checkPrivateKey(privateKey)) throw new Error('mismatch');
      } catch {
        throw invalid(
          'invalid_auth',
          'auth.key is not the PEM private key of auth.cert (or the passphrase is wrong).',
          '/auth/key',
        );
      }
      return { type, cert, key, passphrase };
    }
    default: {
      const unreachable: never = type;
      throw new Error(`unknown auth type ${String(unreachable)}`);
    }
  }
}

/** Credentials as the API shows them: what identifies them, never what proves them. */
export function authJson(auth: EndpointAuth): Record<string, unknown> {
  switch (auth.type) {
    case 'none':
    case 'bearer':
      return { type: auth.type };
    case 'header':
      return { type: auth.type, name: auth.name };
    case 'basic':
      return { type: auth.type, username: auth.username };
    case 'oauth2':
      return {
        type: auth.type,
        token_url: auth.tokenUrl,
        client_id: auth.clientId,
        scope: auth.scope,
        audience: auth.audience,
      };
    case 'mtls': {
      const c = new X509Certificate(auth.cert);
      return {
        type: auth.type,
        certificate: {
          subject: c.subject,
          issuer: c.issuer,
          valid_from: c.validFrom,
          valid_to: c.validTo,
          fingerprint256: c.fingerprint256,
        },
      };
    }
    default: {
      const unreachable: never = auth;
      throw new Error(`unknown auth ${JSON.stringify(unreachable)}`);
    }
  }
}

export interface DeliveryShape {
  url: string;
  environment: Environment;
  format: FormatName;
  method: HttpMethod | null;
  formatOptions: unknown;
  eventTypes: readonly string[] | null;
}

/**
 * Checks format, method, options, URL (a BMP template keeps its placeholders) and subscriptions
 * together; returns the normalised URL, method and options.
 */
export function checkDeliveryShape(shape: DeliveryShape, allowPrivateNetworks: boolean) {
  const format = FORMATS[shape.format];
  const method = shape.method ?? format.methods[0] ?? 'POST';
  if (!format.methods.includes(method)) {
    throw invalid(
      'invalid_method',
      `The ${shape.format} format is sent with ${format.methods.join(' or ')}, not ${method}.`,
      '/method',
    );
  }
  let formatOptions: Record<string, unknown> | null;
  try {
    formatOptions = format.parseOptions(shape.formatOptions ?? null);
  } catch (error) {
    if (error instanceof FormatOptionsError)
      throw invalid('invalid_format_options', error.message, '/format_options');
    throw error;
  }
  const templateProblem = format.checkUrl(shape.url);
  if (templateProblem) throw invalid('invalid_url_template', templateProblem, '/url');
  if (format.eventTypes !== null && shape.eventTypes !== null) {
    const carried = format.eventTypes;
    const outside = shape.eventTypes.filter(
      (filter) =>
        !EVENT_CATALOG.some((spec) => matchesEventType([filter], spec.type) && carried.includes(spec.type)),
    );
    if (outside.length > 0) {
      throw invalid(
        'format_event_types',
        `The ${shape.format} format carries only ${carried.join(', ')}; it cannot deliver ${outside.join(', ')}.`,
        '/event_types',
      );
    }
  }
  return { url: templateUrl(shape.url, shape.environment, allowPrivateNetworks), method, formatOptions };
}

/**
 * Validates and normalises a URL that may hold `{PLACEHOLDER}`s: they stand aside as plain
 * tokens while the URL is checked (braces would be percent-encoded), then come back.
 */
function templateUrl(url: string, environment: Environment, allowPrivateNetworks: boolean): string {
  const placeholders: string[] = [];
  const tokenised = url.replace(/\{[A-Z_]+\}/g, (p) => `arautoplaceholder${placeholders.push(p) - 1}x`);
  const checked = validUrl(tokenised, environment, allowPrivateNetworks);
  return checked.replace(/arautoplaceholder(\d+)x/g, (_, i: string) => placeholders[Number(i)] ?? '');
}
