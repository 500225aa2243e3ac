'use server';
import { redirect } from 'next/navigation';
import { session } from '../lib/session';

// Server actions: Next refuses a cross-origin action itself (it compares Origin with Host), so
// no CSRF token is needed here. The cookie is set through cookies().set() by session.action().
export async function login(form: FormData) {
  const name = String(form.get('name') ?? '').trim();
  const password = String(form.get('password') ?? '');
  if (!name || password !== 'demo') {
    await session.action((s) => s.flash('error', 'Wrong name or password'));
    redirect('/login');
  }
  await session.action((s) => {
    s.login(name);
    s.set('name', name);
    s.flash('info', `Welcome, ${name}`);
  });
  redirect('/dashboard');
}

export async function logout() {
  await session.action((s) => s.logout());
  redirect('/');
}
