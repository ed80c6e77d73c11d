/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Built into dist/services/console, which the gateway serves at /. Everything is bundled (no
// CDN); the editor and the diff view are split into their own chunks and loaded on demand.
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react()],
  resolve: { alias: { '@console': here('./src') } },
  build: {
    outDir: here('../../dist/services/console'),
    emptyOutDir: true,
    sourcemap: false,
    // The gateway's CSP has no 'unsafe-inline' for scripts: never inline the module preload helper.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: [here('./src/test-setup.ts')],
  },
});
