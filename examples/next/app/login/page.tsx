import { login } from '../actions';
import { Flashes } from '../flashes';

export const dynamic = 'force-dynamic';

export default function Login() {
  return (
    <main>
      <h1>Sign in</h1>
      <Flashes />
      <form action={login}>
        <input name="name" placeholder="name" />
        <input name="password" type="password" placeholder="password (demo)" />
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
