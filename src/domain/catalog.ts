/**
 * The canonical event catalog: the event types Arauto knows, what each one's `data` must carry,
 * and an example of it taken from the lenders' own webhook documents. Only Arauto's
 * canonical fields are checked; the rest of `data` is the lender's payload, passed through
 * untouched, because every platform warns that its payloads grow without notice.
 */
import { PROPOSAL_STATUSES } from './statuses.ts';

export type SubjectKind = 'simulation' | 'proposal' | 'customer';

export interface EventTypeSpec {
  /** e.g. 'proposal.status_changed' */
  type: string;
  /** One English sentence: when the lender publishes it. */
  description: string;
  /** The resource the event is about; its id is data[subject.idField]; the event's subject is `${kind}/${id}`. */
  subject: { kind: SubjectKind; idField: 'simulation_id' | 'proposal_id' | 'customer_id' };
  /** JSON Schema (draft-07 subset that ajv v8 accepts) for the event's `data`. */
  schema: Record<string, unknown>;
  /** A complete example `data`, taken from the source documents (see below). */
  example: Record<string, unknown>;
  /** Where the example and the type come from, e.g. 'credere-webhooks.txt: processed_simulation'. */
  source: string;
}

// Schemas are built by functions so that no two specs share a sub-object: a consumer that
// decorates one schema (an $id, a title) cannot leak into another.
const id = () => ({ type: 'string', minLength: 1 });
const nullableString = () => ({ type: ['string', 'null'] });
const status = () => ({ type: 'string', enum: [...PROPOSAL_STATUSES] });

const dataSchema = (required: string[], properties: Record<string, unknown>): Record<string, unknown> => ({
  type: 'object',
  required,
  properties,
});

const simulationSchema = () =>
  dataSchema(['simulation_id'], { simulation_id: id(), store_id: { type: 'string' } });

const proposalProperties = () => ({
  proposal_id: id(),
  external_id: nullableString(),
  store_id: nullableString(),
  status: status(),
});

const proposalSchema = () => dataSchema(['proposal_id'], proposalProperties());

const proposalStatusChangedSchema = () =>
  dataSchema(['proposal_id', 'status'], {
    ...proposalProperties(),
    previous_status: { type: ['string', 'null'], enum: [...PROPOSAL_STATUSES, null] },
    reason: nullableString(),
    description: nullableString(),
    changed_at: { type: 'string', format: 'date-time' },
  });

const attemptSchema = (required: string[] = []) =>
  dataSchema(['proposal_id', 'attempt_id', ...required], { ...proposalProperties(), attempt_id: id() });

const customerSchema = () => dataSchema(['customer_id'], { customer_id: id() });

// The lender objects below are copied from credere-webhooks.txt through the fixtures in
// test/fixtures/credere (see its README for the typos fixed there); the only liberty taken is to
// keep 2 of the 12 identical installments of each payment_flow. test/catalog.test.ts checks that
// every value here is found in the fixture, and every top-level key of the fixture here.

/** The `simulation` of processed_simulation. */
const CREDERE_SIMULATION = {
  assets_value: 1000000,
  conditions: [
    {
      payment_flow: {
        '1': 100000,
        '2': 100000,
      },
      success: true,
      installments: 12,
      return_preference: 'min',
      reason_identifier: null,
      bank: {
        id: 160,
        name: 'Itaú Unibanco S.A.',
        nickname: 'Itaú',
        febraban_code: '341',
      },
      processed_at: '2022-01-01T01:01:01Z',
      available: true,
      id: 1,
      run_pre_approval: true,
      webhook_url: null,
      cet_annually: 55,
      down_payment: 100000,
      bank_available_amount: null,
      credit_condition_return_offset_percentage: null,
      credit_condition_description: null,
      interest_monthly: 2.11,
      credit_condition_return_offset: null,
      products_options: {
        include_asset_insurance: false,
        include_capitalization_bond: false,
      },
      last_installment_value: 100000,
      interest_annually: 11,
      bank_minimum_down_payment: null,
      financed_amount: 100000,
      bank_down_payment_suggestion: null,
      reason: null,
      error: false,
      credit_condition_code: 'ABC0',
      first_installment_value: 100000,
      include_financial_protection_insurance: true,
      suggestion_reason: null,
      pre_approval_status: 2,
      quota_preference: 'min',
      cet_monthly: 3,
      expenses: [
        {
          fixed_value: 1000,
          id: 1,
          max_value: 1000,
          min_value: 1000,
          over_total: false,
          payload: {
            credere_type: 'iof_value',
          },
          percentage: 0,
          type: 'iof_value',
          value: 1000,
        },
        {
          fixed_value: 0,
          id: 2,
          max_value: 0,
          min_value: 0,
          over_total: false,
          payload: {
            credere_type: 'property_valuation_rate',
          },
          percentage: 0,
          type: 'property_valuation_rate',
          value: 0,
        },
      ],
      process_task: {
        ended_at: '2022-01-01T01:01:01Z',
        error: false,
        result: {
          success: true,
        },
      },
      credit_condition_plus: null,
      credit_condition_return: '0',
      credit_condition_return_percentage: null,
      process_condition_payload: {
        id: '3a33bc33-3d33-3333-3333-3ef3333g3hij',
      },
      fixed_installments: true,
      pre_aproval_task: null,
      created_at: '2022-01-01T01:01:01Z',
      min_return: 0,
      amount_paid_in_financing: 1000000,
      max_return: null,
    },
  ],
  created_at: '2022-01-01T01:01:01Z',
  error: null,
  items: [
    {
      id: 1,
      type: 'documentation',
      value: 0,
    },
  ],
  lead: {
    address: {
      city: 'São Paulo',
      complement: null,
      district: 'Bairo X',
      id: 1,
      number: '111',
      state: 'SP',
      street: 'Rua X',
      zip_code: '12345-000',
    },
    birthdate: '1922-01-01',
    cpf_cnpj: '000.000.000-00',
    email: '[email protected]',
    gender: {
      credere_identifier: 'F',
      id: 1,
      label: 'Feminino',
      type: 'gender',
    },
    has_cnh: false,
    id: 1,
    monthly_income: 1000000,
    mother_name: '',
    name: 'Fulano Sicrano',
    occupation: {
      credere_identifier: '1',
      id: 1,
      label: 'Autônomo',
      type: 'occupation',
    },
    payload: {
      store_id: 1,
      user_id: 1,
    },
    phone_number: '+5511900000000',
    profession: {
      credere_identifier: 'administrador',
      id: 1,
      label: 'Administrador',
      type: 'profession',
    },
  },
  payload: {
    store_id: 1,
    user_id: 1,
  },
  process_bank_suggested_conditions: true,
  process_task: {
    ended_at: '2022-01-01T00:00:00Z',
    error: null,
    result: {
      success: true,
    },
  },
  reason: null,
  success: true,
  uuid: '0a00bc00-0d00-0000-0000-0ef0000g0hij',
  vehicle: {
    asset_value: 1000000,
    chassi_code: null,
    color: null,
    fuel_type: null,
    id: 1,
    km_mileage: null,
    license_plate_code: null,
    licensing_city: null,
    licensing_uf: 'SP',
    manufacture_year: 2022,
    model_year: 2022,
    renavam_code: null,
    vehicle_model: {
      available: true,
      brand: 'HONDA',
      category: {
        credere_identifier: 'motocicleta',
        id: 1,
        label: 'Motocicleta',
        type: 'vehicle-category',
      },
      fipe_code: '000000-0',
      fuel_type: {
        credere_identifier: '1',
        id: 1,
        label: 'Flex',
        type: 'fuel-type',
      },
      id: 1,
      model_name: 'BIZ',
      molicar_code: '00000000-0',
      version: '125 - Basico',
      year_end: 2023,
      year_start: 2015,
    },
    zero_km: true,
  },
  webhook_url: 'https://webhook.site/api/v1/webhooks',
  store: {
    id: 1,
    name: 'Credere',
    cnpj: '00.000.000/0001-00',
  },
  seller: {
    id: 1,
    name: 'Admin',
    cpf: '111.111.111-11',
  },
};

/** The `proposal` of "Quando a proposta é criada ou editada" (proposal_created / proposal_updated). */
const CREDERE_PROPOSAL = {
  object_type: 'CdcProposal',
  id: 1,
  created_at: '2022-01-01 00:00:00 -0300',
  updated_at: '2022-01-01 00:00:00 -0300',
  customer: {
    id: 1,
    name: 'Fulano Silva Júnior',
    cpf: '000.000.000-00',
    cnpj: null,
    born_at: '1990-01-01',
    phones: [
      {
        code: 11,
        number: 999999999,
      },
      {
        code: 11,
        number: 999999999,
      },
    ],
  },
  seller: {
    id: 1,
    name: 'Admin',
    cpf: '111.111.111-11',
  },
  state: 'checagem',
  store: {
    id: 1,
    name: 'Credere',
    cnpj: '00.000.000/0001-00',
    seller_can_send_proposal_to_bank: true,
  },
  year_of_model: 2022,
  year_of_manufacture: 2022,
  comments_count: 9,
  external_simulation_uuid: '0a00bc00-0d00-0000-0000-0ef0000g0hi',
  sent_to_bank: false,
  zero_km: true,
  commercial: true,
  creation_external_link_id: null,
  licensing_uf: 'RN',
  licensing_city: 'Natal',
  chassi_code: null,
  license_plate_code: null,
  renavam_code: null,
  km_mileage: null,
  color: null,
  proposal_attempt: {
    object_type: 'ProposalAttemp',
    id: 1,
    created_at: '2022-01-01 00:00:00 -0300',
    updated_at: '2022-01-01 00:00:00 -0300',
    active: true,
    bank: {
      id: 1,
      name: 'Banco Votorantim S.A.',
      tradename: 'BV',
      febraban_code: '655',
    },
    input_financing_in_cents: 700000,
    plan: {
      return: '3',
      return_offset: null,
    },
    quota_in_cents: 92122,
    state: 'checagem',
    table: {
      description: 'BVMT4 - Motos',
    },
    term_financing: 12,
    value_in_cents: 1500000,
    obs: null,
    value_of_the_license_plate_in_cents: 0,
    financed_amount_in_cents: 896156,
    coefficient: null,
    has_license_plate: false,
    first_payment_in_days: 30,
    funding_type: {
      id: 1,
      name: 'CDC',
    },
    payment_type: {
      id: 1,
      name: 'Carnê',
    },
    input_origin: 1,
    external_simulation_uuid: '0a00bc00-0d00-0000-0000-0ef0000g0hi',
    simulation_condition_id: 834,
    external_proposal_uuid: null,
    integration_error: null,
    state_rank: 6,
    bank_proposal_identifier: null,
    honda_id: null,
    simulation_pre_approval_status: 2,
    fixed_installments: true,
    cet_monthly: 3.44,
    cet_annually: 50.98,
    return_value_cents: null,
    formalization_state: null,
    formalization: null,
    replaced_by_proposal_attempt_id: null,
    replaces_proposal_attempt_id: null,
    has_accessory: false,
    value_of_the_accessory_in_cents: 0,
    expenses: [
      {
        object_type: 'ExpenseInfo',
        id: 1,
        created_at: '2022-01-01 00:00:00 -0300',
        updated_at: '2022-01-01 00:00:00 -0300',
        value_in_cents: 3756,
        credere_type: 'iof_value',
        description: null,
        expense: null,
      },
      {
        object_type: 'ExpenseInfo',
        id: 1,
        created_at: '2022-01-01 00:00:00 -0300',
        updated_at: '2022-01-01 00:00:00 -0300',
        value_in_cents: 92400,
        credere_type: 'contract_record_rate',
        description: null,
        expense: null,
      },
    ],
    payment_flow: [
      {
        installment_number: 1,
        value_cents: 92122,
      },
      {
        installment_number: 2,
        value_cents: 92122,
      },
    ],
  },
  vehicle_model: {
    object_type: 'VehicleModel',
    id: 1,
    created_at: '2022-01-01 00:00:00 -0300',
    updated_at: '2022-01-01 00:00:00 -0300',
    name: 'BIZ',
    brand: 'HONDA',
    molicar_code: '00000000-0',
    version: '125 - Basico',
    year_end: 2023,
    year_start: 2015,
    active: true,
    public_price_cents: null,
    public_price_as_string: 'BRL',
    publish: false,
    fipe_code: '000000-0',
    public_picture: null,
    vehicle_brand: {
      id: 1,
      name: 'HONDA',
    },
    fuel: {
      object_type: 'Fuel',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      name: 'Alc/Gas',
    },
    vehicle_type: {
      id: 1,
      name: 'Motos',
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      honda_code: 'MOT',
    },
  },
  fuel: {
    object_type: 'Fuel',
    id: 1,
    created_at: '2022-01-01 00:00:00 -0300',
    updated_at: '2022-01-01 00:00:00 -0300',
    name: 'Alc/Gas',
  },
};

/** The `proposal_attempt` of proposal_attempt_updated; status_updated publishes the very same object. */
const CREDERE_ATTEMPT = {
  object_type: 'ProposalAttemp',
  id: 1,
  created_at: '2022-01-01T00:00:00.000-03:00',
  updated_at: '2022-01-01T00:00:00.000-03:00',
  active: true,
  bank: {
    id: 1,
    name: 'Itaú Unibanco S.A.',
    tradename: 'Itaú',
    febraban_code: '341',
  },
  input_financing_in_cents: 100000,
  plan: {
    return: '5',
    return_offset: null,
  },
  quota_in_cents: 100000,
  state: 'aprovada',
  table: {
    description: 'ABC0',
  },
  term_financing: 12,
  value_in_cents: 1000000,
  obs: null,
  value_of_the_license_plate_in_cents: 0,
  financed_amount_in_cents: 1000000,
  coefficient: null,
  has_license_plate: false,
  first_payment_in_days: 30,
  funding_type: {
    id: 1,
    name: 'CDC',
  },
  payment_type: {
    id: 1,
    name: 'Carnê',
  },
  input_origin: 1,
  external_simulation_uuid: '0a00bc00-0d00-0000-0000-0ef0000g0hij',
  simulation_condition_id: 1,
  external_proposal_uuid: '1a11bc11-1d11-1111-1111-1ef1111g1hij',
  integration_error: {
    error: '',
    message: '',
    error_details: '',
  },
  state_rank: 2,
  bank_proposal_identifier: '2a22bc22-2d22-2222-2222-2ef2222g2hij',
  honda_id: '',
  simulation_pre_approval_status: 2,
  fixed_installments: true,
  cet_monthly: 2,
  cet_annually: 39,
  return_value_cents: null,
  formalization_state: null,
  formalization: null,
  replaced_by_proposal_attempt_id: null,
  replaces_proposal_attempt_id: null,
  has_accessory: null,
  value_of_the_accessory_in_cents: null,
  expenses: [
    {
      object_type: 'ExpenseInfo',
      id: 1,
      created_at: '2022-01-01T00:00:00.000-03:00',
      updated_at: '2022-01-01T00:00:00.000-03:00',
      value_in_cents: 100000,
      credere_type: 'spf',
      description: null,
      expense: null,
    },
  ],
  payment_flow: [
    {
      installment_number: 1,
      value_cents: 100000,
    },
    {
      installment_number: 2,
      value_cents: 100000,
    },
  ],
  proposal: {
    object_type: 'CdcProposal',
    id: 1,
    created_at: '2022-01-01T00:00:00.000-03:00',
    updated_at: '2022-01-01T00:00:00.000-03:00',
    customer: {
      id: 1,
      name: 'Fulano Silva Júnior',
      cpf: '000.000.000-00',
      cnpj: null,
      born_at: '1990-01-01',
      phones: [
        {
          code: 11,
          number: 999999999,
        },
        {
          code: 11,
          number: 988888888,
        },
      ],
      emails: [
        {
          address: '[email protected]',
        },
      ],
    },
    seller: {
      id: 1,
      name: 'Admin',
      cpf: '111.111.111-11',
    },
    state: 'aprovada',
    store: {
      id: 1,
      name: 'Credere',
      cnpj: '00.000.000/0001-00',
    },
    sent_to_bank: true,
    zero_km: true,
    commercial: false,
    creation_external_link_id: null,
    licensing_uf: 'RN',
  },
};

/**
 * The `proposal_attempt` of synced_proposal_condition_from_bank: the same object as above but for
 * the bank's name as the document prints it and the state ("análise") in both places.
 */
const CREDERE_SYNCED_ATTEMPT = {
  ...CREDERE_ATTEMPT,
  bank: { ...CREDERE_ATTEMPT.bank, name: 'ItaúUnibancoS.A.' },
  state: 'análise',
  proposal: { ...CREDERE_ATTEMPT.proposal, state: 'análise' },
};

/** The `customer` of customer_updated. */
const CREDERE_CUSTOMER = {
  object_type: 'Customer',
  id: 1,
  created_at: '2022-01-01 00:00:00 -0300',
  updated_at: '2022-01-11 00:00:00 -0300',
  name: 'Fulano Silva Júnior',
  cpf: '000.000.000-00',
  have_bank_account: false,
  have_credit_card: false,
  has_made_funding: false,
  property: 3,
  public_person: false,
  born_at: '1990-01-01',
  rg: '1234567',
  rg_date: '2003-01-01',
  rg_state_id: 25,
  genre_id: 1,
  mother: 'Fulana Silva',
  education_id: 5,
  marital_status_id: 1,
  place_of_birth: 'São Paulo',
  state_of_birth_id: 25,
  document_type: 'RG',
  rg_issuing: 'SSP',
  cnh: null,
  cnh_type_id: null,
  nationality: 'Brasileira',
  note: null,
  accept_boleto: true,
  nickname: null,
  father: 'Fulano Silva',
  has_cnh: false,
  credit_cards: null,
  previous_funding_bank_id: null,
  spouse_name: 'Siclana da Silva',
  spouse_born_at: '1987-01-01',
  spouse_cpf: '000.000.000-00',
  state: 'valido',
  creation_external_link_id: null,
  cnpj: null,
  joint_stock_cents: null,
  ie: null,
  im: null,
  company_activity_id: null,
  rg_state: {
    id: 1,
    name: 'São Paulo',
    abbreviation: 'SP',
  },
  genre: {
    id: 1,
    name: 'Masculino',
  },
  marital_status: {
    id: 1,
    name: 'Casado',
    honda_code: 'C',
  },
  education: {
    id: 1,
    name: 'Ensino Superior',
    honda_code: 'SUP',
    identifier: '7',
  },
  state_of_birth: {
    id: 1,
    name: 'São Paulo',
    abbreviation: 'SP',
  },
  cnh_type: null,
  company_activity: null,
  accountant: null,
  address: {
    object_type: 'Address',
    id: 1,
    created_at: '2022-01-01 00:00:00 -0300',
    updated_at: '2022-01-01 00:00:00 -0300',
    city: 'São Paulo',
    complement: '',
    number: '213',
    reference: null,
    street: 'Rua Vitorino Carmilo',
    set_time_month: 1,
    set_time_year: 18,
    neighborhood: 'Barra Funda',
    zip_code: '01153-000',
    rent_value_cents: null,
    neighbourhood: 'Barra Funda',
    state: {
      object_type: 'State',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      name: 'São Paulo',
      abbreviation: 'SP',
    },
    build_type: {
      object_type: 'BuildType',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      name: 'Quitada',
    },
    address_type: {
      object_type: 'AddressType',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      name: 'Principal',
    },
  },
  job_reference: {
    object_type: 'JobReference',
    id: 1,
    created_at: '2022-01-01 00:00:00 -0300',
    updated_at: '2022-01-11 00:00:00 -0300',
    joined_at: '2003-02-01',
    income_cents: 1500000,
    another_income_type: null,
    detail: '',
    department: 'RH',
    name: 'Empresa X',
    cnpj: '',
    first_job: true,
    previous_work: null,
    previous_work_start_at: null,
    previous_work_end_at: null,
    previous_job_phone: null,
    another_income_cents: null,
    address: {
      object_type: 'Address',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      city: 'São Paulo',
      complement: null,
      number: '341',
      reference: null,
      street: 'Rua Vitorino Carmilo',
      set_time_month: null,
      set_time_year: null,
      neighborhood: 'Barra Funda',
      zip_code: '01153-000',
      rent_value_cents: null,
      neighbourhood: 'Barra Funda',
      state: {
        object_type: 'State',
        id: 1,
        created_at: '2022-01-01 00:00:00 -0300',
        updated_at: '2022-01-01 00:00:00 -0300',
        name: 'São Paulo',
        abbreviation: 'SP',
      },
      build_type: null,
      address_type: {
        object_type: 'AddressType',
        id: 1,
        created_at: '2022-01-01 00:00:00 -0300',
        updated_at: '2022-01-01 00:00:00 -0300',
        name: 'Comercial',
      },
    },
    phone: {
      object_type: 'Phone',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      code: 11,
      number: 999999999,
      talk_to: null,
      phone_type: {
        object_type: 'PhoneType',
        id: 1,
        created_at: '2022-01-01 00:00:00 -0300',
        updated_at: '2022-01-01 00:00:00 -0300',
        name: 'Comercial',
      },
      phone_confirmation: null,
    },
    profession: {
      object_type: 'Profession',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      name: 'ADMINISTRADOR',
      identifier: 'administrador',
    },
    company_activity: {
      object_type: 'CompanyActivity',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      name: 'Serviços',
    },
    professional_ocupation: {
      object_type: 'ProfessionalOcupation',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      name: 'Assalariado',
      identifier: '1',
    },
  },
  previous_funding_bank: null,
  addresses: [],
  bank_references: [],
  emails: [
    {
      object_type: 'Email',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      address: '[email protected]',
    },
  ],
  guarantors: [],
  personal_references: [
    {
      object_type: 'PersonalReference',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      name: 'Fulano Siclano',
      relationship: 'Amigo(a)',
      city: 'São Paulo',
      phone: {
        object_type: 'Phone',
        id: 1,
        created_at: '2022-01-01 00:00:00 -0300',
        updated_at: '2022-01-01 00:00:00 -0300',
        code: 11,
        number: 999999999,
        talk_to: null,
        phone_type: {
          object_type: 'PhoneType',
          id: 1,
          created_at: '2022-01-01 00:00:00 -0300',
          updated_at: '2022-01-01 00:00:00 -0300',
          name: 'Principal',
        },
        phone_confirmation: null,
      },
    },
  ],
  phones: [
    {
      object_type: 'Phone',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      code: 11,
      number: 999999999,
      talk_to: null,
      phone_type: {
        object_type: 'PhoneType',
        id: 1,
        created_at: '2022-01-01 00:00:00 -0300',
        updated_at: '2022-01-01 00:00:00 -0300',
        name: 'Principal',
      },
      phone_confirmation: null,
    },
    {
      object_type: 'Phone',
      id: 1,
      created_at: '2022-01-01 00:00:00 -0300',
      updated_at: '2022-01-01 00:00:00 -0300',
      code: 11,
      number: 999999999,
      talk_to: null,
      phone_type: {
        object_type: 'PhoneType',
        id: 1,
        created_at: '2022-01-01 00:00:00 -0300',
        updated_at: '2022-01-01 00:00:00 -0300',
        name: 'Celular',
      },
      phone_confirmation: null,
    },
  ],
  attachments: [],
  monthly_billings: [],
  partners: [],
};

const credereSource = (event: string) => `credere-webhooks.txt: ${event}`;

const CATALOG: EventTypeSpec[] = [
  {
    type: 'simulation.processed',
    description:
      'Published when the lender has finished processing a simulation and its credit conditions per bank are known.',
    subject: { kind: 'simulation', idField: 'simulation_id' },
    schema: simulationSchema(),
    example: { simulation_id: CREDERE_SIMULATION.uuid, store_id: '1', ...CREDERE_SIMULATION },
    source: credereSource('processed_simulation'),
  },
  {
    type: 'proposal.created',
    description: 'Published when a financing proposal is created for a customer.',
    subject: { kind: 'proposal', idField: 'proposal_id' },
    schema: proposalSchema(),
    example: { proposal_id: '1', store_id: '1', status: 'checking', ...CREDERE_PROPOSAL },
    source: credereSource('proposal_created ("Quando a proposta é criada ou editada")'),
  },
  {
    type: 'proposal.updated',
    description: "Published when a proposal's data is edited.",
    subject: { kind: 'proposal', idField: 'proposal_id' },
    schema: proposalSchema(),
    example: { proposal_id: '1', store_id: '1', status: 'checking', ...CREDERE_PROPOSAL },
    source: credereSource('proposal_updated ("Quando a proposta é criada ou editada")'),
  },
  {
    type: 'proposal.status_changed',
    description: 'Published when a proposal moves from one status to another.',
    subject: { kind: 'proposal', idField: 'proposal_id' },
    schema: proposalStatusChangedSchema(),
    example: {
      proposal_id: 'B2B-36C2FCBF-8422-46D5-B94F-F1A2EB756D53',
      status: 'rejected',
      previous_status: 'in_analysis',
      reason: 'OUT_OF_POLICE',
      description: 'Recusado ou rejeitado',
      changed_at: '2022-01-01T00:00:00.000-03:00',
      rejectionReason: 'OUT_OF_POLICE',
    },
    source:
      'creditas-webhooks.txt: REJECTED ({id, name, data: {rejectionReason}}); ' +
      'credere-webhooks.txt: proposal_status_updated ("Status de proposta": recusada)',
  },
  {
    type: 'proposal_attempt.created',
    description:
      'Published when a proposal attempt (the proposal submitted to one bank under one condition) is created.',
    subject: { kind: 'proposal', idField: 'proposal_id' },
    schema: attemptSchema(),
    example: { proposal_id: '1', attempt_id: '1', store_id: '1', status: 'approved', ...CREDERE_ATTEMPT },
    source: credereSource('proposal_attempt_created ("Quando a tentativa de proposta é criada ou editada")'),
  },
  {
    type: 'proposal_attempt.updated',
    description: "Published when a proposal attempt's data is edited.",
    subject: { kind: 'proposal', idField: 'proposal_id' },
    schema: attemptSchema(),
    example: { proposal_id: '1', attempt_id: '1', store_id: '1', status: 'approved', ...CREDERE_ATTEMPT },
    source: credereSource('proposal_attempt_updated ("Quando a tentativa de proposta é criada ou editada")'),
  },
  {
    type: 'proposal_attempt.status_changed',
    description: "Published when the bank's status of a proposal attempt changes.",
    subject: { kind: 'proposal', idField: 'proposal_id' },
    schema: attemptSchema(['status']),
    example: { proposal_id: '1', attempt_id: '1', store_id: '1', status: 'approved', ...CREDERE_ATTEMPT },
    source: credereSource('status_updated'),
  },
  {
    type: 'proposal_attempt.synced_from_bank',
    description: "Published when a proposal attempt's data has been synchronised with what the bank holds.",
    subject: { kind: 'proposal', idField: 'proposal_id' },
    schema: attemptSchema(),
    example: {
      proposal_id: '1',
      attempt_id: '1',
      store_id: '1',
      status: 'in_analysis',
      ...CREDERE_SYNCED_ATTEMPT,
    },
    source: credereSource('synced_proposal_condition_from_bank'),
  },
  {
    type: 'customer.created',
    description: 'Published when a customer is registered.',
    subject: { kind: 'customer', idField: 'customer_id' },
    schema: customerSchema(),
    example: { customer_id: '1', ...CREDERE_CUSTOMER },
    source: credereSource('customer_created ("Quando o cliente é criado ou editado")'),
  },
  {
    type: 'customer.updated',
    description: "Published when a customer's data is edited.",
    subject: { kind: 'customer', idField: 'customer_id' },
    schema: customerSchema(),
    example: { customer_id: '1', ...CREDERE_CUSTOMER },
    source: credereSource('customer_updated ("Quando o cliente é criado ou editado")'),
  },
];

// Frozen because the catalog is shared by the whole process: a caller that edits an example or a
// schema in place would silently change what every other caller sees (proposal.created and
// proposal.updated even share their lender object).
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export const EVENT_CATALOG: readonly EventTypeSpec[] = deepFreeze(CATALOG);

const BY_TYPE = new Map(EVENT_CATALOG.map((spec) => [spec.type, spec]));

export function eventTypeSpec(type: string): EventTypeSpec | undefined {
  return BY_TYPE.get(type);
}

/** `${kind}/${id}` for data of this type, or null when the id field is absent or not a non-empty string. */
export function subjectOf(spec: EventTypeSpec, data: Record<string, unknown>): string | null {
  const value = data[spec.subject.idField];
  return typeof value === 'string' && value.length > 0 ? `${spec.subject.kind}/${value}` : null;
}
