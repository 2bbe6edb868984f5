import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  newSigningKeyPair,
  publicKeyOf,
  signingKeyV1a,
  signV1a,
  verifyV1a,
} from '../src/domain/signature-v1a.ts';

/** The published Standard Webhooks v1a test vector (docs: webhook-facts.md). */
const VECTOR = {
  secret: 'whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==',
  publicKey: 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==',
};

describe('Standard Webhooks v1a (ed25519)', () => {
  it('reproduces the published test vector', () => {
    const { secret, id, timestamp, body } = VECTOR;
    assert.equal(signV1a(signingKeyV1a(secret), id, timestamp, body), VECTOR.signature);
    assert.equal(publicKeyOf(secret), VECTOR.publicKey);
  });

  it('verifies the published test vector', () => {
    const { publicKey, id, timestamp, body, signature } = VECTOR;
    assert.equal(verifyV1a(publicKey, id, timestamp, body, signature), true);
  });

  it('rejects a tampered body, id or timestamp', () => {
    const { publicKey, id, timestamp, body, signature } = VECTOR;
    assert.equal(verifyV1a(publicKey, id, timestamp, '{"test": 2432232315}', signature), false);
    assert.equal(verifyV1a(publicKey, id, timestamp, `${body} `, signature), false);
    assert.equal(verifyV1a(publicKey, 'msg_other', timestamp, body, signature), false);
    assert.equal(verifyV1a(publicKey, id, timestamp + 1, body, signature), false);
  });

  it('tries every signature of a rotation header and skips other versions', () => {
    const { publicKey, id, timestamp, body, signature } = VECTOR;
    const other = newSigningKeyPair();
    const foreign = signV1a(signingKeyV1a(other.secret), id, timestamp, body);
    assert.equal(verifyV1a(publicKey, id, timestamp, body, `v1,xxx ${signature}`), true);
    assert.equal(
      verifyV1a(publicKey, id, timestamp, body, `${foreign} v1,g0hM9SsE+OTPJTGt= ${signature}`),
      true,
    );
    assert.equal(verifyV1a(publicKey, id, timestamp, body, `v1,${signature.slice(4)}`), false);
    assert.equal(verifyV1a(publicKey, id, timestamp, body, foreign), false);
    assert.equal(verifyV1a(publicKey, id, timestamp, body, 'v1a,not-base64 v1a, junk'), false);
    assert.equal(verifyV1a(publicKey, id, timestamp, body, ''), false);
  });

  it('creates key pairs whose signatures verify here and with node:crypto directly', () => {
    const pair = newSigningKeyPair();
    assert.match(pair.secret, /^whsk_[A-Za-z0-9+/]{86}==$/);
    assert.match(pair.publicKey, /^whpk_[A-Za-z0-9+/]{43}=$/);
    assert.equal(publicKeyOf(pair.secret), pair.publicKey);
    assert.notEqual(newSigningKeyPair().secret, pair.secret);

    const body = '{"type":"proposal.approved","data":{"id":"p_1"}}';
    const header = signV1a(signingKeyV1a(pair.secret), 'msg_1', 1_700_000_000, body);
    assert.equal(verifyV1a(pair.publicKey, 'msg_1', 1_700_000_000, body, header), true);

    const raw = Buffer.from(pair.publicKey.slice('whpk_'.length), 'base64');
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
    const signature = Buffer.from(header.slice('v1a,'.length), 'base64');
    assert.equal(verify(null, Buffer.from(`msg_1.1700000000.${body}`), key, signature), true);
    assert.equal(verify(null, Buffer.from(`msg_1.1700000001.${body}`), key, signature), false);
  });

  it('refuses malformed secrets and public keys', () => {
    assert.throws(() => signingKeyV1a(VECTOR.secret.slice(5)), /starts with whsk_/);
    assert.throws(() => signingKeyV1a('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), /starts with whsk_/);
    assert.throws(() => signingKeyV1a('whsk_AAAA'), /64 bytes \(seed \+ public key\), not 3/);
    assert.throws(
      () => signingKeyV1a(`${VECTOR.secret.slice(0, 20)}!${VECTOR.secret.slice(21)}`),
      /not well-formed/,
    );
    // The vector's seed with another key's public half.
    const otherPublic = Buffer.from(newSigningKeyPair().publicKey.slice(5), 'base64');
    const seed = Buffer.from(VECTOR.secret.slice(5), 'base64').subarray(0, 32);
    const mismatched = `whsk_${Buffer.concat([seed, otherPublic]).toString('base64')}`;
    assert.throws(() => signingKeyV1a(mismatched), /does not match its seed/);

    const { id, timestamp, body, signature } = VECTOR;
    assert.throws(() => verifyV1a(VECTOR.secret, id, timestamp, body, signature), /starts with whpk_/);
    assert.throws(() => verifyV1a('whpk_AAAA', id, timestamp, body, signature), /32 bytes, not 3/);
  });
});
