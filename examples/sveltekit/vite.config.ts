import adapter from '@sveltejs/adapter-node';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// `node build` serves the app (PORT, HOST and ORIGIN from the environment).
export default defineConfig({ plugins: [sveltekit({ adapter: adapter() })] });
