import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isSealed, newMasterKey, open, parseMasterKey, seal } from '../src/domain/secret-box.ts';

const key = parseMasterKey(newMasterKey());

/** Rebuilds a sealed value with one byte of part `index` (1 = IV, 2 = tag, 3 = ciphertext) flipped. */
function flipByte(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('secret box', () => {
  it('round-trips ASCII, UTF-8, the empty string and 10 kB', () => {
    const big = randomBytes(7500).toString('base64'); // 10 000 characters
    for (const plaintext of ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'ação', '', big]) {
      const sealed = seal(plaintext, key);
      assert.ok(isSealed(sealed), sealed.slice(0, 60));
      assert.equal(open(sealed, key), plaintext);
      assert.equal(open(seal(plaintext, key, 'ep_01'), key, 'ep_01'), plaintext);
    }
    assert.equal(big.length, 10_000);
  });

  it('writes v1.<iv>.<tag>.<ciphertext> in base64url', () => {
    const parts = seal('ação', key).split('.');
    assert.equal(parts.length, 4);
    assert.equal(parts[0], 'v1');
    assert.equal(Buffer.from(parts[1] ?? '', 'base64url').length, 12);
    assert.equal(Buffer.from(parts[2] ?? '', 'base64url').length, 16);
    assert.equal(Buffer.from(parts[3] ?? '', 'base64url').length, Buffer.byteLength('ação'));
    for (const part of parts) assert.match(part, /^[A-Za-z0-9_-]+$/);
  });

  it('uses a different IV on every seal', () => {
    const ivs = new Set<string>();
    const sealed = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const value = seal('same secret', key);
      sealed.add(value);
      ivs.add(value.split('.')[1] ?? '');
    }
    assert.equal(ivs.size, 100);
    assert.equal(sealed.size, 100);
  });

  it('refuses the wrong key', () => {
    const sealed = seal('secret', key);
    assert.throws(() => open(sealed, parseMasterKey(newMasterKey())), /authentication failed/);
  });

  it('refuses a flipped byte in the IV, the tag and the ciphertext', () => {
    const sealed = seal('a secret worth keeping', key, 'ep_01');
    for (const index of [1, 2, 3]) {
      assert.throws(
        () => open(flipByte(sealed, index), key, 'ep_01'),
        /authentication failed/,
        `part ${index}`,
      );
    }
  });

  it('refuses an altered character anywhere in the text, stray bits included', () => {
    const sealed = seal('a secret worth keeping', key);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < sealed.length; i++) {
      const c = sealed[i] ?? '';
      if (c === '.') continue;
      // The neighbouring letter differs only in the lowest bit: in the last character of the tag
      // that bit is padding, which Buffer.from alone would ignore.
      const j = alphabet.indexOf(c);
      const other = j === -1 ? 'x' : (alphabet[j ^ 1] ?? 'x');
      const altered = sealed.slice(0, i) + other + sealed.slice(i + 1);
      assert.throws(() => open(altered, key), Error, `position ${i}`);
    }
  });

  it('refuses the wrong aad, and a missing one', () => {
    const sealed = seal('secret', key, 'ep_01');
    assert.throws(() => open(sealed, key, 'ep_02'), /authentication failed/);
    assert.throws(() => open(sealed, key), /authentication failed/);
    assert.throws(() => open(seal('secret', key), key, 'ep_01'), /authentication failed/);
  });

  it('refuses unknown versions and malformed values without quoting them', () => {
    const [, iv, tag, ciphertext] = seal('secret', key).split('.');
    assert.throws(
      () => open(`v2.${iv}.${tag}.${ciphertext}`, key),
      /unknown version v2 \(this build reads v1\)/,
    );
    assert.throws(() => open(`V1.${iv}.${tag}.${ciphertext}`, key), /not of the form v1\./);
    assert.throws(() => open(`v1.${iv}.${tag}`, key), /not of the form v1\./);
    assert.throws(() => open(`v1.${iv}.${tag}.${ciphertext}.x`, key), /not of the form v1\./);
    assert.throws(() => open(`v1.${iv}.${tag}.${ciphertext}==`, key), /ciphertext is not base64url/);
    assert.throws(() => open(`v1.${iv?.slice(4)}.${tag}.${ciphertext}`, key), /IV is 9 bytes, not 12/);
    assert.throws(() => open(`v1.${iv}.${tag?.slice(0, 16)}.${ciphertext}`, key), /tag is 12 bytes, not 16/);
    assert.throws(
      () => open('hunter2.is.my.password', key),
      (error: Error) => /not of the form/.test(error.message) && !error.message.includes('hunter2'),
    );
  });

  it('refuses a key that is not 32 bytes', () => {
    assert.throws(() => seal('x', randomBytes(16)), /must be 32 bytes, not 16/);
    assert.throws(() => open(seal('x', key), randomBytes(31)), /must be 32 bytes, not 31/);
  });

  it('tells sealed values from plaintext', () => {
    assert.ok(isSealed(seal('', key)));
    assert.equal(isSealed('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), false);
    assert.equal(isSealed('v1.a.b.c'), false);
    assert.equal(isSealed(''), false);
    assert.equal(isSealed(`${seal('x', key)} `), false);
  });
});

describe('master key', () => {
  const raw = randomBytes(32);

  it('accepts 32 bytes as base64, base64url (with or without padding) and hex', () => {
    assert.deepEqual(parseMasterKey(raw.toString('base64')), raw);
    assert.deepEqual(parseMasterKey(raw.toString('base64url')), raw);
    assert.deepEqual(parseMasterKey(`${raw.toString('base64url')}=`), raw);
    assert.deepEqual(parseMasterKey(raw.toString('hex')), raw);
    assert.deepEqual(parseMasterKey(raw.toString('hex').toUpperCase()), raw);
    assert.deepEqual(parseMasterKey(` ${raw.toString('base64')}\n`), raw);
  });

  it('creates keys that parse to 32 random bytes', () => {
    const text = newMasterKey();
    assert.equal(text.length, 44);
    assert.equal(parseMasterKey(text).length, 32);
    assert.notEqual(newMasterKey(), text);
  });

  it('refuses 31 and 33 bytes, saying how many it got', () => {
    assert.throws(() => parseMasterKey(randomBytes(31).toString('base64')), /31 bytes of base64, not 32/);
    assert.throws(() => parseMasterKey(randomBytes(33).toString('base64')), /33 bytes of base64, not 32/);
    assert.throws(() => parseMasterKey(randomBytes(31).toString('hex')), /31 bytes of hex, not 32/);
    assert.throws(() => parseMasterKey(randomBytes(33).toString('hex')), /33 bytes of hex, not 32/);
  });

  it('refuses junk with a message that explains the format and never repeats the text', () => {
    const junk = [
      '',
      '   ',
      'correct horse battery staple',
      `${raw.toString('base64').slice(0, 40)}!!!=`,
      `${raw.toString('base64').slice(0, 43)}==`,
      `${raw.toString('hex').slice(0, 63)}g`,
    ];
    for (const text of junk) {
      assert.throws(
        () => parseMasterKey(text),
        (error: Error) =>
          /must be 32 bytes, written as base64 \(44 characters/.test(error.message) &&
          (text.trim() === '' || !error.message.includes(text.trim())),
        JSON.stringify(text),
      );
    }
  });

  it('refuses base64 whose last character carries stray bits (a mistyped key)', () => {
    const text = raw.toString('base64');
    // 32 bytes leave two unused bits in the 43rd character; set them.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = alphabet.indexOf(text[42] ?? '');
    const mistyped = `${text.slice(0, 42)}${alphabet[last | 1]}=`;
    assert.throws(() => parseMasterKey(mistyped), /not well-formed base64/);
  });
});
