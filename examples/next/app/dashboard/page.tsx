import { redirect } from 'next/navigation';
import { session } from '../../lib/session';
import { logout } from '../actions';
import { Flashes } from '../flashes';

export const dynamic = 'force-dynamic';

export default async function Dashboard() {
  const s = await session.read();
  // proxy.ts already turned anonymous visitors away; checking again here keeps the page safe
  // if the proxy's matcher is ever narrowed.
  if (!s.userId) redirect('/login');
  return (
    <main>
      <h1>Dashboard</h1>
      <Flashes />
      <p id="who">Signed in as {s.get('name')}</p>
      <form action={logout}>
        <button type="submit">Sign out</button>
      </form>
    </main>
  );
}
