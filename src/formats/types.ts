/**
 * The contract of the platform formats: pure renderers that turn a canonical event into the HTTP
 * request a partner platform expects. No I/O, no signing, no auth: the dispatcher adds the
 * Standard Webhooks headers and the endpoint's credentials to what a renderer returns.
 */
import type { Environment, FormatName, HttpMethod, PayloadMode } from '../domain/types.ts';

// The names are domain vocabulary (an endpoint has a format); this module gives them behaviour.
export {
  FORMAT_NAMES,
  type FormatName,
  HTTP_METHODS,
  type HttpMethod,
  type PayloadMode,
} from '../domain/types.ts';

/** What a renderer knows of the event; `data` is the stored compact JSON text of a JSON object. */
export interface RenderEvent {
  id: string;
  type: string;
  subject: string | null;
  partnerId: string;
  environment: Environment;
  createdAt: number;
  data: string;
}

/** What a renderer knows of the endpoint. `url` may be a BMP template holding {PROPOSTA} {SITUACAO} {IDENTIFICADOR}. */
export interface RenderEndpoint {
  url: string;
  method: HttpMethod;
  format: FormatName;
  payload: PayloadMode;
  formatOptions: Record<string, unknown> | null;
}

export interface RenderedRequest {
  method: HttpMethod;
  url: string;
  /** null: no body */
  contentType: string | null;
  /** '' when there is no body; sent and signed byte for byte */
  body: string;
}

export type RenderResult = { ok: true; request: RenderedRequest } | { ok: false; reason: string };

export interface Format {
  name: FormatName;
  /** Event types this format can carry; null = every catalog type. */
  eventTypes: readonly string[] | null;
  /** Methods allowed with this format; the first is the default. */
  methods: readonly HttpMethod[];
  /** Checks format_options (from the API, unknown JSON); returns them normalised (null when absent/empty) or throws FormatOptionsError. */
  parseOptions(options: unknown): Record<string, unknown> | null;
  /**
   * For URL templates: a message when the URL has an unknown `{PLACEHOLDER}` (or placeholders in
   * scheme/host), else null. Only bmp has templates; every other format returns null.
   */
  checkUrl(url: string): string | null;
  /**
   * Renders the event as given: thin payloads are applied by renderRequest() (src/formats/index.ts)
   * before this is called, so call that, not this, to send.
   */
  render(event: RenderEvent, endpoint: RenderEndpoint): RenderResult;
}

/** Thrown by Format.parseOptions; the message names the offending option. */
export class FormatOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatOptionsError';
  }
}
