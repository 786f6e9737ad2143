import adapter from '@sveltejs/adapter-node';
import type { Config } from '@sveltejs/kit';

const config: Config = {
  kit: {
    adapter: adapter({ out: 'build', precompress: false }),
  },
};

export default config;
