// @ts-check
/**
 * Lint: typescript-eslint with type information (promises handled, no floating
 * ones), and the layer rules of DESIGN.md enforced as import restrictions:
 * - sdk/ imports nothing of server/, demo-game/ or models/ (it ships alone);
 * - demo-game/ imports the SDK, the simulation and the shared game, never server/rooms or server/http;
 * - server/ does not import demo-game/ or models/train (training code is not shipped);
 * - models/train/ may use sdk/ and server/sim + server/game, never server/rooms or server/http.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** @param {string} from @param {string[]} targets @param {string} message */
const zone = (from, targets, message) => targets.map((target) => ({ target: from, from: target, message }));

export default tseslint.config(
  {
    ignores: [
      '.tmp/',
      'data/',
      'test-results/',

      'node_modules/',
      'dist/',
      'demo-game/dist/',
      'models/**/report/',
      'test/artifacts/',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['tsconfig.json', 'demo-game/tsconfig.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-empty': ['error', { allowEmptyCatch: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...zone(
              './sdk',
              ['./server', './demo-game', './models', './test'],
              'The SDK ships alone: it never imports the server, the demo, the training code or tests (DESIGN.md, layers).',
            ),
            ...zone(
              './demo-game',
              ['./server/rooms', './server/http', './server/app.ts', './server/main.ts', './models'],
              "The demo uses the public SDK and the shared arena game only, never the server's rooms or HTTP layer.",
            ),
            ...zone(
              './server',
              ['./demo-game', './models', './test'],
              'The server does not import the demo, the training code or tests.',
            ),
            {
              target: './server',
              from: './sdk',
              except: ['./index.ts', './index.browser.ts', './public.ts', './runtime.ts', './recs/index.ts'],
              message:
                'The server uses the SDK through its public entries (sdk/index.ts, index.browser.ts, public.ts, runtime.ts, recs/index.ts), not its internals.',
            },
            {
              target: './demo-game',
              from: './sdk',
              except: ['./index.browser.ts', './public.ts', './phaser'],
              message:
                "The demo uses the SDK's browser entry (sdk/index.browser.ts, public.ts, phaser/) as a game would.",
            },
            ...zone(
              './models/train',
              ['./server/rooms', './server/http', './server/app.ts', './server/main.ts', './demo-game'],
              "Training uses the SDK and the arena game, not the server's rooms or HTTP layer.",
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Colyseus client state and raw JSON bodies are untyped in tests; public APIs stay any-free.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['sdk/brain.ts'],
    rules: { 'prefer-const': 'off' },
  },
);
