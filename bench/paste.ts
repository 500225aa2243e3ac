/**
 * `node bench/paste.ts`: copy `bench/results/latest.md` (and `micro.md`, if there) into BENCHMARKS.md,
 * between its `<!-- results:start -->` and `<!-- results:end -->` markers.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const results = process.env['BENCH_OUT'] ?? new URL('./results', import.meta.url).pathname;
const target = new URL('../BENCHMARKS.md', import.meta.url);
const doc = readFileSync(target, 'utf8');
const start = '<!-- results:start -->';
const end = '<!-- results:end -->';
const a = doc.indexOf(start);
const b = doc.indexOf(end);
if (a === -1 || b < a) throw new Error(`BENCHMARKS.md needs ${start} … ${end}`);
// The micro figures are pasted when `npm run bench:micro` has written them.
const micro = `${results}/micro.md`;
const body = [
  readFileSync(`${results}/latest.md`, 'utf8').trim(),
  ...(existsSync(micro)
    ? ['### In-process figures (`npm run bench:micro`)', readFileSync(micro, 'utf8').trim()]
    : []),
].join('\n\n');
writeFileSync(target, `${doc.slice(0, a + start.length)}\n\n${body}\n\n${doc.slice(b)}`);
console.log('BENCHMARKS.md updated');
