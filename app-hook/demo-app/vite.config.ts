import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  // The hook lives one folder up, outside this app's root.
  server: { fs: { allow: ['..'] } },
  // The self-tests and the benchmark start the build many times; keep its output quiet.
  logLevel: 'warn',
});
