import { createSessions, memoryStore } from 'tessera-session';

export type Data = { views: number };

export const sessions = createSessions<Data>({
  secrets: [process.env.SESSION_SECRET ?? ''],
  store: memoryStore(),
  cookie: { secure: 'auto' },
});
