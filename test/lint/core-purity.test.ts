import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { corePurity } from '../../eslint.config.js';

describe('core purity lint rules', () => {
  it('reports every kind of breach in the fixture', async () => {
    const eslint = new ESLint({
      overrideConfigFile: true,
      overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, ...corePurity }],
    });
    const text = readFileSync(new URL('./fixtures/impure-core.ts', import.meta.url), 'utf8');
    const [result] = await eslint.lintText(text, { filePath: 'src/core/impure-core.ts' });
    const messages = result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
    const expect = [
      /no-restricted-imports: .*node:fs.*|no-restricted-imports: .*Node built-ins/,
      /no-restricted-imports: .*only src\/core \(no packages\)/,
      /no-restricted-imports: .*imports only src\/core\./,
      /no-restricted-globals: .*Date/,
      /no-restricted-properties: .*randomness/,
      /no-restricted-globals: .*setTimeout/,
      /no-restricted-globals: .*process/,
      /no-restricted-syntax: .*no await/,
    ];
    for (const re of expect) assert.ok(messages.some((m) => re.test(m)), `expected a report matching ${re}; got:\n${messages.join('\n')}`);
  });

  it('accepts pure code', async () => {
    const eslint = new ESLint({
      overrideConfigFile: true,
      overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, ...corePurity }],
    });
    const [result] = await eslint.lintText("import { x } from './x.js';\nexport const y = x + 1;\n", { filePath: 'src/core/ok.ts' });
    assert.deepEqual(result!.messages, []);
  });
});
