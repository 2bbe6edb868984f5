import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import type { ProposalStatus, TransitionTable } from '../src/domain/statuses.ts';
import {
  allowedNext,
  BMP_SITUACOES,
  bmpCode,
  CREDERE_STATES,
  CREDITAS_NAMES,
  canTransition,
  credereState,
  creditasName,
  DEFAULT_TRANSITIONS,
  isProposalStatus,
  PROPOSAL_STATUSES,
  parseStatusInput,
  parseTransitionTable,
  statusFromBmp,
  statusFromCredere,
  statusFromCreditas,
} from '../src/domain/statuses.ts';

/**
 * The expectations below are transcribed from the source documents, not from statuses.ts, so that
 * a change to either side shows up here:
 * - BMP: "Tabela de eventos da proposta" in bmp-callbacks.txt (ID | Descrição).
 * - Credere: "Status de proposta" at the end of credere-webhooks.txt, plus `checagem`, which only
 *   appears in its examples (the proposal and proposal attempt objects).
 * - Creditas: the four names creditas-webhooks.txt gives as examples of `name`.
 */

const BMP_TABLE: ReadonlyArray<[code: number, name: string, status: ProposalStatus]> = [
  [0, 'Em Digitação', 'draft'],
  [1, 'Em Análise', 'in_analysis'],
  [2, 'Aprovada', 'approved'],
  [3, 'Recusada', 'rejected'],
  [4, 'Cancelada', 'canceled'],
  [5, 'Pendente', 'pending'],
  [6, 'Finalizada', 'finalized'],
  [7, 'Conferida', 'verified'],
  [8, 'Liberada', 'released'],
  [9, 'Paga', 'paid'],
  [10, 'Cedida', 'assigned'],
  [11, 'Pendente Pagamento', 'payment_pending'],
];

const CREDERE_TABLE: ReadonlyArray<[state: string, meaning: string, status: ProposalStatus]> = [
  ['análise', 'Em análise pelo banco', 'in_analysis'],
  ['aprovada', 'Aprovado e autorizado', 'approved'],
  ['pendente', 'Pendente de revisão ou documento', 'pending'],
  ['pré_aprovada', 'Pré-aprovada pendente de alguma informação', 'pre_approved'],
  ['recusada', 'Recusado ou rejeitado', 'rejected'],
  ['restrição', 'Restrito por limitações ou condições específicas', 'restricted'],
  ['desistencia', 'Descartado ou ignorado', 'canceled'],
  ['faturada', 'Faturado ou cobrado', 'invoiced'],
  ['checagem', 'Em checagem (aparece nos exemplos, não na tabela)', 'checking'],
];

const CREDITAS_DOCUMENTED: ReadonlyArray<[name: string, status: ProposalStatus]> = [
  ['PROCESSED', 'in_analysis'],
  ['PREQUALIFIED', 'pre_approved'],
  ['CREDIT_ANALYSED', 'approved'],
  ['REJECTED', 'rejected'],
];

const FINAL: readonly ProposalStatus[] = ['rejected', 'canceled', 'assigned'];
const OPTIONAL_STEPS: readonly ProposalStatus[] = [
  'pre_approved',
  'pending',
  'restricted',
  'checking',
  'finalized',
  'verified',
  'payment_pending',
  'invoiced',
];

const without = (taken: readonly ProposalStatus[]): ProposalStatus[] =>
  PROPOSAL_STATUSES.filter((s) => !taken.includes(s));

/** Every status reachable from `from` in one or more steps (BFS). */
function reachable(table: TransitionTable, from: ProposalStatus): Set<ProposalStatus> {
  const seen = new Set<ProposalStatus>();
  const queue: ProposalStatus[] = [from];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    for (const next of table[current]) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

/** A JSON-shaped copy of the default table, mutable so a test can break it. */
const defaultCopy = (): Record<string, unknown> =>
  JSON.parse(JSON.stringify(DEFAULT_TRANSITIONS)) as Record<string, unknown>;

describe('canonical statuses', () => {
  it('are sixteen distinct snake_case names', () => {
    assert.equal(PROPOSAL_STATUSES.length, 16);
    assert.equal(new Set(PROPOSAL_STATUSES).size, 16);
    for (const s of PROPOSAL_STATUSES) {
      assert.match(s, /^[a-z]+(_[a-z]+)*$/);
      assert.ok(isProposalStatus(s));
    }
  });

  it('isProposalStatus refuses anything else', () => {
    for (const value of ['', 'Draft', 'APPROVED', 'análise', 'paid ', 9, null, undefined, {}, ['paid']]) {
      assert.equal(isProposalStatus(value), false, JSON.stringify(value));
    }
  });
});

describe('BMP situação codes', () => {
  it('map every code 0-11 to its documented status, and back', () => {
    for (const [code, , status] of BMP_TABLE) {
      assert.equal(statusFromBmp(code), status, `code ${code}`);
      assert.equal(bmpCode(status), code, status);
    }
  });

  it('carry the names of the table in bmp-callbacks.txt', () => {
    assert.deepEqual(
      BMP_SITUACOES.map((s) => [s.code, s.name, s.status]),
      BMP_TABLE.map((row) => [...row]),
    );
  });

  it('use each code and each status once', () => {
    assert.equal(new Set(BMP_SITUACOES.map((s) => s.code)).size, BMP_SITUACOES.length);
    assert.equal(new Set(BMP_SITUACOES.map((s) => s.status)).size, BMP_SITUACOES.length);
  });

  it('return null for statuses BMP has no code for', () => {
    const withoutCode = without(BMP_TABLE.map(([, , s]) => s));
    assert.deepEqual(withoutCode, ['pre_approved', 'restricted', 'checking', 'invoiced']);
    for (const status of withoutCode) assert.equal(bmpCode(status), null, status);
  });

  it('return null for codes out of range', () => {
    for (const code of [-1, 12, 13, 99, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(statusFromBmp(code), null, String(code));
    }
  });
});

describe('Credere states', () => {
  it('map every state (checagem included) to its status, and back', () => {
    for (const [state, , status] of CREDERE_TABLE) {
      assert.equal(statusFromCredere(state), status, state);
      assert.equal(credereState(status), state, status);
    }
  });

  it('are exactly the documented table plus checagem, with its meanings', () => {
    const byState = (rows: ReadonlyArray<{ state: string }>) =>
      [...rows].sort((a, b) => a.state.localeCompare(b.state));
    assert.deepEqual(
      byState(CREDERE_STATES.map((s) => ({ state: s.state, meaning: s.meaning, status: s.status }))),
      byState(CREDERE_TABLE.map(([state, meaning, status]) => ({ state, meaning, status }))),
    );
    assert.equal(new Set(CREDERE_STATES.map((s) => s.status)).size, CREDERE_STATES.length);
  });

  it('forgive accents and case on input', () => {
    assert.equal(statusFromCredere('analise'), 'in_analysis');
    assert.equal(statusFromCredere('ANÁLISE'), 'in_analysis');
    assert.equal(statusFromCredere('Pré_Aprovada'), 'pre_approved');
    assert.equal(statusFromCredere('pre_aprovada'), 'pre_approved');
    assert.equal(statusFromCredere('pré-aprovada'), 'pre_approved');
    assert.equal(statusFromCredere('restricao'), 'restricted');
    assert.equal(statusFromCredere('Restrição'), 'restricted');
    assert.equal(statusFromCredere('DESISTENCIA'), 'canceled');
    assert.equal(statusFromCredere('desistência'), 'canceled');
    assert.equal(statusFromCredere('Checagem'), 'checking');
  });

  it('return null for statuses Credere has no state for, and for unknown states', () => {
    const withoutState = without(CREDERE_TABLE.map(([, , s]) => s));
    assert.deepEqual(withoutState, [
      'draft',
      'finalized',
      'verified',
      'released',
      'paid',
      'assigned',
      'payment_pending',
    ]);
    for (const status of withoutState) assert.equal(credereState(status), null, status);
    for (const state of ['', 'paga', 'em_analise', 'approved', 'aprovado']) {
      assert.equal(statusFromCredere(state), null, state);
    }
  });
});

describe('Creditas names', () => {
  it('map the four documented names both ways', () => {
    for (const [name, status] of CREDITAS_DOCUMENTED) {
      assert.equal(statusFromCreditas(name), status, name);
      assert.equal(creditasName(status), name, status);
      assert.equal(CREDITAS_NAMES.find((n) => n.name === name)?.documented, true, name);
    }
  });

  it('give every other status its upper-case name, marked undocumented', () => {
    const others = without(CREDITAS_DOCUMENTED.map(([, s]) => s));
    assert.equal(others.length, 12);
    for (const status of others) {
      const name = status.toUpperCase();
      assert.equal(creditasName(status), name, status);
      assert.equal(statusFromCreditas(name), status, name);
      assert.deepEqual(
        CREDITAS_NAMES.filter((n) => n.status === status),
        [{ name, status, documented: false }],
      );
    }
    assert.equal(CREDITAS_NAMES.length, PROPOSAL_STATUSES.length);
    assert.equal(new Set(CREDITAS_NAMES.map((n) => n.name)).size, CREDITAS_NAMES.length);
  });

  it('read names case-insensitively', () => {
    assert.equal(statusFromCreditas('processed'), 'in_analysis');
    assert.equal(statusFromCreditas('Credit_Analysed'), 'approved');
    assert.equal(statusFromCreditas('prequalified'), 'pre_approved');
    assert.equal(statusFromCreditas('rejected'), 'rejected');
    assert.equal(statusFromCreditas('Payment_Pending'), 'payment_pending');
    for (const name of ['', 'IN_ANALYSIS', 'PRE_APPROVED', 'CREDIT_ANALYZED', 'FOO']) {
      assert.equal(statusFromCreditas(name), null, name);
    }
  });
});

describe('parseStatusInput', () => {
  it('reads canonical names', () => {
    for (const status of PROPOSAL_STATUSES) {
      assert.equal(parseStatusInput(status), status);
      assert.equal(parseStatusInput(` ${status} `), status);
    }
  });

  it('reads BMP codes as numbers and as digit strings', () => {
    for (const [code, , status] of BMP_TABLE) {
      assert.equal(parseStatusInput(code), status, `number ${code}`);
      assert.equal(parseStatusInput(String(code)), status, `string ${code}`);
    }
    assert.equal(parseStatusInput('9'), 'paid');
    assert.equal(parseStatusInput('09'), 'paid'); // "Status 09" in bmp-callbacks.txt
    assert.equal(parseStatusInput(' 11 '), 'payment_pending');
  });

  it('reads Credere states, accents and case forgiven', () => {
    for (const [state, , status] of CREDERE_TABLE) assert.equal(parseStatusInput(state), status, state);
    assert.equal(parseStatusInput('analise'), 'in_analysis');
    assert.equal(parseStatusInput('Pré_Aprovada'), 'pre_approved');
    assert.equal(parseStatusInput('restricao'), 'restricted');
    assert.equal(parseStatusInput('DESISTENCIA'), 'canceled');
  });

  it('reads Creditas names in any case', () => {
    for (const { name, status } of CREDITAS_NAMES) {
      assert.equal(parseStatusInput(name), status, name);
      assert.equal(parseStatusInput(name.toLowerCase()), status, name.toLowerCase());
    }
  });

  it('rejects what is none of these', () => {
    for (const input of [12, -1, 1.5, Number.NaN, '', '   ', 'foo', '12', '-1', '1.5', '100', 'aprovado']) {
      assert.equal(parseStatusInput(input), null, JSON.stringify(input));
    }
  });
});

describe('DEFAULT_TRANSITIONS', () => {
  it('has a list for every status and only canonical targets', () => {
    assert.deepEqual(Object.keys(DEFAULT_TRANSITIONS).sort(), [...PROPOSAL_STATUSES].sort());
    for (const [from, targets] of Object.entries(DEFAULT_TRANSITIONS)) {
      for (const to of targets) assert.ok(isProposalStatus(to), `${from} → ${to}`);
      assert.equal(new Set(targets).size, targets.length, `${from} lists a target twice`);
    }
  });

  it('allows the straight path draft → in_analysis → approved → released → paid step by step', () => {
    const path: ProposalStatus[] = ['draft', 'in_analysis', 'approved', 'released', 'paid'];
    for (let i = 0; i + 1 < path.length; i++) {
      const [from, to] = [path[i], path[i + 1]] as [ProposalStatus, ProposalStatus];
      assert.ok(canTransition(DEFAULT_TRANSITIONS, from, to), `${from} → ${to}`);
    }
  });

  it('reaches every optional step from draft, and from each of them paid and a final status', () => {
    const fromDraft = reachable(DEFAULT_TRANSITIONS, 'draft');
    for (const step of OPTIONAL_STEPS) {
      assert.ok(fromDraft.has(step), `${step} is reachable from draft`);
      const onward = reachable(DEFAULT_TRANSITIONS, step);
      assert.ok(onward.has('paid'), `${step} can still reach paid`);
      assert.ok(
        FINAL.some((f) => onward.has(f)),
        `${step} can still reach a final status`,
      );
    }
    for (const status of without(['draft'])) assert.ok(fromDraft.has(status), `${status} from draft`);
  });

  it('makes rejected, canceled and assigned final, and only them', () => {
    for (const status of PROPOSAL_STATUSES) {
      assert.equal(DEFAULT_TRANSITIONS[status].length === 0, FINAL.includes(status), status);
    }
  });

  it('never lists a status after itself', () => {
    for (const status of PROPOSAL_STATUSES) {
      assert.ok(!DEFAULT_TRANSITIONS[status].includes(status), status);
      assert.equal(canTransition(DEFAULT_TRANSITIONS, status, status), false, status);
    }
  });

  it('agrees with canTransition and allowedNext on every pair', () => {
    for (const from of PROPOSAL_STATUSES) {
      assert.equal(allowedNext(DEFAULT_TRANSITIONS, from), DEFAULT_TRANSITIONS[from]);
      for (const to of PROPOSAL_STATUSES) {
        assert.equal(
          canTransition(DEFAULT_TRANSITIONS, from, to),
          DEFAULT_TRANSITIONS[from].includes(to),
          `${from} → ${to}`,
        );
      }
    }
  });
});

/** A table that only allows the straight path (and cancelling before payment). */
const STRICT: Record<ProposalStatus, ProposalStatus[]> = {
  draft: ['in_analysis', 'canceled'],
  in_analysis: ['approved', 'rejected', 'canceled'],
  pre_approved: [],
  approved: ['released', 'canceled'],
  rejected: [],
  canceled: [],
  pending: [],
  restricted: [],
  checking: [],
  finalized: [],
  verified: [],
  released: ['paid'],
  paid: [],
  assigned: [],
  payment_pending: [],
  invoiced: [],
};

describe('parseTransitionTable', () => {
  it('accepts the default table round-tripped through JSON', () => {
    assert.deepEqual(parseTransitionTable(defaultCopy()), DEFAULT_TRANSITIONS);
  });

  it('accepts a strict table, and canTransition follows it', () => {
    const table = parseTransitionTable(JSON.parse(JSON.stringify(STRICT)));
    assert.deepEqual(table, STRICT);
    assert.ok(canTransition(table, 'approved', 'released'));
    assert.equal(canTransition(table, 'approved', 'finalized'), false);
    assert.deepEqual(allowedNext(table, 'pending'), []);
  });

  it('removes duplicate targets, keeping the first order', () => {
    const table = parseTransitionTable({ ...STRICT, draft: ['in_analysis', 'canceled', 'in_analysis'] });
    assert.deepEqual(table.draft, ['in_analysis', 'canceled']);
  });

  it('rejects what is not an object', () => {
    for (const value of [null, 'draft', 42, true, undefined]) {
      assert.throws(() => parseTransitionTable(value), /must be a JSON object/, String(value));
    }
  });

  it('rejects an array', () => {
    assert.throws(() => parseTransitionTable([STRICT]), /must be a JSON object/);
    assert.throws(() => parseTransitionTable([]), /must be a JSON object/);
  });

  it('rejects an unknown key, naming it', () => {
    assert.throws(
      () => parseTransitionTable({ ...defaultCopy(), aprovada: ['released'] }),
      (error: Error) => error.message === 'unknown status "aprovada" in the transition table',
    );
  });

  it('rejects a missing key, naming the status', () => {
    const table = defaultCopy();
    delete table.payment_pending;
    assert.throws(
      () => parseTransitionTable(table),
      (error: Error) => error.message === 'the transition table has no list for "payment_pending"',
    );
  });

  it('rejects a value that is not a list, naming the status', () => {
    for (const value of ['paid', null, { 0: 'paid' }, 9]) {
      assert.throws(
        () => parseTransitionTable({ ...defaultCopy(), released: value }),
        (error: Error) => error.message === 'the transition table has no list for "released"',
        JSON.stringify(value),
      );
    }
  });

  it('rejects an unknown target, naming it and the status it follows', () => {
    for (const target of ['paga', 9, null, 'PAID']) {
      assert.throws(
        () => parseTransitionTable({ ...defaultCopy(), approved: ['released', target] }),
        (error: Error) =>
          error.message ===
          `unknown status ${JSON.stringify(target)} after "approved" in the transition table`,
        JSON.stringify(target),
      );
    }
  });
});

describe('loadConfig with ARAUTO_STATUS_TRANSITIONS_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arauto-transitions-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('keeps the default table when unset or blank', () => {
    assert.equal(loadConfig({}).transitions, DEFAULT_TRANSITIONS);
    assert.equal(loadConfig({ ARAUTO_STATUS_TRANSITIONS_FILE: '  ' }).transitions, DEFAULT_TRANSITIONS);
  });

  it('replaces the table with a valid file', () => {
    const path = file('strict.json', JSON.stringify(STRICT, null, 2));
    const config = loadConfig({ ARAUTO_STATUS_TRANSITIONS_FILE: path });
    assert.deepEqual(config.transitions, STRICT);
    assert.equal(canTransition(config.transitions, 'approved', 'finalized'), false);
  });

  it('throws a ConfigError naming the variable for an invalid file', () => {
    const missingKey = defaultCopy();
    delete missingKey.draft;
    const cases: Array<[name: string, content: string | null, message: RegExp]> = [
      ['missing-key.json', JSON.stringify(missingKey), /no list for "draft"/],
      ['unknown-target.json', JSON.stringify({ ...STRICT, paid: ['paga'] }), /unknown status "paga"/],
      ['array.json', '[]', /must be a JSON object/],
      ['not-json.json', '{ draft: [', /JSON/],
      ['absent.json', null, /ENOENT/],
    ];
    for (const [name, content, message] of cases) {
      const path = content === null ? join(dir, name) : file(name, content);
      assert.throws(
        () => loadConfig({ ARAUTO_STATUS_TRANSITIONS_FILE: path }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, name);
          assert.ok(error.message.startsWith('ARAUTO_STATUS_TRANSITIONS_FILE:'), error.message);
          assert.match(error.message, message);
          return true;
        },
        name,
      );
    }
  });
});
