import { createSessions, memoryStore } from 'tessera-session';

export type Data = { views: number };

// Types every `req.session()` in the app (tessera's FastifyRequest augmentation reads this).
declare module 'tessera-session' {
  interface SessionTypes {
    data: Data;
  }
}

export const sessions = createSessions<Data>({
  secrets: [process.env.SESSION_SECRET ?? ''],
  store: memoryStore(),
  cookie: { secure: 'auto' },
});
