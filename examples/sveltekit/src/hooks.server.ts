/**
 * tessera on SvelteKit: every request goes through tessera's fetch adapter, which loads the
 * session on the first `event.locals.session()` and commits it (one store write, the cookie
 * added) on the Response SvelteKit resolved.
 */
import type { RequestEvent } from '@sveltejs/kit';
import type { Handle } from '@sveltejs/kit/hooks';
import { withSessions } from 'tessera-session/fetch';
import { sessionError } from './lib/server/session';
import { sessions } from './lib/server/sessions';

type Resolve = Parameters<Handle>[0]['resolve'];

const handleWithSession = withSessions(
  sessions,
  (_request, session, event: RequestEvent, resolve: Resolve) => {
    event.locals.session = () => session().catch(sessionError);
    return resolve(event);
  },
);

export const handle: Handle = ({ event, resolve }) =>
  handleWithSession(event.request, event, resolve);
