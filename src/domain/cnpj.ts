import { cnpj as validator } from 'cpf-cnpj-validator';

const SHAPE = /^[0-9A-Z]{12}[0-9]{2}$/;

/**
 * Normalises a CNPJ to its 14 bare characters (upper case) or returns null when it is invalid.
 * Accepts the numeric form and the alphanumeric form valid from July 2026
 * (`12.ABC.345/01DE-35`); punctuation is optional.
 *
 * @example normalizeCnpj('11.444.777/0001-61') // '11444777000161'
 */
export function normalizeCnpj(input: string): string | null {
  const bare = input.replace(/[.\-/\s]/g, '').toUpperCase();
  if (!SHAPE.test(bare)) return null;
  return validator.isValid(bare) ? bare : null;
}
