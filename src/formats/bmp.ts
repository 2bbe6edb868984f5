/**
 * `bmp`: BMP Money Plus callbacks (bmp-callbacks.txt). The proposal, its situação code (0-11) and
 * the operation code go in the URL, either into a template's {PROPOSTA} {SITUACAO}
 * {IDENTIFICADOR} or appended as query parameters. Only POST/PUT callbacks of 9 (Paga) and 11
 * (Pendente Pagamento) have a body: `{"descricaoOcorrencia": …}`.
 */
import { bmpCode, isProposalStatus } from '../domain/statuses.ts';
import { fail, JSON_TYPE, optionsObject, parseData } from './shared.ts';
import type { Format, RenderedRequest } from './types.ts';
import { FormatOptionsError } from './types.ts';

/** The three placeholders a BMP URL template may hold. */
export const BMP_PLACEHOLDERS: readonly string[] = ['{PROPOSTA}', '{SITUACAO}', '{IDENTIFICADOR}'];
/** The body key of the occurrence description (BMP's "Descrição da ocorrência") unless format_options.occurrence_field says otherwise. */
export const BMP_OCCURRENCE_FIELD = 'descricaoOcorrencia';
/** The occurrence text of situação 9, as the document gives it. */
export const BMP_PAID_TEXT = 'Crédito ou débito efetivado';
/** The occurrence text of situação 11 when the status change gave no reason nor description. */
export const BMP_PAYMENT_PENDING_TEXT = 'Pendente Pagamento';

const PLACEHOLDER = /\{(PROPOSTA|SITUACAO|IDENTIFICADOR)\}/;
const PLACEHOLDERS = /\{(PROPOSTA|SITUACAO|IDENTIFICADOR)\}/g;
/** What the URL class makes of `{PROPOSTA}` in a path: the same placeholder, percent-encoded. */
const ENCODED_PLACEHOLDERS = /%7[Bb](PROPOSTA|SITUACAO|IDENTIFICADOR)%7[Dd]/g;
const SCHEME_AND_SLASHES = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

const decodePlaceholders = (url: string): string => url.replace(ENCODED_PLACEHOLDERS, '{$1}');

interface BmpValues {
  proposta: string;
  situacao: number;
  /** null: the proposal has no external_id */
  identificador: string | null;
}

/** Checks where the placeholders of a template are; null when the URL is acceptable. */
function checkTemplate(url: string): string | null {
  const text = decodePlaceholders(url);
  const rest = text.replace(PLACEHOLDERS, '');
  const unknown = /\{[^{}]*\}/.exec(rest);
  if (unknown) {
    return `unknown placeholder ${unknown[0]} in the URL: bmp knows only {PROPOSTA}, {SITUACAO} and {IDENTIFICADOR}`;
  }
  if (/[{}]/.test(rest))
    return 'the URL has a "{" or "}" that does not belong to {PROPOSTA}, {SITUACAO} or {IDENTIFICADOR}';
  if (!PLACEHOLDER.test(text)) return null;
  const authorityStart = SCHEME_AND_SLASHES.exec(text)?.[0].length ?? 0;
  const afterAuthority = text.slice(authorityStart).search(/[/?#]/);
  const authorityEnd = afterAuthority === -1 ? text.length : authorityStart + afterAuthority;
  const inHost = PLACEHOLDER.exec(text.slice(0, authorityEnd));
  if (inHost) {
    return `placeholder ${inHost[0]} is in the scheme, host or port: placeholders are allowed only in the path and query`;
  }
  const hash = text.indexOf('#', authorityEnd);
  const inFragment = hash === -1 ? null : PLACEHOLDER.exec(text.slice(hash));
  if (inFragment) {
    return `placeholder ${inFragment[0]} is in the fragment: placeholders are allowed only in the path and query`;
  }
  if (!URL.canParse(fill(text, { proposta: 'p', situacao: 0, identificador: 'i' }))) {
    return 'the URL is not a valid absolute URL once its placeholders are filled in';
  }
  return null;
}

function fill(template: string, values: BmpValues): string {
  return template.replace(PLACEHOLDERS, (_match, name: string) => {
    if (name === 'PROPOSTA') return encodeURIComponent(values.proposta);
    if (name === 'SITUACAO') return String(values.situacao);
    return values.identificador === null ? '' : encodeURIComponent(values.identificador);
  });
}

/** The callback URL: the template filled in, or the parameters appended to the query. null: not a URL. */
export function bmpUrl(url: string, values: BmpValues): string | null {
  const text = decodePlaceholders(url);
  if (PLACEHOLDER.test(text)) {
    const filled = fill(text, values);
    return URL.canParse(filled) ? new URL(filled).href : null;
  }
  if (!URL.canParse(url)) return null;
  const target = new URL(url);
  let params = `proposta=${encodeURIComponent(values.proposta)}&situacao=${values.situacao}`;
  if (values.identificador !== null) params += `&identificador=${encodeURIComponent(values.identificador)}`;
  // The existing query is kept byte for byte (URLSearchParams would re-encode it).
  target.search = target.search.length > 1 ? `${target.search}&${params}` : params;
  return target.href;
}

const firstText = (...values: unknown[]): string | null => {
  for (const value of values) if (typeof value === 'string' && value.trim() !== '') return value;
  return null;
};

export const bmp: Format = {
  name: 'bmp',
  eventTypes: ['proposal.created', 'proposal.status_changed'],
  methods: ['POST', 'GET', 'PUT'],
  parseOptions(options) {
    const given = optionsObject('bmp', options, ['occurrence_field']);
    if (given === null) return null;
    const field = given.occurrence_field;
    if (typeof field !== 'string' || field.length === 0 || field.length > 64) {
      throw new FormatOptionsError('format_options.occurrence_field must be a string of 1 to 64 characters');
    }
    return { occurrence_field: field };
  },
  checkUrl: checkTemplate,
  render(event, endpoint) {
    const data = parseData(event.data);
    if (!data) return fail('bmp: the event data is not a JSON object');
    const proposta = data.proposal_id;
    if (typeof proposta !== 'string' || proposta === '') return fail('bmp: data.proposal_id is missing');
    const status = data.status;
    if (status === undefined || status === null)
      return fail('bmp: the event has no status, BMP needs a situação');
    if (!isProposalStatus(status)) return fail(`bmp: ${JSON.stringify(status)} is not a canonical status`);
    const situacao = bmpCode(status);
    if (situacao === null) return fail(`bmp: status ${status} has no BMP situação (0-11)`);
    const identificador = typeof data.external_id === 'string' ? data.external_id : null;
    const url = bmpUrl(endpoint.url, { proposta, situacao, identificador });
    if (url === null) return fail('bmp: the endpoint URL is not a valid URL');
    const request: RenderedRequest = { method: endpoint.method, url, contentType: null, body: '' };
    if (endpoint.method !== 'GET' && (situacao === 9 || situacao === 11)) {
      const option = endpoint.formatOptions?.occurrence_field;
      const field = typeof option === 'string' && option !== '' ? option : BMP_OCCURRENCE_FIELD;
      const text =
        situacao === 9
          ? BMP_PAID_TEXT
          : (firstText(data.reason, data.description) ?? BMP_PAYMENT_PENDING_TEXT);
      request.contentType = JSON_TYPE;
      request.body = JSON.stringify({ [field]: text });
    }
    return { ok: true, request };
  },
};
