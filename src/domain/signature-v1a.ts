import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';

/**
 * Standard Webhooks v1a signing: ed25519 over `${id}.${timestamp}.${body}`. The receiver holds
 * only the public key, so a leak on its side cannot be used to forge webhooks (unlike v1's shared
 * HMAC secret).
 */

const SECRET_PREFIX = 'whsk_';
const PUBLIC_PREFIX = 'whpk_';
/** PKCS#8 wrapping of a raw ed25519 seed (RFC 8410): the 32 seed bytes follow this header. */
const PKCS8_ED25519_HEADER = Buffer.from('302e020100300506032b657004220420', 'hex');
const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64: Buffer.from would silently skip junk characters. */
function decodeBase64(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (!STRICT_BASE64.test(text) || bytes.toString('base64') !== text) {
    throw new Error(`The ${what} is not well-formed base64.`);
  }
  return bytes;
}

function rawPublicKey(key: KeyObject): Buffer {
  // The JWK `x` of an OKP key is the raw 32-byte public key.
  return Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url');
}

/**
 * A new ed25519 key pair in Standard Webhooks form: the secret stays with Arauto, the public key
 * goes to the partner.
 *
 * @example newSigningKeyPair() // { secret: 'whsk_…', publicKey: 'whpk_…' }
 */
export function newSigningKeyPair(): { secret: string; publicKey: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  const publicKey = Buffer.from(jwk.x ?? '', 'base64url');
  return {
    secret: SECRET_PREFIX + Buffer.concat([seed, publicKey]).toString('base64'),
    publicKey: PUBLIC_PREFIX + publicKey.toString('base64'),
  };
}

/**
 * The private key inside a `whsk_` secret. Build it once per endpoint, not per attempt. Throws if
 * the public half stored in the secret is not the one its seed derives: such a secret would sign
 * webhooks that the partner's `whpk_` key rejects.
 *
 * @example signingKeyV1a('whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==')
 */
export function signingKeyV1a(secret: string): KeyObject {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('A v1a signing secret starts with whsk_.');
  const bytes = decodeBase64(secret.slice(SECRET_PREFIX.length), 'v1a signing secret');
  if (bytes.length !== 64) {
    throw new Error(`A v1a signing secret holds 64 bytes (seed + public key), not ${bytes.length}.`);
  }
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_HEADER, bytes.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  if (!rawPublicKey(key).equals(bytes.subarray(32))) {
    throw new Error('The v1a signing secret is corrupt: its public key does not match its seed.');
  }
  return key;
}

/**
 * The `whpk_` public key that verifies what a `whsk_` secret signs: what the partner is given.
 *
 * @example publicKeyOf('whsk_6Xb/…Kvg==') // 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4='
 */
export function publicKeyOf(secret: string): string {
  return PUBLIC_PREFIX + rawPublicKey(signingKeyV1a(secret)).toString('base64');
}

/**
 * The `webhook-signature` value for one attempt.
 *
 * @example signV1a(signingKeyV1a('whsk_6Xb/…Kvg=='), 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')
 * // 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=='
 */
export function signV1a(key: KeyObject, id: string, timestamp: number, body: string): string {
  // ed25519 hashes internally: the algorithm argument must be null.
  return `v1a,${sign(null, Buffer.from(`${id}.${timestamp}.${body}`, 'utf8'), key).toString('base64')}`;
}

/**
 * Whether any `v1a` signature in a `webhook-signature` header (space-separated, as during key
 * rotation) verifies under `publicKey`; other versions are skipped. It does not judge the
 * timestamp's age: that is the receiver's policy. Throws if `publicKey` is not a `whpk_` key.
 *
 * @example verifyV1a('whpk_1SiA…ir4=', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}', 'v1,… v1a,hnO3…BAg==') // true
 */
export function verifyV1a(
  publicKey: string,
  id: string,
  timestamp: number,
  body: string,
  signatureHeader: string,
): boolean {
  if (!publicKey.startsWith(PUBLIC_PREFIX)) throw new Error('A v1a public key starts with whpk_.');
  const raw = decodeBase64(publicKey.slice(PUBLIC_PREFIX.length), 'v1a public key');
  if (raw.length !== 32) throw new Error(`A v1a public key is 32 bytes, not ${raw.length}.`);
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
  const signed = Buffer.from(`${id}.${timestamp}.${body}`, 'utf8');
  for (const entry of signatureHeader.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1a') continue;
    const encoded = entry.slice(comma + 1);
    const signature = Buffer.from(encoded, 'base64');
    if (!STRICT_BASE64.test(encoded) || signature.length !== 64) continue;
    if (verify(null, signed, key, signature)) return true;
  }
  return false;
}
