import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      rolldownOptions: {
        input: {
          index: resolve(root, 'main/index.ts'),
          browser: resolve(root, 'main/browser.ts'),
          emulator: resolve(root, 'app/emulator/cli.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        input: { preload: resolve(root, 'main/preload.ts') },
        // A sandboxed renderer only runs a CommonJS preload.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    build: {
      rolldownOptions: { input: resolve(root, 'renderer/index.html') },
    },
    plugins: [svelte({ configFile: resolve(root, 'svelte.config.js') })],
  },
});
