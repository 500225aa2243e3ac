import { error, type RequestEvent } from '@sveltejs/kit';
import { SessionError } from 'tessera-session';
import { checkCsrf, renderSessionError } from 'tessera-session/http';

/**
 * A tessera error as SvelteKit's own `error()`: its status (403 CSRF, 503 store down) and
 * tessera's `{ error: code, message }` as the page's error, not the 500 SvelteKit gives any
 * other exception.
 */
export function sessionError(err: unknown): never {
  if (err instanceof SessionError) error(err.status, JSON.parse(renderSessionError(err).body));
  throw err;
}

/**
 * The CSRF check for a form action: Origin / Sec-Fetch-Site, then the `_csrf` field (or the
 * `x-csrf-token` header). Returns the session it checked against.
 */
export async function csrf(event: RequestEvent) {
  const session = await event.locals.session();
  await checkCsrf(event.request, session, { self: event.url.origin }).catch(sessionError);
  return session;
}
