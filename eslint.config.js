// @ts-check
import path from 'node:path';
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

/**
 * Which layer of src/ may import which: imports point inward (see docs/architecture.md). A layer
 * is the first folder under src/ (`root` for src/*.ts, the gathered constants). Files listed in
 * `allowedFiles` are single exceptions: the simulator runs on the in-memory transport twin.
 */
export const LAYER_IMPORTS = {
  core: ['core'],
  ports: ['core'],
  // storage and codec also take port types (Logger, Envelope, PeerInfo): they implement or carry them.
  storage: ['core', 'ports'],
  codec: ['core', 'ports'],
  runtime: ['core', 'ports', 'storage', 'codec'],
  adapters: ['core', 'ports', 'storage', 'codec', 'runtime'],
  api: ['core', 'ports', 'storage', 'codec', 'runtime', 'adapters'],
  cli: ['core', 'ports', 'storage', 'codec', 'runtime', 'adapters', 'api', 'root'],
  sim: ['core', 'ports', 'storage', 'codec', 'runtime'],
  root: ['core', 'ports', 'storage', 'codec', 'runtime', 'adapters', 'api'],
  // The TypeScript client hashes keys as the ring does (pure core code); nothing else.
  client: ['core'],
};

/** Single files a layer may import beyond its layers: `layer` → paths relative to src/. */
export const LAYER_FILE_EXCEPTIONS = {
  // The in-memory transport twin (and what it is built of) serves the simulator.
  sim: ['adapters/memory-transport.ts', 'adapters/transport-common.ts', 'adapters/transport-base.ts',
    'adapters/frame-queue.ts', 'adapters/transport-constants.ts'],
  // `gossamer bench` draws its workloads from the simulator's seeded generator (reproducible runs).
  cli: ['sim/prng.ts'],
};

/**
 * @param {string} file absolute path of a file under some src/
 * @returns {{ src: string, rel: string } | undefined}
 */
function underSrc(file) {
  const parts = path.resolve(file).split(path.sep);
  const i = parts.lastIndexOf('src');
  if (i < 0) return undefined;
  return { src: parts.slice(0, i + 1).join(path.sep), rel: parts.slice(i + 1).join('/') };
}

/** @param {string} rel a path relative to src/ */
function layerOf(rel) {
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : 'root';
}

/** @type {import('eslint').Rule.RuleModule} */
const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'a layer of src/ imports only the layers below it' },
    schema: [],
  },
  create(context) {
    const from = underSrc(context.filename);
    if (!from) return {};
    const fromLayer = layerOf(from.rel);
    /** @type {Record<string, string[]>} */
    const table = LAYER_IMPORTS;
    /** @type {Record<string, string[]>} */
    const exceptions = LAYER_FILE_EXCEPTIONS;
    const allowed = table[fromLayer];
    /** @param {import('estree').Node} node @param {unknown} source */
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(context.filename), source);
      const rel = path.relative(from.src, target).split(path.sep).join('/');
      if (rel.startsWith('..')) return; // outside src/: not a layer
      const toLayer = layerOf(rel);
      if (toLayer === fromLayer) return;
      const relTs = rel.replace(/\.js$/, '.ts');
      if (allowed?.includes(toLayer) || exceptions[fromLayer]?.includes(relTs)) return;
      context.report({
        node,
        message: `src/${fromLayer} must not import src/${toLayer === 'root' ? rel : toLayer} ` +
          `(${fromLayer} may import ${allowed && allowed.length > 0 ? allowed.join(', ') : 'nothing else'}).`,
      });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => check(node, node.source?.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source.value : undefined),
    };
  },
};

/** The import rules between layers, as a config block (the fixture test applies it alone). */
/** @type {import("eslint").Linter.Config} */
export const layerRules = {
  plugins: { gossamer: { rules: { layers: layersRule } } },
  rules: { 'gossamer/layers': 'error' },
};

/**
 * Size limits: a file under src/ at most 450 lines, a function at most 80. Tests and benches are
 * exempt (a `describe` block is one function by construction; tables of cases are long).
 */
/** @type {import("eslint").Linter.Config} */
export const sizeLimits = {
  rules: {
    'max-lines': ['error', { max: 450 }],
    'max-lines-per-function': ['error', { max: 80, IIFEs: true }],
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
  { files: ['src/**/*.ts'], ...layerRules },
  { files: ['src/**/*.ts'], ...sizeLimits },
  // The node only routes (issue 7): its protocols live in their own modules.
  { files: ['src/core/node.ts'], rules: { 'max-lines': ['error', { max: 200 }] } },
);
