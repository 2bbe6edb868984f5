import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { ConfigError, loadConfig } from '../src/config.ts';
import { normalizeCnpj } from '../src/domain/cnpj.ts';
import { matchesEventType } from '../src/domain/event-types.ts';
import { blockedReason, checkEndpointUrl } from '../src/domain/network.ts';
import { standardBody } from '../src/domain/payload.ts';
import {
  DEFAULT_RETRY_SCHEDULE,
  nextRetryDelay,
  parseDuration,
  parseRetryAfter,
  parseSchedule,
  RETRY_AFTER_CAP_MS,
  withJitter,
} from '../src/domain/retry.ts';
import { newSigningSecret, sign, signingKey } from '../src/domain/signature.ts';
import { parseDatabaseUrl } from '../src/store/db.ts';

describe('retry policy', () => {
  it('parses durations and schedules', () => {
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('5'), 5000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.deepEqual(parseSchedule('0,5s,5m,2h'), [0, 5000, 300_000, 7_200_000]);
    assert.throws(() => parseDuration('5 minutes'), /invalid duration/);
    assert.throws(() => parseSchedule(' , '), /at least one/);
  });

  it('defaults to 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h', () => {
    assert.deepEqual(DEFAULT_RETRY_SCHEDULE, parseSchedule('0,5s,5m,30m,2h,5h,10h,14h,20h,24h'));
  });

  it('applies ±20 % jitter and none to a zero delay', () => {
    assert.equal(
      withJitter(10_000, () => 0),
      8000,
    );
    assert.equal(
      withJitter(10_000, () => 0.999999),
      12_000,
    );
    assert.equal(
      withJitter(0, () => 0.9),
      0,
    );
    for (let i = 0; i < 1000; i++) {
      const d = withJitter(300_000, Math.random);
      assert.ok(d >= 240_000 && d <= 360_000, `${d} outside ±20 %`);
    }
  });

  it('walks the schedule and stops after the last attempt', () => {
    const schedule = [0, 5000, 300_000];
    const mid = () => 0.5;
    assert.equal(nextRetryDelay(schedule, 1, null, mid), 5000);
    assert.equal(nextRetryDelay(schedule, 2, null, mid), 300_000);
    assert.equal(nextRetryDelay(schedule, 3, null, mid), null);
  });

  it('lets Retry-After postpone, never hasten, and caps it', () => {
    const schedule = [0, 5000, 300_000];
    const mid = () => 0.5;
    assert.equal(nextRetryDelay(schedule, 1, 60_000, mid), 60_000);
    assert.equal(nextRetryDelay(schedule, 2, 1000, mid), 300_000);
    assert.equal(nextRetryDelay(schedule, 1, 30 * 86_400_000, mid), RETRY_AFTER_CAP_MS);
    assert.equal(nextRetryDelay(schedule, 3, 1000, mid), null);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-22T12:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 12:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 11:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter(undefined, now), null);
  });
});

describe('CNPJ', () => {
  it('accepts numeric and alphanumeric CNPJs, with or without punctuation', () => {
    assert.equal(normalizeCnpj('11.444.777/0001-61'), '11444777000161');
    assert.equal(normalizeCnpj('11444777000161'), '11444777000161');
    assert.equal(normalizeCnpj('12.ABC.345/01DE-35'), '12ABC34501DE35');
    assert.equal(normalizeCnpj('12abc34501de35'), '12ABC34501DE35');
  });

  it('rejects wrong check digits, wrong lengths, letters in the check digits and repeated digits', () => {
    for (const bad of [
      '11.444.777/0001-62',
      '1144477700016',
      '114447770001611',
      '12ABC34501DEA5',
      '00000000000000',
      '',
      'abc',
    ]) {
      assert.equal(normalizeCnpj(bad), null, bad);
    }
  });
});

describe('Standard Webhooks signatures', () => {
  // Test vectors from ../shared/guides/webhook-facts.md.
  const vectors = [
    {
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    },
    {
      secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD',
      id: 'msg_27UH4WbU6Z5A5EzD8u03UvzRbpk',
      timestamp: 1649367553,
      body: '{"email":"test@example.com","username":"test_user"}',
      signature: 'v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=',
    },
  ];

  it('reproduces the published test vectors', () => {
    for (const v of vectors) assert.equal(sign(signingKey(v.secret), v.id, v.timestamp, v.body), v.signature);
  });

  it('produces secrets and signatures the standardwebhooks package accepts', () => {
    const secret = newSigningSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    const timestamp = Math.floor(Date.now() / 1000);
    const body = '{"type":"x","data":{}}';
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign(signingKey(secret), 'evt_1', timestamp, body),
    };
    assert.deepEqual(new Webhook(secret).verify(body, headers), { type: 'x', data: {} });
    assert.throws(() => new Webhook(newSigningSecret()).verify(body, headers));
  });

  it('renders the default body as {type, timestamp, data} without re-serialising data', () => {
    const body = standardBody({
      type: 'proposal.created',
      createdAt: Date.UTC(2026, 6, 1, 12),
      data: '{"b":1,"a":[2]}',
    });
    assert.equal(
      body,
      '{"type":"proposal.created","timestamp":"2026-07-01T12:00:00.000Z","data":{"b":1,"a":[2]}}',
    );
    assert.deepEqual(JSON.parse(body).data, { b: 1, a: [2] });
  });
});

describe('network guard: addresses', () => {
  const blocked = [
    '0.0.0.0',
    '10.1.2.3',
    '100.64.0.1',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.8',
    '192.0.2.1',
    '192.88.99.1',
    '192.168.1.1',
    '198.18.0.1',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.1',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '2001:db8::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:7f00:1',
    '64:ff9b::7f00:1', // NAT64 of 127.0.0.1
    '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
    '2002:7f00:0001::1', // 6to4 of 127.0.0.1
    '2002:c0a8:0101::1', // 6to4 of 192.168.1.1
    '::127.0.0.1', // IPv4-compatible (deprecated)
    '100::1', // discard-only
  ];
  for (const ip of blocked) {
    it(`refuses ${ip}`, () => assert.notEqual(blockedReason(ip), null));
  }

  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:0808:0808::1',
  ];
  for (const ip of allowed) {
    it(`allows ${ip}`, () => assert.equal(blockedReason(ip), null));
  }
});

describe('network guard: endpoint URLs at registration', () => {
  it('requires https in production and allows http in sandbox', () => {
    assert.deepEqual(checkEndpointUrl('https://parceiro.com.br/hook', 'production', false), {
      ok: true,
      url: 'https://parceiro.com.br/hook',
    });
    const refused = checkEndpointUrl('http://parceiro.com.br/hook', 'production', false);
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.code, 'https_required');
    assert.equal(checkEndpointUrl('http://parceiro.com.br/hook', 'sandbox', false).ok, true);
  });

  it('refuses non-URLs, other schemes and credentials', () => {
    for (const url of [
      'not a url',
      'ftp://x.com/',
      '/relative',
      'https://user:pw@x.com/',
      'javascript:alert(1)',
    ]) {
      const r = checkEndpointUrl(url, 'sandbox', false);
      assert.equal(r.ok, false, url);
      assert.equal(!r.ok && r.code, 'invalid_url', url);
    }
  });

  it('refuses literal private addresses in every spelling, and localhost, unless private networks are allowed', () => {
    const urls = [
      'http://127.0.0.1/',
      'http://2130706433/', // 127.0.0.1 as one number
      'http://0x7f.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://localhost:8080/',
      'http://api.localhost/',
      'http://10.0.0.5/',
    ];
    for (const url of urls) {
      const r = checkEndpointUrl(url, 'sandbox', false);
      assert.equal(r.ok, false, url);
      assert.equal(!r.ok && r.code, 'url_not_allowed', url);
      assert.equal(checkEndpointUrl(url, 'sandbox', true).ok, true, url);
    }
  });

  it('drops the fragment', () => {
    assert.deepEqual(checkEndpointUrl('https://x.com.br/a?b=1#frag', 'sandbox', false), {
      ok: true,
      url: 'https://x.com.br/a?b=1',
    });
  });
});

describe('event type filters', () => {
  it('matches all, exact names and families', () => {
    assert.equal(matchesEventType(null, 'proposal.created'), true);
    assert.equal(matchesEventType(['proposal.created'], 'proposal.created'), true);
    assert.equal(matchesEventType(['proposal.created'], 'proposal.updated'), false);
    assert.equal(matchesEventType(['proposal.*'], 'proposal.status_changed'), true);
    assert.equal(matchesEventType(['proposal.*'], 'proposal_attempt.created'), false);
    assert.equal(matchesEventType(['customer.created', 'simulation.*'], 'simulation.processed'), true);
  });
});

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.databaseUrl, 'sqlite:./data/arauto.db');
    assert.equal(config.adminToken, null);
    assert.deepEqual(config.retrySchedule, DEFAULT_RETRY_SCHEDULE);
    assert.equal(config.allowPrivateNetworks, false);
    assert.equal(config.deliveryTimeoutMs, 15_000);
    assert.ok(config.leaseMs > config.deliveryTimeoutMs);
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      PORT: '9090',
      ARAUTO_DATABASE_URL: 'postgres://u@h/db',
      ARAUTO_ADMIN_TOKEN: 'a-very-long-operator-token',
      ARAUTO_RETRY_SCHEDULE: '0,5s,5m,2h',
      ARAUTO_ALLOW_PRIVATE_NETWORKS: 'true',
      ARAUTO_DELIVERY_TIMEOUT: '30s',
    });
    assert.equal(config.port, 9090);
    assert.equal(config.databaseUrl, 'postgres://u@h/db');
    assert.equal(config.adminToken, 'a-very-long-operator-token');
    assert.deepEqual(config.retrySchedule, [0, 5000, 300_000, 7_200_000]);
    assert.equal(config.allowPrivateNetworks, true);
    assert.equal(config.deliveryTimeoutMs, 30_000);
  });

  it('names the variable that is wrong', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty' }),
      (e) => e instanceof ConfigError && /^PORT:/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ ARAUTO_RETRY_SCHEDULE: '0,5x' }),
      /ARAUTO_RETRY_SCHEDULE: invalid duration/,
    );
    assert.throws(
      () => loadConfig({ ARAUTO_ALLOW_PRIVATE_NETWORKS: 'maybe' }),
      /ARAUTO_ALLOW_PRIVATE_NETWORKS/,
    );
    assert.throws(() => loadConfig({ ARAUTO_ADMIN_TOKEN: 'short' }), /ARAUTO_ADMIN_TOKEN/);
    assert.throws(() => loadConfig({ ARAUTO_DELIVERY_TIMEOUT: '1m', ARAUTO_DELIVERY_LEASE: '90s' }), /LEASE/);
  });

  it('parses database URLs', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:./data/arauto.db'), {
      engine: 'sqlite',
      target: './data/arauto.db',
      schema: null,
    });
    assert.deepEqual(parseDatabaseUrl('sqlite:///var/lib/arauto.db'), {
      engine: 'sqlite',
      target: '/var/lib/arauto.db',
      schema: null,
    });
    const pg = parseDatabaseUrl('postgres://postgres@127.0.0.1:5432/test?schema=arauto');
    assert.equal(pg.engine, 'postgres');
    assert.equal(pg.schema, 'arauto');
    assert.equal(pg.target, 'postgres://postgres@127.0.0.1:5432/test');
    assert.throws(() => parseDatabaseUrl('mysql://x'), /must start with/);
    assert.throws(() => parseDatabaseUrl('postgres://x/db?schema=bad;drop'), /schema/);
  });
});
