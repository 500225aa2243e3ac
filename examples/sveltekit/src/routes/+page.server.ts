import { fail, redirect } from '@sveltejs/kit';
import { csrf } from '../lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
  const s = await locals.session();
  return {
    views: s.get('views') ?? 0,
    userId: s.userId,
    csrf: s.csrfToken(),
    flashes: s.flashes().map((f) => f.message),
  };
};

export const actions: Actions = {
  count: async (event) => {
    (await csrf(event)).increment('views');
    redirect(303, '/');
  },
  login: async (event) => {
    const s = await csrf(event);
    const user = (await event.request.formData()).get('user');
    if (typeof user !== 'string' || !user) return fail(400, { error: 'user is required' });
    // login() regenerates the token (no fixation) and records the user.
    s.login(user).flash('info', `Welcome, ${user}`);
    redirect(303, '/');
  },
  logout: async (event) => {
    (await csrf(event)).logout();
    redirect(303, '/');
  },
};
