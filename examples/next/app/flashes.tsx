import { headers } from 'next/headers';
import type { Flash } from 'tessera-session';
import { FLASH_HEADER } from '../lib/session';

/** The flashes proxy.ts took from the session for this request (a server component cannot). */
export async function Flashes() {
  const raw = (await headers()).get(FLASH_HEADER);
  const flashes = raw ? (JSON.parse(raw) as Flash[]) : [];
  return (
    <ul id="flashes">
      {flashes.map((f) => (
        <li key={`${f.type}:${f.message}`} className={f.type}>
          {f.message}
        </li>
      ))}
    </ul>
  );
}
