/**
 * The platform formats: how an event goes on the wire for each kind of partner. Pure: no I/O, no
 * signing, no auth — the dispatcher signs what renderRequest() returns (Standard Webhooks headers
 * over the exact body, '' when there is none) and adds the endpoint's credentials.
 *
 * @example renderRequest(event, { url, method: 'POST', format: 'credere', payload: 'full', formatOptions: null })
 */
import { bmp } from './bmp.ts';
import { cloudevents } from './cloudevents.ts';
import { credere } from './credere.ts';
import { creditas } from './creditas.ts';
import { fail, parseData, thinData } from './shared.ts';
import { standard } from './standard.ts';
import type { Format, FormatName, RenderEndpoint, RenderEvent, RenderResult } from './types.ts';

export const FORMATS: Readonly<Record<FormatName, Format>> = Object.freeze({
  standard,
  cloudevents,
  creditas,
  credere,
  bmp,
});

/**
 * Renders the event for the endpoint: checks that the format carries the event type and allows
 * the method, applies thin payloads, then the endpoint's format. `standard` with a full payload
 * never parses `data`.
 */
export function renderRequest(event: RenderEvent, endpoint: RenderEndpoint): RenderResult {
  const format: Format | undefined = Object.hasOwn(FORMATS, endpoint.format)
    ? FORMATS[endpoint.format]
    : undefined;
  if (!format) return fail(`unknown format ${JSON.stringify(endpoint.format)}`);
  if (format.eventTypes !== null && !format.eventTypes.includes(event.type)) {
    return fail(`format ${format.name} does not carry ${event.type} (only ${format.eventTypes.join(', ')})`);
  }
  if (!format.methods.includes(endpoint.method)) {
    return fail(
      `format ${format.name} is not sent with ${endpoint.method} (only ${format.methods.join(', ')})`,
    );
  }
  if (endpoint.payload !== 'thin') return format.render(event, endpoint);
  const data = parseData(event.data);
  if (!data) return fail('the event data is not a JSON object');
  return format.render({ ...event, data: JSON.stringify(thinData(data)) }, endpoint);
}

export { CANONICAL_FIELDS, THIN_FIELDS, thinData } from './shared.ts';
export * from './types.ts';
