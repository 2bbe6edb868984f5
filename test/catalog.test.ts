import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { EventTypeSpec } from '../src/domain/catalog.ts';
import { EVENT_CATALOG, eventTypeSpec, subjectOf } from '../src/domain/catalog.ts';
import { PROPOSAL_STATUSES, statusFromCredere } from '../src/domain/statuses.ts';

type Json = Record<string, unknown>;

const TYPES = [
  'simulation.processed',
  'proposal.created',
  'proposal.updated',
  'proposal.status_changed',
  'proposal_attempt.created',
  'proposal_attempt.updated',
  'proposal_attempt.status_changed',
  'proposal_attempt.synced_from_bank',
  'customer.created',
  'customer.updated',
];

// ajv and ajv-formats are CommonJS: under nodenext the default import is module.exports, whose
// `.default` is the class / plugin itself (and is also what the type declarations describe).
const ajv = new Ajv.default({ allErrors: true, strict: true });
addFormats.default(ajv);

const validate = (spec: EventTypeSpec, data: Json) => {
  const check = ajv.compile(spec.schema);
  return { valid: check(data), errors: check.errors ?? [] };
};

const spec = (type: string): EventTypeSpec => {
  const found = eventTypeSpec(type);
  assert.ok(found, `${type} is in the catalog`);
  return found;
};

/** A mutable copy: the catalog itself is frozen. */
const exampleOf = (type: string): Json => structuredClone(spec(type).example) as Json;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const requiredOf = (s: EventTypeSpec): string[] => s.schema.required as string[];
const propertiesOf = (s: EventTypeSpec): Json => s.schema.properties as Json;

describe('event catalog', () => {
  it('has the ten types, in order, unique and well formed', () => {
    const types = EVENT_CATALOG.map((s) => s.type);
    assert.deepEqual(types, TYPES);
    assert.equal(new Set(types).size, types.length);
    for (const type of types) assert.match(type, /^[a-z0-9_]+(\.[a-z0-9_]+)*$/);
  });

  it('finds each spec by its type, and nothing else', () => {
    for (const s of EVENT_CATALOG) assert.equal(eventTypeSpec(s.type), s);
    assert.equal(eventTypeSpec('proposal.deleted'), undefined);
    assert.equal(eventTypeSpec('proposal'), undefined);
    assert.equal(eventTypeSpec(''), undefined);
  });

  it('describes each type in one sentence and names its source document', () => {
    for (const s of EVENT_CATALOG) {
      assert.match(s.description, /^[A-Z][^.]*(\.[^ .][^.]*)*\.$/, s.type);
      assert.match(s.source, /^(credere|creditas)-webhooks\.txt: /, s.type);
    }
    assert.match(spec('proposal.status_changed').source, /creditas-webhooks\.txt/);
    assert.match(spec('proposal.status_changed').source, /credere-webhooks\.txt/);
  });

  it('is frozen all the way down', () => {
    const walk = (value: unknown, path: string): void => {
      if (typeof value !== 'object' || value === null) return;
      assert.ok(Object.isFrozen(value), `${path} is frozen`);
      for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
    };
    walk(EVENT_CATALOG, 'EVENT_CATALOG');
  });

  it('maps simulation.* to simulations, proposal.* and proposal_attempt.* to proposals, customer.* to customers', () => {
    for (const s of EVENT_CATALOG) {
      const family = s.type.split('.')[0];
      const expected =
        family === 'simulation'
          ? { kind: 'simulation', idField: 'simulation_id' }
          : family === 'customer'
            ? { kind: 'customer', idField: 'customer_id' }
            : { kind: 'proposal', idField: 'proposal_id' };
      assert.deepEqual(s.subject, expected, s.type);
    }
  });

  it('never forbids additional properties, at any depth', () => {
    const walk = (value: unknown, path: string): void => {
      if (typeof value !== 'object' || value === null) return;
      if (isObject(value) && 'additionalProperties' in value) {
        assert.notEqual(value.additionalProperties, false, `${path} forbids additional properties`);
      }
      for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
    };
    for (const s of EVENT_CATALOG) walk(s.schema, s.type);
  });

  it('gives every type an object schema whose required fields are all described', () => {
    for (const s of EVENT_CATALOG) {
      assert.deepEqual(Object.keys(s.schema).sort(), ['properties', 'required', 'type'], s.type);
      assert.equal(s.schema.type, 'object');
      const properties = propertiesOf(s);
      assert.ok(requiredOf(s).includes(s.subject.idField), `${s.type} requires its subject id`);
      for (const field of requiredOf(s)) assert.ok(field in properties, `${s.type}: ${field} is described`);
    }
  });

  it('requires the canonical fields of each family', () => {
    const required = Object.fromEntries(EVENT_CATALOG.map((s) => [s.type, [...requiredOf(s)].sort()]));
    assert.deepEqual(required, {
      'simulation.processed': ['simulation_id'],
      'proposal.created': ['proposal_id'],
      'proposal.updated': ['proposal_id'],
      'proposal.status_changed': ['proposal_id', 'status'],
      'proposal_attempt.created': ['attempt_id', 'proposal_id'],
      'proposal_attempt.updated': ['attempt_id', 'proposal_id'],
      'proposal_attempt.status_changed': ['attempt_id', 'proposal_id', 'status'],
      'proposal_attempt.synced_from_bank': ['attempt_id', 'proposal_id'],
      'customer.created': ['customer_id'],
      'customer.updated': ['customer_id'],
    });
  });

  for (const type of TYPES) {
    describe(type, () => {
      it('compiles, and its example validates', () => {
        const { valid, errors } = validate(spec(type), exampleOf(type));
        assert.equal(valid, true, JSON.stringify(errors));
      });

      it('rejects the example without each required field, naming the field', () => {
        for (const field of requiredOf(spec(type))) {
          const data = exampleOf(type);
          delete data[field];
          const { valid, errors } = validate(spec(type), data);
          assert.equal(valid, false, `${type} without ${field}`);
          assert.ok(
            errors.some(
              (e) => e.keyword === 'required' && e.instancePath === '' && e.params.missingProperty === field,
            ),
            `${type} without ${field}: ${JSON.stringify(errors)}`,
          );
        }
      });

      it('rejects ids that are not non-empty strings', () => {
        for (const field of requiredOf(spec(type)).filter((f) => f.endsWith('_id'))) {
          for (const wrong of [1, '', null, { id: '1' }]) {
            const { valid, errors } = validate(spec(type), { ...exampleOf(type), [field]: wrong });
            assert.equal(valid, false, `${type} with ${field} = ${JSON.stringify(wrong)}`);
            assert.ok(
              errors.some((e) => e.instancePath === `/${field}`),
              JSON.stringify(errors),
            );
          }
        }
      });

      it('accepts fields it does not know, at the top and nested', () => {
        const data = { ...exampleOf(type), unknown_field: { nested: [1, 'two', null] }, anotherOne: 42 };
        assert.equal(validate(spec(type), data).valid, true);
      });

      if ('status' in propertiesOf(spec(type))) {
        it('accepts every canonical status and nothing else', () => {
          for (const status of PROPOSAL_STATUSES) {
            assert.equal(validate(spec(type), { ...exampleOf(type), status }).valid, true, status);
          }
          // A lender's own vocabulary must be mapped before publishing (statusFromCredere & co.).
          for (const wrong of ['aprovada', 'REJECTED', 'APPROVED', 2, null, '']) {
            const { valid, errors } = validate(spec(type), { ...exampleOf(type), status: wrong });
            assert.equal(valid, false, `${type} with status ${JSON.stringify(wrong)}`);
            assert.ok(
              errors.some((e) => e.instancePath === '/status'),
              JSON.stringify(errors),
            );
          }
        });
      }
    });
  }

  it('rejects a numeric proposal_id on every proposal and attempt type', () => {
    const types = TYPES.filter((t) => t.startsWith('proposal'));
    assert.equal(types.length, 7);
    for (const type of types) {
      const { valid, errors } = validate(spec(type), { ...exampleOf(type), proposal_id: 1 });
      assert.equal(valid, false, type);
      assert.ok(
        errors.some((e) => e.instancePath === '/proposal_id' && e.keyword === 'type'),
        JSON.stringify(errors),
      );
    }
  });

  it('describes the optional canonical fields of proposals and attempts', () => {
    for (const type of TYPES.filter((t) => t.startsWith('proposal'))) {
      const s = spec(type);
      for (const [field, value] of [
        ['external_id', 'OP-123'],
        ['external_id', null],
        ['store_id', '7'],
        ['store_id', null],
      ] as const) {
        assert.equal(validate(s, { ...exampleOf(type), [field]: value }).valid, true, `${type} ${field}`);
      }
      for (const field of ['external_id', 'store_id']) {
        const { valid, errors } = validate(s, { ...exampleOf(type), [field]: 7 });
        assert.equal(valid, false, `${type} ${field} = 7`);
        assert.ok(errors.some((e) => e.instancePath === `/${field}`));
      }
    }
    const simulation = spec('simulation.processed');
    assert.equal(validate(simulation, { ...exampleOf('simulation.processed'), store_id: 7 }).valid, false);
  });

  it('checks the optional fields of proposal.status_changed', () => {
    const s = spec('proposal.status_changed');
    const example = exampleOf('proposal.status_changed');
    const minimal = { proposal_id: example.proposal_id, status: example.status };
    assert.equal(validate(s, minimal).valid, true);
    for (const field of ['previous_status', 'reason', 'description']) {
      assert.equal(validate(s, { ...example, [field]: null }).valid, true, `${field} may be null`);
    }
    for (const [field, wrong] of [
      ['previous_status', 'recusada'],
      ['reason', 3],
      ['description', false],
      ['changed_at', 'yesterday'],
      ['changed_at', '2022-01-01 00:00:00 -0300'],
      ['changed_at', null],
    ] as const) {
      const { valid, errors } = validate(s, { ...example, [field]: wrong });
      assert.equal(valid, false, `${field} = ${JSON.stringify(wrong)}`);
      assert.ok(
        errors.some((e) => e.instancePath === `/${field}`),
        JSON.stringify(errors),
      );
    }
  });

  it('builds proposal.status_changed around the Creditas REJECTED event', () => {
    assert.deepEqual(spec('proposal.status_changed').example, {
      proposal_id: 'B2B-36C2FCBF-8422-46D5-B94F-F1A2EB756D53',
      status: 'rejected',
      previous_status: 'in_analysis',
      reason: 'OUT_OF_POLICE',
      description: 'Recusado ou rejeitado',
      changed_at: '2022-01-01T00:00:00.000-03:00',
      rejectionReason: 'OUT_OF_POLICE',
    });
  });

  it('gives Credere examples the canonical status of their Credere state', () => {
    for (const type of TYPES.filter((t) => t.startsWith('proposal') && t !== 'proposal.status_changed')) {
      const example = spec(type).example;
      assert.equal(typeof example.state, 'string', type);
      assert.equal(example.status, statusFromCredere(example.state as string), type);
    }
  });
});

describe('subjectOf', () => {
  it('names the proposal for proposal.* and proposal_attempt.* examples', () => {
    assert.equal(
      subjectOf(spec('proposal.status_changed'), spec('proposal.status_changed').example),
      'proposal/B2B-36C2FCBF-8422-46D5-B94F-F1A2EB756D53',
    );
    for (const type of TYPES.filter((t) => t.startsWith('proposal'))) {
      assert.match(subjectOf(spec(type), spec(type).example) ?? '', /^proposal\/.+/, type);
    }
    for (const type of TYPES.filter((t) => t.startsWith('proposal_attempt'))) {
      assert.equal(subjectOf(spec(type), spec(type).example), 'proposal/1', type);
    }
  });

  it('names the simulation and the customer', () => {
    assert.equal(
      subjectOf(spec('simulation.processed'), spec('simulation.processed').example),
      'simulation/0a00bc00-0d00-0000-0000-0ef0000g0hij',
    );
    assert.equal(subjectOf(spec('customer.created'), spec('customer.created').example), 'customer/1');
    assert.equal(subjectOf(spec('customer.updated'), spec('customer.updated').example), 'customer/1');
  });

  it('is null when the id field is missing, empty or not a string', () => {
    for (const s of EVENT_CATALOG) {
      const data = structuredClone(s.example) as Json;
      delete data[s.subject.idField];
      assert.equal(subjectOf(s, data), null, s.type);
      assert.equal(subjectOf(s, { ...data, [s.subject.idField]: '' }), null, s.type);
      assert.equal(subjectOf(s, { ...data, [s.subject.idField]: 1 }), null, s.type);
      assert.equal(subjectOf(s, { ...data, [s.subject.idField]: null }), null, s.type);
    }
    // An attempt's own id never stands in for its proposal's.
    assert.equal(subjectOf(spec('proposal_attempt.updated'), { attempt_id: '9' }), null);
  });
});

describe('Credere fixtures (test/fixtures/credere)', () => {
  const dir = join(import.meta.dirname, 'fixtures', 'credere');

  /** fixture → [the `event` it carries, its object key, the catalog types whose example is that object] */
  const FIXTURES: Record<string, [string, string, string[]]> = {
    processed_simulation: ['processed_simulation', 'simulation', ['simulation.processed']],
    synced_proposal_condition_from_bank: [
      'synced_proposal_condition_from_bank',
      'proposal_attempt',
      ['proposal_attempt.synced_from_bank'],
    ],
    status_updated: ['status_updated', 'proposal_attempt', ['proposal_attempt.status_changed']],
    // The document titles this section proposal_status_updated but its example says
    // proposal_updated; the fixture keeps the document's text. proposal.status_changed's example
    // is built on Creditas' envelope, so this object is not compared with the catalog.
    proposal_status_updated: ['proposal_updated', 'proposal', []],
    proposal_updated: ['proposal_updated', 'proposal', ['proposal.created', 'proposal.updated']],
    proposal_attempt_updated: [
      'proposal_attempt_updated',
      'proposal_attempt',
      ['proposal_attempt.created', 'proposal_attempt.updated'],
    ],
    customer_updated: ['customer_updated', 'customer', ['customer.created', 'customer.updated']],
  };

  const load = (name: string): Json => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Json;

  /**
   * Deep equality, except under `payment_flow`, where catalog.ts keeps only the first two of the
   * twelve identical installments: there the example must hold a non-empty part of the fixture.
   */
  const assertCopied = (part: unknown, whole: unknown, path: string): void => {
    if (path.endsWith('.payment_flow') && typeof part === 'object' && part !== null) {
      assert.equal(Array.isArray(part), Array.isArray(whole), path);
      const entries = Object.entries(part);
      assert.ok(entries.length > 0, `${path} keeps at least one installment`);
      for (const [key, value] of entries) assert.deepEqual(value, (whole as Json)[key], `${path}.${key}`);
      return;
    }
    if (typeof part === 'object' && part !== null) {
      assert.ok(typeof whole === 'object' && whole !== null, path);
      assert.equal(Array.isArray(part), Array.isArray(whole), path);
      assert.deepEqual(Object.keys(part), Object.keys(whole), path);
      for (const [key, value] of Object.entries(part))
        assertCopied(value, (whole as Json)[key], `${path}.${key}`);
      return;
    }
    assert.equal(part, whole, path);
  };

  it('holds exactly the seven examples of the document and a README listing them', () => {
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, [...Object.keys(FIXTURES).map((n) => `${n}.json`), 'README.md'].sort());
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const name of Object.keys(FIXTURES)) assert.ok(readme.includes(`${name}.json`), name);
  });

  for (const [name, [event, objectKey, types]] of Object.entries(FIXTURES)) {
    it(`${name}.json is the {event, ${objectKey}} envelope${types.length ? ` behind ${types.join(', ')}` : ''}`, () => {
      const fixture = load(name);
      assert.equal(typeof fixture.event, 'string');
      assert.equal(fixture.event, event);
      assert.deepEqual(Object.keys(fixture).sort(), ['event', objectKey].sort());
      const object = fixture[objectKey];
      assert.ok(isObject(object), `${name}.${objectKey} is an object`);
      if (objectKey !== 'simulation' && objectKey !== 'customer') {
        assert.notEqual(statusFromCredere(object.state as string), null, `${name}: Credere state is mapped`);
      }

      for (const type of types) {
        const s = spec(type);
        const example = s.example;
        for (const key of Object.keys(object)) {
          assert.ok(key in example, `${type} example has ${objectKey}.${key}`);
          assertCopied(example[key], object[key], `${type}.${key}`);
        }
        // Whatever the example adds to the lender's object is Arauto's, and described by the schema.
        for (const key of Object.keys(example).filter((k) => !(k in object))) {
          assert.ok(key in propertiesOf(s), `${type} example adds ${key}, which the schema describes`);
        }
        if (objectKey === 'simulation') assert.equal(example.simulation_id, object.uuid);
        if (objectKey === 'customer') assert.equal(example.customer_id, String(object.id));
        if (objectKey === 'proposal') assert.equal(example.proposal_id, String(object.id));
        if (objectKey === 'proposal_attempt') {
          assert.equal(example.attempt_id, String(object.id));
          assert.equal(example.proposal_id, String((object.proposal as Json).id));
        }
      }
    });
  }
});
