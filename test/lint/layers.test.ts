import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { layerRules, sizeLimits } from '../../eslint.config.js';

function linter(config: object): ESLint {
  return new ESLint({
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, ...config }],
  });
}

/** The messages ESLint reports for `text` as if it lived at `filePath`. */
async function lint(config: object, text: string, filePath: string): Promise<string[]> {
  const [result] = await linter(config).lintText(text, { filePath });
  return result!.messages.map((m) => `${m.line}: ${m.ruleId}: ${m.message}`);
}

describe('layer import rules', () => {
  it('report every forbidden import of the fixture, and only those', async () => {
    const text = readFileSync(new URL('./fixtures/forbidden-imports.ts', import.meta.url), 'utf8');
    const messages = await lint(layerRules, text, 'src/storage/lsm/forbidden-imports.ts');
    assert.deepEqual(messages.map((m) => m.replace(/ \(.*$/, '')), [
      '5: gossamer/layers: src/storage must not import src/runtime',
      '6: gossamer/layers: src/storage must not import src/adapters',
      '7: gossamer/layers: src/storage must not import src/cli',
      '8: gossamer/layers: src/storage must not import src/sim',
    ]);
    assert.match(messages[0]!, /storage may import core, ports\)/);
  });

  const cases: Array<[string, string, boolean]> = [
    ['src/core/ring/x.ts', '../node.js', true],
    ['src/core/ring/x.ts', '../../ports/index.js', false],
    ['src/core/x.ts', '../runtime/node-runtime.js', false],
    ['src/codec/x.ts', '../core/types.js', true],
    ['src/codec/x.ts', '../storage/engine.js', false],
    ['src/ports/index.ts', '../storage/engine.js', false], // the interfaces live in ports now
    ['src/storage/x.ts', '../ports/storage.js', true],
    ['src/cli/x.ts', '../sim/prng.js', true], // the bench's seeded generator
    ['src/client/x.ts', '../core/ring/hash.js', true],
    ['src/client/x.ts', '../runtime/node-runtime.js', false],
    ['src/ports/index.ts', '../storage/memory-engine.js', false],
    ['src/runtime/x.ts', '../codec/frame.js', true],
    ['src/runtime/x.ts', '../adapters/tcp-transport.js', false],
    ['src/adapters/x.ts', '../runtime/node-runtime.js', true],
    ['src/adapters/x.ts', '../api/http/server.js', false],
    ['src/api/http/x.ts', '../../adapters/system-clock.js', true],
    ['src/api/http/x.ts', '../../cli/main.js', false],
    ['src/sim/x.ts', '../adapters/memory-transport.js', true],
    ['src/sim/x.ts', '../adapters/tcp-transport.js', false],
    ['src/sim/x.ts', '../cli/node-main.js', false],
    ['src/cli/x.ts', '../api/http/server.js', true],
    ['src/cli/x.ts', '../sim/run.js', false],
    ['src/x.ts', '../test/helpers.js', true], // outside src/: not a layer
  ];
  for (const [file, source, ok] of cases) {
    it(`${file} importing ${source} is ${ok ? 'allowed' : 'reported'}`, async () => {
      const messages = await lint(layerRules, `import { a } from '${source}';\nexport const b = a;\n`, file);
      assert.equal(messages.length, ok ? 0 : 1, messages.join('\n'));
    });
  }

  it('reports dynamic imports and re-exports too', async () => {
    const text = "export * from '../cli/main.js';\nexport async function f(): Promise<unknown> { return import('../cli/dev.js'); }\n";
    const messages = await lint(layerRules, text, 'src/runtime/x.ts');
    assert.equal(messages.length, 2, messages.join('\n'));
  });
});

describe('size limits', () => {
  const fn = (name: string, bodyLines: number): string =>
    `export function ${name}(): number {\n  let x = 0;\n${'  x++;\n'.repeat(bodyLines)}  return x;\n}\n`;

  it('a function of 81 lines is reported, one of 80 is not', async () => {
    const text = fn('long', 77) + fn('short', 76); // 81 and 80 lines with the header, setup, return and brace
    const messages = await lint(sizeLimits, text, 'src/core/x.ts');
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(messages[0]!, /^1: max-lines-per-function: Function 'long' has too many lines \(81\)/);
  });

  it('a file of 451 lines is reported, one of 450 is not', async () => {
    const line = 'export const a = 1;\n';
    const over = await lint(sizeLimits, line + '//\n'.repeat(450), 'src/core/x.ts');
    assert.equal(over.length, 1, over.join('\n'));
    assert.match(over[0]!, /max-lines: File has too many lines \(451\)/);
    assert.deepEqual(await lint(sizeLimits, line + '//\n'.repeat(449), 'src/core/x.ts'), []);
  });
});
