import { open, seal } from '../domain/secret-box.ts';

/**
 * Encrypts what the database must not hold in clear (signing secrets, partner credentials),
 * binding each value to its row and column so a sealed value copied elsewhere does not open.
 */
export interface Sealer {
  seal(plaintext: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

export function sealer(masterKey: Buffer | null): Sealer {
  const key = (): Buffer => {
    if (!masterKey)
      throw new Error('this process has no master key (ARAUTO_MASTER_KEY) to read or write secrets');
    return masterKey;
  };
  return {
    seal: (plaintext, aad) => seal(plaintext, key(), aad),
    open: (sealed, aad) => open(sealed, key(), aad),
  };
}

/** The associated data of a sealed endpoint column: `endpoint:<id>:<column>`. */
export const endpointAad = (id: string, column: 'secret' | 'auth' | 'signing_key'): string =>
  `endpoint:${id}:${column}`;
