import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { testEngines } from './support/engines.ts';
import { ADMIN_TOKEN, callApi } from './support/harness.ts';
import { spawnArauto } from './support/process.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('arauto CLI', () => {
  it('prints usage for help and exits 2 on an unknown command', () => {
    const help = run(['help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /arauto serve \[--api-only \| --dispatcher-only\]/);
    assert.match(help.stdout, /arauto migrate/);
    const unknown = run(['deploy']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command "deploy"/);
  });

  it('refuses to run on PostgreSQL without a master key, and refuses a malformed one', () => {
    const noKey = run(['serve'], {
      ARAUTO_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      ARAUTO_MASTER_KEY: '',
    });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /ARAUTO_MASTER_KEY is required with PostgreSQL/);
    const bad = run(['serve'], { ARAUTO_DATABASE_URL: 'sqlite::memory:', ARAUTO_MASTER_KEY: 'too-short' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^arauto: ARAUTO_MASTER_KEY: /m);
    assert.doesNotMatch(bad.stderr, /too-short/, 'a key is never echoed');
  });

  it('refuses a bad setting with a message naming it', () => {
    const bad = run(['serve'], {
      ARAUTO_RETRY_SCHEDULE: '0,5 parsecs',
      ARAUTO_DATABASE_URL: 'sqlite::memory:',
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ARAUTO_RETRY_SCHEDULE: invalid duration/);
    const both = run(['serve', '--api-only', '--dispatcher-only'], {
      ARAUTO_DATABASE_URL: 'sqlite::memory:',
    });
    assert.equal(both.code, 1);
    assert.match(both.stderr, /choose one/);
  });
});

describe('arauto CLI on SQLite without ARAUTO_MASTER_KEY', () => {
  it('generates a key beside the database file (0600) and reads secrets back with it after a restart', async () => {
    const engine = testEngines()[0];
    assert.ok(engine?.name === 'sqlite');
    const databaseUrl = await engine.freshDatabaseUrl();
    const keyFile = `${databaseUrl.slice('sqlite:'.length)}.key`;
    const env = { ARAUTO_DATABASE_URL: databaseUrl, ARAUTO_MASTER_KEY: '' };
    try {
      const first = await spawnArauto(['serve'], env);
      let secret = '';
      let endpointId = '';
      try {
        assert.match(first.output.join('\n'), /generated the master key/);
        const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
        const partner = await callApi(
          first.url ?? '',
          'POST',
          '/v1/partners',
          { name: 'P', cnpj: '11444777000161', contact: { name: 'A', email: 'a@b.co' } },
          auth,
        );
        const created = await callApi(
          first.url ?? '',
          'POST',
          `/v1/partners/${partner.body.id}/endpoints`,
          { url: 'https://x.example.com/', environment: 'sandbox' },
          auth,
        );
        secret = created.body.secret;
        endpointId = created.body.id;
      } finally {
        first.proc.kill('SIGTERM');
        await first.exited;
      }
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      const second = await spawnArauto(['serve'], env);
      try {
        assert.doesNotMatch(second.output.join('\n'), /generated the master key/);
        const again = await callApi(
          second.url ?? '',
          'GET',
          `/v1/endpoints/${endpointId}/secret`,
          undefined,
          { authorization: `Bearer ${ADMIN_TOKEN}` },
        );
        assert.equal(again.body.secret, secret);
      } finally {
        second.proc.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      rmSync(keyFile, { force: true });
      await engine.cleanup();
    }
  });
});

for (const engine of testEngines()) {
  describe(`arauto CLI on ${engine.name}`, () => {
    after(() => engine.cleanup());

    it('migrate applies the schema once', async () => {
      const env = { ARAUTO_DATABASE_URL: await engine.freshDatabaseUrl() };
      const first = run(['migrate'], env);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /Applied migrations 1/);
      const second = run(['migrate'], env);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /up to date/);
    });

    it('generates an operator token on the first start, prints it once, and accepts it afterwards', async () => {
      const env: Record<string, string> = {
        ARAUTO_DATABASE_URL: await engine.freshDatabaseUrl(),
        ARAUTO_ADMIN_TOKEN: '',
      };
      const first = await spawnArauto(['serve'], env);
      const printed = (await first.waitForOutput(/^\s+arauto_[A-Za-z0-9_-]{43}$/)).trim();
      try {
        assert.ok(printed, `no token in:\n${first.output.join('\n')}`);
        assert.match(first.output.join('\n'), /ARAUTO_ALLOW_PRIVATE_NETWORKS is on/);
        const ok = await callApi(first.url ?? '', 'GET', '/v1/partners', undefined, {
          authorization: `Bearer ${printed}`,
        });
        assert.equal(ok.status, 200);
      } finally {
        first.proc.kill('SIGTERM');
        await first.exited;
      }
      const second = await spawnArauto(['serve'], env);
      try {
        assert.doesNotMatch(second.output.join('\n'), /arauto_[A-Za-z0-9_-]{43}/);
        const ok = await callApi(second.url ?? '', 'GET', '/v1/partners', undefined, {
          authorization: `Bearer ${printed}`,
        });
        assert.equal(ok.status, 200);
        const wrong = await callApi(second.url ?? '', 'GET', '/v1/partners', undefined, {
          authorization: 'Bearer arauto_wrong',
        });
        assert.equal(wrong.status, 401);
      } finally {
        second.proc.kill('SIGTERM');
        await second.exited;
      }
    });
  });
}
