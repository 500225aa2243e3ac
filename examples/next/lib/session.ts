import { cookies, headers } from 'next/headers';
import { createSessions } from 'tessera-session';
import { nextSessions } from 'tessera-session/next';
import { sqliteStore } from 'tessera-session/sqlite';

export type Data = { views: number; name: string };

// Created on the first request (a function, not an object): `next build` imports this module
// to collect route configuration and needs neither the secret nor the database.
export const session = nextSessions(
  () =>
    createSessions<Data>({
      secrets: [process.env.SESSION_SECRET ?? ''],
      // A file store, not memoryStore(): Next loads this module separately for proxy.ts, route
      // handlers and pages, and every copy must see the same sessions.
      store: sqliteStore({ path: process.env.SESSION_DB ?? 'sessions.db' }),
      cookie: { secure: 'auto' },
    }),
  { cookies, headers },
);

/** The request header proxy.ts hands this request's flash messages over in (see proxy.ts). */
export const FLASH_HEADER = 'x-app-flashes';
