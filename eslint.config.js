// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The core is pure: no Node built-ins, nothing outside src/core, no wall clock, no randomness,
 * no timers, no process. These rules are what keeps the simulator honest; the fixture in
 * test/lint/fixtures proves that a breach fails.
 */
/** @type {import("eslint").Linter.Config} */
export const corePurity = {
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        { group: ['node:*'], message: 'src/core must not import Node built-ins (the core is pure).' },
        { regex: '^(?!\\.)', message: 'src/core imports only src/core (no packages).' },
        { regex: '^\\.\\./\\.\\./\\.\\./', message: 'src/core imports only src/core.' },
      ],
    }],
    'no-restricted-globals': ['error',
      { name: 'Date', message: 'the core takes time from tick(nowMs), never from Date.' },
      { name: 'setTimeout', message: 'the core counts ticks; no timers.' },
      { name: 'setInterval', message: 'the core counts ticks; no timers.' },
      { name: 'setImmediate', message: 'the core counts ticks; no timers.' },
      { name: 'queueMicrotask', message: 'the core is synchronous.' },
      { name: 'process', message: 'the core must not touch process.' },
      { name: 'require', message: 'the core is pure ESM.' },
    ],
    'no-restricted-properties': ['error',
      { object: 'Math', property: 'random', message: 'randomness comes from an injected Random.' },
      { object: 'globalThis', property: 'Date', message: 'no wall clock in the core.' },
      { object: 'globalThis', property: 'process', message: 'the core must not touch process.' },
    ],
    'no-restricted-syntax': ['error',
      { selector: 'AwaitExpression', message: 'the core is synchronous: no await.' },
      { selector: 'ImportExpression', message: 'no dynamic import in the core.' },
    ],
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'test/lint/fixtures/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setImmediate: 'readonly', clearImmediate: 'readonly', URL: 'readonly', TextEncoder: 'readonly',
        TextDecoder: 'readonly', queueMicrotask: 'readonly', AbortController: 'readonly',
        AbortSignal: 'readonly', performance: 'readonly', structuredClone: 'readonly', fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { files: ['src/core/**/*.ts'], ...corePurity },
);
