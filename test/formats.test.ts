import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EVENT_CATALOG, eventTypeSpec, subjectOf } from '../src/domain/catalog.ts';
import { standardBody } from '../src/domain/payload.ts';
import type { ProposalStatus } from '../src/domain/statuses.ts';
import { BMP_SITUACOES, bmpCode, credereState, PROPOSAL_STATUSES } from '../src/domain/statuses.ts';
import type {
  FormatName,
  RenderEndpoint,
  RenderEvent,
  RenderedRequest,
  RenderResult,
} from '../src/formats/index.ts';
import {
  CANONICAL_FIELDS,
  FORMAT_NAMES,
  FORMATS,
  FormatOptionsError,
  HTTP_METHODS,
  renderRequest,
  THIN_FIELDS,
  thinData,
} from '../src/formats/index.ts';

/**
 * Conformance of the platform formats with the source documents (/work/shared/seeds): every
 * example payload of a document is a fixture under test/fixtures/<platform>/, checked against the
 * document (see each folder's README for the typos fixed and the decisions taken where the
 * document is silent), and the renderer must produce it.
 */

type Json = Record<string, unknown>;

const FIXTURES = join(import.meta.dirname, 'fixtures');
const readJson = (dir: string, file: string): Json =>
  JSON.parse(readFileSync(join(FIXTURES, dir, file), 'utf8')) as Json;

const PARTNER = 'ptn_01M829Q4BW234Q2NX0QEQH2HBQ';
const URL_BASE = 'https://parceiro.example.com.br';

/** A catalog example, as a mutable copy (the catalog is frozen). */
const exampleOf = (type: string): Json => {
  const spec = eventTypeSpec(type);
  assert.ok(spec, `${type} is in the catalog`);
  return structuredClone(spec.example) as Json;
};

function eventOf(type: string, data: Json, overrides: Partial<RenderEvent> = {}): RenderEvent {
  const spec = eventTypeSpec(type);
  return {
    id: 'evt_01M829Q50TTR1DF9PJWGMHQNX7',
    type,
    subject: spec ? subjectOf(spec, data) : null,
    partnerId: PARTNER,
    environment: 'sandbox',
    createdAt: Date.parse('2026-11-22T18:53:54.585Z'),
    data: JSON.stringify(data),
    ...overrides,
  };
}

/** An endpoint as the API would store it: options go through the format's parseOptions. */
function endpointOf(
  format: FormatName,
  overrides: Partial<Omit<RenderEndpoint, 'formatOptions'>> & { options?: unknown } = {},
): RenderEndpoint {
  const { options, ...rest } = overrides;
  const defaults = FORMATS[format].methods[0];
  assert.ok(defaults);
  return {
    url: `${URL_BASE}/webhooks`,
    method: defaults,
    format,
    payload: 'full',
    formatOptions: FORMATS[format].parseOptions(options),
    ...rest,
  };
}

function rendered(result: RenderResult): RenderedRequest {
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.request;
}

const render = (event: RenderEvent, endpoint: RenderEndpoint): RenderedRequest =>
  rendered(renderRequest(event, endpoint));

/** The request as the fixtures write it: the body parsed, null when there is none. */
const onTheWire = (request: RenderedRequest): Json => ({
  method: request.method,
  url: request.url,
  contentType: request.contentType,
  body: request.body === '' ? null : JSON.parse(request.body),
});

const bodyOf = (request: RenderedRequest): Json => JSON.parse(request.body) as Json;

function rejects(result: RenderResult, pattern?: RegExp): void {
  assert.equal(result.ok, false, 'the event cannot be rendered');
  if (!result.ok && pattern) assert.match(result.reason, pattern);
}

function throwsOptionsError(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof FormatOptionsError, `a FormatOptionsError, got ${String(error)}`);
    assert.equal(error.name, 'FormatOptionsError');
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

/** The proposal.status_changed of docs/domain.md (journey, step 4), with the lender's conditions. */
const APPROVED: Json = {
  valor_liberado: 2500000,
  parcelas: 48,
  taxa_mensal: 1.89,
  proposal_id: 'PROP-2026-0001',
  external_id: 'OP-778899',
  store_id: null,
  status: 'approved',
  previous_status: 'in_analysis',
  reason: null,
  description: null,
  changed_at: '2026-11-22T18:53:54.585Z',
};

describe('format registry', () => {
  it('lists the five formats under their own names', () => {
    assert.deepEqual(Object.keys(FORMATS).sort(), [...FORMAT_NAMES].sort());
    for (const name of FORMAT_NAMES) assert.equal(FORMATS[name].name, name);
  });

  it('declares methods (default first) and event types per format', () => {
    assert.deepEqual(FORMATS.standard.methods, ['POST', 'PUT']);
    assert.deepEqual(FORMATS.cloudevents.methods, ['POST', 'PUT']);
    assert.deepEqual(FORMATS.creditas.methods, ['POST', 'PUT']);
    assert.deepEqual(FORMATS.credere.methods, ['POST', 'PUT']);
    assert.deepEqual(FORMATS.bmp.methods, ['POST', 'GET', 'PUT']);
    for (const name of FORMAT_NAMES) {
      for (const method of FORMATS[name].methods) assert.ok(HTTP_METHODS.includes(method));
    }
    for (const name of ['standard', 'cloudevents', 'creditas', 'credere'] as const) {
      assert.equal(FORMATS[name].eventTypes, null);
    }
    assert.deepEqual(FORMATS.bmp.eventTypes, ['proposal.created', 'proposal.status_changed']);
  });

  it('names the thin and canonical fields', () => {
    assert.deepEqual(THIN_FIELDS, [
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
    assert.deepEqual(CANONICAL_FIELDS, [...THIN_FIELDS, 'reason', 'description']);
    // Every canonical field is defined by some catalog type's data schema.
    const defined = new Set(
      EVENT_CATALOG.flatMap((spec) => Object.keys(spec.schema.properties as Record<string, unknown>)),
    );
    for (const field of CANONICAL_FIELDS) assert.ok(defined.has(field), field);
  });

  it('thins data to the thin fields it has', () => {
    assert.deepEqual(thinData(APPROVED), {
      proposal_id: 'PROP-2026-0001',
      external_id: 'OP-778899',
      store_id: null,
      status: 'approved',
      previous_status: 'in_analysis',
      changed_at: '2026-11-22T18:53:54.585Z',
    });
    assert.deepEqual(thinData({ customer_id: 'c1', cpf: '000.000.000-00', name: 'Fulano' }), {
      customer_id: 'c1',
    });
    assert.deepEqual(thinData({}), {});
  });

  it('renders every catalog example in every format that carries it, full and thin', () => {
    for (const name of FORMAT_NAMES) {
      for (const spec of EVENT_CATALOG) {
        for (const payload of ['full', 'thin'] as const) {
          const event = eventOf(spec.type, exampleOf(spec.type));
          const result = renderRequest(event, endpointOf(name, { payload }));
          const carried = FORMATS[name].eventTypes?.includes(spec.type) ?? true;
          if (!carried) {
            rejects(result, /does not carry/);
            continue;
          }
          if (name === 'bmp' && bmpCode(spec.example.status as ProposalStatus) === null) {
            rejects(result, /no BMP situação/);
            continue;
          }
          const request = rendered(result);
          if (request.body !== '')
            assert.doesNotThrow(() => JSON.parse(request.body), `${name} ${spec.type}`);
          assert.equal(
            request.contentType === null,
            request.body === '',
            'a content type exactly with a body',
          );
        }
      }
    }
  });

  it('refuses a method the format does not allow, and an unknown format', () => {
    const event = eventOf('proposal.status_changed', APPROVED);
    for (const name of ['standard', 'cloudevents', 'creditas', 'credere'] as const) {
      rejects(renderRequest(event, endpointOf(name, { method: 'GET' })), /not sent with GET/);
    }
    const unknown = { ...endpointOf('standard'), format: 'soap' as FormatName };
    rejects(renderRequest(event, unknown), /unknown format/);
  });

  it('refuses data that is not a JSON object where it must be read', () => {
    const event = eventOf('proposal.status_changed', APPROVED, { data: '[1,2]' });
    for (const name of ['cloudevents', 'creditas', 'credere', 'bmp'] as const) {
      rejects(renderRequest(event, endpointOf(name, { payload: 'thin' })), /not a JSON object/);
    }
    for (const name of ['creditas', 'credere', 'bmp'] as const) {
      rejects(renderRequest(event, endpointOf(name)), /not a JSON object/);
    }
  });

  it('checks URLs for templates only in bmp', () => {
    for (const name of ['standard', 'cloudevents', 'creditas', 'credere'] as const) {
      assert.equal(FORMATS[name].checkUrl(`${URL_BASE}/{FOO}/{PROPOSTA}`), null);
    }
  });
});

describe('format standard', () => {
  const event = eventOf('proposal.status_changed', APPROVED, { subject: 'proposal/PROP-2026-0001' });

  it('renders the fixture, full and thin', () => {
    assert.deepEqual(
      onTheWire(render(event, endpointOf('standard'))),
      readJson('standard', 'proposal.status_changed.json'),
    );
    assert.deepEqual(
      onTheWire(render(event, endpointOf('standard', { payload: 'thin' }))),
      readJson('standard', 'proposal.status_changed.thin.json'),
    );
  });

  it('sends byte for byte what docs/domain.md recorded', () => {
    assert.equal(
      render(event, endpointOf('standard')).body,
      '{"type":"proposal.status_changed","timestamp":"2026-11-22T18:53:54.585Z","data":{"valor_liberado":2500000,' +
        '"parcelas":48,"taxa_mensal":1.89,"proposal_id":"PROP-2026-0001","external_id":"OP-778899","store_id":null,' +
        '"status":"approved","previous_status":"in_analysis","reason":null,"description":null,' +
        '"changed_at":"2026-11-22T18:53:54.585Z"}}',
    );
  });

  it('full payload: is standardBody() byte for byte, without parsing data', () => {
    // Stored data is the lender's compact text; odd spacing proves it is spliced, not re-serialised.
    const stored = eventOf('proposal.created', {}, { data: '{"proposal_id":"p1","n":1.50,"s":"\\u00e7"}' });
    const parse = JSON.parse;
    let parses = 0;
    JSON.parse = ((...args: Parameters<typeof JSON.parse>) => {
      parses += 1;
      return parse(...args);
    }) as typeof JSON.parse;
    let request: RenderedRequest;
    try {
      request = render(stored, endpointOf('standard'));
    } finally {
      JSON.parse = parse;
    }
    assert.equal(parses, 0, 'data is not parsed');
    assert.equal(request.body, standardBody(stored));
    assert.equal(
      request.body,
      '{"type":"proposal.created","timestamp":"2026-11-22T18:53:54.585Z","data":{"proposal_id":"p1","n":1.50,"s":"\\u00e7"}}',
    );
    assert.equal(request.contentType, 'application/json');
  });

  it('keeps the URL and the method (PUT allowed)', () => {
    const request = render(event, endpointOf('standard', { method: 'PUT', url: `${URL_BASE}/a?b=c%20d` }));
    assert.equal(request.method, 'PUT');
    assert.equal(request.url, `${URL_BASE}/a?b=c%20d`);
  });

  it('takes no format_options', () => {
    assert.equal(FORMATS.standard.parseOptions(null), null);
    assert.equal(FORMATS.standard.parseOptions(undefined), null);
    assert.equal(FORMATS.standard.parseOptions({}), null);
    throwsOptionsError(() => FORMATS.standard.parseOptions({ names: {} }), /takes no format_options/);
    throwsOptionsError(() => FORMATS.standard.parseOptions('x'), /must be an object/);
    throwsOptionsError(() => FORMATS.standard.parseOptions([]), /must be an object/);
  });
});

describe('format cloudevents', () => {
  const event = eventOf('proposal.status_changed', APPROVED);

  it('renders the fixture, full and thin', () => {
    assert.deepEqual(
      onTheWire(render(event, endpointOf('cloudevents'))),
      readJson('cloudevents', 'proposal.status_changed.json'),
    );
    assert.deepEqual(
      onTheWire(render(event, endpointOf('cloudevents', { payload: 'thin' }))),
      readJson('cloudevents', 'proposal.status_changed.thin.json'),
    );
  });

  it('is a valid CloudEvents 1.0 structured JSON event', () => {
    const request = render(event, endpointOf('cloudevents'));
    assert.equal(request.contentType, 'application/cloudevents+json');
    const body = bodyOf(request);
    for (const attribute of ['specversion', 'id', 'source', 'type']) {
      assert.equal(typeof body[attribute], 'string', `required attribute ${attribute}`);
      assert.notEqual(body[attribute], '', `${attribute} is not empty`);
    }
    assert.equal(body.specversion, '1.0');
    assert.equal(body.id, event.id);
    assert.equal(body.time, '2026-11-22T18:53:54.585Z');
    assert.ok(!Number.isNaN(Date.parse(body.time as string)));
    assert.equal(body.datacontenttype, 'application/json');
    // Attribute names: lower-case letters and digits only (CloudEvents 1.0, "Attribute Naming Convention").
    for (const key of Object.keys(body)) assert.match(key, /^[a-z0-9]{1,20}$/);
  });

  it('splices the stored data as is and omits a null subject', () => {
    const stored = eventOf('customer.created', {}, { subject: null, data: '{"customer_id":"c1","v":2.50}' });
    const request = render(stored, endpointOf('cloudevents'));
    assert.ok(request.body.endsWith(',"data":{"customer_id":"c1","v":2.50}}'));
    assert.equal('subject' in bodyOf(request), false);
  });

  it('takes source and type_prefix from format_options', () => {
    const body = bodyOf(
      render(
        event,
        endpointOf('cloudevents', {
          options: { source: 'https://acme.com.br/credito', type_prefix: 'br.com.acme.' },
        }),
      ),
    );
    assert.equal(body.source, 'https://acme.com.br/credito');
    assert.equal(body.type, 'br.com.acme.proposal.status_changed');
    assert.equal(
      bodyOf(render(event, endpointOf('cloudevents', { options: { source: '/lender/acme' } }))).source,
      '/lender/acme',
    );
  });

  it('checks its format_options', () => {
    const parse = FORMATS.cloudevents.parseOptions;
    assert.equal(parse(null), null);
    assert.equal(parse({}), null);
    assert.deepEqual(parse({ source: '/a/b', type_prefix: 'br.com.acme-1.' }), {
      source: '/a/b',
      type_prefix: 'br.com.acme-1.',
    });
    assert.deepEqual(parse({ source: 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66' }), {
      source: 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66',
    });
    assert.deepEqual(parse({ source: 'https://acme.com.br/x?y=1#z' }), {
      source: 'https://acme.com.br/x?y=1#z',
    });
    throwsOptionsError(() => parse({ sorce: '/a' }), /unknown format_options key "sorce"/);
    throwsOptionsError(() => parse({ source: '' }), /source/);
    throwsOptionsError(() => parse({ source: 'a b' }), /URI-reference/);
    throwsOptionsError(() => parse({ source: '/a%zz' }), /URI-reference/);
    throwsOptionsError(() => parse({ source: '1http://x' }), /URI-reference/);
    throwsOptionsError(() => parse({ source: `/${'a'.repeat(512)}` }), /512/);
    throwsOptionsError(() => parse({ source: 7 }), /source/);
    throwsOptionsError(() => parse({ type_prefix: 'br.com.acme' }), /type_prefix/);
    throwsOptionsError(() => parse({ type_prefix: 'Br.Acme.' }), /type_prefix/);
    throwsOptionsError(() => parse({ type_prefix: '.' }), /type_prefix/);
    throwsOptionsError(() => parse({ type_prefix: 'br..acme.' }), /type_prefix/);
  });
});

describe('format creditas', () => {
  it('renders the document example (REJECTED) from the catalog example', () => {
    const event = eventOf('proposal.status_changed', exampleOf('proposal.status_changed'));
    const request = render(event, endpointOf('creditas'));
    assert.deepEqual(bodyOf(request), readJson('creditas', 'rejected.json'));
    assert.equal(request.contentType, 'application/json');
    assert.equal(request.method, 'POST');
    assert.equal(request.url, `${URL_BASE}/webhooks`);
  });

  it('names status changes in Creditas words, the rest by convention', () => {
    const named: Array<[ProposalStatus, string]> = [
      ['in_analysis', 'PROCESSED'],
      ['pre_approved', 'PREQUALIFIED'],
      ['approved', 'CREDIT_ANALYSED'],
      ['rejected', 'REJECTED'],
      ['paid', 'PAID'],
      ['payment_pending', 'PAYMENT_PENDING'],
    ];
    for (const [status, name] of named) {
      for (const type of ['proposal.status_changed', 'proposal_attempt.status_changed']) {
        const data = { proposal_id: 'B2B-1', attempt_id: 'A-1', status };
        assert.equal(
          bodyOf(render(eventOf(type, data), endpointOf('creditas'))).name,
          name,
          `${type} ${status}`,
        );
      }
    }
    const others: Array<[string, Json, string]> = [
      ['proposal.created', { proposal_id: 'B2B-1', status: 'draft' }, 'PROPOSAL_CREATED'],
      ['proposal.updated', { proposal_id: 'B2B-1' }, 'PROPOSAL_UPDATED'],
      [
        'proposal_attempt.synced_from_bank',
        { proposal_id: 'B2B-1', attempt_id: 'A' },
        'PROPOSAL_ATTEMPT_SYNCED_FROM_BANK',
      ],
      ['simulation.processed', { simulation_id: 'S-1' }, 'SIMULATION_PROCESSED'],
      ['customer.updated', { customer_id: 'C-1' }, 'CUSTOMER_UPDATED'],
    ];
    for (const [type, data, name] of others) {
      assert.equal(bodyOf(render(eventOf(type, data), endpointOf('creditas'))).name, name, type);
    }
  });

  it('uses the resource id: the proposal for attempts, the simulation, the customer', () => {
    const id = (type: string, data: Json) => bodyOf(render(eventOf(type, data), endpointOf('creditas'))).id;
    assert.equal(id('proposal_attempt.created', { proposal_id: 'B2B-1', attempt_id: 'A-9' }), 'B2B-1');
    assert.equal(id('simulation.processed', { simulation_id: 'S-1' }), 'S-1');
    assert.equal(id('customer.created', { customer_id: 'C-1' }), 'C-1');
  });

  it('sends the lender data without canonical fields, and no data key when nothing is left', () => {
    assert.deepEqual(bodyOf(render(eventOf('proposal.status_changed', APPROVED), endpointOf('creditas'))), {
      id: 'PROP-2026-0001',
      name: 'CREDIT_ANALYSED',
      data: { valor_liberado: 2500000, parcelas: 48, taxa_mensal: 1.89 },
    });
    const bare = { proposal_id: 'B2B-1', status: 'in_analysis', previous_status: 'draft', reason: null };
    assert.deepEqual(bodyOf(render(eventOf('proposal.status_changed', bare), endpointOf('creditas'))), {
      id: 'B2B-1',
      name: 'PROCESSED',
    });
  });

  it('thin: identifiers and name only, never data', () => {
    const request = render(
      eventOf('proposal.status_changed', APPROVED),
      endpointOf('creditas', { payload: 'thin' }),
    );
    assert.deepEqual(bodyOf(request), { id: 'PROP-2026-0001', name: 'CREDIT_ANALYSED' });
    const customer = render(
      eventOf('customer.updated', { customer_id: 'C-1', status: 'x', store_id: 'S' }),
      endpointOf('creditas', { payload: 'thin' }),
    );
    assert.deepEqual(bodyOf(customer), { id: 'C-1', name: 'CUSTOMER_UPDATED' });
  });

  it('lets format_options.names override names by status or type', () => {
    const endpoint = endpointOf('creditas', {
      options: {
        names: { approved: 'APPROVED', paid: 'PAYMENT_APPROVED', 'proposal.created': 'NEW_PROPOSAL' },
      },
    });
    const name = (type: string, data: Json) => bodyOf(render(eventOf(type, data), endpoint)).name;
    assert.equal(name('proposal.status_changed', { proposal_id: 'B', status: 'approved' }), 'APPROVED');
    assert.equal(
      name('proposal_attempt.status_changed', { proposal_id: 'B', attempt_id: 'A', status: 'paid' }),
      'PAYMENT_APPROVED',
    );
    assert.equal(name('proposal.status_changed', { proposal_id: 'B', status: 'rejected' }), 'REJECTED');
    assert.equal(name('proposal.created', { proposal_id: 'B' }), 'NEW_PROPOSAL');
    assert.equal(name('proposal.updated', { proposal_id: 'B' }), 'PROPOSAL_UPDATED');
  });

  it('refuses a status change without a canonical status', () => {
    rejects(
      renderRequest(eventOf('proposal.status_changed', { proposal_id: 'B' }), endpointOf('creditas')),
      /status/,
    );
    rejects(
      renderRequest(eventOf('proposal.updated', { store_id: 'S' }), endpointOf('creditas')),
      /proposal_id/,
    );
    rejects(
      renderRequest(eventOf('proposal.deleted', { proposal_id: 'B' }), endpointOf('creditas')),
      /catalog/,
    );
  });

  it('checks its format_options', () => {
    const parse = FORMATS.creditas.parseOptions;
    assert.equal(parse(null), null);
    assert.equal(parse({}), null);
    assert.equal(parse({ names: {} }), null);
    assert.deepEqual(parse({ names: { approved: 'APPROVED', 'customer.created': 'CUSTOMER_2' } }), {
      names: { approved: 'APPROVED', 'customer.created': 'CUSTOMER_2' },
    });
    throwsOptionsError(() => parse({ name: {} }), /unknown format_options key "name"/);
    throwsOptionsError(() => parse({ names: [] }), /names/);
    throwsOptionsError(
      () => parse({ names: { aprovada: 'X' } }),
      /neither a canonical status nor a catalog event type/,
    );
    throwsOptionsError(() => parse({ names: { 'proposal.status_changed': 'X' } }), /named by its status/);
    throwsOptionsError(() => parse({ names: { approved: 'approved' } }), /names\["approved"\]/);
    throwsOptionsError(() => parse({ names: { approved: '1ST' } }), /names/);
    throwsOptionsError(() => parse({ names: { approved: 'A'.repeat(65) } }), /64/);
    throwsOptionsError(() => parse({ names: { approved: 5 } }), /names/);
    assert.deepEqual(parse({ names: { approved: 'A'.repeat(64) } }), { names: { approved: 'A'.repeat(64) } });
  });
});

describe('format credere', () => {
  /** The canonical part of a catalog example (what Arauto adds to the lender's object). */
  const canonicalOf = (type: string): Json => {
    const example = exampleOf(type);
    const properties = Object.keys(eventTypeSpec(type)?.schema.properties as Json);
    return Object.fromEntries(Object.entries(example).filter(([key]) => properties.includes(key)));
  };

  /**
   * Each fixture of test/fixtures/credere, rendered from catalog-style data: the catalog example
   * when its lender object is the document's whole object (customer), otherwise the fixture's
   * object plus the example's canonical fields — the catalog keeps 2 of the 12 installments of
   * every payment_flow, so its examples cannot reproduce those objects exactly.
   */
  const CASES: Array<{
    file: string;
    objectKey: string;
    types: Array<[type: string, name: string]>;
    fromCatalog?: true;
  }> = [
    {
      file: 'processed_simulation.json',
      objectKey: 'simulation',
      types: [['simulation.processed', 'processed_simulation']],
    },
    {
      file: 'synced_proposal_condition_from_bank.json',
      objectKey: 'proposal_attempt',
      types: [['proposal_attempt.synced_from_bank', 'synced_proposal_condition_from_bank']],
    },
    {
      file: 'status_updated.json',
      objectKey: 'proposal_attempt',
      types: [['proposal_attempt.status_changed', 'status_updated']],
    },
    {
      file: 'proposal_attempt_updated.json',
      objectKey: 'proposal_attempt',
      types: [
        ['proposal_attempt.updated', 'proposal_attempt_updated'],
        ['proposal_attempt.created', 'proposal_attempt_created'],
      ],
    },
    {
      file: 'proposal_updated.json',
      objectKey: 'proposal',
      types: [
        ['proposal.updated', 'proposal_updated'],
        ['proposal.created', 'proposal_created'],
      ],
    },
    {
      file: 'customer_updated.json',
      objectKey: 'customer',
      fromCatalog: true,
      types: [
        ['customer.updated', 'customer_updated'],
        ['customer.created', 'customer_created'],
      ],
    },
  ];

  for (const { file, objectKey, types, fromCatalog } of CASES) {
    for (const [type, name] of types) {
      it(`renders ${file} from ${type} (event ${name})`, () => {
        const fixture = readJson('credere', file);
        const object = fixture[objectKey] as Json;
        const data = fromCatalog ? exampleOf(type) : { ...canonicalOf(type), ...object };
        const request = render(eventOf(type, data), endpointOf('credere'));
        assert.equal(request.contentType, 'application/json');
        assert.deepEqual(bodyOf(request), { event: name, [objectKey]: object });
        if (name === fixture.event) assert.deepEqual(bodyOf(request), fixture);
      });
    }
  }

  it('renders proposal_status_updated.json, whose example says "proposal_updated", with names', () => {
    const fixture = readJson('credere', 'proposal_status_updated.json');
    const proposal = fixture.proposal as Json;
    assert.equal(fixture.event, 'proposal_updated', 'the document example, kept as published');
    assert.equal(proposal.state, 'análise');
    const data = {
      proposal_id: '1',
      store_id: '1',
      status: 'in_analysis',
      previous_status: 'draft',
      reason: null,
      description: null,
      changed_at: '2022-01-01T00:00:00.000-03:00',
      ...proposal,
    };
    const event = eventOf('proposal.status_changed', data);
    const named = render(
      event,
      endpointOf('credere', { options: { names: { 'proposal.status_changed': 'proposal_updated' } } }),
    );
    assert.deepEqual(bodyOf(named), fixture);
    // By default Arauto sends the section's name, so a status change is told apart from an edit.
    assert.deepEqual(bodyOf(render(event, endpointOf('credere'))), {
      event: 'proposal_status_updated',
      proposal,
    });
  });

  it('passes every catalog example through: the lender object unchanged, state in Credere words', () => {
    for (const spec of EVENT_CATALOG) {
      const example = exampleOf(spec.type);
      const body = bodyOf(render(eventOf(spec.type, example), endpointOf('credere')));
      const [key, ...more] = Object.keys(body).filter((k) => k !== 'event');
      assert.ok(key && more.length === 0);
      const object = body[key] as Json;
      const properties = Object.keys(spec.schema.properties as Json);
      let expected = Object.fromEntries(Object.entries(example).filter(([k]) => !properties.includes(k)));
      // The Creditas-born example of proposal.status_changed has no Credere id: the proposal_id is put first.
      const idKey = key === 'simulation' ? 'uuid' : 'id';
      if (!(idKey in expected)) expected = { [idKey]: example[spec.subject.idField], ...expected };
      const status = example.status as ProposalStatus | undefined;
      if (status && credereState(status)) expected.state = credereState(status);
      assert.deepEqual(object, expected, spec.type);
      assert.deepEqual(Object.keys(object), Object.keys(expected), `${spec.type}: key order kept`);
    }
  });

  it("keeps a lender field that is canonical only in other types (the simulation's own reason)", () => {
    const body = bodyOf(
      render(eventOf('simulation.processed', exampleOf('simulation.processed')), endpointOf('credere')),
    );
    const simulation = body.simulation as Json;
    assert.equal(simulation.reason, null);
    assert.equal('simulation_id' in simulation || 'store_id' in simulation, false);
  });

  it('sets the identifier when the lender object has none, and maps the state', () => {
    const proposal = bodyOf(render(eventOf('proposal.status_changed', APPROVED), endpointOf('credere')));
    assert.deepEqual(proposal, {
      event: 'proposal_status_updated',
      proposal: {
        id: 'PROP-2026-0001',
        valor_liberado: 2500000,
        parcelas: 48,
        taxa_mensal: 1.89,
        state: 'aprovada',
      },
    });
    const attempt = bodyOf(
      render(
        eventOf('proposal_attempt.status_changed', {
          proposal_id: 'P',
          attempt_id: 'A-7',
          status: 'pending',
          id: null,
        }),
        endpointOf('credere'),
      ),
    );
    assert.deepEqual(attempt, {
      event: 'status_updated',
      proposal_attempt: { id: 'A-7', state: 'pendente' },
    });
    const simulation = bodyOf(
      render(eventOf('simulation.processed', { simulation_id: 'S-1' }), endpointOf('credere')),
    );
    assert.deepEqual(simulation, { event: 'processed_simulation', simulation: { uuid: 'S-1' } });
    const customer = bodyOf(
      render(eventOf('customer.created', { customer_id: 'C-1', state: 'valido' }), endpointOf('credere')),
    );
    assert.deepEqual(customer, { event: 'customer_created', customer: { id: 'C-1', state: 'valido' } });
  });

  it("keeps the lender's state when the status has no Credere word", () => {
    const data = { proposal_id: 'P', status: 'paid', state: 'paga', id: 10 };
    const body = bodyOf(render(eventOf('proposal.status_changed', data), endpointOf('credere')));
    assert.deepEqual(body.proposal, { state: 'paga', id: 10 });
    const bare = bodyOf(
      render(eventOf('proposal.status_changed', { proposal_id: 'P', status: 'paid' }), endpointOf('credere')),
    );
    assert.deepEqual(bare.proposal, { id: 'P' });
  });

  it('thin: the identifier and state only', () => {
    const thin = endpointOf('credere', { payload: 'thin' });
    const cases: Array<[string, string, Json]> = [
      ['proposal.created', 'proposal', { id: '1', state: 'checagem' }],
      [
        'proposal.status_changed',
        'proposal',
        { id: 'B2B-36C2FCBF-8422-46D5-B94F-F1A2EB756D53', state: 'recusada' },
      ],
      ['proposal_attempt.status_changed', 'proposal_attempt', { id: '1', state: 'aprovada' }],
      ['proposal_attempt.synced_from_bank', 'proposal_attempt', { id: '1', state: 'análise' }],
      ['simulation.processed', 'simulation', { uuid: '0a00bc00-0d00-0000-0000-0ef0000g0hij' }],
      ['customer.updated', 'customer', { id: '1' }],
    ];
    for (const [type, key, object] of cases) {
      const body = bodyOf(render(eventOf(type, exampleOf(type)), thin));
      assert.deepEqual(body[key], object, type);
    }
  });

  it('checks its format_options', () => {
    const parse = FORMATS.credere.parseOptions;
    assert.equal(parse(undefined), null);
    assert.equal(parse({ names: {} }), null);
    assert.deepEqual(parse({ names: { 'proposal.status_changed': 'proposal_updated' } }), {
      names: { 'proposal.status_changed': 'proposal_updated' },
    });
    throwsOptionsError(() => parse({ names: { approved: 'x' } }), /not a catalog event type/);
    throwsOptionsError(() => parse({ names: { 'proposal.created': 'ProposalCreated' } }), /names/);
    throwsOptionsError(() => parse({ names: { 'proposal.created': '_x' } }), /names/);
    throwsOptionsError(() => parse({ names: { 'proposal.created': 'a'.repeat(65) } }), /64/);
    throwsOptionsError(
      () => parse({ names: { 'proposal.created': 'ok' }, extra: 1 }),
      /unknown format_options key "extra"/,
    );
    throwsOptionsError(() => parse(42), /must be an object/);
  });
});

describe('format bmp', () => {
  const GUID = '3f2b8c1e-9d4a-4e7b-8a6c-1b2d3e4f5a6b';
  const CALLBACK = `${URL_BASE}/bmp/callback`;
  const QUERY_TEMPLATE = `${CALLBACK}?proposta={PROPOSTA}&situacao={SITUACAO}&identificador={IDENTIFICADOR}`;

  const statusChange = (status: string, extra: Json = {}): RenderEvent =>
    eventOf('proposal.status_changed', {
      proposal_id: GUID,
      external_id: 'OP-778899',
      store_id: null,
      status,
      previous_status: null,
      reason: null,
      description: null,
      changed_at: '2026-11-22T18:53:54.585Z',
      ...extra,
    });

  /** test/fixtures/bmp/README.md lists the same inputs. */
  const CASES: Array<{ file: string; event: RenderEvent; endpoint: RenderEndpoint }> = [
    {
      file: 'get-appended.json',
      event: statusChange('in_analysis'),
      endpoint: endpointOf('bmp', { method: 'GET', url: CALLBACK }),
    },
    {
      file: 'get-query-placeholders.json',
      event: statusChange('approved'),
      endpoint: endpointOf('bmp', { method: 'GET', url: QUERY_TEMPLATE }),
    },
    {
      file: 'get-path-placeholders.json',
      event: statusChange('pending'),
      endpoint: endpointOf('bmp', {
        method: 'GET',
        url: `${URL_BASE}/propostas/{PROPOSTA}/situacao/{SITUACAO}?identificador={IDENTIFICADOR}`,
      }),
    },
    { file: 'post-9-paid.json', event: statusChange('paid'), endpoint: endpointOf('bmp', { url: CALLBACK }) },
    {
      file: 'put-11-payment-pending.json',
      event: statusChange('payment_pending', {
        reason: 'Conta corrente informada não pertence ao titular do CPF',
        description: 'Pendente de pagamento',
      }),
      endpoint: endpointOf('bmp', { method: 'PUT', url: CALLBACK }),
    },
    {
      file: 'post-2-approved.json',
      event: statusChange('approved'),
      endpoint: endpointOf('bmp', { url: CALLBACK }),
    },
    {
      file: 'no-identificador-appended.json',
      event: statusChange('canceled', { external_id: null }),
      endpoint: endpointOf('bmp', { method: 'GET', url: CALLBACK }),
    },
    {
      file: 'no-identificador-template.json',
      event: eventOf('proposal.status_changed', { proposal_id: GUID, status: 'rejected' }),
      endpoint: endpointOf('bmp', { method: 'GET', url: QUERY_TEMPLATE }),
    },
    {
      file: 'percent-encoding-appended.json',
      event: statusChange('draft', { proposal_id: 'a b/ç?&', external_id: 'OP 7/8&9#' }),
      endpoint: endpointOf('bmp', { method: 'GET', url: `${URL_BASE}/cb?token=k%20v` }),
    },
    {
      file: 'percent-encoding-template.json',
      event: statusChange('draft', { proposal_id: 'a b/ç?&', external_id: 'OP 7/8&9#' }),
      endpoint: endpointOf('bmp', {
        method: 'GET',
        url: `${URL_BASE}/propostas/{PROPOSTA}?identificador={IDENTIFICADOR}&situacao={SITUACAO}`,
      }),
    },
  ];

  it('has a test case for every fixture', () => {
    const files = readdirSync(join(FIXTURES, 'bmp')).filter((f) => f.endsWith('.json'));
    assert.deepEqual(files.sort(), CASES.map((c) => c.file).sort());
  });

  for (const { file, event, endpoint } of CASES) {
    it(`renders ${file}`, () => {
      assert.equal(FORMATS.bmp.checkUrl(endpoint.url), null);
      assert.deepEqual(onTheWire(render(event, endpoint)), readJson('bmp', file));
    });
  }

  it('renders all twelve codes 0-11, with a body for 9 and 11 only', () => {
    assert.equal(BMP_SITUACOES.length, 12);
    for (const { code, status } of BMP_SITUACOES) {
      for (const method of ['POST', 'GET', 'PUT'] as const) {
        const request = render(statusChange(status), endpointOf('bmp', { method, url: CALLBACK }));
        const url = new URL(request.url);
        assert.equal(url.searchParams.get('situacao'), String(code));
        assert.equal(url.searchParams.get('proposta'), GUID);
        assert.equal(url.searchParams.get('identificador'), 'OP-778899');
        assert.equal(request.method, method);
        const withBody = method !== 'GET' && (code === 9 || code === 11);
        assert.equal(request.body !== '', withBody, `${method} ${code}`);
        assert.equal(request.contentType, withBody ? 'application/json' : null);
      }
    }
  });

  it('the body of 11: the reason, else the description, else "Pendente Pagamento"', () => {
    const text = (extra: Json) =>
      bodyOf(render(statusChange('payment_pending', extra), endpointOf('bmp', { url: CALLBACK })))
        .descricaoOcorrencia;
    assert.equal(text({ reason: 'Agência inválida', description: 'outra' }), 'Agência inválida');
    assert.equal(text({ description: 'Conta encerrada' }), 'Conta encerrada');
    assert.equal(text({ reason: '  ' }), 'Pendente Pagamento');
    assert.equal(text({}), 'Pendente Pagamento');
  });

  it('renames the occurrence key with format_options.occurrence_field', () => {
    const endpoint = endpointOf('bmp', {
      url: CALLBACK,
      options: { occurrence_field: 'DescricaoOcorrencia' },
    });
    assert.deepEqual(bodyOf(render(statusChange('paid'), endpoint)), {
      DescricaoOcorrencia: 'Crédito ou débito efetivado',
    });
  });

  it('renders proposal.created with its status (draft → 0)', () => {
    const event = eventOf('proposal.created', { proposal_id: GUID, external_id: 'OP-1', status: 'draft' });
    const request = render(event, endpointOf('bmp', { method: 'GET', url: CALLBACK }));
    assert.equal(request.url, `${CALLBACK}?proposta=${GUID}&situacao=0&identificador=OP-1`);
  });

  it('refuses statuses without a BMP code, events without status, and other event types', () => {
    for (const status of ['pre_approved', 'restricted', 'checking', 'invoiced']) {
      rejects(renderRequest(statusChange(status), endpointOf('bmp', { url: CALLBACK })), new RegExp(status));
    }
    assert.deepEqual(
      PROPOSAL_STATUSES.filter((s) => bmpCode(s) === null),
      ['pre_approved', 'restricted', 'checking', 'invoiced'],
    );
    rejects(
      renderRequest(statusChange('nonsense'), endpointOf('bmp', { url: CALLBACK })),
      /canonical status/,
    );
    const noStatus = eventOf('proposal.created', { proposal_id: GUID });
    rejects(renderRequest(noStatus, endpointOf('bmp', { url: CALLBACK })), /no status/);
    for (const type of ['customer.updated', 'proposal.updated', 'proposal_attempt.status_changed']) {
      const event = eventOf(type, exampleOf(type));
      rejects(renderRequest(event, endpointOf('bmp', { url: CALLBACK })), /does not carry/);
    }
  });

  it('thin: the same URL; the body of 11 loses the reason (not a thin field)', () => {
    const thin = endpointOf('bmp', { url: CALLBACK, payload: 'thin' });
    assert.deepEqual(onTheWire(render(statusChange('paid'), thin)), readJson('bmp', 'post-9-paid.json'));
    const pending = render(statusChange('payment_pending', { reason: 'Agência inválida' }), thin);
    assert.deepEqual(bodyOf(pending), { descricaoOcorrencia: 'Pendente Pagamento' });
  });

  it('accepts %7B-encoded placeholders (what the URL class makes of a path)', () => {
    const normalized = new URL(`${URL_BASE}/propostas/{PROPOSTA}`).href;
    assert.equal(normalized, `${URL_BASE}/propostas/%7BPROPOSTA%7D`);
    assert.equal(FORMATS.bmp.checkUrl(normalized), null);
    const request = render(statusChange('paid'), endpointOf('bmp', { method: 'GET', url: normalized }));
    assert.equal(request.url, `${URL_BASE}/propostas/${GUID}`);
  });

  it('checkUrl: only the three placeholders, only in path and query', () => {
    const check = FORMATS.bmp.checkUrl;
    assert.equal(check(CALLBACK), null);
    assert.equal(check(QUERY_TEMPLATE), null);
    assert.equal(check(`${URL_BASE}/p/{PROPOSTA}/{SITUACAO}/{IDENTIFICADOR}`), null);
    assert.equal(check(`${URL_BASE}/p/%7Bfoo%7D`), null, 'an encoded brace is only a character');
    assert.match(check(`${URL_BASE}/p?x={FOO}`) ?? '', /\{FOO\}/);
    assert.match(check(`${URL_BASE}/p?x={proposta}`) ?? '', /\{proposta\}/);
    assert.match(check(`${URL_BASE}/p?x={PROPOSTA`) ?? '', /"\{"/);
    assert.match(check('https://{PROPOSTA}.example.com/cb') ?? '', /host/);
    assert.match(check('https://cb.example.com:{SITUACAO}/cb') ?? '', /host, or port|port/);
    assert.match(check('https://{IDENTIFICADOR}@cb.example.com/cb') ?? '', /host/);
    assert.match(check('{PROPOSTA}://cb.example.com/cb') ?? '', /scheme/);
    assert.match(check(`${URL_BASE}/cb#{PROPOSTA}`) ?? '', /fragment/);
    assert.match(check('/relative/{PROPOSTA}') ?? '', /valid absolute URL/);
  });

  it('checks its format_options', () => {
    const parse = FORMATS.bmp.parseOptions;
    assert.equal(parse(null), null);
    assert.equal(parse({}), null);
    assert.deepEqual(parse({ occurrence_field: 'descricao_ocorrencia' }), {
      occurrence_field: 'descricao_ocorrencia',
    });
    throwsOptionsError(() => parse({ occurrence_field: '' }), /occurrence_field/);
    throwsOptionsError(() => parse({ occurrence_field: 'x'.repeat(65) }), /occurrence_field/);
    throwsOptionsError(() => parse({ occurrence_field: 1 }), /occurrence_field/);
    throwsOptionsError(() => parse({ method: 'GET' }), /unknown format_options key "method"/);
  });
});
