/**
 * tessera on Elysia, on Node: Elysia's `handle(request)` wrapped by tessera's fetch adapter and
 * served by srvx; a handler finds its session's loader from its `request`.
 * Run: SESSION_SECRET=… node server.ts
 */
import { Elysia } from 'elysia';
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
function useSession(request: Request) {
  const load = loaders.get(request);
  if (!load) throw new Error('tessera is not wrapped around the app');
  return load();
}
/** The CSRF check for a state-changing request (Origin / Sec-Fetch-Site, then the token). */
async function csrf(request: Request) {
  await checkCsrf(request, await useSession(request), { self: ownOrigin(webForwarded(request)) });
}

const app = new Elysia()
  // 403 (CSRF) and 503 (store down) as tessera answers them everywhere.
  .onError(({ error }) => (error instanceof SessionError ? sessionErrorResponse(error) : undefined))
  .get('/', async ({ request }) => {
    const s = await useSession(request);
    return {
      views: s.get('views') ?? 0,
      userId: s.userId,
      csrf: s.csrfToken(),
      flashes: s.flashes(),
    };
  })
  .post('/views', async ({ request }) => {
    await csrf(request);
    return { views: (await useSession(request)).increment('views') };
  })
  .post('/login', async ({ request, body, status }) => {
    await csrf(request);
    const user = (body as { user?: unknown } | undefined)?.user;
    if (typeof user !== 'string' || !user) return status(400, { error: 'user is required' });
    (await useSession(request)).login(user).flash('info', `Welcome, ${user}`);
    return { ok: true };
  })
  .post('/logout', async ({ request }) => {
    await csrf(request);
    (await useSession(request)).logout();
    return { ok: true };
  });

const server = serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: '127.0.0.1',
  fetch: withSessions(sessions, (request, session) => {
    loaders.set(request, session);
    return app.handle(request);
  }),
});
await server.ready();
console.log(`listening on ${server.url}`);
