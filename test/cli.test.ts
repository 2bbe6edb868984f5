import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { testEngines } from './support/engines.ts';
import { callApi } from './support/harness.ts';
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
      const printed = first.output.join('\n').match(/^\s+(arauto_[A-Za-z0-9_-]{43})$/m)?.[1];
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
