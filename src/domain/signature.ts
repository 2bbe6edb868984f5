import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks v1 signing: HMAC-SHA256 over `${id}.${timestamp}.${body}`, keyed by the
 * base64-decoded part of a `whsec_` secret. The body is signed exactly as sent, never
 * re-serialised.
 */

const PREFIX = 'whsec_';

/** A new endpoint secret: `whsec_` + base64 of 24 random bytes (the spec allows 24-64). */
export function newSigningSecret(): string {
  return PREFIX + randomBytes(24).toString('base64');
}

/**
 * The HMAC key inside a `whsec_` secret. Build it once per endpoint, not per attempt: handing
 * createHmac raw bytes makes it build a key object every call (measured: ~40 µs of ~45 µs).
 */
export function signingKey(secret: string): KeyObject {
  return createSecretKey(
    Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64'),
  );
}

/**
 * The `webhook-signature` value for one attempt.
 *
 * @example sign(signingKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')
 * // 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
 */
export function sign(key: KeyObject, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}
