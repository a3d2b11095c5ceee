import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = import.meta.dirname;

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print one plain 'N passed, N failed' line.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        test: {
          name: 'app',
          environment: 'node',
          include: ['test/app/**/*.test.ts', 'test/conformance/**/*.test.ts', 'test/reliability/**/*.test.ts', 'test/architecture.test.ts'],
        },
      },
      {
        test: {
          name: 'main',
          environment: 'node',
          include: ['test/main/**/*.test.ts'],
          setupFiles: ['test/support/electronMock.ts'],
        },
      },
      {
        plugins: [svelte({ configFile: resolve(root, 'svelte.config.js') })],
        resolve: { conditions: ['browser'] },
        test: {
          name: 'renderer',
          environment: 'jsdom',
          // jsdom renders a few hundred rows slowly on a loaded 2-core machine.
          testTimeout: 20_000,
          include: ['test/renderer/**/*.test.ts'],
          setupFiles: ['test/support/rendererSetup.ts'],
        },
      },
      {
        test: {
          name: 'audio',
          environment: 'node',
          include: ['test/audio/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // One PulseAudio daemon and one pair of sinks: the files take turns.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          // Each file starts browser mode and Chromium; one at a time keeps a 2-core machine honest.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
