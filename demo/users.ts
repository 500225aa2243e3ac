/**
 * The demo's two users. Passwords are kept only as scrypt hashes with a per-user salt
 * (`scrypt$N$r$p$salt$hash`, base64url); `hashPassword` made these.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface User {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly passwordHash: string;
}

export const users: readonly User[] = [
  {
    id: 'user-1',
    username: 'admin',
    name: 'Administrator',
    passwordHash:
      'scrypt$16384$8$1$6bq6c9gwtszsaVHvkAp84A$IIqdHqWAuHc9Asaw3L6HElLSqz_lpaNItyXW6sn4f-k',
  },
  {
    id: 'user-2',
    username: 'alice',
    name: 'Alice Liddell',
    passwordHash:
      'scrypt$16384$8$1$nmYfbUITkBZdpeu42CCiJg$dCNOgG7vuOSQDH88Mwx7muGCk4e-i9KfwQVYm0TTiGs',
  },
];

const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { N, r, p }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * Hash a password for storage (OWASP: scrypt, N=2^14, r=8, p=1, 16-byte random salt).
 *
 * @example
 * ```ts
 * console.log(await hashPassword('correct horse battery staple'));
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, 16_384, 8, 1);
  return `scrypt$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

async function verify(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(
    password,
    Buffer.from(salt, 'base64url'),
    Number(N),
    Number(r),
    Number(p),
  );
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

// Hashed against when the username is unknown, so a wrong username costs as long as a wrong
// password and response times do not tell which usernames exist.
const DECOY = users[0]!.passwordHash;

/**
 * The user these credentials belong to, or `null`.
 *
 * @example
 * ```ts
 * const user = await authenticate('alice', 'wonderland');
 * ```
 */
export async function authenticate(username: string, password: string): Promise<User | null> {
  const user = users.find((u) => u.username === username);
  const ok = await verify(password, user?.passwordHash ?? DECOY);
  return user && ok ? user : null;
}

export function userById(id: string | null): User | null {
  return users.find((u) => u.id === id) ?? null;
}
