/**
 * Type-level tests: `npm run check` (tsc) fails if a `@ts-expect-error` below stops erroring,
 * i.e. if the public types stop catching these mistakes.
 */
import {
  createSessions,
  memoryStore,
  type ResolvedToken,
  type Session,
  type SessionTransport,
  type TokenOptions,
} from '../src/index.ts';

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

/** Header tokens: the option's shape, the transport a request and a session report. */
export async function tokenTypeChecks(): Promise<void> {
  const api = createSessions<Data>({
    secrets: ['x'.repeat(32)],
    store: memoryStore(),
    token: { header: 'authorization', cookie: true },
  });
  const rs = api.request({ headers: new Headers() });
  const via: SessionTransport = rs.transport;
  const also: 'cookie' | 'header' = (await rs.session()).transport;
  const token: ResolvedToken | null = api.options.token;
  void [via, also, token, api.request({ headers: { authorization: 'Bearer x' } })];
  const options: TokenOptions = { header: 'x-session-token', responseHeader: 'x-session-token' };
  void options;
  // @ts-expect-error the request header is required
  createSessions({ secrets: ['x'.repeat(32)], store: memoryStore(), token: { cookie: true } });
  // @ts-expect-error transport is read-only
  rs.transport = 'header';
}
