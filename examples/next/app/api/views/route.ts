import { checkCsrf, ownOrigin, webForwarded } from 'tessera-session/http';
import { session } from '../../../lib/session';

// A route handler: Request in, Response out, the cookie added to the Response.
export const GET = session.route(async (_request, load) => {
  const s = await load();
  return Response.json({ views: s.get('views') ?? 0, userId: s.userId, csrf: s.csrfToken() });
});

export const POST = session.route(async (request, load) => {
  const s = await load();
  // Next checks the origin of server actions, not of route handlers: this one checks Origin /
  // Sec-Fetch-Site and the session's token (x-csrf-token header or _csrf form field). A refusal
  // throws a CsrfError, which session.route() answers with 403.
  await checkCsrf(request, s, { self: ownOrigin(webForwarded(request)) });
  return Response.json({ views: s.increment('views') });
});
