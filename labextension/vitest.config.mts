// The tests live in ../tests/js, outside this package: `globals: true` gives them
// describe/it/expect without importing 'vitest', and the aliases let them import
// 'vitest' and the sources ('@tw/...') anyway.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('..'),
  resolve: {
    alias: {
      '@tw': here('./src'),
      vitest: here('./node_modules/vitest/dist/index.js')
    }
  },
  server: { fs: { allow: [here('..')] } },
  test: {
    globals: true,
    environment: 'jsdom',
    include: ['tests/js/**/*.test.ts'],
    css: false
  }
});
