import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is a static bundle the ACS server serves at `/`; it talks only to the same origin's /api.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  // `vite dev` for console work: the API comes from a running `acs serve`.
  server: { proxy: { '/api': 'http://127.0.0.1:7300' } },
});
