import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';

/** The import rules of docs/architecture.md, checked on every source file. */
const ALLOWED: Record<string, readonly string[]> = {
  domain: ['domain', 'errors.ts'],
  formats: ['domain', 'formats'],
  store: ['domain', 'formats', 'store', 'errors.ts'],
  delivery: ['domain', 'formats', 'delivery', 'store'],
  api: ['domain', 'formats', 'store', 'api', 'errors.ts'],
};

/** The top-level module a path under src/ belongs to: a folder, or a file at the root. */
const moduleOf = (pathUnderSrc: string): string => pathUnderSrc.split('/')[0] ?? '';

describe('module boundaries', () => {
  const root = join(import.meta.dirname, '..', 'src');
  const files = globSync('**/*.ts', { cwd: root });

  it('finds the source files', () => {
    assert.ok(files.length > 20);
  });

  for (const file of files) {
    const from = moduleOf(file);
    const allowed = ALLOWED[from];
    if (!allowed) continue; // main.ts, cli.ts, config.ts, errors.ts: the composition root and friends
    it(`${file} imports only what ${from}/ may`, () => {
      const source = readFileSync(join(root, file), 'utf8');
      for (const [, specifier] of source.matchAll(/^(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
        if (!specifier?.startsWith('.')) continue;
        const target = moduleOf(relative(root, join(root, dirname(file), specifier)));
        assert.ok(
          allowed.includes(target),
          `${file} imports ${specifier} (${target}), outside ${allowed.join(', ')}`,
        );
      }
    });
  }
});
