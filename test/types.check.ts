/**
 * Type-level tests: `npm run check` (tsc) fails if a `@ts-expect-error` below stops erroring,
 * i.e. if the public types stop catching these mistakes.
 */
import { createSessions, memoryStore, type Session } from '../src/index.ts';

interface Data {
  cart: string[];
  views: number;
  lang: 'en' | 'fr';
  profile?: { name: string };
}

const sessions = createSessions<Data>({ secrets: ['x'.repeat(32)], store: memoryStore() });

export async function typeChecks(): Promise<void> {
  const s: Session<Data> = await sessions.request({}).session();
  const cart: string[] | undefined = s.get('cart');
  const lang: 'en' | 'fr' | undefined = s.get('lang');
  s.set('lang', 'fr');
  s.set('profile', { name: 'Ada' });
  s.push('cart', 'apple', 'pear');
  s.pull('cart', 'apple');
  const views: number = s.increment('views');
  void [cart, lang, views];

  // @ts-expect-error a value of the wrong type
  s.set('lang', 'de');
  // @ts-expect-error a key the data does not declare
  s.get('nope');
  // @ts-expect-error push onto a key that is not a list
  s.push('views', 1);
  // @ts-expect-error push an element of the wrong type
  s.push('cart', 1);
  // @ts-expect-error increment a key that is not a number
  s.increment('lang');
  // @ts-expect-error sessions are keyed by strings
  s.delete(1);
  // @ts-expect-error login needs the user id
  s.login();
}
