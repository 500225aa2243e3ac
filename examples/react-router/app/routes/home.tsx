import { data, Form, redirect } from 'react-router';
import { csrf, sessionContext } from '../sessions.server';
import type { Route } from './+types/home';

export async function loader({ context }: Route.LoaderArgs) {
  const s = await context.get(sessionContext)();
  return {
    views: s.get('views') ?? 0,
    userId: s.userId,
    csrf: s.csrfToken(),
    flashes: s.flashes().map((f) => f.message),
  };
}

export async function action({ request, context }: Route.ActionArgs) {
  const s = await csrf(request, context.get(sessionContext));
  const form = await request.formData();
  switch (form.get('intent')) {
    case 'count':
      s.increment('views');
      break;
    case 'login': {
      const user = form.get('user');
      if (typeof user !== 'string' || !user) return data({ error: 'user is required' }, 400);
      // login() regenerates the token (no fixation) and records the user.
      s.login(user).flash('info', `Welcome, ${user}`);
      break;
    }
    case 'logout':
      s.logout();
      break;
    default:
      return data({ error: 'unknown intent' }, 400);
  }
  return redirect('/', 303);
}

export default function Home({ loaderData, actionData }: Route.ComponentProps) {
  const { views, userId, csrf: token, flashes } = loaderData;
  const hidden = <input type="hidden" name="_csrf" value={token} />;
  return (
    <main>
      <h1>tessera on React Router</h1>
      {flashes.map((message) => (
        <p key={message} className="flash">
          {message}
        </p>
      ))}
      {actionData?.error ? <p role="alert">{actionData.error}</p> : null}
      <p>
        Views: <output id="views">{views}</output>
      </p>
      <Form method="post">
        {hidden}
        <button type="submit" name="intent" value="count">
          Count
        </button>
      </Form>
      {userId ? (
        <>
          <p>
            Signed in as <span id="user">{userId}</span>
          </p>
          <Form method="post">
            {hidden}
            <button type="submit" name="intent" value="logout">
              Log out
            </button>
          </Form>
        </>
      ) : (
        <Form method="post">
          {hidden}
          <input name="user" required />
          <button type="submit" name="intent" value="login">
            Log in
          </button>
        </Form>
      )}
    </main>
  );
}
