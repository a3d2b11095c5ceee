/**
 * The vitest configuration Stryker runs per mutant (`npm run mutation`): only the `app` project's
 * Node tests, so no mutant starts Chromium (e2e) or a PulseAudio loop (audio). The composition
 * root's and the emulator's tests (test/app/host, test/app/emulator) are left out: each core
 * module is to be pinned by its own tests, and a whole copilot per mutant is too slow on 2 cores.
 *
 * `MUTATION_TESTS` (comma-separated globs) narrows the run to one module's own tests, e.g.
 * `MUTATION_TESTS=test/app/responses/cost.test.ts npm run mutation -- --mutate app/responses/cost.ts`.
 */
import { defineConfig } from 'vitest/config';

const only = process.env.MUTATION_TESTS?.split(',').map((glob) => glob.trim()).filter((glob) => glob !== '');

export default defineConfig({
  test: {
    environment: 'node',
    include: only !== undefined && only.length > 0 ? only : ['test/app/**/*.test.ts', 'test/conformance/**/*.test.ts'],
    exclude: ['test/app/host/**', 'test/app/emulator/**', '**/node_modules/**'],
  },
});
