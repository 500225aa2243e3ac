import { withSessions } from '../../src/adapters/node.ts';
import type { Sessions } from '../../src/lifecycle/sessions.ts';
import type { SessionData } from '../../src/session/types.ts';

export interface AppHooks {
  /** Awaited by POST /slow-set between loading the session and changing it. */
  gate?: () => Promise<void>;
  /** Called once the slow request has loaded its session. */
  loaded?: () => void;
}

type AnyData = SessionData & Record<string, unknown>;

/** A small app over the node adapter that exposes each session operation as a route. */
export function testApp(sessions: Sessions<AnyData>, hooks: AppHooks = {}, options = {}) {
  return withSessions(
    sessions,
    async (req, res, load) => {
      const url = new URL(req.url ?? '/', 'http://test');
      const q = (name: string) => url.searchParams.get(name) ?? '';
      const route = `${req.method} ${url.pathname}`;
      if (route === 'GET /idle') {
        res.end('no session here');
        return;
      }
      const s = await load();
      let out: unknown = null;
      switch (route) {
        case 'GET /get':
          out = s.get(q('key')) ?? null;
          break;
        case 'POST /set':
          s.set(q('key'), JSON.parse(q('value')));
          break;
        case 'POST /delete':
          out = s.delete(q('key'));
          break;
        case 'POST /push':
          s.push(q('key') as never, JSON.parse(q('value')) as never);
          break;
        case 'POST /increment':
          out = s.increment(q('key') as never);
          break;
        case 'POST /login':
          s.login(q('user'));
          break;
        case 'POST /logout':
          s.logout();
          break;
        case 'POST /regenerate':
          s.regenerate();
          break;
        case 'POST /slow-set':
          hooks.loaded?.();
          await hooks.gate?.();
          s.set(q('key'), JSON.parse(q('value')));
          break;
        case 'POST /flash':
          s.flash(q('type') || 'info', q('message'));
          break;
        case 'GET /flashes':
          out = s.flashes();
          break;
        case 'GET /csrf':
          out = s.csrfToken();
          break;
        case 'POST /csrf':
          out = s.verifyCsrfToken(q('token'));
          break;
        case 'POST /throw':
          s.set('never', true);
          throw new Error('handler bug');
        default:
          res.statusCode = 404;
      }
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          out,
          isNew: s.isNew,
          userId: s.userId,
          keys: s.keys(),
          expiresAt: s.expiresAt,
          createdAt: s.createdAt,
        }),
      );
    },
    { onError: () => {}, ...options },
  );
}
