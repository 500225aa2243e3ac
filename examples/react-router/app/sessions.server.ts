import { Redis } from 'ioredis';
import { createContext, data, type MiddlewareFunction } from 'react-router';
import { createSessions, memoryStore, SessionError } from 'tessera-session';
import { withSessions } from 'tessera-session/fetch';
import { checkCsrf, type LoadSession, renderSessionError } from 'tessera-session/http';
import { redisStore } from 'tessera-session/redis';

export type Data = { views: number };

// REDIS_URL: the sessions in Redis, failing at once while it is unreachable (a 503, through
// sessionError); without it, in memory.
function store() {
  const url = process.env.REDIS_URL;
  if (!url) return memoryStore();
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  // tessera reports an outage once; ioredis would print every failed reconnect.
  client.on('error', () => {});
  // react-router-serve closes its server on these and waits for the event loop to empty.
  for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => void client.quit());
  return redisStore({ client });
}

const sessions = createSessions<Data>({
  secrets: [process.env.SESSION_SECRET ?? ''],
  store: store(),
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
