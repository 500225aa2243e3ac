import Link from 'next/link';
import { session } from '../lib/session';
import { Flashes } from './flashes';

export const dynamic = 'force-dynamic';

export default async function Home() {
  // A server component reads; it cannot write (no cookies from a server component).
  const s = await session.read();
  return (
    <main>
      <h1>Home</h1>
      <Flashes />
      <p id="who">{s.userId ? `Signed in as ${s.userId}` : 'Not signed in'}</p>
      <Link href={s.userId ? '/dashboard' : '/login'}>{s.userId ? 'Dashboard' : 'Sign in'}</Link>
    </main>
  );
}
