import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encryption at rest for endpoint credentials and signing secrets: AES-256-GCM under one master
 * key, a fresh random IV per value. A sealed value reads `v1.<iv>.<tag>.<ciphertext>` (base64url,
 * no padding), so the format can change later without guessing what an old row holds.
 */

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Exactly the shape `seal` writes: 12-byte IV = 16 chars, 16-byte tag = 22 chars. */
const SEALED_V1 = /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}$/;
const HEX = /^[0-9a-fA-F]+$/;

const MASTER_KEY_FORMAT =
  'a master key must be 32 bytes, written as base64 (44 characters, or 43 in base64url) or as 64 hex characters';

/**
 * The master key from its text form. The error never repeats the text: it is a secret.
 *
 * @example parseMasterKey(newMasterKey()).length // 32
 */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error(`The master key is empty: ${MASTER_KEY_FORMAT}.`);
  // Hex first: 64 hex digits are also valid base64 (of 48 bytes).
  if (HEX.test(trimmed) && trimmed.length % 2 === 0) {
    if (trimmed.length !== KEY_BYTES * 2) {
      throw new Error(`The master key is ${trimmed.length / 2} bytes of hex, not 32: ${MASTER_KEY_FORMAT}.`);
    }
    return Buffer.from(trimmed, 'hex');
  }
  if (!BASE64.test(trimmed) || (trimmed.endsWith('=') && trimmed.length % 4 !== 0)) {
    throw new Error(`The master key is neither base64 nor hex: ${MASTER_KEY_FORMAT}.`);
  }
  const key = Buffer.from(trimmed, 'base64');
  // Buffer.from ignores stray bits in the last character; a key that does not encode back to the
  // same text was mistyped or truncated, not merely spelt differently.
  if (key.toString('base64url') !== trimmed.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_')) {
    throw new Error(`The master key is not well-formed base64: ${MASTER_KEY_FORMAT}.`);
  }
  if (key.length !== KEY_BYTES) {
    throw new Error(`The master key is ${key.length} bytes of base64, not 32: ${MASTER_KEY_FORMAT}.`);
  }
  return key;
}

/**
 * A new master key, as base64 of 32 random bytes (the text to put in the environment).
 *
 * @example newMasterKey() // 'q3Jx…=' (44 characters)
 */
export function newMasterKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new Error(`A secret-box key must be 32 bytes, not ${key.length}.`);
}

/**
 * Encrypts `plaintext`. Pass the record's id as `aad` so that the sealed value only opens on that
 * record: copied into another row (by mistake or by someone with database access) it fails.
 *
 * @example seal('client-secret', key, endpointId) // 'v1.3q….Zk….Yw…'
 */
export function seal(plaintext: string, key: Buffer, aad?: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  if (aad !== undefined) cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${VERSION}.${iv.toString('base64url')}.${tag.toString('base64url')}.${ciphertext.toString('base64url')}`;
}

/** Strict base64url: Buffer.from would skip junk characters and ignore stray trailing bits. */
function decodePart(part: string, name: string): Buffer {
  const bytes = Buffer.from(part, 'base64url');
  if (!/^[A-Za-z0-9_-]*$/.test(part) || bytes.toString('base64url') !== part) {
    throw new Error(`Cannot open sealed value: its ${name} is not base64url.`);
  }
  return bytes;
}

/**
 * Decrypts what `seal` wrote, with the same key and `aad`. Throws, never returns garbage, when the
 * key or the aad is wrong, the value was altered, or its version is unknown.
 *
 * @example open(seal('ação', key, 'ep_1'), key, 'ep_1') // 'ação'
 */
export function open(sealed: string, key: Buffer, aad?: string): string {
  checkKey(key);
  const parts = sealed.split('.');
  const version = parts[0] ?? '';
  // The value may be a secret still in the clear: only a version-like prefix is ever repeated.
  if (/^v\d{1,4}$/.test(version) && version !== VERSION) {
    throw new Error(`Cannot open sealed value: unknown version ${version} (this build reads ${VERSION}).`);
  }
  if (version !== VERSION || parts.length !== 4) {
    throw new Error('Cannot open sealed value: it is not of the form v1.<iv>.<tag>.<ciphertext>.');
  }
  const iv = decodePart(parts[1] ?? '', 'IV');
  const tag = decodePart(parts[2] ?? '', 'tag');
  const ciphertext = decodePart(parts[3] ?? '', 'ciphertext');
  if (iv.length !== IV_BYTES) {
    throw new Error(`Cannot open sealed value: its IV is ${iv.length} bytes, not 12.`);
  }
  // A short tag would be checked on fewer bits; only the full 16 bytes are accepted.
  if (tag.length !== TAG_BYTES) {
    throw new Error(`Cannot open sealed value: its tag is ${tag.length} bytes, not 16.`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new Error(
      'Cannot open sealed value: authentication failed (wrong master key, sealed for another record, or altered).',
      { cause: error },
    );
  }
}

/**
 * Whether `value` has the shape of a value `seal` wrote (a plaintext `whsec_…` secret never does),
 * for telling rows already encrypted from rows still in the clear.
 *
 * @example isSealed('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') // false
 */
export function isSealed(value: string): boolean {
  return SEALED_V1.test(value);
}
