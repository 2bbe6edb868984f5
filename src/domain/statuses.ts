/**
 * The proposal status model: one canonical set, and the vocabularies of the source platforms
 * mapped onto it both ways. Tables are data so that docs/domain.md, the API and the formats
 * read the same facts. See docs/domain.md for the reasoning behind each mapping.
 */

export const PROPOSAL_STATUSES = [
  'draft',
  'in_analysis',
  'pre_approved',
  'approved',
  'rejected',
  'canceled',
  'pending',
  'restricted',
  'checking',
  'finalized',
  'verified',
  'released',
  'paid',
  'assigned',
  'payment_pending',
  'invoiced',
] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export const isProposalStatus = (value: unknown): value is ProposalStatus =>
  typeof value === 'string' && (PROPOSAL_STATUSES as readonly string[]).includes(value);

/** BMP Money Plus "situação" codes 0-11 (bmp-callbacks.txt), every one mapped. */
export const BMP_SITUACOES: ReadonlyArray<{ code: number; status: ProposalStatus; name: string }> = [
  { code: 0, status: 'draft', name: 'Em Digitação' },
  { code: 1, status: 'in_analysis', name: 'Em Análise' },
  { code: 2, status: 'approved', name: 'Aprovada' },
  { code: 3, status: 'rejected', name: 'Recusada' },
  { code: 4, status: 'canceled', name: 'Cancelada' },
  { code: 5, status: 'pending', name: 'Pendente' },
  { code: 6, status: 'finalized', name: 'Finalizada' },
  { code: 7, status: 'verified', name: 'Conferida' },
  { code: 8, status: 'released', name: 'Liberada' },
  { code: 9, status: 'paid', name: 'Paga' },
  { code: 10, status: 'assigned', name: 'Cedida' },
  { code: 11, status: 'payment_pending', name: 'Pendente Pagamento' },
];

/** Credere's `state` values (credere-webhooks.txt, "Status de proposta", plus `checagem` from its examples). */
export const CREDERE_STATES: ReadonlyArray<{ state: string; status: ProposalStatus; meaning: string }> = [
  { state: 'análise', status: 'in_analysis', meaning: 'Em análise pelo banco' },
  { state: 'pré_aprovada', status: 'pre_approved', meaning: 'Pré-aprovada pendente de alguma informação' },
  { state: 'aprovada', status: 'approved', meaning: 'Aprovado e autorizado' },
  { state: 'recusada', status: 'rejected', meaning: 'Recusado ou rejeitado' },
  { state: 'desistencia', status: 'canceled', meaning: 'Descartado ou ignorado' },
  { state: 'pendente', status: 'pending', meaning: 'Pendente de revisão ou documento' },
  { state: 'restrição', status: 'restricted', meaning: 'Restrito por limitações ou condições específicas' },
  { state: 'checagem', status: 'checking', meaning: 'Em checagem (aparece nos exemplos, não na tabela)' },
  { state: 'faturada', status: 'invoiced', meaning: 'Faturado ou cobrado' },
];

/**
 * Creditas event names (creditas-webhooks.txt). The document names REJECTED, PREQUALIFIED,
 * PROCESSED and CREDIT_ANALYSED "…" without defining them; Arauto reads PROCESSED as "the
 * proposal was received and processed, analysis under way" (in_analysis) and CREDIT_ANALYSED as
 * "credit analysis concluded with conditions" — the moment Creditas' polling endpoint
 * /conditions/credit-approved starts answering — (approved). Statuses Creditas does not name
 * use Arauto's convention: the canonical name in upper case (PAID, PAYMENT_PENDING, …).
 */
export const CREDITAS_NAMES: ReadonlyArray<{ name: string; status: ProposalStatus; documented: boolean }> = [
  ...(
    [
      ['PROCESSED', 'in_analysis'],
      ['PREQUALIFIED', 'pre_approved'],
      ['CREDIT_ANALYSED', 'approved'],
      ['REJECTED', 'rejected'],
    ] as const
  ).map(([name, status]) => ({ name, status, documented: true })),
  ...PROPOSAL_STATUSES.filter(
    (s) => !['in_analysis', 'pre_approved', 'approved', 'rejected'].includes(s),
  ).map((status) => ({ name: status.toUpperCase(), status, documented: false })),
];

export const bmpCode = (status: ProposalStatus): number | null =>
  BMP_SITUACOES.find((s) => s.status === status)?.code ?? null;

export const statusFromBmp = (code: number): ProposalStatus | null =>
  BMP_SITUACOES.find((s) => s.code === code)?.status ?? null;

export const credereState = (status: ProposalStatus): string | null =>
  CREDERE_STATES.find((s) => s.status === status)?.state ?? null;

/** Accents and case are forgiven on input: `analise`, `Pré_Aprovada`, `restricao`. */
const fold = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

export const statusFromCredere = (state: string): ProposalStatus | null =>
  CREDERE_STATES.find((s) => fold(s.state) === fold(state))?.status ?? null;

export const creditasName = (status: ProposalStatus): string =>
  CREDITAS_NAMES.find((n) => n.status === status)?.name ?? status.toUpperCase();

export const statusFromCreditas = (name: string): ProposalStatus | null =>
  CREDITAS_NAMES.find((n) => n.name === name.toUpperCase())?.status ?? null;

/**
 * Reads a status as a lender may send it: the canonical name, a BMP code (number or digits),
 * a Credere state or a Creditas name. Returns null when it is none of these.
 *
 * @example parseStatusInput(9) // 'paid'; parseStatusInput('análise') // 'in_analysis'
 */
export function parseStatusInput(input: string | number): ProposalStatus | null {
  if (typeof input === 'number') return Number.isInteger(input) ? statusFromBmp(input) : null;
  const text = input.trim();
  if (isProposalStatus(text)) return text;
  if (/^\d{1,2}$/.test(text)) return statusFromBmp(Number(text));
  return statusFromCredere(text) ?? statusFromCreditas(text);
}

/** Which status may follow which. A deployment may replace it (ARAUTO_STATUS_TRANSITIONS_FILE). */
export type TransitionTable = Readonly<Record<ProposalStatus, readonly ProposalStatus[]>>;

/**
 * The default: the straight path draft → in_analysis → approved → released → paid, every
 * optional step on the way (pre_approved, pending, restricted, checking, finalized, verified,
 * payment_pending, invoiced, assigned), and the exits (rejected, canceled). rejected, canceled
 * and assigned are final.
 */
export const DEFAULT_TRANSITIONS: TransitionTable = {
  draft: ['in_analysis', 'canceled'],
  in_analysis: ['pre_approved', 'approved', 'rejected', 'pending', 'restricted', 'checking', 'canceled'],
  pre_approved: ['in_analysis', 'approved', 'rejected', 'pending', 'checking', 'canceled'],
  pending: ['in_analysis', 'pre_approved', 'approved', 'rejected', 'checking', 'canceled'],
  restricted: ['in_analysis', 'pending', 'rejected', 'canceled'],
  checking: ['in_analysis', 'approved', 'rejected', 'pending', 'canceled'],
  approved: ['finalized', 'verified', 'released', 'invoiced', 'checking', 'pending', 'canceled'],
  finalized: ['verified', 'released', 'canceled'],
  verified: ['released', 'canceled'],
  released: ['paid', 'payment_pending', 'canceled'],
  payment_pending: ['released', 'paid', 'canceled'],
  paid: ['assigned', 'invoiced'],
  invoiced: ['released', 'paid', 'assigned'],
  rejected: [],
  canceled: [],
  assigned: [],
};

export const allowedNext = (table: TransitionTable, from: ProposalStatus): readonly ProposalStatus[] =>
  table[from];

export const canTransition = (table: TransitionTable, from: ProposalStatus, to: ProposalStatus): boolean =>
  table[from].includes(to);

/**
 * Checks a replacement table (parsed JSON): every canonical status must appear as a key, and
 * every target must be a canonical status. Throws an Error naming the problem.
 */
export function parseTransitionTable(json: unknown): TransitionTable {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error('the transition table must be a JSON object of status → [next statuses]');
  }
  const table = json as Record<string, unknown>;
  for (const key of Object.keys(table)) {
    if (!isProposalStatus(key))
      throw new Error(`unknown status ${JSON.stringify(key)} in the transition table`);
  }
  const result = {} as Record<ProposalStatus, readonly ProposalStatus[]>;
  for (const status of PROPOSAL_STATUSES) {
    const next = table[status];
    if (!Array.isArray(next))
      throw new Error(`the transition table has no list for ${JSON.stringify(status)}`);
    for (const target of next) {
      if (!isProposalStatus(target)) {
        throw new Error(
          `unknown status ${JSON.stringify(target)} after ${JSON.stringify(status)} in the transition table`,
        );
      }
    }
    result[status] = [...new Set(next as ProposalStatus[])];
  }
  return result;
}

/**
 * Statuses that mean the credit was approved (Creditas' /conditions/credit-approved answers):
 * `approved` and everything that only follows an approval. A proposal created at one of them,
 * or moved to one by a table that skips `approved`, has been approved all the same.
 */
export const CREDIT_APPROVED: readonly ProposalStatus[] = [
  'approved',
  'finalized',
  'verified',
  'released',
  'payment_pending',
  'paid',
  'assigned',
  'invoiced',
];
/** Statuses that mean the payment was approved (/conditions/payment-approved): released or later. */
export const PAYMENT_APPROVED: readonly ProposalStatus[] = ['released', 'paid', 'assigned'];
