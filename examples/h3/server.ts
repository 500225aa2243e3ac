/**
 * tessera on h3 (Nuxt's server): the app's `fetch` wrapped by tessera's fetch adapter, and the
 * session's loader found from `event.req` (h3 hands handlers the very Request it was given).
 * Run: SESSION_SECRET=… node server.ts
 */
import { H3, type H3Event, HTTPError, readBody } from 'h3';
import { serve } from 'srvx';
import { createSessions, memoryStore, SessionError } from 'tessera-session';
import { type LoadSession, withSessions } from 'tessera-session/fetch';
import { checkCsrf, ownOrigin, sessionErrorResponse, webForwarded } from 'tessera-session/http';

type Data = { views: number };
const sessions = createSessions<Data>({
  secrets: [process.env.SESSION_SECRET ?? ''],
  store: memoryStore(),
  cookie: { secure: 'auto' },
});

const loaders = new WeakMap<Request, LoadSession<Data>>();
/** This request's session (loaded on first call). */
function useSession(event: H3Event) {
  const load = loaders.get(event.req as Request);
  if (!load) throw new HTTPError({ status: 500, message: 'tessera is not wrapped around the app' });
  return load();
}
/** The CSRF check for a state-changing request (Origin / Sec-Fetch-Site, then the token). */
async function csrf(event: H3Event) {
  const request = event.req as Request;
  await checkCsrf(request, await useSession(event), { self: ownOrigin(webForwarded(request)) });
}

// tessera's errors (403 CSRF, 503 store down) answered as tessera answers them everywhere:
// the status and { error: code, message }.
const app = new H3({
  onError: (error) =>
    error.cause instanceof SessionError ? sessionErrorResponse(error.cause) : undefined,
});
app.get('/', async (event) => {
  const s = await useSession(event);
  return {
    views: s.get('views') ?? 0,
    userId: s.userId,
    csrf: s.csrfToken(),
    flashes: s.flashes(),
  };
});
app.post('/views', async (event) => {
  await csrf(event);
  return { views: (await useSession(event)).increment('views') };
});
app.post('/login', async (event) => {
  await csrf(event);
  const body = (await readBody<{ user?: string }>(event)) ?? {};
  if (!body.user) throw new HTTPError({ status: 400, message: 'user is required' });
  (await useSession(event)).login(body.user).flash('info', `Welcome, ${body.user}`);
  return { ok: true };
});
app.post('/logout', async (event) => {
  await csrf(event);
  (await useSession(event)).logout();
  return { ok: true };
});

const server = serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: '127.0.0.1',
  fetch: withSessions(sessions, (request, session) => {
    loaders.set(request, session);
    return app.fetch(request);
  }),
});
await server.ready();
console.log(`listening on ${server.url}`);
