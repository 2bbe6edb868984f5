/**
 * `cloudevents`: CloudEvents 1.0, structured content mode, JSON event format
 * (`application/cloudevents+json`). `data` is spliced in as stored, never parsed.
 */

import { isoTime, optionsObject } from './shared.ts';
import type { Format } from './types.ts';
import { FormatOptionsError } from './types.ts';

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

/** `type_prefix`: reverse-DNS style, ending in a dot, e.g. `br.com.acme.`. */
const TYPE_PREFIX = /^[a-z0-9]+(\.[a-z0-9-]+)*\.$/;
/** Characters of an RFC 3986 URI-reference; `%` must start a valid escape. */
const URI_REFERENCE = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;
/** A scheme, when the reference has one (a colon before any / ? #). */
const SCHEME = /^[^/?#]*:/;
const VALID_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

const MAX_SOURCE = 512;
const MAX_TYPE_PREFIX = 128;

/** The `source` attribute when format_options.source is not set. */
export const defaultSource = (partnerId: string): string =>
  `/arauto/partners/${encodeURIComponent(partnerId)}`;

function checkSource(source: unknown): string {
  if (typeof source !== 'string' || source.length === 0 || source.length > MAX_SOURCE) {
    throw new FormatOptionsError(
      `format_options.source must be a non-empty string of at most ${MAX_SOURCE} characters`,
    );
  }
  if (!URI_REFERENCE.test(source) || (SCHEME.test(source) && !VALID_SCHEME.test(source))) {
    throw new FormatOptionsError(
      'format_options.source must be a URI-reference (RFC 3986), e.g. "/lender/acme" or "https://acme.com.br/credit"',
    );
  }
  return source;
}

function checkTypePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix.length > MAX_TYPE_PREFIX || !TYPE_PREFIX.test(prefix)) {
    throw new FormatOptionsError(
      `format_options.type_prefix must match ${TYPE_PREFIX.source} (at most ${MAX_TYPE_PREFIX} characters), e.g. "br.com.acme."`,
    );
  }
  return prefix;
}

export const cloudevents: Format = {
  name: 'cloudevents',
  eventTypes: null,
  methods: ['POST', 'PUT'],
  parseOptions(options) {
    const given = optionsObject('cloudevents', options, ['source', 'type_prefix']);
    if (given === null) return null;
    const parsed: Record<string, unknown> = {};
    if (given.source !== undefined) parsed.source = checkSource(given.source);
    if (given.type_prefix !== undefined) parsed.type_prefix = checkTypePrefix(given.type_prefix);
    return Object.keys(parsed).length === 0 ? null : parsed;
  },
  checkUrl: () => null,
  render(event, endpoint) {
    const options = endpoint.formatOptions;
    const source = typeof options?.source === 'string' ? options.source : defaultSource(event.partnerId);
    const prefix = typeof options?.type_prefix === 'string' ? options.type_prefix : '';
    const subject = event.subject === null ? '' : `,"subject":${JSON.stringify(event.subject)}`;
    const body =
      `{"specversion":"1.0","id":${JSON.stringify(event.id)},"source":${JSON.stringify(source)},` +
      `"type":${JSON.stringify(prefix + event.type)}${subject},"time":"${isoTime(event.createdAt)}",` +
      `"datacontenttype":"application/json","data":${event.data}}`;
    return {
      ok: true,
      request: { method: endpoint.method, url: endpoint.url, contentType: CLOUDEVENTS_CONTENT_TYPE, body },
    };
  },
};
