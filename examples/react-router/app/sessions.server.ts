import { createContext, data, type MiddlewareFunction } from 'react-router';
import { createSessions, memoryStore, SessionError } from 'tessera-session';
import { withSessions } from 'tessera-session/fetch';
import { checkCsrf, type LoadSession, renderSessionError } from 'tessera-session/http';

export type Data = { views: number };

const sessions = createSessions<Data>({
  secrets: [process.env.SESSION_SECRET ?? ''],
  store: memoryStore(),
  cookie: { secure: 'auto' },
});

/** This request's session loader, on the router context (`context.get(sessionContext)`). */
export const sessionContext = createContext<LoadSession<Data>>();

/**
 * The root route's middleware: tessera's fetch adapter around the rest of the request, so the
 * session is committed (one store write, the cookie added) on the Response React Router made.
 */
export const sessionMiddleware: MiddlewareFunction<Response> = ({ request, context }, next) =>
  withSessions(sessions, (_request, session) => {
    context.set(sessionContext, () => session().catch(sessionError));
    return next();
  })(request);

/**
 * A tessera error as a thrown `data()` response: its status (403 CSRF, 503 store down) and
 * tessera's `{ error: code, message }` for the ErrorBoundary, not the 500 of an unknown error.
 */
export function sessionError(err: unknown): never {
  if (err instanceof SessionError)
    throw data(JSON.parse(renderSessionError(err).body), { status: err.status });
  throw err;
}

/**
 * The CSRF check for an action: Origin / Sec-Fetch-Site, then the `_csrf` form field (or the
 * `x-csrf-token` header). Returns the session it checked against.
 */
export async function csrf(request: Request, load: LoadSession<Data>) {
  const session = await load();
  await checkCsrf(request, session).catch(sessionError);
  return session;
}
